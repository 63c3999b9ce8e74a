"""The evaluation protocol of the paper, over a folder of images.

For each image: Y = MATLAB rgb2ycbcr luminance (uint8); a grayscale JPEG of Y at
quality q (Pillow); the method's output (the JPEG itself for ``jpeg``); PSNR,
SSIM (8x8 unweighted), Gaussian SSIM and PSNR-B against Y. Other degradations
(down-scaled images, the social-media case) are ``data.Degradation`` options.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np

from arcnn.codec import ijg_table
from arcnn.data import Degradation, list_images
from arcnn.metrics import Metrics
from arcnn.pipeline import RestoreOptions, Restorer

__all__ = ["evaluate", "format_table", "METHODS"]

METHODS = ("jpeg", "sadct")  # besides shipped model names and weights files


def _score_one(path: Path, deg: Degradation, method: str, restorer: Restorer | None = None,
               consistency: bool = False) -> dict:  # fmt: skip
    quality = deg.quality
    y, degraded = deg.pair(path)
    t = time.perf_counter()
    if method == "jpeg":
        out = degraded
    elif method == "sadct":
        from arcnn.sadct import sadct_deblock

        out = sadct_deblock(degraded, quality=quality)
    else:
        assert restorer is not None
        # What the file would tell the pipeline: the IJG table of a Pillow JPEG, hence its quality.
        qtable = ijg_table(quality) if consistency else None
        out = restorer.restore_plane(degraded, qtable, quality if deg.codec == "jpeg" else None)
    seconds = time.perf_counter() - t
    return {"name": path.name, **Metrics()(y, out), "seconds": seconds}


def evaluate(
    data: str | Path, quality: int, method: str = "jpeg", workers: int | None = None, ensemble: int = 1,
    scale: float = 1.0, box: tuple[int, int] | None = None, codec: str = "jpeg", consistency: bool = False,
    backend: str = "torch", bf16: bool = False,
) -> dict:  # fmt: skip
    """Scores of ``method`` on every image of ``data``.

    method: ``jpeg`` (no restoration), ``sadct`` (Pointwise SA-DCT, σ from the IJG table at
    ``quality``), a shipped model name or a weights file. ``workers``: processes for the
    single-threaded ``sadct`` (default: all cores); networks run in this process on all cores.
    ``ensemble``: self-ensemble size for networks (1, 4 or 8; see ``restore_luma``).
    ``scale``, ``box``, ``codec``: degrade otherwise than by the protocol (see ``data.Degradation``).
    ``consistency``: project networks' outputs onto what the grayscale JPEG could have coded, as
    ``arcnn restore`` does for JPEG files (``qtable`` of ``restore_luma``).
    ``backend``, ``bf16``: the engine, as in :class:`arcnn.options.RestoreOptions`; PyTorch float32 by
    default, as every published score was measured (ONNX Runtime may round a few pixels otherwise).
    Returns ``{"method", "quality", "data", "images": [{"name", psnr, ssim, ssim_gauss,
    psnrb, "seconds"}], "mean": {psnr, ssim, ssim_gauss, psnrb, seconds}, "failed": [{"name",
    "error"}]}``: files that cannot be read are listed in "failed", not scored.
    """
    if consistency and (codec != "jpeg" or box is not None):
        raise ValueError("consistency needs the grayscale JPEG of the protocol (no box, codec jpeg)")
    files = list_images(data)
    deg = Degradation(quality, scale, box, codec=codec)
    if method in METHODS:
        score = partial(_score_one, deg=deg, method=method)
    else:
        restorer = Restorer(RestoreOptions(model=method, backend=backend, bf16=bf16, ensemble=ensemble))
        score = partial(_score_one, deg=deg, method="model", restorer=restorer, consistency=consistency)
    n = (workers or os.cpu_count() or 1) if method == "sadct" else 1
    guarded = partial(_guarded, score)
    if n > 1:
        with ProcessPoolExecutor(n) as pool:
            results = list(pool.map(guarded, files))
    else:
        results = [guarded(f) for f in files]
    rows = [r for r in results if "error" not in r]
    failed = [r for r in results if "error" in r]
    if not rows:
        raise ValueError(f"no image of {data} could be scored ({failed[0]['name']}: {failed[0]['error']})")
    keys = (*Metrics.names, "seconds")
    mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    return {"method": method, "quality": quality, "data": str(data), "images": rows, "mean": mean,
            "failed": failed}  # fmt: skip


def _guarded(score: Callable[[Path], dict], path: Path) -> dict:
    """``score(path)``, or ``{"name", "error"}`` when the file cannot be scored: one bad file in a
    folder costs itself only."""
    try:
        return score(path)
    except Exception as e:  # noqa: BLE001 - image plugins raise many types: each is one line
        return {
            "name": path.name,
            "error": str(e) if isinstance(e, ValueError) else f"{e.__class__.__name__}: {e}",
        }


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
