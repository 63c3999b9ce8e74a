"""The README's model table: ``arcnn models --markdown`` (use, MAC/px from PyTorch's FLOP counter, and
the LIVE1 scores ``python -m benchmarks.zoo_table`` stored in scores.json), less the research models
(the paper's comparison networks, whose use begins with "research:"). Needs no research data.

    python -m benchmarks.models_table --write
"""

from __future__ import annotations

import argparse
import sys

from arcnn.cli.models import markdown_table, model_rows
from benchmarks._common import publish


def readme_lines() -> list[str]:
    """The README's ``models`` block."""
    rows = [r for r in model_rows() if not r["use"].startswith("research:")]
    return [markdown_table(rows), "", "`python -m benchmarks.models_table --write`"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the README's models block")
    args = ap.parse_args(argv)
    publish("models", readme_lines(), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
