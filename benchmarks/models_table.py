"""The README's model table: ``arcnn models --markdown`` (use, MAC/px from PyTorch's FLOP counter, and
the LIVE1 scores ``python -m benchmarks.zoo_table`` stored in scores.json). Needs no research data.

    python -m benchmarks.models_table --write
"""

from __future__ import annotations

import argparse
import sys

from arcnn.cli.models import markdown_table, model_rows
from benchmarks._common import publish


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update the README's models block")
    args = ap.parse_args(argv)
    lines = [markdown_table(model_rows()), "", "`python -m benchmarks.models_table --write`"]
    publish("models", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
