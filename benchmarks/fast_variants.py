"""Layouts of Fast AR-CNN for speed on ONNX Runtime, side by side in one run.

    python -m benchmarks.fast_variants [--size 1024] [--write]

Fast AR-CNN (9-1-7-1-9, PReLU) spends most of its multiply-adds in the 7x7 enhancement layer, and
ONNX Runtime fuses a ReLU into the convolution before it while it runs a PReLU as a pass of its
own. Two small U-Nets (``arcnn.unet``) that work at a quarter of the resolution, as Fast AR-CNN's
strided first layer does, are timed beside them. Each layout, with random weights (the speed does
not depend on them), is exported to ONNX and restores a size x size plane as ``arcnn restore``
cuts it into tiles (``engine.restore_luma``, float32), best of 3, in turn with AR-CNN's 9-7-1-5
and the float32 matrix-product ceiling. Multiply-adds per pixel from the FLOP counter. What each
layout restores needs training: this table says which are worth it. ``--write`` updates the
``fast-variants`` block of docs/speed.md. Needs no data.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

from arcnn.engine import restore_luma
from arcnn.export import OnnxModel, export_onnx
from arcnn.flops import macs_per_pixel
from arcnn.models import ModelConfig, build_network, preset
from arcnn.netconfig import NetConfig, UNetConfig
from benchmarks._common import matmul_ceiling, plane_rates, publish
from benchmarks.frontier import cpu_name

VARIANTS: dict[str, NetConfig] = {
    "fast-arcnn (9-1-7-1-9, PReLU), shipped": preset("fast-arcnn"),
    "ReLU": preset("fast-arcnn", activation="relu"),
    "5x5 enhancement (9-1-5-1-9)": preset("fast-arcnn", kernels=(9, 1, 5, 1, 9)),
    "ReLU, 5x5 enhancement (preset fast-arcnn-relu)": preset("fast-arcnn-relu"),
    "ReLU, 24 enhancement channels": preset("fast-arcnn", activation="relu", widths=(64, 24, 24, 64, 1)),
    "U-Net at 1/4 resolution, 3 scales": UNetConfig((32, 64, 128), (1, 1, 2), unshuffle=4),
    "U-Net at 1/4 resolution, 4 scales": UNetConfig((32, 64, 128, 128), (1, 1, 2, 2), unshuffle=4),
    "arcnn (9-7-1-5), for scale": preset("arcnn"),
}


def _layout(c: NetConfig) -> tuple[str, str, str]:
    """(kernels, widths, activation) of a table row."""
    if isinstance(c, UNetConfig):
        blocks = "-".join(map(str, c.blocks))
        return f"3x3, unshuffle {c.unshuffle}, blocks {blocks}", "-".join(map(str, c.widths)), "relu"
    assert isinstance(c, ModelConfig)
    return "-".join(map(str, c.kernels)), "-".join(map(str, c.widths)), c.activation


def rate(model: torch.nn.Module, side: int, folder: Path) -> float:
    """Megapixels per second of ``model`` on ONNX Runtime restoring a side x side plane."""
    net = OnnxModel(export_onnx(model, folder / "variant.onnx"))
    return plane_rates({"net": lambda plane: restore_luma(net, plane)}, side)["net"]


def measure(size: int) -> list[str]:
    ceiling = matmul_ceiling(torch.float32)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, config in VARIANTS.items():
            torch.manual_seed(0)
            model = build_network(config)
            macs, mps = macs_per_pixel(model), rate(model, size, Path(tmp))
            rows.append((label, config, macs, mps))
            print(f"{label}: {mps:.2f} MP/s", flush=True)
    base = rows[0][3]
    lines = [f"Run of {time.strftime('%Y-%m-%d')} on {cpu_name()}: ONNX Runtime float32, "
             f"{torch.get_num_threads()} threads, a {size}×{size} plane, random weights; float32 "
             f"matrix-product ceiling {ceiling:.0f} GFLOP/s (`python -m benchmarks.fast_variants`).", "",
             "| layout | kernels | widths | activation | MAC/px | MP/s | × fast-arcnn | of ceiling |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for label, c, macs, mps in rows:
        kernels, widths, activation = _layout(c)
        lines.append(f"| {label} | {kernels} | {widths} | {activation} | {macs / 1e3:.1f} k | {mps:.2f} | "
                     f"{mps / base:.2f}× | {2 * macs * mps / 1e3 / ceiling:.0%} |")  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1024, help="side of the plane restored")
    ap.add_argument("--write", action="store_true", help="update the fast-variants block (docs/speed.md)")
    args = ap.parse_args(argv)
    if not 64 <= args.size <= 8192:
        print("--size must be in 64..8192", file=sys.stderr)
        return 2
    publish("fast-variants", measure(args.size), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
