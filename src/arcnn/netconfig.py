"""What a network is, without PyTorch: the architectures (``ModelConfig``, ``UNetConfig``) with their
bounds, reading one from a weights file's ``model_config`` JSON, and the ``Network`` protocol that
PyTorch and ONNX Runtime models both satisfy.

Torch-free on purpose: the default restore path (ONNX Runtime) reads configs and never imports
PyTorch; ``arcnn.models`` and ``arcnn.unet`` build the PyTorch networks from these configs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol

__all__ = ["ModelConfig", "UNetConfig", "NetConfig", "NetworkConfig", "Network", "config_from_json",
           "refuse_unknown_keys", "MAX_LAYERS", "MAX_KERNEL", "MAX_WIDTH"]  # fmt: skip


def refuse_unknown_keys(cls: Any, d: dict, what: str) -> None:
    """``ValueError`` naming the keys of ``d`` that are not fields of the dataclass ``cls``
    (a frozen config refuses what it does not know rather than ignoring it)."""
    unknown = set(d) - {f.name for f in fields(cls)}
    if unknown:
        raise ValueError(f"unknown {what}: {sorted(unknown)}")


MAX_LAYERS, MAX_KERNEL, MAX_WIDTH = 32, 15, 1024


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of one network; saved with every set of weights.

    kernels: square kernel size of each convolution, e.g. (9, 7, 1, 5).
    widths: output channels of each convolution; the last one equals ``channels``.
    channels: image channels in and out (1 for luminance).
    residual: predict a correction added to the input instead of the image.
    stride: 1 for valid convolutions throughout; s > 1 for a first convolution of stride
        s and a last layer that is a transposed convolution of stride s (Fast AR-CNN).
    activation: "relu" or "prelu" (one slope per channel).
    in_channels: input channels when they differ from ``channels`` (0: the same). The chroma
        model reads (Y, Cb, Cr) and restores (Cb, Cr); its residual is added to the last
        ``channels`` inputs.
    """

    kernels: tuple[int, ...] = (9, 7, 1, 5)
    widths: tuple[int, ...] = (64, 32, 16, 1)
    channels: int = 1
    residual: bool = False
    stride: int = 1
    activation: str = "relu"
    in_channels: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "kernels", tuple(int(k) for k in self.kernels))
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        # Bounds, checked before any tensor is allocated: a weights file's config is untrusted input.
        if not 1 <= len(self.kernels) <= MAX_LAYERS or len(self.kernels) != len(self.widths):
            raise ValueError(
                f"need 1..{MAX_LAYERS} layers, one width per kernel: {self.kernels} / {self.widths}"
            )
        if any(not 1 <= k <= MAX_KERNEL or k % 2 == 0 for k in self.kernels):
            raise ValueError(f"kernel sizes must be odd, 1..{MAX_KERNEL}, got {self.kernels}")
        if any(not 1 <= w <= MAX_WIDTH for w in self.widths):
            raise ValueError(f"widths must be in 1..{MAX_WIDTH}, got {self.widths}")
        if not 1 <= self.channels <= 4 or not 0 <= self.in_channels <= 4:
            raise ValueError(f"channels must be in 1..4, got {self.channels} (in {self.in_channels})")
        if self.widths[-1] != self.channels:
            raise ValueError(f"last width {self.widths[-1]} must equal channels {self.channels}")
        if not 1 <= self.stride <= 4 or (self.stride > 1 and len(self.kernels) < 2):
            raise ValueError(f"stride must be >= 1 (and > 1 needs two or more layers), got {self.stride}")
        if self.activation not in ("relu", "prelu"):
            raise ValueError(f"activation must be relu or prelu, not {self.activation!r}")
        if self.in_channels and self.in_channels < self.channels:
            raise ValueError(f"in_channels {self.in_channels} must be 0 or >= channels {self.channels}")

    @property
    def inputs(self) -> int:
        """Channels the network reads."""
        return self.in_channels or self.channels

    @property
    def keeps_size(self) -> bool:
        """False: ``forward`` loses ``border`` pixels on each side (valid convolutions)."""
        return False

    @property
    def edge(self) -> int:
        """Pixels mirrored beyond the image's sides: the whole border, as valid convolutions lose it."""
        return self.border

    @property
    def notation(self) -> str:
        return "-".join(str(k) for k in self.kernels)

    @property
    def border(self) -> int:
        """Pixels lost on each side: by the valid convolutions, or the radius the padding reaches."""
        if self.stride == 1:
            return sum(k // 2 for k in self.kernels)
        s, ks = self.stride, self.kernels
        r = ks[0] // 2 + s * sum(k // 2 for k in ks[1:-1]) + ks[-1] // 2
        return -(-r // s) * s  # a multiple of the stride keeps tiles on the same sampling phase

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        refuse_unknown_keys(cls, d, "model config keys")
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        return cls.from_dict(json.loads(text))


class NetworkConfig(Protocol):
    """What inference needs of an architecture (``ModelConfig``, ``unet.UNetConfig``)."""

    @property
    def inputs(self) -> int: ...  # channels read
    @property
    def channels(self) -> int: ...  # channels restored
    @property
    def border(self) -> int: ...  # context each output pixel needs on each side
    @property
    def edge(self) -> int: ...  # pixels mirrored beyond the image's sides (at most border)
    @property
    def stride(self) -> int: ...  # tiles start on this grid
    @property
    def keeps_size(self) -> bool: ...  # True: output as large as the input; False: border lost
    def to_json(self) -> str: ...


class Network(Protocol):
    """A loaded network: PyTorch (``models.ConvStack``, ``unet.UNet``), called on float32
    (N, C_in, H, W) tensors, or ONNX Runtime (``export.OnnxModel``), called on float32 numpy arrays
    of the same shape; either returns (N, C, H - 2b, W - 2b), or (N, C, H, W) when ``keeps_size``."""

    config: Any  # a NetworkConfig

    def __call__(self, x: Any) -> Any: ...
    def eval(self) -> Any: ...


# Options the U-Net gained after its first weights were saved, at the values that reproduce it:
# left out of its JSON at these values, so those configs (and run states) read and hash as before.
_UNET_LATER = {"planes": 1, "channels": 1, "unshuffle": 1}


@dataclass(frozen=True)
class UNetConfig:
    """Architecture of a :class:`UNet`; saved with its weights.

    widths: channels at each scale, full resolution first (each further scale halves the size).
    blocks: residual blocks at each scale on each side (the coarsest scale has one side).
    conditioned: read the JPEG quality as a plane in front of the image planes.
    planes: image planes read (1: luminance; 3: Y, Cb, Cr for the chroma network).
    channels: planes restored, the last ``channels`` of those read, whose values the residual
        output is added to (1; 2: Cb, Cr).
    unshuffle: pixel-unshuffle the input by this factor at the head and pixel-shuffle the output
        at the tail, so every scale works at 1/unshuffle of the resolution (2 for the subsampled
        chroma of a 4:2:0 JPEG: a quarter of the cost per image pixel).
    """

    widths: tuple[int, ...] = (32, 64, 128, 128)
    blocks: tuple[int, ...] = (1, 2, 2, 2)
    conditioned: bool = True
    arch: str = "unet"
    planes: int = 1
    channels: int = 1
    unshuffle: int = 1

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
        if not 1 <= self.planes <= 4 or not 1 <= self.channels <= self.planes:
            raise ValueError(f"need 1..4 planes and 1..planes channels, got {self.planes} / {self.channels}")
        if not 1 <= self.unshuffle <= 4:
            raise ValueError(f"unshuffle must be in 1..4, got {self.unshuffle}")

    @property
    def inputs(self) -> int:
        """Channels the network reads: the quality plane (when ``conditioned``), then the image planes."""
        return self.planes + int(self.conditioned)

    @property
    def keeps_size(self) -> bool:
        return True

    @property
    def stride(self) -> int:
        """Tiles start on this grid, so every tile is down-sampled in the same phase."""
        return self.multiple

    @property
    def multiple(self) -> int:
        """Input sides are padded to a multiple of this (the coarsest scale's factor, times ``unshuffle``)."""
        return self.unshuffle * 2 ** (len(self.widths) - 1)

    @property
    def border(self) -> int:
        """Receptive-field radius in pixels, rounded up to ``multiple``: a tile computed with this
        much context on each side, on the ``multiple`` grid, equals the whole image's result."""
        r, f = 1, 1  # the head, in pixels of the unshuffled input
        for b in self.blocks[:-1]:
            r += 2 * b * f + f  # this scale's blocks (two 3x3 each), then the 2x2 stride-2 down
            f *= 2
        r += 2 * self.blocks[-1] * f
        for b in reversed(self.blocks[:-1]):
            f //= 2
            r += f + 2 * b * f  # the 2x2 up, then this scale's blocks
        r += 1  # the tail
        u = self.unshuffle
        r = u * r + u - 1  # an unshuffled pixel spans u input pixels, in any phase of its cell
        m = self.multiple
        return -(-r // m) * m

    @property
    def edge(self) -> int:
        """Pixels mirrored beyond the image's sides: one coarsest cell (``multiple``), not the whole
        ``border``. The network pads every convolution with zeros, as on its training crops, so
        it needs no mirrored context at the image's edges; a ``border`` of it would multiply the
        work on small images (``python -m benchmarks.edge_padding`` measures both)."""
        return self.multiple

    def to_dict(self) -> dict:
        """The config as saved: the later options left out at their defaults (``_UNET_LATER``)."""
        d = asdict(self)
        return {k: v for k, v in d.items() if k not in _UNET_LATER or v != _UNET_LATER[k]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> UNetConfig:
        refuse_unknown_keys(cls, d, "model config keys")
        return cls(**d)


NetConfig = ModelConfig | UNetConfig


def config_from_json(text: str) -> NetConfig:
    """The architecture a ``model_config`` entry describes, validated (``ValueError`` if not)."""
    try:
        d = json.loads(text)
        if not isinstance(d, dict):
            raise ValueError("not a JSON object")
        return UNetConfig.from_dict(d) if d.get("arch") == "unet" else ModelConfig.from_dict(d)
    except (ValueError, TypeError, OverflowError, RecursionError) as e:
        raise ValueError(f"bad model_config: {e}") from None
