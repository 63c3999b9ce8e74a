"""``arcnn quality``: the JPEG quality of files, from their tables or their pixels."""

from __future__ import annotations

import argparse

from arcnn.cli._common import err, max_pixels_arg
from arcnn.files import DEFAULT_MAX_PIXELS, open_image

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    qa = sub.add_parser("quality", help="estimate the JPEG quality of files (from their tables, or pixels)")
    qa.add_argument("files", nargs="+")
    qa.add_argument("--max-pixels", type=max_pixels_arg, default=DEFAULT_MAX_PIXELS,
                    help="refuse larger images (decompression-bomb guard); 0 = no limit")  # fmt: skip


def run(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    failed = 0
    for f in args.files:
        try:
            print(f"{f}: {_estimate(f, args.max_pixels)}")
        except Exception as e:  # noqa: BLE001 - one bad file is one line, whatever the plugin raised
            err(f"{f}: {e if isinstance(e, ValueError) else f'{e.__class__.__name__}: {e}'}")
            failed += 1
    return 1 if failed else 0


def _estimate(path: str, max_pixels: float) -> str:
    from arcnn.codec import estimate_quality
    from arcnn.policy import pixel_quality

    with open_image(path, max_pixels) as im:
        if im.format == "JPEG":
            return str(estimate_quality(im))
        im.load()
        return str(pixel_quality(im) or "not a JPEG, and its pixels do not show one")
