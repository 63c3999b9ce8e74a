"""Pointwise SA-DCT deblocking (Foi et al. 2007) on LIVE1 with the evaluation protocol, against the paper.

    python -m benchmarks.sadct_table [--qualities 10 20 30 40] [--images N] [--workers W] [--write]

Prints, per JPEG quality: the JPEG scores, the paper's SA-DCT row (Dong et al. 2015, Table 1),
the measured SA-DCT scores (PSNR / SSIM / PSNR-B) and the seconds per image (one core each;
``--workers`` images at a time); whether q10 and q20 are within the issue's tolerance of the
paper (0.15 dB PSNR, 0.005 SSIM, 0.3 dB PSNR-B); then the paper's speed comparison measured
here: seconds for one 256x256 image, SA-DCT vs arcnn-q10. ``--images N`` scores only the first
N images (quick checks). ``--write`` also updates the sadct-table block (docs/results.md).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from arcnn.codec import jpeg_roundtrip
from arcnn.data import list_images, load_luma
from arcnn.evaluate import evaluate
from arcnn.policy import DEFAULT_MODEL
from arcnn.sadct import sadct_deblock
from benchmarks._common import PAPER_SADCT, publish, require_data, restorer

TOLERANCE = (0.15, 0.005, 0.3)


def _fmt(m: dict | tuple) -> str:
    v = (m["psnr"], m["ssim"], m["psnrb"]) if isinstance(m, dict) else m
    return f"{v[0]:.2f} / {v[1]:.4f} / {v[2]:.2f}"


def _speed(y: np.ndarray) -> tuple[float, float]:
    """Seconds to restore one 256x256 q10 JPEG: SA-DCT (1 core) and arcnn-q10 (all cores)."""
    z = jpeg_roundtrip(np.ascontiguousarray(y[:256, :256]), 10)
    t = time.perf_counter()
    sadct_deblock(z, quality=10)
    t_sadct = time.perf_counter() - t
    r = restorer(DEFAULT_MODEL)
    r.restore_plane(z)  # warm-up
    t = time.perf_counter()
    r.restore_plane(z)
    return t_sadct, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qualities", type=int, nargs="+", default=[10, 20, 30, 40])
    ap.add_argument("--images", type=int, default=None, help="only the first N LIVE1 images")
    ap.add_argument("--workers", type=int, default=None, help="images restored at once (default: all cores)")
    ap.add_argument("--write", action="store_true", help="update the sadct-table block (docs/results.md)")
    args = ap.parse_args(argv)
    live1 = require_data("live1")
    files = list_images(live1)[: args.images]
    with tempfile.TemporaryDirectory() as tmp:
        folder = live1
        if args.images is not None:
            folder = Path(tmp)
            for f in files:
                shutil.copy(f, folder / f.name)
        lines = [
            f"LIVE1, {len(files)} image(s); PSNR dB / SSIM / PSNR-B dB",
            "",
            "| q | JPEG | SA-DCT (paper) | SA-DCT (measured) | within tolerance | s / image (1 core) |",
            "|---|---|---|---|---|---|",
        ]
        for q in args.qualities:
            jpeg = evaluate(folder, q, "jpeg")["mean"]
            ours = evaluate(folder, q, "sadct", args.workers)["mean"]
            paper = PAPER_SADCT.get(q)
            ok = "—"
            if paper and q in (10, 20):
                got = (ours["psnr"], ours["ssim"], ours["psnrb"])
                ok = "yes" if all(abs(g - p) <= t for g, p, t in zip(got, paper, TOLERANCE)) else "no"
            lines.append(f"| {q} | {_fmt(jpeg)} | {_fmt(paper) if paper else '—'} | {_fmt(ours)} | {ok} | "
                         f"{ours['seconds']:.1f} |")  # fmt: skip
            print(lines[-1], file=sys.stderr, flush=True)
    t_sadct, t_net = _speed(load_luma(files[0]))
    lines += [
        "",
        f"One 256x256 image at q10 on this machine: SA-DCT {t_sadct:.2f} s (1 core), "
        f"{DEFAULT_MODEL} {t_net:.3f} s ({torch.get_num_threads()} threads, float32).",
    ]
    publish("sadct-table", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
