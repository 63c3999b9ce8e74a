"""The AR-CNN family: plain stacks of convolutions described in the paper's notation.

Dong, Deng, Loy, Tang, "Compression Artifacts Reduction by a Deep Convolutional
Network", ICCV 2015. A network "9-7-1-5" with widths 64-32-16-1 is::

    y (N,1,H,W) -> conv9x9 -> 64 -> ReLU      feature extraction
                -> conv7x7 -> 32 -> ReLU      feature enhancement
                -> conv1x1 -> 16 -> ReLU      mapping
                -> conv5x5 ->  1              reconstruction
                -> (N,1,H-18,W-18)            valid convolutions, as in training

With ``residual=True`` the stack predicts the correction, which is added to the
centre crop of the input (a change of the *fast* recipe; the paper predicts the
image itself). Inputs and outputs are luminance in [0, 1].

Fast AR-CNN (Yu, Dong, Loy, Tang, "Deep Convolution Networks for Compression
Artifacts Reduction", 2016) is the same stack with ``stride=2`` and PReLU::

    y (N,1,H,W) -> conv9x9/2 -> 64 -> PReLU          feature extraction, half resolution
                -> conv1x1   -> 32 -> PReLU          shrinking
                -> conv7x7   -> 32 -> PReLU          feature enhancement
                -> conv1x1   -> 64 -> PReLU          expanding
                -> deconv9x9 x2 ->  1                reconstruction, full resolution
                -> (N,1,H-2b,W-2b), b = 14           the receptive-field radius

Its convolutions are zero-padded ("same"); ``forward`` crops the ``b`` pixels the
padding reaches, so it has the valid-convolution contract of the plain stack.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import cast

import torch
from torch import nn
from torch.nn import functional as F

# The configs and the Network protocol live in the torch-free arcnn.netconfig; imported from here too.
from arcnn.netconfig import (
    ModelConfig,
    NetConfig,
    Network,
    NetworkConfig,
    config_from_json,
)
from arcnn.unet import UNet, UNetConfig

__all__ = [
    "ModelConfig",
    "ConvStack",
    "TorchNetwork",
    "NetConfig",
    "config_from_json",
    "build_network",
    "Conv",
    "bias",
    "Network",
    "NetworkConfig",
    "PRESETS",
    "preset",
    "build_model",
    "parse_notation",
    "pad_symmetric",
]


def parse_notation(notation: str, widths: str | tuple[int, ...], **kw) -> ModelConfig:
    """``parse_notation("9-7-1-5", "64-32-16-1")`` -> ModelConfig."""
    try:
        kernels = tuple(int(k) for k in notation.split("-"))
        if isinstance(widths, str):
            widths = tuple(int(w) for w in widths.split("-"))
    except ValueError:
        raise ValueError(f"bad notation {notation!r} / {widths!r}: use e.g. '9-7-1-5'") from None
    return ModelConfig(kernels=kernels, widths=tuple(widths), **kw)


PRESETS: dict[str, ModelConfig] = {
    "arcnn": ModelConfig((9, 7, 1, 5), (64, 32, 16, 1)),
    "srcnn": ModelConfig((9, 1, 5), (64, 32, 1)),
    "deeper-srcnn": ModelConfig((9, 1, 1, 5), (64, 32, 16, 1)),
    "arcnn5": ModelConfig((9, 7, 3, 1, 5), (64, 32, 16, 16, 1)),
    "fast-arcnn": ModelConfig((9, 1, 7, 1, 9), (64, 32, 32, 64, 1), stride=2, activation="prelu"),
    # Not in the paper: Fast AR-CNN laid out for ONNX Runtime, which fuses a ReLU into its convolution
    # but runs a PReLU as a pass of its own; and a 5x5 enhancement layer, where most of the work is
    # (python -m benchmarks.fast_variants measures both).
    "fast-arcnn-relu": ModelConfig((9, 1, 5, 1, 9), (64, 32, 32, 64, 1), stride=2, activation="relu"),
    # Not in the paper: the feature enhancement as a stack of 3x3 layers, for the quality-blind model,
    # which has every quality to fit into one network (2.1x / 1.6x the multiply-adds of arcnn per pixel).
    "deep-arcnn": ModelConfig((9, 3, 3, 3, 3, 3, 3, 1, 5), (64, 64, 64, 64, 64, 64, 64, 16, 1)),
    "deep-arcnn-thin": ModelConfig((9, 3, 3, 3, 3, 3, 3, 3, 3, 1, 5), (48,) * 9 + (16, 1)),
}


def preset(name: str, **overrides) -> ModelConfig:
    """The named architecture: one of ``PRESETS`` (``arcnn``, ``srcnn``, ``deep-arcnn`` ...)."""
    if name not in PRESETS:
        raise ValueError(f"unknown model preset {name!r}; choose from {', '.join(PRESETS)}")
    d = asdict(PRESETS[name])
    d.update(overrides)
    return ModelConfig.from_dict(d)


Conv = nn.Conv2d | nn.ConvTranspose2d


def bias(conv: Conv) -> torch.Tensor:
    """A convolution's bias (every convolution here has one)."""
    assert conv.bias is not None
    return conv.bias


