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
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["ModelConfig", "ConvStack", "PRESETS", "preset", "build_model", "parse_notation"]


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of one network; saved with every set of weights.

    kernels: square kernel size of each convolution, e.g. (9, 7, 1, 5).
    widths: output channels of each convolution; the last one equals ``channels``.
    channels: image channels in and out (1 for luminance).
    residual: predict a correction added to the input instead of the image.
    """

    kernels: tuple[int, ...] = (9, 7, 1, 5)
    widths: tuple[int, ...] = (64, 32, 16, 1)
    channels: int = 1
    residual: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "kernels", tuple(int(k) for k in self.kernels))
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if not self.kernels or len(self.kernels) != len(self.widths):
            raise ValueError(f"need one width per kernel, got {self.kernels} and {self.widths}")
        if any(k < 1 or k % 2 == 0 for k in self.kernels):
            raise ValueError(f"kernel sizes must be odd and positive, got {self.kernels}")
        if any(w < 1 for w in self.widths):
            raise ValueError(f"widths must be positive, got {self.widths}")
        if self.widths[-1] != self.channels:
            raise ValueError(f"last width {self.widths[-1]} must equal channels {self.channels}")

    @property
    def notation(self) -> str:
        return "-".join(str(k) for k in self.kernels)

    @property
    def border(self) -> int:
        """Pixels lost on each side by the valid convolutions."""
        return sum(k // 2 for k in self.kernels)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        return cls.from_dict(json.loads(text))


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
}


def preset(name: str, **overrides) -> ModelConfig:
    """The named architecture (``arcnn``, ``srcnn``, ``deeper-srcnn``, ``arcnn5``)."""
    if name not in PRESETS:
        raise ValueError(f"unknown model preset {name!r}; choose from {', '.join(PRESETS)}")
    d = asdict(PRESETS[name])
    d.update(overrides)
    return ModelConfig.from_dict(d)


class ConvStack(nn.Module):
    """A stack of valid convolutions with ReLU between them (none after the last).

    ``forward``: (N, C, H, W) in [0, 1] -> (N, C, H - 2b, W - 2b), b = ``config.border``.
    ``restore_tensor``: same size out as in; the input is reflect-padded by ``b``
    first, so every output pixel sees a full receptive field, as in training.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        chans = (config.channels, *config.widths)
        self.convs = nn.ModuleList(
            nn.Conv2d(cin, cout, k) for cin, cout, k in zip(chans[:-1], chans[1:], config.kernels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        for i, conv in enumerate(self.convs):
            y = conv(y)
            if i < len(self.convs) - 1:
                y = F.relu(y)
        if self.config.residual:
            b = self.config.border
            y = y + x[..., b : x.shape[-2] - b, b : x.shape[-1] - b]
        return y

    def restore_tensor(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, C, H, W); borders handled by reflect padding."""
        b = self.config.border
        if b == 0:
            return self(x)
        # Reflect needs the pad to be smaller than the image; replicate covers tiny images.
        mode = "reflect" if min(x.shape[-2:]) > b else "replicate"
        return self(F.pad(x, (b, b, b, b), mode=mode))


def build_model(config: ModelConfig | str) -> ConvStack:
    """A fresh, default-initialised network from a config or a preset name."""
    if isinstance(config, str):
        config = preset(config)
    return ConvStack(config)
