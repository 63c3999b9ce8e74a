"""Colour restoration on LIVE1: RGB JPEGs with 4:2:0 chroma, as cameras and Pillow write them.

    python -m benchmarks.colour [--write] [--qualities 10 20 30 40 50 75]

Each LIVE1 image is saved as an RGB JPEG with Pillow's defaults (4:2:0) at quality q, and the
file's bytes are restored by ``arcnn.pipeline.Restorer``, as ``arcnn restore`` restores them (on
PyTorch): nothing (the JPEG as libjpeg decodes it to RGB), Y only (``--chroma off``: the
luminance model ``--quality auto`` picks, kept consistent with the file, chroma as decoded) and
colour (``--chroma on``: the same Y plus the chroma model picked from the file's quality, reading
the restored Y). Reports RGB PSNR (all three channels), the PSNR of MATLAB Y and the CIEDE2000
colour difference ΔE (``arcnn.metrics.ciede2000``, lower is better), means over images. The
issue's targets are judged at q = 10 to 40; the higher qualities show where
``--chroma auto`` should stop. ``--jfif-luma``, ``--decoded-y`` and ``--chroma-model`` measure
what ``arcnn restore`` does not do; such a variant never replaces the published block.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections import Counter

import numpy as np
from PIL import Image

from arcnn.codec import rgb2ycbcr
from arcnn.data import list_images
from arcnn.engine import restore_chroma, restore_luma
from arcnn.files import open_image
from arcnn.metrics import ciede2000, psnr
from arcnn.pipeline import Restorer, luma_qtable, map_luma
from arcnn.policy import CHROMA_AUTO_MAX_QUALITY, CHROMA_MODEL, auto_chroma_model, file_quality, pick_model
from arcnn.zoo import REGISTRY
from benchmarks._common import publish, require_data, restorer

ROWS = ("jpeg", "yonly", "colour")


def _rgb_psnr(ref: np.ndarray, out: np.ndarray) -> float:
    return psnr(ref.reshape(ref.shape[0], -1), out.reshape(out.shape[0], -1))


def _as_arcnn_restore(data: bytes, restorers: dict[str, Restorer]) -> tuple[dict[str, np.ndarray], str, str]:
    """The Y-only and colour restorations of the JPEG ``data`` exactly as ``arcnn restore`` makes
    them, and the luminance and chroma models it chose."""
    out = {k: r.restore(data) for k, r in restorers.items()}
    images = {k: np.asarray(o.image) for k, o in out.items()}
    return images, str(out["colour"].model), str(out["colour"].chroma_model)


def _variant(data: bytes, r: Restorer, args: argparse.Namespace) -> tuple[dict[str, np.ndarray], str, str]:
    """What ``arcnn restore`` does not do, built from the library's pieces as ``Restorer`` builds it
    (``RestoreOptions`` cannot ask for these): the luminance model fed JFIF Y as is (``--jfif-luma``),
    the chroma model reading the decoded Y (``--decoded-y``), another chroma model (``--chroma-model``).
    The luminance is restored once and shared by both rows."""
    with open_image(data) as im:
        estimate = file_quality(im)
        name = pick_model("auto", im)
        cname = args.chroma_model or auto_chroma_model(None if estimate is None else estimate.quality)
        qtable = None if args.no_consistency else luma_qtable(im)
        im.load()
        ycc = np.asarray(im.convert("YCbCr"))
        y = restore_luma(r.network(name), np.ascontiguousarray(ycc[..., 0]), full_range=not args.jfif_luma,
                         qtable=qtable)  # fmt: skip

        def keep_y(_: np.ndarray) -> np.ndarray:
            return y

        def chroma(planes: np.ndarray) -> np.ndarray:
            if args.decoded_y:
                planes = np.dstack([ycc[..., :1], planes[..., 1:]])
            q = None if estimate is None else estimate.quality
            return restore_chroma(r.network(cname, "chroma"), planes, quality=q)

        out = {"yonly": map_luma(im, keep_y), "colour": map_luma(im, keep_y, chroma)}
    return {k: np.asarray(v) for k, v in out.items()}, name, cname


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the colour block (docs/results.md)")
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
    args = ap.parse_args(argv)
    files = list_images(require_data(args.data))
    label = "LIVE1" if args.data == "live1" else args.data
    if CHROMA_MODEL not in REGISTRY:
        print(f"{CHROMA_MODEL} is not shipped: nothing to measure", file=sys.stderr)
        return 2
    variant = args.jfif_luma or args.decoded_y or args.chroma_model
    lines = [
        f"{label} ({len(files)} images) as RGB JPEGs (Pillow, 4:2:0); RGB PSNR dB / Y PSNR dB / mean "
        "CIEDE2000 ΔE; differences in RGB PSNR, and in ΔE (negative: closer colours).",
        "",
        "| q | JPEG | Y only (model) | colour (+ chroma model) | colour − JPEG | colour − Y only "
        "| ΔE colour − JPEG |",
        "|---|---|---|---|---|---|---|",
    ]
    # The colour row applies the chroma model at every quality (--chroma on), to show where
    # --chroma auto should stop applying it.
    consistency = not args.no_consistency
    restorers = {"yonly": restorer(chroma="off", consistency=consistency),
                 "colour": restorer(chroma="on", consistency=consistency)}  # fmt: skip
    verdict = []
    for q in args.qualities:
        scores: dict[str, list] = {k: [] for k in ROWS}
        used: Counter = Counter()
        for f in files:
            with Image.open(f) as im:
                rgb = np.asarray(im.convert("RGB"))
            buf = io.BytesIO()
            Image.fromarray(rgb).save(buf, format="JPEG", quality=q)
            data = buf.getvalue()
            with Image.open(io.BytesIO(data)) as im:
                decoded = {"jpeg": np.asarray(im.convert("RGB"))}  # as libjpeg decodes it to RGB
            restored, name, cname = (
                _variant(data, restorers["colour"], args) if variant else _as_arcnn_restore(data, restorers)
            )
            decoded |= restored
            used[(name, cname)] += 1
            ref_y = rgb2ycbcr(rgb)[..., 0]
            for k, out in decoded.items():
                y_psnr = psnr(ref_y, rgb2ycbcr(out)[..., 0])
                scores[k].append((_rgb_psnr(rgb, out), y_psnr, ciede2000(rgb, out)))
        (name, cname), _ = used.most_common(1)[0]
        m = {k: np.mean(v, axis=0) for k, v in scores.items()}
        cells = [f"{m[k][0]:.2f} / {m[k][1]:.2f} / {m[k][2]:.3f}" for k in ROWS]
        gain, over_y = m["colour"][0] - m["jpeg"][0], m["colour"][0] - m["yonly"][0]
        lines.append(f"| {q} | {cells[0]} | {cells[1]} ({name}) | {cells[2]} ({cname}) | {gain:+.3f} | "
                     f"{over_y:+.3f} | {m['colour'][2] - m['jpeg'][2]:+.3f} |")  # fmt: skip
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
    published = not (variant or args.no_consistency or args.data != "live1")
    publish("colour", lines, args.write and published)
    return 0


if __name__ == "__main__":
    sys.exit(main())
