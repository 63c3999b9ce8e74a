"""The README's headline table: the shipped per-quality models against the paper and published peers.

    python -m benchmarks.headline            # print the table
    python -m benchmarks.headline --write    # also update the README's headline block

Measures nothing and needs no data: the shipped models' LIVE1 scores are read from
src/arcnn/weights/scores.json (written by ``python -m benchmarks.zoo_table --write``, which also reruns
this), the paper's and the peers' numbers from the constants in benchmarks/_common.py.
"""

from __future__ import annotations

import argparse
import json
import sys

from arcnn.policy import LARGE_MODEL
from arcnn.zoo import REGISTRY, SCORES_FILE
from benchmarks._common import PAPER_ARCNN, PAPER_JPEG, PUBLISHED_PSNR, publish

QUALITIES = (10, 20, 30, 40)


def headline_lines() -> list[str]:
    """The table as Markdown lines, from scores.json and the published constants."""
    scores = json.loads(SCORES_FILE.read_text())
    per_q = {c.quality: n for n, c in REGISTRY.items() if c.per_quality}
    peers = list(PUBLISHED_PSNR)
    lines = [
        "LIVE1, grayscale JPEG of Y, PSNR (dB). JPEG and AR-CNN as the paper's Table 1 reports them, "
        + ", ".join(f"{p} as published" for p in peers)
        + "; arcnn as measured, the network alone and as `arcnn restore` runs it on a JPEG file "
        f"(difference to the paper's AR-CNN in brackets); `{LARGE_MODEL}`, one network for every "
        f"quality, as measured (difference to {peers[0]} in brackets).",
        "",
        "| q | JPEG | AR-CNN (paper) | " + " | ".join(f"{p} (published)" for p in peers)
        + f" | arcnn, network alone | `arcnn restore` | model | `{LARGE_MODEL}` |",
        "|---|---|---|" + "---|" * len(peers) + "---|---|---|---|",
    ]  # fmt: skip
    large = scores.get(LARGE_MODEL, {})
    for q in QUALITIES:
        name = per_q.get(q)
        s = scores.get(name, {}) if name else {}
        paper = PAPER_ARCNN[q][0]

        def cell(key: str, s: dict = s, paper: float = paper) -> str:
            if key not in s:
                return "—"
            v = s[key]["psnr"]
            return f"{v:.3f} ({v - paper:+.3f})"

        row = [str(q), f"{PAPER_JPEG[q][0]:.2f}", f"{paper:.2f}"]
        row += [f"{PUBLISHED_PSNR[p][q]:.2f}" for p in peers]
        row += [cell("live1"), cell("live1_restore"), name or "—"]
        row += [cell(f"live1_q{q}", large, PUBLISHED_PSNR[peers[0]][q])]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the README's headline block")
    args = ap.parse_args(argv)
    publish("headline", headline_lines(), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
