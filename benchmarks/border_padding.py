"""How the image border is padded before a valid-convolution network: LIVE1 scores per mode.

    python -m benchmarks.border_padding [--model arcnn-q10] [--quality 10]

"symmetric" (edge pixel repeated; what ``arcnn.engine.restore_luma`` uses) keeps JPEG's 8x8 block grid in
phase across the top and left edges; "reflect" (edge pixel not repeated) shifts it by one
pixel; "replicate" repeats the edge pixel. Whole images, no tiling, float32.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from arcnn.codec import jpeg_roundtrip
from arcnn.data import list_images, load_luma
from arcnn.metrics import psnr, psnr_b, ssim
from arcnn.models import pad_symmetric
from arcnn.zoo import load_model
from benchmarks._common import require_data


@torch.no_grad()
def restore(model, img: np.ndarray, mode: str) -> np.ndarray:
    b = model.config.border
    x = torch.from_numpy(img.astype(np.float32) / 255.0)[None, None]
    x = pad_symmetric(x, b) if mode == "symmetric" else torch.nn.functional.pad(x, (b, b, b, b), mode=mode)
    return (model(x).clamp(0, 1) * 255.0).round().to(torch.uint8)[0, 0].numpy()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="arcnn-q10")
    ap.add_argument("--quality", type=int, default=10)
    args = ap.parse_args(argv)
    live1 = require_data("live1")
    model = load_model(args.model)
    modes = ("symmetric", "reflect", "replicate")
    scores = {m: [] for m in modes}
    for f in list_images(live1):
        clean = load_luma(f)
        degraded = jpeg_roundtrip(clean, args.quality)
        for m in modes:
            out = restore(model, degraded, m)
            scores[m].append((psnr(clean, out), ssim(clean, out), psnr_b(clean, out)))
    print(f"{args.model}, LIVE1 q{args.quality}\n\n| padding | PSNR | SSIM | PSNR-B |\n|---|---|---|---|")
    for m in modes:
        p, s, b = np.mean(scores[m], axis=0)
        print(f"| {m} | {p:.4f} | {s:.5f} | {b:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
