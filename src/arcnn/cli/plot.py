"""``arcnn plot``: training curves from log.csv files (needs matplotlib)."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    pl = sub.add_parser("plot", help="plot training curves from log.csv files (needs matplotlib)")
    pl.add_argument("logs", nargs="+", help="log.csv files or run folders; label=PATH to name a curve")
    pl.add_argument("-o", "--output", required=True, help="PNG file to write")
    pl.add_argument("--title", default="")


def run(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    from arcnn.plot import plot_logs

    logs: dict[str, str | Path] = {}
    for item in args.logs:
        label, _, path = item.rpartition("=")
        p = Path(path)
        p = p / "log.csv" if p.is_dir() else p
        logs[label or p.parent.name] = p
    plot_logs(logs, args.output, args.title)
    return 0
