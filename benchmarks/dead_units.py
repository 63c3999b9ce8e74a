"""Dead ReLU units of a network: hidden channels that never fire on an image.

    python benchmarks/dead_units.py MODEL [MODEL ...]    # names or weights files

Counts, per hidden layer, the channels positive on fewer than 0.01% of the pixels of LIVE1
parrots compressed at q10 (or of the shipped astronaut crop when ../shared/data is missing).
"""

from __future__ import annotations

import sys

import numpy as np
import torch
from PIL import Image

from arcnn.codec import jpeg_roundtrip
from arcnn.data import load_luma, shared_data_dir
from arcnn.models import ConvStack
from arcnn.sample import sample_path
from arcnn.zoo import load_model


@torch.no_grad()
def dead_units(model: ConvStack, luma: np.ndarray) -> list[tuple[int, int]]:
    """(dead, total) channels of each hidden layer on the uint8 (H, W) plane ``luma``."""
    h = torch.from_numpy(luma.astype(np.float32) / 255.0)[None, None]
    out = []
    for conv in model.convs[:-1]:
        h = torch.relu(conv(h))
        active = (h > 0).float().mean(dim=(0, 2, 3))
        out.append((int((active < 1e-4).sum()), h.shape[1]))
    return out


def main() -> int:
    parrots = shared_data_dir() / "live1" / "parrots.png"
    if parrots.exists():
        luma, what = load_luma(parrots), "LIVE1 parrots"
    else:
        luma, what = np.asarray(Image.open(sample_path("astronaut-y128.png"))), "the astronaut crop"
    z = jpeg_roundtrip(luma, 10)
    for name in sys.argv[1:]:
        dead = dead_units(load_model(name), z)
        print(
            f"{name}: dead units per hidden layer on {what} (q10): {' / '.join(f'{d}/{n}' for d, n in dead)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
