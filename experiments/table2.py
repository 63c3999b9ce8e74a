"""Table 2 / Fig. 5 of the paper: AR-CNN against SRCNN and Deeper SRCNN at q10, one budget.

    python -m experiments.table2            # score the shipped models, plot their logs
    python -m experiments.table2 --train    # first train the arms that are missing (runs/)
    python -m experiments.table2 --write    # also update docs/experiments.md and the plot

Every arm uses the fast recipe with the same settings and budget (36,000 steps of 16 random
64x64 crops = 576,000 samples), so the comparison is at equal backprops. The AR-CNN arm is the
2-core arcnn-q10 kept in experiments/weights/ (the shipped one was later trained further on a GPU).
Scores: LIVE1 q10 under the evaluation protocol; curves: validation PSNR on BSDS500 val.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from arcnn.evaluate import evaluate
from arcnn.plot import plot_logs
from arcnn.weights import read_weights
from arcnn.zoo import REGISTRY
from benchmarks._common import PAPER_ARCNN, ROOT, kept_weights, require_data, train_run, write_readme_block

PAPER = {  # Table 2 of the paper, LIVE1 q10: (PSNR dB, SSIM, PSNR-B dB)
    "arcnn": PAPER_ARCNN[10],
    "srcnn": (28.91, 0.8175, 28.52),
    "deeper-srcnn": (28.92, 0.8189, 28.46),
}
ARMS = ("srcnn", "deeper-srcnn", "arcnn")
# Weights of each arm: the shipped baselines, and AR-CNN at their budget.
WEIGHTS = {
    "srcnn": "srcnn-q10",
    "deeper-srcnn": "deeper-srcnn-q10",
    "arcnn": str(kept_weights("arcnn-q10-cpu.safetensors")),
}


def _verdict(ok: bool) -> str:
    return "holds" if ok else "does not hold"


def _weights(arch: str) -> tuple[str, Path] | None:
    """(name, file) of an arm's weights, or None while it is not trained."""
    w = WEIGHTS[arch]
    if w in REGISTRY:
        return w, REGISTRY[w].path
    return (Path(w).stem, Path(w)) if Path(w).is_file() else None


def train_missing() -> None:
    for arch in ARMS:
        name = f"{arch}-q10"
        if _weights(arch):
            continue
        out = ROOT / "runs" / name
        train_run(out, ["--model", arch, "--quality", "10", "--recipe", "fast", "--val-every", "3000"])
        print(f"then: python tools/ship_model.py {out} {name} (it says what to add to the zoo)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", action="store_true", help="train the arms that are not shipped yet")
    ap.add_argument("--write", action="store_true", help="update docs/experiments.md and its plot")
    args = ap.parse_args(argv)
    live1 = require_data("live1")
    if args.train:
        train_missing()
    lines = [
        "LIVE1 q10, PSNR (dB) / SSIM / PSNR-B (dB); every arm 576,000 samples of 64×64 (fast recipe):",
        "",
        "| network | paper | this repo | model | training wall time (2 CPU cores) |",
        "|---|---|---|---|---|",
    ]
    logs, ours = {}, {}
    for arch in ARMS:
        p = PAPER[arch]
        paper = f"{p[0]:.2f} / {p[1]:.4f} / {p[2]:.2f}"
        if (found := _weights(arch)) is None:
            lines.append(f"| {arch} | {paper} | not trained yet (`--train`) | — | — |")
            continue
        name, path = found
        m = ours[arch] = evaluate(live1, 10, WEIGHTS[arch])["mean"]
        secs = float(read_weights(path)[0].get("train_seconds", "nan"))
        ours_text = f"{m['psnr']:.2f} / {m['ssim']:.4f} / {m['psnrb']:.2f}"
        lines.append(f"| {arch} | {paper} | {ours_text} | {name} | {secs / 60:.0f} min |")
        logs[name] = ROOT / "docs" / "logs" / f"{name}.csv"
    if len(ours) == len(ARMS):
        a, sr, dr = ours["arcnn"], ours["srcnn"], ours["deeper-srcnn"]
        wins = all(a[k] > max(sr[k], dr[k]) for k in ("psnr", "ssim", "psnrb"))
        small = abs(dr["psnr"] - sr["psnr"]) < abs(a["psnr"] - sr["psnr"])
        lines += [
            "",
            "The paper's conclusions at this budget:",
            "",
            f"- AR-CNN beats SRCNN and Deeper SRCNN in all three metrics: {_verdict(wins)}",
            "- a deeper SRCNN (an extra 1×1 layer) gains less over SRCNN than AR-CNN's feature "
            f"enhancement layer does: {_verdict(small)}",
        ]
    day = time.strftime("%Y-%m-%d")
    lines += [
        "",
        f"`python -m experiments.table2 --write`, {day}; training commands: docs/results.md, "
        "provenance table (arcnn-q10-cpu: docs/training.md).",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        plot = ROOT / "docs" / "experiments" / "table2-curves.png"
        plot_logs(logs, plot, title="Fig. 5: validation PSNR (BSDS500 val, q10) against samples seen")
        write_readme_block("table2", text + f"\n\n![Fig. 5 curves](experiments/{plot.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
