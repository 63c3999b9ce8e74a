"""The quality-blind model against the per-quality models and the JPEG, on LIVE1.

    python -m benchmarks.blind [--write]
    python -m benchmarks.blind --data bsds500/val --qualities 40 50 60   # a check off the test set
    python -m benchmarks.blind --data bsds500/val --images 20 --qualities 60 75 80 90   # its first 20

At q = 10, 20, 30, 40 ``arcnn-blind`` should be within 0.15 dB PSNR of the model trained
for that quality; at the qualities in between and above it should never be worse than
the JPEG. Also scores the per-quality model nearest each quality and ``arcnn-large`` (given the
quality), shows which model
``--quality auto`` picks for a standard-table JPEG at each quality, and scores what it picks for
the same decoded JPEG saved losslessly (a PNG that was a JPEG once: no tables, the quality
estimated from the pixels, per image). Evaluation protocol as everywhere (grayscale JPEG of Y, Pillow).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from arcnn.data import Degradation, list_images
from arcnn.evaluate import evaluate
from arcnn.policy import BLIND_MODEL, LARGE_MODEL, auto_model, nearest_model, pick_model
from arcnn.zoo import REGISTRY
from benchmarks._common import publish, require_data

MATCHED = (10, 20, 30, 40)
BETWEEN = (5, 15, 25, 35, 50, 60, 75, 80, 90)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the blind block (docs/results.md)")
    ap.add_argument("--data", default="live1", help="folder of ../shared/data (bsds500/val to check on val)")
    ap.add_argument("--qualities", type=int, nargs="+", default=None, help="default: 5 ... 90")
    ap.add_argument("--images", type=int, default=0, help="the first N images of --data only (0: all)")
    args = ap.parse_args(argv)
    if args.write and (args.data != "live1" or args.qualities or args.images):
        ap.error("--write is for the published table: LIVE1 at the default qualities")
    data = require_data(args.data)
    if args.images:
        with tempfile.TemporaryDirectory() as tmp:
            for f in list_images(data)[: args.images]:
                (Path(tmp) / f.name).symlink_to(f.resolve())
            return measure(args, Path(tmp))
    return measure(args, data)


def measure(args: argparse.Namespace, data: Path) -> int:
    """Print (and with --write publish) the table for the images in ``data``."""
    if BLIND_MODEL not in REGISTRY:
        print(f"{BLIND_MODEL} is not shipped: nothing to measure", file=sys.stderr)
        return 2
    per_q = {c.quality: n for n, c in REGISTRY.items() if c.per_quality}
    run = cache(lambda q, method: {r["name"]: r["psnr"] for r in evaluate(data, q, method)["images"]})
    lines = [
        f"{'LIVE1' if args.data == 'live1' else args.data} PSNR (dB), grayscale JPEG of Y. auto, PNG: the "
        "decoded JPEG saved as a PNG, each image",
        "restored by the model `--quality auto` picks from its pixels (how many images got each).",
        "",
        "| q | JPEG | nearest per-quality model | arcnn-blind | blind − nearest | blind − JPEG | "
        f"{LARGE_MODEL} | large − blind | auto | auto, PNG |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    ok_matched, ok_between, ok_png = True, True, True
    for q in sorted(args.qualities or MATCHED + BETWEEN):
        jpeg = np.mean(list(run(q, "jpeg").values()))
        blind = np.mean(list(run(q, BLIND_MODEL).values()))
        large = np.mean(list(run(q, LARGE_MODEL).values())) if LARGE_MODEL in REGISTRY else float("nan")
        name = nearest_model(q)
        ours = np.mean(list(run(q, name).values()))
        png = _png_choices(data, q)
        png_psnr = np.mean([run(q, m)[f] for f, m in png.items()])
        picks = ", ".join(f"{m} ×{k}" for m, k in Counter(png.values()).most_common())
        cell, diff = f"{ours:.2f} ({name}, {ours - jpeg:+.2f})", f"{blind - ours:+.2f}"
        if q in per_q:
            ok_matched &= blind - ours >= -0.15
            ok_png &= png_psnr - ours >= -0.15
        ok_between &= blind > jpeg
        lines.append(
            f"| {q} | {jpeg:.2f} | {cell} | {blind:.2f} | {diff} | {blind - jpeg:+.2f} | {large:.2f} "
            f"| {large - blind:+.2f} | {auto_model(q)} | {png_psnr:.2f} ({picks}) |"
        )
        print(lines[-1], flush=True)
    lines += [
        "",
        f"Within 0.15 dB of the per-quality model at q = 10, 20, 30, 40: {'yes' if ok_matched else 'no'}. "
        f"Better than the JPEG at every quality: {'yes' if ok_between else 'no'}. "
        f"`--quality auto` on the PNGs within 0.15 dB of the per-quality model at q = 10, 20, 30, 40: "
        f"{'yes' if ok_png else 'no'}.",
    ]
    publish("blind", lines, args.write)
    return 0


def _png_choices(data, quality: int) -> dict[str, str]:
    """{image name: the model ``--quality auto`` picks for its decoded JPEG without the tables}."""
    deg = Degradation(quality)
    return {f.name: pick_model("auto", Image.fromarray(deg.pair(f)[1])) for f in list_images(data)}


if __name__ == "__main__":
    sys.exit(main())
