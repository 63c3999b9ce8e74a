"""What the subcommands share: the parser class, argument types, one-line errors."""

from __future__ import annotations

import argparse
import math

from arcnn.batch import err
from arcnn.files import check_png_level

__all__ = ["Parser", "err", "quality_arg", "qualities_arg", "box_arg", "max_pixels_arg", "png_level_arg"]


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # one line, exit 2, no usage spam
        self.exit(2, f"arcnn: error: {message}\n")


def quality_arg(text: str) -> int | str:
    """'auto' or a JPEG quality 1..100."""
    if text == "auto":
        return text
    try:
        q = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"quality must be 'auto' or 1..100, not {text!r}") from None
    if not 1 <= q <= 100:
        raise argparse.ArgumentTypeError(f"quality must be in 1..100, not {q}")
    return q


def qualities_arg(text: str) -> tuple[int, ...]:
    """'5,10,20' or 'LO-HI/STEP' (HI included) -> (5, 10, 20)."""
    try:
        if "-" in text:
            span, _, step = text.partition("/")
            lo, hi = (int(v) for v in span.split("-"))
            qs = tuple(range(lo, hi + 1, int(step or 5)))
        else:
            qs = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"qualities must look like '5,10,20' or '5-95/5', not {text!r}"
        ) from None
    if not qs or any(not 1 <= q <= 100 for q in qs):
        raise argparse.ArgumentTypeError(f"qualities must be in 1..100, not {text!r}")
    return qs


def box_arg(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"box must be WIDTHxHEIGHT, e.g. 600x450, not {text!r}") from None
    return w, h


def max_pixels_arg(text: str) -> float:
    """A finite number of pixels >= 0 (0: no limit); 'nan' and 'inf' are refused."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"max-pixels must be a number, not {text!r}") from None
    if not math.isfinite(v) or v < 0:
        raise argparse.ArgumentTypeError(
            f"max-pixels must be a finite number >= 0 (0: no limit), not {text!r}"
        )
    return v


def png_level_arg(text: str) -> int:
    """PNG's zlib level, an integer 0..9 (``files.check_png_level``, as ``RestoreOptions`` checks it)."""
    try:
        return check_png_level(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"png-level must be an integer in 0..9 (zlib's levels), not {text!r}"
        ) from None
