"""JPEGs with other encoders' tables: the blind model or the nearest per-quality model?

    python -m benchmarks.nonstandard_tables [--write]

LIVE1's Y (protocol as everywhere) compressed by Pillow with luminance tables that are not
IJG's at any quality, made from the IJG table of quality q two ways:

- ``scaled``: every step times 1.15, rounded (an encoder with its own quality scale);
- ``flat``: every step the rounded mean of the IJG steps (a table of another shape).

For each: the quality ``arcnn quality`` estimates (nearest IJG match, non-standard), the JPEG's
PSNR, and the PSNR after ``arcnn-blind`` and after the per-quality model nearest the estimate,
and the model ``--quality auto`` picks for such a file.
"""

from __future__ import annotations

import argparse
import io
import sys

import numpy as np
from PIL import Image

from arcnn.codec import estimate_quality, ijg_table
from arcnn.data import list_images, load_luma
from arcnn.metrics import psnr
from arcnn.policy import BLIND_MODEL, auto_model, nearest_model
from benchmarks._common import publish, require_data, restorer

QUALITIES = (10, 20, 30, 40, 75, 90)
KINDS = ("scaled", "flat")


def _table(quality: int, kind: str) -> list[int]:
    ijg = ijg_table(quality).astype(np.float64)
    t = ijg * 1.15 if kind == "scaled" else np.full(64, ijg.mean())
    return [int(v) for v in np.clip(np.round(t), 1, 255)]


def _compress(y: np.ndarray, table: list[int]) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(y).save(buf, "JPEG", qtables=[table])
    return np.asarray(Image.open(buf))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update its block in docs/results.md")
    args = ap.parse_args(argv)
    files = list_images(require_data("live1"))
    ys = [load_luma(f) for f in files]
    r = restorer()  # each network alone on the decoded plane, as in the evaluation protocol
    lines = [
        "LIVE1 PSNR (dB), Y compressed with non-IJG luminance tables made from IJG quality q.",
        "",
        "| q | table | estimated | JPEG | arcnn-blind | nearest per-quality model | auto picks |",
        "|---|---|---|---|---|---|---|",
    ]
    for q in QUALITIES:
        for kind in KINDS:
            table = _table(q, kind)
            est = estimate_quality({0: np.array(table)})
            near = nearest_model(est.quality)
            scores = {"jpeg": [], "blind": [], "near": []}
            for y in ys:
                jpeg = _compress(y, table)
                scores["jpeg"].append(psnr(y, jpeg))
                scores["blind"].append(psnr(y, r.restore_plane(jpeg, model=BLIND_MODEL)))
                scores["near"].append(psnr(y, r.restore_plane(jpeg, model=near)))
            m = {k: float(np.mean(v)) for k, v in scores.items()}
            gain = {k: f"{m[k]:.2f} ({m[k] - m['jpeg']:+.2f}" for k in ("blind", "near")}
            lines.append(f"| {q} | {kind} | {est.quality} | {m['jpeg']:.2f} | {gain['blind']}) "
                         f"| {gain['near']}, {near}) | {auto_model(est.quality, est.exact)} |")  # fmt: skip
            print(lines[-1], flush=True)
    publish("nonstandard-tables", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
