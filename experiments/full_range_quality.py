"""Which quality plane suits ``arcnn-large`` on the full-range Y of colour JPEGs.

    python -m experiments.full_range_quality --quality 10 --planes 10 12 14 [--data bsds500/val] [--model M]

``arcnn restore`` maps a colour JPEG's JFIF Y (0-255) into the studio range (16-235) the
luminance networks learned, which shrinks the JPEG's quantisation steps by 219/255: a q10 file's
steps then match about those of q12 (:func:`arcnn.codec.scaled_quality`), the quality plane
``arcnn restore`` gives ``arcnn-large`` on such a file. This scores the restored Y
(PSNR against the original's JFIF Y, mean over every third image of ``--data``, Pillow 4:2:0 JPEGs
at ``--quality``) with each quality plane in ``--planes``, restored as ``arcnn restore`` restores
the luminance (full-range mapping, projection onto the file's table). With ``--grayscale Q`` it
also gives the network's gain where it was trained: the protocol's grayscale JPEG of MATLAB's Y at
quality Q (Q = the matched quality: about the same JPEG PSNR), restored with that projection too,
so the two gains show what the colour path loses. Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import io
import sys

import numpy as np
from PIL import Image

from arcnn.codec import rgb2jfif, rgb2ycbcr, scaled_quality
from arcnn.data import list_images
from arcnn.engine import restore_luma
from arcnn.files import open_image
from arcnn.metrics import psnr
from arcnn.netconfig import Network
from arcnn.pipeline import Restorer, luma_qtable
from arcnn.policy import LARGE_MODEL
from benchmarks._common import require_data
from benchmarks.colour import encode


def setup_args() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="bsds500/val", help="folder of ../shared/data")
    ap.add_argument("--quality", type=int, default=10, help="the JPEGs' quality")
    ap.add_argument("--planes", type=int, nargs="+", default=[10, 12], help="quality planes to try")
    ap.add_argument("--model", default=LARGE_MODEL, help="the luminance model: a name or a weights file")
    ap.add_argument("--grayscale", type=int, default=0, help="also a grayscale JPEG of Y at this quality")
    return ap


def grayscale_gain(net: Network, rgb: np.ndarray, quality: int) -> tuple[float, float]:
    """(JPEG, restored) PSNR dB of the protocol's grayscale JPEG of MATLAB Y at ``quality``,
    restored by ``net`` as ``arcnn restore`` restores a grayscale JPEG (projection included)."""
    ref = rgb2ycbcr(rgb)[..., 0]
    buf = io.BytesIO()
    Image.fromarray(ref).save(buf, format="JPEG", quality=quality)
    with open_image(buf.getvalue()) as im:
        im.load()
        y, qtable = np.asarray(im.convert("L")), luma_qtable(im)
    return psnr(ref, y), psnr(ref, restore_luma(net, y, qtable=qtable, quality=quality))


def main(argv: list[str] | None = None) -> int:
    args = setup_args().parse_args(argv)
    paths = list_images(require_data(args.data))[::3]
    net = Restorer().network(args.model)
    jpeg, scores, gray = [], {p: [] for p in args.planes}, []
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
        if args.grayscale:
            gray.append(grayscale_gain(net, rgb, args.grayscale))
    cells = ", ".join(f"plane q{p}: {np.mean(v):.3f}" for p, v in scores.items())
    head = f"{args.data} ({len(paths)} images), 4:2:0 q{args.quality}, JFIF Y PSNR dB"
    matched = scaled_quality(args.quality, 219 / 255)
    print(f"{head}: JPEG {np.mean(jpeg):.3f}, {cells} (arcnn restore tells it q{matched})")
    if gray:
        g_jpeg, g_out = np.mean(gray, axis=0)
        print(
            f"grayscale JPEG of MATLAB Y at q{args.grayscale}: JPEG {g_jpeg:.3f}, restored {g_out:.3f} "
            f"(gain {g_out - g_jpeg:+.3f}); colour Y gains: "
            + ", ".join(f"plane q{p} {np.mean(v) - np.mean(jpeg):+.3f}" for p, v in scores.items())
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
