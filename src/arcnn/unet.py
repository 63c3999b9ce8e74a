"""A small multi-scale network for the quality tier (``arcnn-large``) and for chroma.

Not in the paper. AR-CNN's receptive field is 19 px; a JPEG's artifacts are correlated over
whole 8x8 blocks and their neighbours, so context is worth more than width. Four scales buy a
receptive field of about 200 px for little compute, as in DRUNet / FBCNN, at a fraction of
their width. With ``conditioned`` the JPEG quality is an input plane (as FFDNet reads its
noise level), so one network serves every quality; 0 means "unknown". With u = ``unshuffle``
the whole network works at 1/u of the resolution (the chroma network: u = 2, as a 4:2:0 JPEG
codes Cb and Cr), P = ``planes``, C = ``channels``::

    (N, 1 + P, H, W)  [quality plane q/100, image planes]    H, W: multiples of 8u (padded inside)
      -> pixel-unshuffle u -> (N, (1 + P) u^2, H/u, W/u)                       (u = 1: nothing)
      -> conv3x3 -> w0 -> blocks[0] x ResBlock(w0) ---------------------------+ skip
      -> conv2x2/2 -> w1 -> blocks[1] x ResBlock(w1) ---------------------+   |
      -> conv2x2/2 -> w2 -> blocks[2] x ResBlock(w2) -----------------+   |   |
      -> conv2x2/2 -> w3 -> blocks[3] x ResBlock(w3)   (1/8u scale)   |   |   |
      -> deconv2x2/2 -> w2 (+) -> blocks[2] x ResBlock(w2) <----------+   |   |
      -> deconv2x2/2 -> w1 (+) -> blocks[1] x ResBlock(w1) <--------------+   |
      -> deconv2x2/2 -> w0 (+) -> blocks[0] x ResBlock(w0) <------------------+
      -> conv3x3 -> C u^2 -> pixel-shuffle u -> (N, C, H, W)
      (+ the last C input planes: a residual output)        -> (N, C, H, W)

Luminance: P = C = 1 (Y -> Y). Chroma: P = 3, C = 2 ((Y, Cb, Cr) -> (Cb, Cr)).
``ResBlock(w)``: x + conv3x3(relu(conv3x3(x))), no normalisation. Inputs and outputs in [0, 1].
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from arcnn.netconfig import UNetConfig  # the torch-free config, imported from here too

__all__ = ["UNetConfig", "UNet", "quality_plane"]


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
    """``forward``: (N, inputs, H, W) -> (N, channels, H, W), any H, W (padded to ``multiple`` inside)."""

    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        self.config = config
        w, b, cells = config.widths, config.blocks, config.unshuffle**2
        self.head = nn.Conv2d(config.inputs * cells, w[0], 3, padding=1)
        self.enc = nn.ModuleList(_stage(w[s], b[s]) for s in range(len(w) - 1))
        self.down = nn.ModuleList(nn.Conv2d(w[s], w[s + 1], 2, stride=2) for s in range(len(w) - 1))
        self.mid = _stage(w[-1], b[-1])
        self.up = nn.ModuleList(nn.ConvTranspose2d(w[s + 1], w[s], 2, stride=2) for s in range(len(w) - 1))
        self.dec = nn.ModuleList(_stage(w[s], b[s]) for s in range(len(w) - 1))
        self.tail = nn.Conv2d(w[0], config.channels * cells, 3, padding=1)
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
        m, u = self.config.multiple, self.config.unshuffle
        x = F.pad(x, (0, -w0 % m, 0, -h0 % m), mode="replicate")
        h = self.head(F.pixel_unshuffle(x, u) if u > 1 else x)
        skips = []
        for enc, down in zip(self.enc, self.down):
            h = enc(h)
            skips.append(h)
            h = down(h)
        h = self.mid(h)
        for up, dec, skip in zip(reversed(self.up), reversed(self.dec), reversed(skips)):
            h = dec(up(h) + skip)
        r = self.tail(h)
        y = x[:, -self.config.channels :] + (F.pixel_shuffle(r, u) if u > 1 else r)
        return y[..., :h0, :w0]


def quality_plane(luma: torch.Tensor, quality: float | torch.Tensor) -> torch.Tensor:
    """(N, P, H, W) planes (luminance, or Y, Cb, Cr) -> (N, 1 + P, H, W): a plane of
    ``quality / 100`` in front (0: unknown).

    ``quality``: one number, or one per image, shape (N,).
    """
    q = torch.as_tensor(quality, dtype=luma.dtype, device=luma.device).reshape(-1, 1, 1, 1) / 100.0
    return torch.cat([q.expand(luma.shape[0], 1, *luma.shape[-2:]), luma], dim=1)
