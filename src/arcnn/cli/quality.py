"""``arcnn quality``: the JPEG quality of files, from their tables or their pixels."""

from __future__ import annotations

import argparse

from PIL import Image

from arcnn.cli._common import err

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    qa = sub.add_parser("quality", help="estimate the JPEG quality of files (from their tables, or pixels)")
    qa.add_argument("files", nargs="+")


def run(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    from arcnn.codec import estimate_quality
    from arcnn.policy import pixel_quality

    failed = 0
    for f in args.files:
        try:
            with Image.open(f) as im:
                if im.format == "JPEG":
                    print(f"{f}: {estimate_quality(im)}")
                else:
                    im.load()
                    print(f"{f}: {pixel_quality(im) or 'not a JPEG, and its pixels do not show one'}")
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
            err(f"{f}: {e}")
            failed += 1
    return 1 if failed else 0
