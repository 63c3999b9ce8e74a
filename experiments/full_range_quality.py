"""Which quality plane suits ``arcnn-large`` on the full-range Y of colour JPEGs.

    python -m experiments.full_range_quality --quality 10 --planes 10 12 14 [--data bsds500/val]

``arcnn restore`` maps a colour JPEG's JFIF Y (0-255) into the studio range (16-235) the
luminance networks learned, which shrinks the JPEG's quantisation steps by 219/255: a q10 file's
steps then match about those of q12 (:func:`arcnn.codec.scaled_quality`), the quality plane
``arcnn restore`` gives ``arcnn-large`` on such a file. This scores the restored Y
(PSNR against the original's JFIF Y, mean over every third image of ``--data``, Pillow 4:2:0 JPEGs
at ``--quality``) with each quality plane in ``--planes``, restored as ``arcnn restore`` restores
the luminance (full-range mapping, projection onto the file's table). Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from PIL import Image

from arcnn.codec import rgb2jfif, scaled_quality
from arcnn.data import list_images
from arcnn.engine import restore_luma
from arcnn.files import open_image
from arcnn.metrics import psnr
from arcnn.pipeline import Restorer, luma_qtable
from arcnn.policy import LARGE_MODEL
from benchmarks._common import require_data
from benchmarks.colour import encode


def setup_args() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="bsds500/val", help="folder of ../shared/data")
    ap.add_argument("--quality", type=int, default=10, help="the JPEGs' quality")
    ap.add_argument("--planes", type=int, nargs="+", default=[10, 12], help="quality planes to try")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = setup_args().parse_args(argv)
    paths = list_images(require_data(args.data))[::3]
    net = Restorer().network(LARGE_MODEL)
    jpeg, scores = [], {p: [] for p in args.planes}
    for path in paths:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
        ref = rgb2jfif(rgb)[..., 0]
        with open_image(encode(rgb, "4:2:0", args.quality)) as im:
            im.load()
            y, qtable = np.ascontiguousarray(np.asarray(im.convert("YCbCr"))[..., 0]), luma_qtable(im)
        jpeg.append(psnr(ref, y))
        for p in args.planes:
            out = restore_luma(net, y, full_range=True, qtable=qtable, quality=p, match_quality=False)
            scores[p].append(psnr(ref, out))
    cells = ", ".join(f"plane q{p}: {np.mean(v):.3f}" for p, v in scores.items())
    head = f"{args.data} ({len(paths)} images), 4:2:0 q{args.quality}, JFIF Y PSNR dB"
    matched = scaled_quality(args.quality, 219 / 255)
    print(f"{head}: JPEG {np.mean(jpeg):.3f}, {cells} (arcnn restore tells it q{matched})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
