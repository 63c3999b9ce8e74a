"""Reproduce the JPEG row of the paper's Table 1 on LIVE1 with the evaluation protocol.

    python -m benchmarks.jpeg_baseline [--write]   # --write: also update docs/results.md

Prints measured vs paper for q = 10, 20, 30, 40 and exits 1 if any value, rounded
as the paper rounds it (2 decimals for dB, 4 for SSIM), is off by more than 0.01.
"""

from __future__ import annotations

import argparse
import sys

from arcnn.evaluate import evaluate
from benchmarks._common import PAPER_JPEG, publish, require_data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the jpeg-baseline block (docs/results.md)")
    args = ap.parse_args(argv)
    live1 = require_data("live1")
    lines = [
        "| q | PSNR measured / paper | SSIM measured / paper | PSNR-B measured / paper | SSIM (Gauss) |",
        "|---|---|---|---|---|",
    ]
    ok = True
    for q, paper in PAPER_JPEG.items():
        m = evaluate(live1, q, "jpeg")["mean"]
        got = (round(m["psnr"], 2), round(m["ssim"], 4), round(m["psnrb"], 2))
        ok &= all(abs(g - p) <= 0.01 + 1e-9 for g, p in zip(got, paper))
        lines.append(f"| {q} | {got[0]:.2f} / {paper[0]:.2f} | {got[1]:.4f} / {paper[1]:.4f} | "
                     f"{got[2]:.2f} / {paper[2]:.2f} | {m['ssim_gauss']:.4f} |")  # fmt: skip
    lines.append("")
    lines.append("all within ±0.01 of the paper" if ok else "MISMATCH: some value is off by more than 0.01")
    publish("jpeg-baseline", lines, args.write)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
