"""How far the U-Nets' planes are mirrored beyond the image's sides: LIVE1 quality and time per edge.

    python -m benchmarks.edge_padding [--write] [--qualities 10 20 30 40]

``arcnn.engine`` mirrors a plane by its network's ``edge`` before cutting it into tiles. For
valid-convolution networks (AR-CNN) that is their whole border, which they lose. The U-Nets
(``arcnn-large``, the chroma network) keep their size and pad every convolution with zeros, as
on their training crops; mirroring their whole border (96 and 192 px) nearly doubles or triples
the work on a LIVE1-sized image. This runs each on LIVE1 with the edge it ships with
(``UNetConfig.edge``: one coarsest cell) and with the whole border: the luminance network on
grayscale JPEGs of MATLAB Y (PSNR, network alone), the chroma network on Pillow 4:2:0 colour
JPEGs (PSNR of Cb and Cr against the original's, reading the decoded Y), with each one's
seconds summed over the 29 images (ONNX Runtime float32, as ``arcnn restore`` runs them).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from types import SimpleNamespace
from typing import Any

import numpy as np
from PIL import Image

from arcnn.codec import jpeg_roundtrip, rgb2jfif
from arcnn.data import list_images, load_luma
from arcnn.engine import restore_chroma, restore_luma
from arcnn.metrics import psnr
from arcnn.policy import CHROMA_MODEL
from benchmarks._common import publish, require_data, restorer

LUMA_MODEL = "arcnn-large"
# What the engine reads of a network's config besides ``edge``.
_ENGINE_READS = ("border", "stride", "keeps_size", "inputs", "channels")


class _Edged:
    """A network as the engine sees it, with its config's ``edge`` replaced."""

    def __init__(self, net: Any, edge: int) -> None:
        c = net.config
        self.net = net
        self.config = SimpleNamespace(edge=edge, **{k: getattr(c, k) for k in _ENGINE_READS})

    def eval(self) -> _Edged:
        return self

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.net(x)


def score(net: Any, cases: list[tuple[np.ndarray, np.ndarray, int]], chroma: bool) -> tuple[float, float]:
    """Mean PSNR and total seconds of ``net`` over (degraded planes, clean planes, quality) cases."""
    scores, seconds = [], 0.0
    for degraded, clean, q in cases:
        t = time.perf_counter()
        out = (restore_chroma if chroma else restore_luma)(net, degraded, quality=q)
        seconds += time.perf_counter() - t
        if chroma:  # Cb beside Cr: one PSNR of both planes
            clean, out = (np.hstack([a[..., 0], a[..., 1]]) for a in (clean, out))
        scores.append(psnr(clean, out))
    return float(np.mean(scores)), seconds


def luma_cases(files: list, q: int) -> list:
    return [(jpeg_roundtrip(c, q), c, q) for c in (load_luma(f) for f in files)]


def chroma_cases(files: list, q: int) -> list:
    cases = []
    for f in files:
        with Image.open(f) as im:
            rgb = np.asarray(im.convert("RGB"))
        ycc = rgb2jfif(jpeg_roundtrip(rgb, q, "4:2:0"))
        cases.append((ycc, rgb2jfif(rgb)[..., 1:], q))
    return cases


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qualities", type=int, nargs="+", default=[10, 20, 30, 40])
    ap.add_argument("--write", action="store_true", help="update the edge-padding block (docs/speed.md)")
    args = ap.parse_args(argv)
    files = list_images(require_data("live1"))
    r = restorer(backend="onnxruntime")
    lines = [
        f"Run of {date.today()}: LIVE1 ({len(files)} images); PSNR dB (luminance: MATLAB Y of grayscale "
        "JPEGs, network alone; chroma: Cb and Cr of 4:2:0 colour JPEGs), seconds summed over the images, "
        "ONNX Runtime float32 (`python -m benchmarks.edge_padding`).",
        "",
        "| network | q | whole border (px) | PSNR | seconds | edge as shipped (px) | PSNR | seconds "
        "| PSNR change | time saved |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, role, cases in ((LUMA_MODEL, "luma", luma_cases), (CHROMA_MODEL, "chroma", chroma_cases)):
        net = r.network(name, role)
        shipped, whole = net.config.edge, net.config.border
        for q in args.qualities:
            data = cases(files, q)
            (p1, s1), (p0, s0) = (score(_Edged(net, e), data, role == "chroma") for e in (shipped, whole))
            lines.append(f"| {name} | {q} | {whole} | {p0:.4f} | {s0:.1f} | {shipped} | {p1:.4f} | {s1:.1f} "
                         f"| {p1 - p0:+.4f} | {1 - s1 / s0:.0%} |")  # fmt: skip
            print(lines[-1], flush=True)
    publish("edge-padding", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
