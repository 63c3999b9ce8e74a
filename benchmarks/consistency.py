"""What projecting the restored luminance onto what the JPEG coded adds, on LIVE1.

    python -m benchmarks.consistency [--write]

``arcnn restore`` clips each 8x8 block's DCT coefficients of the network's output to the
quantisation interval of the coefficient the file stores (``arcnn.codec.project_to_jpeg``), a
projection onto a set that holds the original image. Here: the model ``--quality auto`` picks at
each quality, without and with it, with the evaluation protocol (grayscale JPEG of Y, Pillow),
and the time per image with it relative to without (run it on otherwise idle cores).
"""

from __future__ import annotations

import argparse
import sys

from arcnn.evaluate import evaluate
from arcnn.policy import auto_model
from benchmarks._common import publish, require_data

QUALITIES = (10, 20, 30, 40, 50, 75, 90)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the consistency block (docs/results.md)")
    args = ap.parse_args(argv)
    live1 = require_data("live1")
    lines = [
        "LIVE1, grayscale JPEG of Y; PSNR dB / SSIM / PSNR-B dB.",
        "",
        "| q | model | network alone | + consistency | difference | time, relative |",
        "|---|---|---|---|---|---|",
    ]
    worse = []
    for q in QUALITIES:
        name = auto_model(q)
        plain, proj = (evaluate(live1, q, name, consistency=c)["mean"] for c in (False, True))
        cell = lambda m: f"{m['psnr']:.3f} / {m['ssim']:.4f} / {m['psnrb']:.3f}"  # noqa: E731
        diff = f"{proj['psnr'] - plain['psnr']:+.3f} / {proj['ssim'] - plain['ssim']:+.4f} / " \
               f"{proj['psnrb'] - plain['psnrb']:+.3f}"  # fmt: skip
        lines.append(f"| {q} | {name} | {cell(plain)} | {cell(proj)} | {diff} | "
                     f"{proj['seconds'] / plain['seconds']:.2f}× |")  # fmt: skip
        print(lines[-1], flush=True)
        worse += [f"q{q} {k}" for k in ("psnr", "ssim", "psnrb") if proj[k] < plain[k]]
    lines += ["", "Lower with the projection: " + (", ".join(worse) if worse else "nothing") + "."]
    publish("consistency", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
