"""The evaluation protocol of the paper, over a folder of images.

For each image: Y = MATLAB rgb2ycbcr luminance (uint8); a grayscale JPEG of Y at
quality q (Pillow); the method's output (the JPEG itself for ``jpeg``); PSNR,
SSIM (8x8 unweighted), Gaussian SSIM and PSNR-B against Y.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from arcnn.codec import jpeg_roundtrip
from arcnn.data import list_images, load_luma
from arcnn.metrics import Metrics
from arcnn.restore import restore_luma
from arcnn.zoo import load_model

__all__ = ["evaluate", "format_table"]


def evaluate(data: str | Path, quality: int, method: str = "jpeg") -> dict:
    """Scores of ``method`` (``jpeg``, a registry name or a weights file) on every image of ``data``.

    Returns ``{"method", "quality", "data", "images": [{"name", psnr, ssim, ssim_gauss,
    psnrb, "seconds"}], "mean": {psnr, ssim, ssim_gauss, psnrb, seconds}}``.
    """
    files = list_images(data)
    model = None if method == "jpeg" else load_model(method)
    metrics = Metrics()
    rows = []
    for f in files:
        y = load_luma(f)
        degraded = jpeg_roundtrip(y, quality)
        t = time.perf_counter()
        out = degraded if model is None else restore_luma(model, degraded)
        seconds = time.perf_counter() - t
        rows.append({"name": f.name, **metrics(y, out), "seconds": seconds})
    keys = (*metrics.names, "seconds")
    mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    return {"method": method, "quality": quality, "data": str(data), "images": rows, "mean": mean}


def format_table(result: dict) -> str:
    """A plain-text table: one row per image and the mean."""
    head = f"{'image':<24} {'PSNR':>8} {'SSIM':>7} {'SSIM-G':>7} {'PSNR-B':>8} {'s':>6}"
    lines = [f"# {result['method']} at q{result['quality']} on {result['data']}", head]
    for r in [*result["images"], {"name": "mean", **result["mean"]}]:
        lines.append(
            f"{r['name']:<24} {r['psnr']:8.3f} {r['ssim']:7.4f} {r['ssim_gauss']:7.4f} "
            f"{r['psnrb']:8.3f} {r['seconds']:6.2f}"
        )
    return "\n".join(lines)
