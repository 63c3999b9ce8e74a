"""What a restoration may be asked for: :class:`RestoreOptions`, validated before anything is loaded.

Light on purpose (no PyTorch): the command line builds its parser from these names and defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arcnn.files import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_PNG_LEVEL,
    FAST_PNG_LEVEL,
    check_max_pixels,
    check_png_level,
)
from arcnn.netconfig import refuse_unknown_keys

__all__ = ["RestoreOptions", "METHODS", "BACKENDS", "CHROMA", "TILE", "ENSEMBLES", "check_ensemble"]

METHODS = ("arcnn", "sadct")
BACKENDS = ("auto", "torch", "onnxruntime")
CHROMA = ("auto", "on", "off")
TILE = 512  # output tile side: bounds memory at ~64 x (TILE + 18)^2 floats per layer
ENSEMBLES = (1, 2, 4, 8)  # self-ensemble sizes: a mirror, the flips, the flips and quarter turns


def check_ensemble(n: object) -> None:
    """Refuse a self-ensemble size other than those of ``ENSEMBLES``.

    Example:
        >>> check_ensemble(3)
        Traceback (most recent call last):
        ValueError: ensemble must be 1, 2, 4 or 8, not 3
    """
    if isinstance(n, bool) or n not in ENSEMBLES:
        raise ValueError(f"ensemble must be 1, 2, 4 or 8, not {n!r}")


@dataclass(frozen=True)
class RestoreOptions:
    """How to restore; the same options, names and defaults as ``arcnn restore``.

    model: a shipped name, a weights file, or a loaded network; None: chosen for each image by
        ``quality`` (:func:`arcnn.policy.pick_model`).
    quality: "auto" (from a JPEG's tables, a WebP's kind or the pixels) or the JPEG quality 1..100.
    method: "arcnn" (a network) or "sadct" (Pointwise SA-DCT, classical).
    chroma: "auto", "on" or "off": restore Cb and Cr too (:func:`arcnn.policy.chroma_model`).
    consistency: project a JPEG's restored luminance onto what the file could have coded.
    backend: "auto" (ONNX Runtime float32, without importing PyTorch for shipped models), "torch"
        (PyTorch float32) or "onnxruntime" (:func:`arcnn.engine.on_backend`).
    bf16: bfloat16 arithmetic (PyTorch).
    ensemble: 1, 2, 4 or 8: the mean of that many restorations of the image as is, mirrored,
        flipped and turned (self-ensemble); None: the default's (:func:`arcnn.policy.ensembles`: 2
        for a colour image's luminance and 4 for its chroma, 1 for grayscale images and ``fast``).
    fast: pick from the fast tier (Fast AR-CNN) instead of the default models
        (:func:`arcnn.policy.auto_model`); not with ``model`` or method "sadct".
    int8: 8-bit integer arithmetic (ONNX Runtime) for the shipped models that have an int8 version
        (the per-quality ones, ``weights/int8/``); other networks run as ``backend`` says.
    tile: output tile side (memory bound; the result does not depend on it); None: ``TILE``, wider for
        networks that see far (:func:`arcnn.engine.auto_tile`).
    max_pixels: refuse larger images before decoding them (0: no limit).
    png_level: PNG's zlib level 0..9 for the result's PNG files (``Restored.png_level``, which
        ``files.save_image`` and ``encode_image`` use): lower writes faster and larger files, the
        same pixels; None: the tier's (:attr:`output_png_level`: 6, Pillow's default, or 3 with
        ``fast``; docs/speed.md).
    """

    model: str | Path | Any = None  # or a loaded network (arcnn.models.Network)
    quality: int | str = "auto"
    method: str = "arcnn"
    chroma: str = "auto"
    consistency: bool = True
    backend: str = "auto"
    bf16: bool = False
    int8: bool = False
    fast: bool = False
    ensemble: int | None = None
    tile: int | None = None
    max_pixels: float = DEFAULT_MAX_PIXELS
    png_level: int | None = None

    def __post_init__(self) -> None:
        q = self.quality
        if q != "auto" and (not isinstance(q, int) or isinstance(q, bool) or not 1 <= q <= 100):
            raise ValueError(f"quality must be 'auto' or an integer in 1..100, not {q!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not {self.method!r}")
        if self.method == "sadct" and self.model is not None:
            raise ValueError("model chooses a network; it cannot be combined with method sadct")
        if self.fast is True and (self.model is not None or self.method == "sadct"):
            raise ValueError("fast picks a network from the fast tier: it cannot be combined with model "
                             "or method sadct")  # fmt: skip
        if self.chroma not in CHROMA:
            raise ValueError(f"chroma must be auto, on or off, not {self.chroma!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        if self.backend == "onnxruntime" and self.bf16:
            raise ValueError("bf16 runs on PyTorch: use backend torch or auto")
        if self.int8 and (self.bf16 or self.backend == "torch"):
            raise ValueError("int8 runs on ONNX Runtime: it cannot be combined with bf16 or backend torch")
        if self.ensemble is not None:
            check_ensemble(self.ensemble)
        if self.tile is not None and (not isinstance(self.tile, int) or not 8 <= self.tile <= 1 << 16):
            raise ValueError(f"tile must be an integer in 8..65536, not {self.tile!r}")
        for name in ("consistency", "bf16", "int8", "fast"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, not {getattr(self, name)!r}")
        check_max_pixels(self.max_pixels)
        if self.png_level is not None:
            check_png_level(self.png_level)

    @property
    def output_png_level(self) -> int:
        """The PNG level results are written at: ``png_level``, else ``FAST_PNG_LEVEL`` with ``fast``,
        else ``DEFAULT_PNG_LEVEL``."""
        if self.png_level is not None:
            return self.png_level
        return FAST_PNG_LEVEL if self.fast else DEFAULT_PNG_LEVEL

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RestoreOptions:
        refuse_unknown_keys(cls, d, "restore options")
        return cls(**d)
