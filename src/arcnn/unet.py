"""A small multi-scale network for the quality tier (``arcnn-large``).

Not in the paper. AR-CNN's receptive field is 19 px; a JPEG's artifacts are correlated over
whole 8x8 blocks and their neighbours, so context is worth more than width. Four scales buy a
receptive field of about 200 px for little compute, as in DRUNet / FBCNN, at a fraction of
their width. With ``conditioned`` the JPEG quality is an input plane (as FFDNet reads its
noise level), so one network serves every quality; 0 means "unknown"::

    (N, 2, H, W)  [quality plane q/100, luminance]           H, W: multiples of 8 (padded inside)
      -> conv3x3 -> w0 -> blocks[0] x ResBlock(w0) ---------------------------+ skip
      -> conv2x2/2 -> w1 -> blocks[1] x ResBlock(w1) ---------------------+   |
      -> conv2x2/2 -> w2 -> blocks[2] x ResBlock(w2) -----------------+   |   |
      -> conv2x2/2 -> w3 -> blocks[3] x ResBlock(w3)   (1/8 scale)    |   |   |
      -> deconv2x2/2 -> w2 (+) -> blocks[2] x ResBlock(w2) <----------+   |   |
      -> deconv2x2/2 -> w1 (+) -> blocks[1] x ResBlock(w1) <--------------+   |
      -> deconv2x2/2 -> w0 (+) -> blocks[0] x ResBlock(w0) <------------------+
      -> conv3x3 -> 1  (+ luminance: a residual output)   -> (N, 1, H, W)

``ResBlock(w)``: x + conv3x3(relu(conv3x3(x))), no normalisation. Inputs and outputs in [0, 1].
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["UNetConfig", "UNet", "quality_plane"]


@dataclass(frozen=True)
class UNetConfig:
    """Architecture of a :class:`UNet`; saved with its weights.

    widths: channels at each scale, full resolution first (each further scale halves the size).
    blocks: residual blocks at each scale on each side (the coarsest scale has one side).
    conditioned: read the JPEG quality as a plane in front of the luminance.
    """

    widths: tuple[int, ...] = (32, 64, 128, 128)
    blocks: tuple[int, ...] = (1, 2, 2, 2)
    conditioned: bool = True
    arch: str = "unet"

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        object.__setattr__(self, "blocks", tuple(int(b) for b in self.blocks))
        if self.arch != "unet":
            raise ValueError(f"arch must be unet, not {self.arch!r}")
        if not 2 <= len(self.widths) <= 6 or len(self.blocks) != len(self.widths):
            raise ValueError(f"need 2 to 6 scales, one block count each: {self.widths} / {self.blocks}")
        if any(not 1 <= w <= 1024 for w in self.widths):
            raise ValueError(f"widths must be in 1..1024, got {self.widths}")
        if any(not 0 <= b <= 16 for b in self.blocks):
            raise ValueError(f"blocks must be in 0..16, got {self.blocks}")

    @property
    def inputs(self) -> int:
        return 2 if self.conditioned else 1

    @property
    def channels(self) -> int:
        return 1

    @property
    def keeps_size(self) -> bool:
        return True

    @property
    def stride(self) -> int:
        """Tiles start on this grid, so every tile is down-sampled in the same phase."""
        return self.multiple

    @property
    def multiple(self) -> int:
        """Input sides are padded to a multiple of this (the coarsest scale's factor)."""
        return 2 ** (len(self.widths) - 1)

    @property
    def border(self) -> int:
        """Receptive-field radius in pixels, rounded up to ``multiple``: a tile computed with this
        much context on each side, on the ``multiple`` grid, equals the whole image's result."""
        r, f = 1, 1  # the head
        for b in self.blocks[:-1]:
            r += 4 * b * f + f  # this scale's blocks, then the 2x2 stride-2 down
            f *= 2
        r += 4 * self.blocks[-1] * f
        for b in reversed(self.blocks[:-1]):
            f //= 2
            r += f + 4 * b * f  # the 2x2 up, then this scale's blocks
        r += 1  # the tail
        m = self.multiple
        return -(-r // m) * m

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> UNetConfig:
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**d)


class ResBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


def _stage(width: int, blocks: int) -> nn.Sequential:
    return nn.Sequential(*(ResBlock(width) for _ in range(blocks)))


class UNet(nn.Module):
    """``forward``: (N, inputs, H, W) -> (N, 1, H, W), any H, W (padded to ``multiple`` inside)."""

    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        self.config = config
        w, b = config.widths, config.blocks
        self.head = nn.Conv2d(config.inputs, w[0], 3, padding=1)
        self.enc = nn.ModuleList(_stage(w[s], b[s]) for s in range(len(w) - 1))
        self.down = nn.ModuleList(nn.Conv2d(w[s], w[s + 1], 2, stride=2) for s in range(len(w) - 1))
        self.mid = _stage(w[-1], b[-1])
        self.up = nn.ModuleList(nn.ConvTranspose2d(w[s + 1], w[s], 2, stride=2) for s in range(len(w) - 1))
        self.dec = nn.ModuleList(_stage(w[s], b[s]) for s in range(len(w) - 1))
        self.tail = nn.Conv2d(w[0], 1, 3, padding=1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        for m in self.modules():
            if isinstance(m, ResBlock):  # each block starts as the identity
                nn.init.zeros_(m.conv2.weight)
        nn.init.zeros_(self.tail.weight)  # and the network as the JPEG itself

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0, w0 = x.shape[-2:]
        m = self.config.multiple
        x = F.pad(x, (0, -w0 % m, 0, -h0 % m), mode="replicate")
        h = self.head(x)
        skips = []
        for enc, down in zip(self.enc, self.down):
            h = enc(h)
            skips.append(h)
            h = down(h)
        h = self.mid(h)
        for up, dec, skip in zip(reversed(self.up), reversed(self.dec), reversed(skips)):
            h = dec(up(h) + skip)
        y = x[:, -1:] + self.tail(h)
        return y[..., :h0, :w0]


def quality_plane(luma: torch.Tensor, quality: float | torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) luminance -> (N, 2, H, W): a plane of ``quality / 100`` in front (0: unknown).

    ``quality``: one number, or one per image, shape (N,).
    """
    q = torch.as_tensor(quality, dtype=luma.dtype, device=luma.device).reshape(-1, 1, 1, 1) / 100.0
    return torch.cat([q.expand(luma.shape[0], 1, *luma.shape[-2:]), luma], dim=1)
