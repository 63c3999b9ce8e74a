"""Table 3 of the paper: the comparison with RTF, on half-sized BSDS500.

    python -m experiments.table3 [--steps 6000] [--write]

As in the paper (after Jancsary et al.'s RTF): train on the 200 BSDS500 *train* images
down-scaled by 0.5 (bicubic), test on the 200 *test* images down-scaled by 0.5, at q10 and q20,
grayscale JPEG of Y as in the evaluation protocol. One AR-CNN per quality, from scratch, fast
recipe, ``--steps`` x 16 crops of 64x64, validated on half-sized BSDS500 val. The runs go to
``runs/table3-qN`` and resume there.

The paper's Table 3 itself (JPEG, RTF, RTF+SA-DCT and AR-CNN rows) is not in the text this
project has (its tables were stripped), so no paper number is quoted here: compare with the
published table directly.
"""

from __future__ import annotations

import argparse
import sys
import time

from arcnn.evaluate import evaluate
from arcnn.weights import read_weights
from benchmarks._common import ROOT, publish, require_data, train_run

QUALITIES = (10, 20)


def _fmt(m: dict) -> str:
    return f"{m['psnr']:.2f} / {m['ssim']:.4f} / {m['psnrb']:.2f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=6000, help="training steps per quality (batch 16)")
    ap.add_argument("--write", action="store_true", help="update docs/experiments.md")
    args = ap.parse_args(argv)
    bsds = require_data("bsds500")
    for q in QUALITIES:
        train_run(ROOT / "runs" / f"table3-q{q}", [
            "--model", "arcnn", "--quality", str(q), "--scale", "0.5", "--train-dir", str(bsds / "train"),
            "--val-dir", str(bsds / "val"), "--recipe", "fast", "--steps", str(args.steps),
            "--val-every", str(max(1, args.steps // 3)),
        ])  # fmt: skip
    lines = [
        "BSDS500 test (200 images) down-scaled by 0.5; PSNR (dB) / SSIM / PSNR-B (dB). arcnn trained on "
        f"BSDS500 train down-scaled by 0.5, {args.steps} steps × 16 crops of 64×64 "
        f"= {args.steps * 16:,} samples.",
        "",
        "| q | JPEG | arcnn (this repo) | training wall time |",
        "|---|---|---|---|",
    ]
    for q in QUALITIES:
        weights = ROOT / "runs" / f"table3-q{q}" / "model.safetensors"
        jpeg = evaluate(bsds / "test", q, "jpeg", scale=0.5)["mean"]
        ours = evaluate(bsds / "test", q, str(weights), scale=0.5)["mean"]
        secs = float(read_weights(weights)[0].get("train_seconds", "nan"))
        lines.append(f"| {q} | {_fmt(jpeg)} | {_fmt(ours)} | {secs / 60:.0f} min |")
    lines += [
        "",
        f"`python -m experiments.table3 --steps {args.steps} --write`, {time.strftime('%Y-%m-%d')}.",
    ]
    publish("table3", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
