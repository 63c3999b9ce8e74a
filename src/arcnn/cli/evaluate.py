"""``arcnn evaluate``: score a method with the paper's protocol on a folder."""

from __future__ import annotations

import argparse
import json

from arcnn.cli._common import box_arg, err
from arcnn.options import ENSEMBLES

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("evaluate", help="score a method with the paper's protocol on a folder")
    e.add_argument("--data", required=True, help="folder of reference images")
    e.add_argument("--quality", type=int, required=True, help="JPEG quality 1..100")
    e.add_argument("--method", default="jpeg",
                   help="'jpeg', 'sadct' (Pointwise SA-DCT), a model name or weights file")  # fmt: skip
    e.add_argument("--workers", type=int, default=None, help="processes for sadct (default: all cores)")
    e.add_argument("--ensemble", type=int, choices=ENSEMBLES, default=1, help="self-ensemble size")
    e.add_argument("--scale", type=float, default=1.0, help="resize every image by this factor first")
    e.add_argument("--box", type=box_arg, default=None,
                   help="WxH: social-media degradation (fit to the box, colour 4:2:0 JPEG)")  # fmt: skip
    e.add_argument("--codec", choices=["jpeg", "webp"], default="jpeg", help="compress with JPEG or WebP")
    e.add_argument("--consistency", action="store_true",
                   help="as arcnn restore does: keep the output within what the JPEG coded")  # fmt: skip
    e.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    from arcnn.evaluate import evaluate, format_table

    if not 1 <= args.quality <= 100:
        err(f"quality must be in 1..100, not {args.quality}")
        return 2
    result = evaluate(args.data, args.quality, args.method, args.workers, args.ensemble, args.scale, args.box,
                      args.codec, args.consistency)  # fmt: skip
    for bad in result["failed"]:
        err(f"{bad['name']}: {bad['error']}")
    print(json.dumps(result, indent=1) if args.json else format_table(result))
    return 1 if result["failed"] else 0
