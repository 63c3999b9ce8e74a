"""Quality against cost: LIVE1 q10 PSNR of every luminance model tried, against its multiply-adds.

    python -m benchmarks.quality_cost [--write]

Points: the shipped luminance models for JPEGs (their LIVE1 q10 PSNR from scores.json, written by
``python -m benchmarks.zoo_table``; a per-quality model of another quality is left out), the
tries kept in the repository (``experiments/weights/*-q10-*`` and ``*-blind-*``, hashed in the
manifest, and the arcnn-large run's constant-rate state before its decay,
``experiments/checkpoints/arcnn-large``), each scored here on LIVE1 q10, and DnCNN-3's published
PSNR at its architecture's cost. Multiply-adds per pixel come from PyTorch's FLOP counter
(``arcnn.flops``). ``--write`` puts the table into its block (docs/training.md) and the plot into
docs/images/quality-cost.png. Exits 2 without the research data.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from arcnn.cli.models import model_rows
from arcnn.evaluate import evaluate
from arcnn.flops import macs_per_pixel
from arcnn.manifest import FILES, verified_path
from arcnn.models import ConvStack
from arcnn.zoo import REGISTRY, load_model
from benchmarks._common import DOCS, PUBLISHED_PSNR, ROOT, publish, require_data
from benchmarks.large import DNCNN3

PLOT = DOCS / "images" / "quality-cost.png"
STATE = ROOT / "experiments" / "checkpoints" / "arcnn-large" / "state.safetensors"


def shipped_points() -> list[tuple[str, str, float, float]]:
    """(label, kind, MAC/px, LIVE1 q10 PSNR) of each shipped luminance model scored at q10: the
    network's own score (``live1``, not ``live1_restore``), the MACs of the models table."""
    macs = {r["name"]: r["macs_per_pixel"] for r in model_rows()}
    points = []
    for name, card in REGISTRY.items():
        score = card.scores.get("live1_q10") or (card.scores.get("live1") if card.quality == 10 else None)
        if card.colour == "y" and score:
            points.append((name, "shipped", macs[name], score["psnr"]))
    return points


def tried_points(live1: Path) -> list[tuple[str, str, float, float]]:
    """The tries kept in the repository, scored on LIVE1 q10 here."""
    files = {Path(k).stem: verified_path(k) for k in FILES
             if k.startswith("repo:experiments/weights/") and ("-q10-" in k or "-blind-" in k)}  # fmt: skip
    points = []
    with tempfile.TemporaryDirectory() as tmp:
        if STATE.is_file():
            from experiments.train_large import export_weights

            files["arcnn-large, before its decay"] = Path(tmp) / "constant.safetensors"
            export_weights(STATE, files["arcnn-large, before its decay"])
        for label, path in files.items():
            psnr = evaluate(live1, 10, str(path))["mean"]["psnr"]
            points.append((label, "tried", macs_per_pixel(load_model(path)), psnr))
            print(f"{label}: {psnr:.3f}", flush=True)
    return points


def plot(points: list[tuple[str, str, float, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    styles = {"shipped": ("o", "tab:blue"), "tried": ("s", "tab:gray"), "published": ("*", "tab:red")}
    for kind, (marker, colour) in styles.items():
        sel = [p for p in points if p[1] == kind]
        ax.scatter([p[2] / 1e3 for p in sel], [p[3] for p in sel], marker=marker, color=colour, s=60,
                   edgecolors="black", linewidths=0.4, label=kind)  # fmt: skip
    for label, _, macs, psnr in points:
        ax.annotate(label, (macs / 1e3, psnr), fontsize=7, xytext=(4, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("multiply-adds per pixel (thousands, log scale)")
    ax.set_ylabel("LIVE1 q10 PSNR (dB)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the quality-cost block and its plot")
    args = ap.parse_args(argv)
    live1 = require_data("live1")
    points = shipped_points() + tried_points(live1)
    points.append(("DnCNN-3", "published", macs_per_pixel(ConvStack(DNCNN3)), PUBLISHED_PSNR["DnCNN-3"][10]))
    points.sort(key=lambda p: p[2])
    lines = ["| model | kind | MAC/px | LIVE1 q10 PSNR (dB) |", "|---|---|---|---|"]
    lines += [f"| {label} | {kind} | {macs / 1e3:.1f} k | {psnr:.2f} |" for label, kind, macs, psnr in points]
    lines += [
        "",
        "Plot: [images/quality-cost.png](images/quality-cost.png), with the table "
        "`python -m benchmarks.quality_cost --write`.",
    ]
    publish("quality-cost", lines, args.write)
    if args.write:
        plot(points, PLOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