class ConvStack(nn.Module):
    """A stack of convolutions with an activation between them (none after the last).

    ``forward``: (N, C_in, H, W) in [0, 1] -> (N, C, H - 2b, W - 2b), b = ``config.border``.
    ``restore_tensor``: same size out as in; the input is symmetric-padded by ``b``
    first, so every output pixel sees a full receptive field, as in training.
    """

    config: ModelConfig

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        chans = (config.inputs, *config.widths)
        layers = list(zip(chans[:-1], chans[1:], config.kernels))
        s = config.stride
        if s == 1:
            convs: list[Conv] = [nn.Conv2d(cin, cout, k) for cin, cout, k in layers]
        else:
            (c0, c1, k0), *mid, (cl, cout, kl) = layers
            convs = [nn.Conv2d(c0, c1, k0, stride=s, padding=k0 // 2)]
            convs += [nn.Conv2d(cin, c, k, padding=k // 2) for cin, c, k in mid]
            convs.append(nn.ConvTranspose2d(cl, cout, kl, stride=s, padding=kl // 2, output_padding=s - 1))
        self.convs = nn.ModuleList(convs)
        act = (lambda c: nn.PReLU(c, 0.25)) if config.activation == "prelu" else (lambda c: nn.ReLU())
        self.acts = nn.ModuleList(act(c) for c in config.widths[:-1])

    @property
    def layers(self) -> list[Conv]:
        """The convolutions in order (a typed view of ``convs``)."""
        return [cast(Conv, c) for c in self.convs]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, b, s = x, self.config.border, self.config.stride
        if s > 1:
            # Sizes a multiple of the stride give the transposed convolution one fixed output
            # padding; the added pixels only reach outputs inside the cropped border.
            y = F.pad(y, (0, -x.shape[-1] % s, 0, -x.shape[-2] % s))
        y = self.convs[-1](self.hidden(y))
        if s > 1:
            y = y[..., b : x.shape[-2] - b, b : x.shape[-1] - b]
        if self.config.residual:
            y = y + x[:, x.shape[1] - y.shape[1] :, b : x.shape[-2] - b, b : x.shape[-1] - b]
        return y

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """The last layer's input: every layer but the last, each with its activation."""
        for conv, act in zip(self.convs[:-1], self.acts):
            x = act(conv(x))
        return x

    def restore_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, C, H, W); borders handled by symmetric padding."""
        return self(pad_symmetric(x, self.config.border))


def pad_symmetric(x: torch.Tensor, b: int) -> torch.Tensor:
    """Mirror ``b`` pixels on each side of (..., H, W), edge pixel repeated (MATLAB "symmetric").

    Unlike "reflect" this keeps JPEG's 8x8 block grid in phase across the top and left
    edges, as in the crops the network was trained on (``python -m benchmarks.border_padding``
    compares the modes). Images smaller than ``b`` are padded by replication.
    """
    if b == 0:
        return x
    if min(x.shape[-2:]) < b:
        return F.pad(x, (b, b, b, b), mode="replicate")
    x = torch.cat([x[..., :b, :].flip(-2), x, x[..., -b:, :].flip(-2)], dim=-2)
    return torch.cat([x[..., :b].flip(-1), x, x[..., -b:].flip(-1)], dim=-1)


def build_model(config: ModelConfig | str) -> ConvStack:
    """A fresh, default-initialised network from a config or a preset name."""
    if isinstance(config, str):
        config = preset(config)
    return ConvStack(config)


TorchNetwork = ConvStack | UNet


def build_network(config: NetConfig) -> TorchNetwork:
    """A fresh network of the given architecture."""
    return UNet(config) if isinstance(config, UNetConfig) else ConvStack(config)
