"""Colour restoration on LIVE1: RGB JPEGs with 4:2:0 chroma, as cameras and Pillow write them.

    python benchmarks/colour.py [--write] [--qualities 10 20 30 40 50 75]

Each LIVE1 image is saved as an RGB JPEG with Pillow's defaults (4:2:0) at quality q and
restored three ways from the decoder's YCbCr planes: nothing (the JPEG as libjpeg decodes it to
RGB), Y only (the luminance model ``--quality auto`` picks, kept consistent with the file, chroma as
decoded) and colour (the same Y plus the chroma model ``--chroma auto`` picks, reading the restored
Y), as ``arcnn restore`` does by default. Reports RGB PSNR (all
three channels) and the PSNR of MATLAB Y, means over images. The issue's targets are judged
at q = 10 to 40; the higher qualities show where ``--chroma auto`` should stop.
"""

from __future__ import annotations

import argparse
import io
import sys
from functools import partial

import numpy as np
from _common import publish, require_data
from PIL import Image

from arcnn.codec import rgb2ycbcr
from arcnn.data import list_images
from arcnn.metrics import psnr
from arcnn.restore import (
    CHROMA_AUTO_MAX_QUALITY,
    luma_qtable,
    map_luma,
    open_jpeg_ycbcr,
    restore_chroma,
    restore_luma,
)
from arcnn.zoo import CHROMA_MODEL, REGISTRY, auto_chroma_model, auto_model, load_model


def _rgb_psnr(ref: np.ndarray, out: np.ndarray) -> float:
    return psnr(ref.reshape(ref.shape[0], -1), out.reshape(out.shape[0], -1))


def _chroma(model, decoded_y: np.ndarray | None, planes: np.ndarray) -> np.ndarray:
    return restore_chroma(model, planes if decoded_y is None else np.dstack([decoded_y, planes[..., 1:]]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the README's colour block")
    ap.add_argument("--qualities", type=int, nargs="+", default=[10, 20, 30, 40, 50, 75])
    ap.add_argument("--data", default="live1", help="folder of ../shared/data (bsds500/val to check on val)")
    ap.add_argument("--jfif-luma", action="store_true",
                    help="luminance models see full-range Y as is (measures the mapping)")  # fmt: skip
    ap.add_argument("--no-consistency", action="store_true",
                    help="luminance without the projection onto what the JPEG coded")  # fmt: skip
    ap.add_argument("--decoded-y", action="store_true",
                    help="the chroma model reads the decoded Y, not the restored one")  # fmt: skip
    ap.add_argument("--chroma-model", default=None,
                    help="this chroma model at every quality (default: as arcnn restore picks)")  # fmt: skip
    args = ap.parse_args()
    files = list_images(require_data(args.data))
    label = "LIVE1" if args.data == "live1" else args.data
    if CHROMA_MODEL not in REGISTRY:
        print(f"{CHROMA_MODEL} is not shipped: nothing to measure", file=sys.stderr)
        return 2
    lines = [
        f"{label} ({len(files)} images) as RGB JPEGs (Pillow, 4:2:0); RGB PSNR dB / Y PSNR dB; "
        "differences in RGB PSNR.",
        "",
        "| q | JPEG | Y only (model) | colour (+ chroma model) | colour − JPEG | colour − Y only |",
        "|---|---|---|---|---|---|",
    ]
    verdict = []
    for q in args.qualities:
        name, cname = auto_model(q), args.chroma_model or auto_chroma_model(q)
        luma, chroma = load_model(name), load_model(cname)
        scores = {k: [] for k in ("jpeg", "yonly", "colour")}
        for f in files:
            with Image.open(f) as im:
                rgb = np.asarray(im.convert("RGB"))
            buf = io.BytesIO()
            Image.fromarray(rgb).save(buf, format="JPEG", quality=q)
            buf.seek(0)
            with Image.open(buf) as im:
                decoded = {"jpeg": np.asarray(im.convert("RGB"))}
            buf.seek(0)
            with Image.open(buf) as im:
                qtable = None if args.no_consistency else luma_qtable(im)
                ycc = Image.fromarray(np.asarray(open_jpeg_ycbcr(im)), "YCbCr")
            # As `arcnn restore` does for colour images; restored once, shared by both rows.
            y = restore_luma(
                luma,
                np.ascontiguousarray(np.asarray(ycc)[..., 0]),
                full_range=not args.jfif_luma,
                qtable=qtable,
            )
            keep_y = lambda _, y=y: y  # noqa: E731
            decoded["yonly"] = np.asarray(map_luma(ycc, keep_y))
            # map_luma hands the chroma model the restored Y; --decoded-y puts the decoded one back
            dy = np.asarray(ycc)[..., :1] if args.decoded_y else None
            cfn = partial(_chroma, chroma, dy)
            decoded["colour"] = np.asarray(map_luma(ycc, keep_y, cfn))
            ref_y = rgb2ycbcr(rgb)[..., 0]
            for k, out in decoded.items():
                scores[k].append((_rgb_psnr(rgb, out), psnr(ref_y, rgb2ycbcr(out)[..., 0])))
        m = {k: np.mean(v, axis=0) for k, v in scores.items()}
        cells = [f"{m[k][0]:.2f} / {m[k][1]:.2f}" for k in ("jpeg", "yonly", "colour")]
        gain, over_y = m["colour"][0] - m["jpeg"][0], m["colour"][0] - m["yonly"][0]
        lines.append(f"| {q} | {cells[0]} | {cells[1]} ({name}) | {cells[2]} ({cname}) | {gain:+.3f} | "
                     f"{over_y:+.3f} |")  # fmt: skip
        verdict.append((q, gain, over_y))
        print(lines[-1], flush=True)
    better = all(d > 0 for q, _, d in verdict if q <= 40)
    q10 = next((g for q, g, _ in verdict if q == 10), None)
    helps = [q for q, _, d in verdict if d > 0]
    lines += [
        "",
        f"Colour better than Y only at every q from 10 to 40: {'yes' if better else 'no'}."
        + ("" if q10 is None else f" q10 gain over the JPEG: {q10:+.3f} dB RGB (target +1.200).")
        + (
            f" The chroma models help up to q{max(helps)}; `--chroma auto` applies them up to an estimated"
            f" q{CHROMA_AUTO_MAX_QUALITY}."
            if helps
            else ""
        ),
    ]
    variant = (
        args.jfif_luma or args.no_consistency or args.decoded_y or args.chroma_model or args.data != "live1"
    )
    publish("colour", lines, args.write and not variant)  # a variant never replaces the README's block
    return 0


if __name__ == "__main__":
    sys.exit(main())
