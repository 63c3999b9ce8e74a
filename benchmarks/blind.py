"""The quality-blind model against the per-quality models and the JPEG, on LIVE1.

    python benchmarks/blind.py [--write]

At q = 10, 20, 30, 40 ``arcnn-blind`` should be within 0.15 dB PSNR of the model trained
for that quality; at the qualities in between and above it should never be worse than
the JPEG. Also scores the per-quality model nearest each quality, and shows which model
``--quality auto`` picks for a standard-table JPEG at each quality. Evaluation protocol as
everywhere (grayscale JPEG of Y, Pillow).
"""

from __future__ import annotations

import argparse
import sys

from _common import require_data, write_readme_block

from arcnn.evaluate import evaluate
from arcnn.zoo import BLIND_MODEL, REGISTRY, auto_model, nearest_model

MATCHED = (10, 20, 30, 40)
BETWEEN = (5, 15, 25, 35, 50, 60, 75, 90)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the README's blind block")
    args = ap.parse_args()
    live1 = require_data("live1")
    if BLIND_MODEL not in REGISTRY:
        print(f"{BLIND_MODEL} is not shipped: nothing to measure", file=sys.stderr)
        return 2
    per_q = {c.quality: n for n, c in REGISTRY.items() if c.per_quality}
    lines = [
        "LIVE1 PSNR (dB), grayscale JPEG of Y.",
        "",
        "| q | JPEG | nearest per-quality model | arcnn-blind | blind − nearest | blind − JPEG | auto |",
        "|---|---|---|---|---|---|---|",
    ]
    ok_matched, ok_between = True, True
    for q in sorted(MATCHED + BETWEEN):
        jpeg = evaluate(live1, q, "jpeg")["mean"]["psnr"]
        blind = evaluate(live1, q, BLIND_MODEL)["mean"]["psnr"]
        name = nearest_model(q)
        ours = evaluate(live1, q, name)["mean"]["psnr"]
        cell, diff = f"{ours:.2f} ({name}, {ours - jpeg:+.2f})", f"{blind - ours:+.2f}"
        if q in per_q:
            ok_matched &= blind - ours >= -0.15
        ok_between &= blind > jpeg
        lines.append(
            f"| {q} | {jpeg:.2f} | {cell} | {blind:.2f} | {diff} | {blind - jpeg:+.2f} | {auto_model(q)} |"
        )
        print(lines[-1], flush=True)
    lines += [
        "",
        f"Within 0.15 dB of the per-quality model at q = 10, 20, 30, 40: {'yes' if ok_matched else 'no'}. "
        f"Better than the JPEG at every quality: {'yes' if ok_between else 'no'}.",
    ]
    print("\n".join(lines))
    if args.write:
        write_readme_block("blind", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
