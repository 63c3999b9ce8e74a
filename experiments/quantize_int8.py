"""Quantise the per-quality networks and Fast AR-CNN to int8 with ONNX Runtime's static quantisation.

    python -m experiments.quantize_int8 [--models arcnn-q10 ...] [--out src/arcnn/weights/int8]

For each model: its float32 ONNX export (``arcnn.export.export_onnx``); calibration batches of
crops of the BSDS500 *train* images' degraded luminance at the model's quality (the protocol's
grayscale JPEG of MATLAB Y, as ``arcnn.data.make_pairs`` makes it, on [0, 1]); each recipe of
``CANDIDATES`` (``arcnn.quantize.Recipe``) applied to it; each result scored on LIVE1 under the
evaluation protocol at the model's quality (``arcnn.evaluate``) and timed on a random plane in turn
with the float32 network. Kept: the best PSNR among the recipes at least ``MIN_SPEEDUP`` times as fast
as float32 (the fastest if none is), written to OUT/<name>.onnx; its recipe is in the file's
metadata (key ``quantization``). ``python -m benchmarks.int8`` measures the shipped files.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from arcnn.data import list_images, make_pairs
from arcnn.engine import restore_luma
from arcnn.export import OnnxModel, export_onnx
from arcnn.manifest import PACKAGE_DIR
from arcnn.models import Network
from arcnn.quantize import Recipe, quantize_onnx
from benchmarks._common import require_data
from benchmarks.int8 import pair_rates

MODELS = ("arcnn-q10", "arcnn-q20", "arcnn-q30", "arcnn-q40", "fast-arcnn-q10")
# Tried, not shipped: on a CPU without VNNI their int8 files are slower than float32 (docs/speed.md).
TRIED = ("fast-arcnn-relu-q10", "fast-arcnn-relu-q20", "fast-arcnn-relu-q30", "fast-arcnn-relu-q40")
OUT = PACKAGE_DIR / "weights" / "int8"
# x86 CPUs without VNNI (AVX2) multiply 8-bit pairs with one instruction that sums two u8 x s8
# products into a saturating int16: fast, but a large activation times a large weight can overflow.
# onnxruntime's u8 x u8 kernels widen to int16 first, exact but slower. The candidates: signed
# activations with the fast kernels, with the last or the first (the image-reading, strided in Fast
# AR-CNN) convolution left float32, and the exact u8 x u8 path.
CANDIDATES = (
    Recipe(activations="int8"),
    Recipe(activations="int8", float_layers=(-1,)),
    Recipe(activations="int8", float_layers=(0,)),
    Recipe(weights="uint8"),
)
MIN_SPEEDUP = 1.1


def setup_args() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS + TRIED)
    p.add_argument("--out", type=Path, default=OUT, help="folder of the chosen int8 files")
    p.add_argument("--crops", type=int, default=128, help="calibration crops")
    p.add_argument("--side", type=int, default=96, help="calibration crop side (output pixels)")
    p.add_argument("--images", type=int, default=0, help="score on the first N LIVE1 images (0: all)")
    p.add_argument("--speed-side", type=int, default=1024, help="side of the timed random plane")
    return p


def calibration_batches(
    planes: list[np.ndarray], border: int, crops: int = 128, side: int = 96, batch: int = 16, seed: int = 0
) -> list[np.ndarray]:
    """float32 (batch, 1, side + 2 border, side + 2 border) batches on [0, 1]: seeded random crops of
    the uint8 (H, W) ``planes``, taken in turn, each crop the input of a side x side output."""
    rng = np.random.default_rng(seed)
    s = side + 2 * border
    cut = []
    for i in range(crops):
        p = planes[i % len(planes)]
        r, c = rng.integers(0, p.shape[0] - s + 1), rng.integers(0, p.shape[1] - s + 1)
        cut.append(p[r : r + s, c : c + s])
    x = np.stack(cut)[:, None].astype(np.float32) / 255.0
    return [x[i : i + batch] for i in range(0, crops, batch)]


def quantize_network(model: Network, dst: str | Path, batches: list[np.ndarray], recipe: Recipe) -> Path:
    """``model`` exported to ONNX float32 and quantised by ``recipe`` into ``dst``."""
    with tempfile.TemporaryDirectory() as tmp:
        src = export_onnx(model, Path(tmp) / "float32.onnx")  # type: ignore[arg-type]
        return quantize_onnx(src, dst, batches, recipe)


def psnr(model: Network, clean: list[np.ndarray], degraded: list[np.ndarray]) -> float:
    """Mean PSNR (dB) of ``model``'s restorations of ``degraded`` against ``clean``, as ``arcnn.evaluate``."""
    from arcnn.metrics import Metrics

    metrics = Metrics()
    return float(np.mean([metrics(c, restore_luma(model, d))["psnr"] for c, d in zip(clean, degraded)]))


def speedup(f32: Network, int8: Network, side: int) -> float:
    """``int8``'s MP/s over ``f32``'s restoring one random side x side plane (timed in turn)."""
    r32, r8 = pair_rates(f32, int8, side)
    return r8 / r32


def _rows(name: str, args: argparse.Namespace, tmp: Path) -> Iterator[tuple[str, float, float, Path]]:
    """(recipe label, LIVE1 PSNR, speed-up over float32, file) of the float32 network, then of each
    candidate."""
    from arcnn.zoo import REGISTRY, load_model

    quality = REGISTRY[name].quality
    assert quality is not None
    model = load_model(name)
    root = require_data("bsds500")
    train = make_pairs(list_images(root / "train"), quality)
    live1 = make_pairs(list_images(require_data("live1")), quality)
    n = args.images or len(live1)
    clean, degraded = live1.clean[:n], live1.degraded[:n]
    batches = calibration_batches(train.degraded, model.config.border, args.crops, args.side)
    f32 = OnnxModel(export_onnx(model, tmp / "float32.onnx"))  # type: ignore[arg-type]
    yield "float32", psnr(f32, clean, degraded), 1.0, tmp / "float32.onnx"
    for i, recipe in enumerate(CANDIDATES):
        path = quantize_onnx(tmp / "float32.onnx", tmp / f"int8-{i}.onnx", batches, recipe)
        q = OnnxModel(path)
        yield recipe.label(), psnr(q, clean, degraded), speedup(f32, q, args.speed_side), path


def main(argv: list[str] | None = None) -> int:
    args = setup_args().parse_args(argv)
    require_data("bsds500")
    require_data("live1")
    args.out.mkdir(parents=True, exist_ok=True)
    print("| model | recipe | LIVE1 PSNR | change | speed-up |\n|---|---|---|---|---|")
    for name in args.models:
        with tempfile.TemporaryDirectory() as tmp:
            rows = []
            for label, score, speedup, path in _rows(name, args, Path(tmp)):
                rows.append((label, score, speedup, path))
                change = score - rows[0][1]
                print(f"| {name} | {label} | {score:.4f} | {change:+.4f} | {speedup:.2f}× |", flush=True)
            candidates = rows[1:]
            fast = [r for r in candidates if r[2] >= MIN_SPEEDUP]
            pick = max(fast, key=lambda r: r[1]) if fast else max(candidates, key=lambda r: r[2])
            dst = args.out / f"{name}.onnx"
            dst.write_bytes(pick[3].read_bytes())
        OnnxModel(dst)  # the load-time probe
        print(f"| {name} | **kept: {pick[0]}** → {dst} | | | |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
