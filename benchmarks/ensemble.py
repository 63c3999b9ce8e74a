"""Self-ensemble: what averaging 2, 4 or 8 mirrored/flipped/turned restorations buys, and costs, on LIVE1.

    python -m benchmarks.ensemble [--qualities 10 ...] [--write]

For each shipped per-quality model: LIVE1 PSNR / SSIM / PSNR-B with ``--ensemble 1, 2, 4, 8``
and the restoration time relative to a single pass (measured in the same run).
"""

from __future__ import annotations

import argparse
import sys

from arcnn.evaluate import evaluate
from arcnn.options import ENSEMBLES
from arcnn.policy import nearest_model
from benchmarks._common import PAPER_ARCNN, publish, require_data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qualities", type=int, nargs="+", default=[10])
    ap.add_argument("--write", action="store_true", help="update the ensemble block (docs/results.md)")
    args = ap.parse_args(argv)
    live1 = require_data("live1")
    lines = [
        "| q | model | ensemble | LIVE1 PSNR / SSIM / PSNR-B | AR-CNN (paper) | time, relative |",
        "|---|---|---|---|---|---|",
    ]
    for q in args.qualities:
        name = nearest_model(q)
        p = PAPER_ARCNN.get(q)
        paper = f"{p[0]:.2f} / {p[1]:.4f} / {p[2]:.2f}" if p else "—"
        base = None
        for n in ENSEMBLES:
            m = evaluate(live1, q, name, ensemble=n)["mean"]
            base = base or m["seconds"]
            lines.append(f"| {q} | {name} | {n} | {m['psnr']:.3f} / {m['ssim']:.4f} / {m['psnrb']:.3f} | "
                         f"{paper} | {m['seconds'] / base:.1f}× |")  # fmt: skip
            print(lines[-1], flush=True)
    publish("ensemble", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
