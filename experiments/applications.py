"""Fig. 9 of the paper: AR-CNN as pre-processing for super-resolution and contrast enhancement.

    python -m experiments.applications [--write]

For every LIVE1 image (Y, MATLAB rgb2ycbcr):
- super-resolution x3: the clean input is Y down-scaled by 3 (bicubic); it is compressed as a
  grayscale JPEG at q10; the operation is a bicubic x3 up-scale (a documented classical
  upscaler, not a trained SR network);
- contrast enhancement: the clean input is Y itself, compressed at q10; the operation is a fixed
  S-shaped tone curve, f(x) = 0.5 + 0.5 tanh(3 (x - 0.5)) / tanh(1.5) on [0, 1], which steepens
  mid-tones by 1.66x and so amplifies compression artifacts.
The operation is applied to the JPEG, to the JPEG restored by ``arcnn-q10`` and to the clean
input; PSNR is measured against the operation applied to the clean input (means over images).
One visual example per case is written to docs/experiments/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from arcnn.codec import jpeg_roundtrip
from arcnn.data import list_images, load_luma
from arcnn.metrics import psnr
from benchmarks._common import ROOT, publish, require_data, restorer

QUALITY, MODEL, EXAMPLE = 10, "arcnn-q10", "parrots.png"


def upscale3(y: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(y).resize((y.shape[1] * 3, y.shape[0] * 3), Image.BICUBIC))


def tone_curve(y: np.ndarray) -> np.ndarray:
    x = y.astype(np.float64) / 255.0
    f = 0.5 + 0.5 * np.tanh(3.0 * (x - 0.5)) / np.tanh(1.5)
    return np.clip(np.round(f * 255.0), 0, 255).astype(np.uint8)


def downscale3(y: np.ndarray) -> np.ndarray:
    h, w = y.shape[0] // 3, y.shape[1] // 3
    return np.asarray(Image.fromarray(y[: 3 * h, : 3 * w]).resize((w, h), Image.BICUBIC))


CASES = {"super-resolution x3 (bicubic)": (downscale3, upscale3), "contrast enhancement (tone curve)":
         (lambda y: y, tone_curve)}  # fmt: skip


def _example(panels: list[np.ndarray], path: Path) -> None:
    h, w = panels[0].shape
    r, c = max(0, h // 2 - 96), max(0, w // 2 - 96)
    crop = [p[r : r + 192, c : c + 192] for p in panels]
    gap = np.full((crop[0].shape[0], 4), 255, np.uint8)
    row = np.concatenate([x for c in crop for x in (c, gap)][:-1], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(row).save(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update docs/experiments.md and the examples")
    args = ap.parse_args(argv)
    files = list_images(require_data("live1"))
    r = restorer(MODEL)
    lines = [
        f"LIVE1 ({len(files)} images), JPEG q{QUALITY}, restoration by {MODEL}; PSNR (dB) of the "
        "operation's output against the operation applied to the clean input.",
        "",
        "| operation | on the JPEG | on the restored JPEG | gain |",
        "|---|---|---|---|",
    ]
    for i, (case, (prepare, op)) in enumerate(CASES.items()):
        a, b = [], []
        for f in files:
            clean = prepare(load_luma(f))
            jpeg = jpeg_roundtrip(clean, QUALITY)
            restored = r.restore_plane(jpeg)
            ref = op(clean)
            a.append(psnr(ref, op(jpeg)))
            b.append(psnr(ref, op(restored)))
            if args.write and f.name == EXAMPLE:
                _example([op(jpeg), op(restored), ref], ROOT / "docs" / "experiments" / f"fig9-{i + 1}.png")
        lines.append(f"| {case} | {np.mean(a):.2f} | {np.mean(b):.2f} | {np.mean(b) - np.mean(a):+.2f} dB |")
    lines += ["", "`python -m experiments.applications --write`"]
    publish("fig9", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
