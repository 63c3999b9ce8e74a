"""Cost of a network, counted by PyTorch's FLOP counter rather than by hand.

Example:
    >>> from arcnn.models import build_model
    >>> macs_per_pixel(build_model("arcnn"))  # 9-7-1-5, 64-32-16-1: 81*64 + 49*64*32 + 32*16 + 25*16
    106448.0
"""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from arcnn.models import Network

__all__ = ["macs_per_pixel"]


@torch.no_grad()
def _macs(model: Network, size: int) -> int:
    cfg = model.config
    side = size if cfg.keeps_size else size + 2 * cfg.border
    counter = FlopCounterMode(display=False)
    with counter:
        model(torch.zeros(1, cfg.inputs, side, side))
    return int(counter.get_total_flops()) // 2


def macs_per_pixel(model: Network, size: int = 64) -> float:
    """Multiply-adds per output pixel of ``model`` on large images.

    The count on an s x s output is a quadratic in s (each layer works on (s + c) / f pixels a side
    for its own c and scale f), so its second difference over three sizes, multiples of every
    stride, is exactly the per-pixel term, free of border and padding effects.
    """
    stride = int(model.config.stride)
    d = 8 * stride * max(1, size // (8 * stride))
    m0, m1, m2 = (_macs(model, size + i * d) for i in range(3))
    return (m2 - 2 * m1 + m0) / (2 * d * d)
