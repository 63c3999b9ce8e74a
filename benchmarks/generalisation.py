"""Do the shipped models generalise? PSNR gain over JPEG on images never used for training or tuning.

    python -m benchmarks.generalisation [--write]
    python -m benchmarks.generalisation --compare A.safetensors B.safetensors [--quality 10]

The held-out set is the natural photographs scikit-image ships (public domain or
CC0: astronaut, coffee, chelsea, camera, coins, moon, stereo motorcycle, immunohistochemistry, brick,
grass, gravel), evaluated with the same protocol as LIVE1. Needs scikit-image
(the ``test`` extra); LIVE1 gains are read from the zoo's measured scores. ``--compare``
prints instead each image's PSNR under the given weights files (or model names), side by side.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from arcnn.evaluate import evaluate
from arcnn.zoo import REGISTRY
from benchmarks._common import blind_luma_models, publish

IMAGES = ["astronaut", "coffee", "chelsea", "camera", "coins", "moon", "stereo_motorcycle",
          "immunohistochemistry", "brick", "grass", "gravel"]  # fmt: skip


def write_images(folder: Path) -> None:
    from skimage import data

    for name in IMAGES:
        img = getattr(data, name)()
        if isinstance(img, tuple):  # stereo pairs come with their disparity
            img = img[0]
        Image.fromarray(np.asarray(img, dtype=np.uint8)).save(folder / f"{name}.png")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the generalisation block (docs/results.md)")
    ap.add_argument("--compare", nargs="+", default=[], metavar="MODEL", help="per-image PSNR of these")
    ap.add_argument("--quality", type=int, default=10, help="JPEG quality for --compare")
    args = ap.parse_args(argv)
    try:
        import skimage  # noqa: F401
    except ImportError:
        print("scikit-image is missing: pip install -e '.[test]'; nothing was measured", file=sys.stderr)
        return 2
    lines = [
        f"Held-out images: {len(IMAGES)} photos shipped with scikit-image ({', '.join(IMAGES)}).",
        "",
        "| model | q | JPEG PSNR | restored PSNR | gain (held-out) | gain (LIVE1) |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_images(folder)
        if args.compare:
            return compare(folder, args.compare, args.quality)
        for name, card in REGISTRY.items():
            blind = name in blind_luma_models()  # one network for every quality: each of q10-q40
            if (card.quality is None and not blind) or card.colour != "y":  # chroma: benchmarks/colour.py
                continue
            for q in (10, 20, 30, 40) if blind else (card.quality,):
                jpeg = evaluate(folder, q, "jpeg")["mean"]["psnr"]
                ours = evaluate(folder, q, name)["mean"]["psnr"]
                live1 = card.scores.get(f"live1_q{q}" if blind else "live1")
                live1_jpeg = evaluate_live1_jpeg(q) if live1 else None
                live1_gain = f"{live1['psnr'] - live1_jpeg:+.2f} dB" if live1 and live1_jpeg else "—"
                gain = f"{ours - jpeg:+.2f} dB"
                lines.append(f"| {name} | {q} | {jpeg:.2f} | {ours:.2f} | {gain} | {live1_gain} |")
    publish("generalisation", lines, args.write)
    return 0


def compare(folder: Path, models: list[str], quality: int) -> int:
    runs = [evaluate(folder, quality, m) for m in models]
    print(f"PSNR dB at q{quality}; columns: " + ", ".join(f"({i + 1}) {m}" for i, m in enumerate(models)))
    for i, row in enumerate(runs[0]["images"]):
        print(f"{row['name']:28s}" + "".join(f"{r['images'][i]['psnr']:9.3f}" for r in runs))
    print(f"{'mean':28s}" + "".join(f"{r['mean']['psnr']:9.3f}" for r in runs))
    return 0


@functools.cache  # several models share a quality: score its JPEG once
def evaluate_live1_jpeg(quality: int) -> float | None:
    from arcnn.data import shared_data_dir

    live1 = shared_data_dir() / "live1"
    return evaluate(live1, quality, "jpeg")["mean"]["psnr"] if live1.is_dir() else None


if __name__ == "__main__":
    sys.exit(main())
