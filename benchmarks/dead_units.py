"""Dead ReLU units of a network: hidden channels that never fire on an image.

    python -m benchmarks.dead_units MODEL [MODEL ...]    # names or weights files

Counts, per hidden layer, the channels whose pre-activation is <= 0 on every pixel of LIVE1
parrots compressed at q10 (or of the shipped astronaut crop when ../shared/data is missing): the
rule ``arcnn.train.revive_dead_units`` re-initialises channels by (``arcnn train --revive``).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from PIL import Image

from arcnn import train
from arcnn.codec import jpeg_roundtrip
from arcnn.data import load_luma, shared_data_dir, to_tensor
from arcnn.models import ConvStack
from arcnn.sample import sample_path
from arcnn.zoo import load_model


def dead_units(model: ConvStack, luma: np.ndarray) -> list[tuple[int, int]]:
    """(dead, total) channels of each hidden layer on the uint8 (H, W) plane ``luma``."""
    return train.dead_units(model, to_tensor(luma[None]))


def dead_units_text(dead: list[tuple[int, int]]) -> str:
    """``dead/total / dead/total / ...``, one per hidden layer."""
    return " / ".join(f"{d}/{n}" for d, n in dead)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", metavar="MODEL", help="shipped model names or weights files")
    args = ap.parse_args(argv)
    parrots = shared_data_dir() / "live1" / "parrots.png"
    if parrots.exists():
        luma, what = load_luma(parrots), "LIVE1 parrots"
    else:
        luma, what = np.asarray(Image.open(sample_path("astronaut-y128.png"))), "the astronaut crop"
    z = jpeg_roundtrip(luma, 10)
    for name in args.models:
        try:
            dead = dead_units(load_model(name), z)
        except ValueError as e:
            print(f"{name}: {e}")
            continue
        print(f"{name}: dead units per hidden layer on {what} (q10): {dead_units_text(dead)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
