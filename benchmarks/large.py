"""arcnn-large against DnCNN-3's architecture: cost, speed side by side, and LIVE1 quality.

    python -m benchmarks.large [--weights FILE] [--size 1024] [--write]

Cost: multiply-adds per output pixel from PyTorch's FLOP counter (``arcnn.flops``). Speed: both
architectures with random weights (the cost of a network does not depend on its weights) restore the
same size x size plane through the engine (``arcnn.engine.restore_luma``, tiles and all) on each
float32 backend, interleaved, best of 3. DnCNN-3 (Zhang et al., TIP 2017): 20 3x3 convolutions of
64 channels, residual; its batch normalisation folds into the convolutions at inference, so the
plain stack costs the same. Quality: LIVE1 PSNR of ``--weights`` (an arcnn-large weights file) at
q10-q40 under the evaluation protocol, against DnCNN-3's published scores.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from arcnn.engine import on_backend, restore_luma
from arcnn.evaluate import evaluate
from arcnn.flops import macs_per_pixel
from arcnn.models import ConvStack, ModelConfig, Network
from arcnn.unet import UNet, UNetConfig
from benchmarks._common import PUBLISHED_PSNR, plane_rates, publish, require_data

QUALITIES = (10, 20, 30, 40)
LARGE = UNetConfig(widths=(32, 64, 128, 128), blocks=(1, 1, 2, 2))
DNCNN3 = ModelConfig(kernels=(3,) * 20, widths=(64,) * 19 + (1,), residual=True)


def networks(large: UNetConfig) -> dict[str, Network]:
    """The two architectures with seeded random weights."""
    torch.manual_seed(0)
    return {"arcnn-large": UNet(large).eval(), "DnCNN-3 architecture": ConvStack(DNCNN3).eval()}


def speeds(nets: dict[str, Network], size: int, backend: str) -> dict[str, float]:
    """Megapixels per second of each network on one size x size plane (q10), best of 3, interleaved."""
    runs = {name: on_backend(net, backend) for name, net in nets.items()}
    return plane_rates(
        {name: lambda p, n=net: restore_luma(n, p, quality=10) for name, net in runs.items()}, size
    )


def quality_rows(weights: Path) -> list[str]:
    live1 = require_data("live1")
    ours = {q: evaluate(live1, q, str(weights))["mean"]["psnr"] for q in QUALITIES}
    dn = PUBLISHED_PSNR["DnCNN-3"]
    return [
        "",
        f"LIVE1 PSNR (dB), grayscale JPEG of Y, `{weights.name}`:",
        "",
        "| | " + " | ".join(f"q{q}" for q in QUALITIES) + " |",
        "|---" * (len(QUALITIES) + 1) + "|",
        "| DnCNN-3 (published) | " + " | ".join(f"{dn[q]:.2f}" for q in QUALITIES) + " |",
        "| arcnn-large | " + " | ".join(f"{ours[q]:.2f}" for q in QUALITIES) + " |",
        "| difference | " + " | ".join(f"{ours[q] - dn[q]:+.2f}" for q in QUALITIES) + " |",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, help="an arcnn-large weights file to score on LIVE1")
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--write", action="store_true", help="update the large block (docs/models.md)")
    args = ap.parse_args(argv)
    large = LARGE
    if args.weights:
        from arcnn.weights import load_weights_file

        large = load_weights_file(args.weights).config  # type: ignore[assignment]
    nets = networks(large)
    cost = {name: macs_per_pixel(net) for name, net in nets.items()}
    rows = [
        f"{args.size}×{args.size} plane, float32, best of 3, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; arcnn-large: widths {'-'.join(map(str, large.widths))}, "
        f"blocks {'-'.join(map(str, large.blocks))}.",
        "",
        "| network | MAC/px | backend | MP/s | speed against DnCNN-3's architecture |",
        "|---|---|---|---|---|",
    ]
    for backend in ("torch", "onnxruntime"):
        mps = speeds(nets, args.size, backend)
        ref = mps["DnCNN-3 architecture"]
        for name in nets:
            rows.append(f"| {name} | {cost[name] / 1e3:.1f} k | {backend} | {mps[name]:.2f} | "
                        f"{mps[name] / ref:.2f}× |")  # fmt: skip
    if args.weights:
        rows += quality_rows(args.weights)
    publish("large", rows, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
