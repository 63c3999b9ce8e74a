"""The one restoration pipeline: every surface (the API, ``arcnn restore``, ``evaluate``, the
benchmarks) restores through :class:`Restorer`.

    source (path | bytes | PIL image)
      -> open: bomb guard, a colour JPEG's own YCbCr planes        (files.open_image)
      -> choose: luminance model by quality, chroma model          (policy)
      -> luminance: network tile by tile, ensemble, projection     (engine.restore_luma)
      -> chroma: the chroma model reads restored Y with Cb, Cr     (engine.restore_chroma)
      -> back to the image's mode (alpha, CMYK, 16-bit kept)       (map_luma)
      -> Restored(image, model, chroma_model, quality, info)       encode with files.save_image

Example:
    >>> from PIL import Image
    >>> from arcnn.sample import sample_path
    >>> result = Restorer(RestoreOptions(chroma="off")).restore(sample_path("astronaut-q10.jpg"))
    >>> result.model, result.quality.quality, result.image.size
    ('arcnn-q10', 10, (512, 512))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import lru_cache, partial
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image

from arcnn.codec import QualityEstimate, read_qtables
from arcnn.engine import BACKENDS, TILE, on_backend, restore_chroma, restore_luma
from arcnn.files import DEFAULT_MAX_PIXELS, check_max_pixels, open_image
from arcnn.models import Network
from arcnn.policy import chroma_model, file_quality, pick_model
from arcnn.zoo import REGISTRY, load_model

__all__ = ["RestoreOptions", "Restorer", "Restored", "restore", "map_luma", "luma_qtable", "METHODS"]

METHODS = ("arcnn", "sadct")
Source = str | Path | bytes | IO[bytes] | Image.Image


@dataclass(frozen=True)
class RestoreOptions:
    """How to restore; the same options, names and defaults as ``arcnn restore``.

    model: a shipped name, a weights file, or a loaded network; None: chosen for each image by
        ``quality`` (:func:`arcnn.policy.pick_model`).
    quality: "auto" (from a JPEG's tables, a WebP's kind or the pixels) or the JPEG quality 1..100.
    method: "arcnn" (a network) or "sadct" (Pointwise SA-DCT, classical).
    chroma: "auto", "on" or "off": restore Cb and Cr too (:func:`arcnn.policy.chroma_model`).
    consistency: project a JPEG's restored luminance onto what the file could have coded.
    backend: "auto", "torch" or "onnxruntime" (:func:`arcnn.engine.on_backend`).
    bf16: bfloat16 arithmetic (PyTorch). ensemble: 1, 4 or 8 (self-ensemble).
    tile: output tile side (memory bound; the result does not depend on it).
    max_pixels: refuse larger images before decoding them (0: no limit).
    """

    model: str | Path | Network | None = None
    quality: int | str = "auto"
    method: str = "arcnn"
    chroma: str = "auto"
    consistency: bool = True
    backend: str = "auto"
    bf16: bool = False
    ensemble: int = 1
    tile: int = TILE
    max_pixels: float = DEFAULT_MAX_PIXELS

    def __post_init__(self) -> None:
        q = self.quality
        if q != "auto" and (not isinstance(q, int) or isinstance(q, bool) or not 1 <= q <= 100):
            raise ValueError(f"quality must be 'auto' or an integer in 1..100, not {q!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not {self.method!r}")
        if self.method == "sadct" and self.model is not None:
            raise ValueError("model chooses a network; it cannot be combined with method sadct")
        if self.chroma not in ("auto", "on", "off"):
            raise ValueError(f"chroma must be auto, on or off, not {self.chroma!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        if self.backend == "onnxruntime" and self.bf16:
            raise ValueError("bf16 runs on PyTorch: use backend torch or auto")
        if self.ensemble not in (1, 4, 8):
            raise ValueError(f"ensemble must be 1, 4 or 8, not {self.ensemble!r}")
        if not isinstance(self.tile, int) or not 8 <= self.tile <= 1 << 16:
            raise ValueError(f"tile must be an integer in 8..65536, not {self.tile!r}")
        for name in ("consistency", "bf16"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, not {getattr(self, name)!r}")
        check_max_pixels(self.max_pixels)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RestoreOptions:
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown restore options: {sorted(unknown)}")
        return cls(**d)


@dataclass
class Restored:
    """A restored image and how it was made."""

    image: Image.Image
    model: str | None  # luminance model (registry name or file); None for sadct
    chroma_model: str | None  # None: chroma left as decoded
    quality: QualityEstimate | None  # the input's estimated JPEG quality, when known
    info: dict = field(default_factory=dict)  # metadata to carry to the output (icc_profile, exif, dpi)


@lru_cache(maxsize=16)
def _shipped(name: str, backend: str, bf16: bool) -> Network:
    # Shipped weights do not change: read and hash them once per process. User files may change.
    return on_backend(load_model(name), backend, bf16)


class Restorer:
    """Restores images with fixed options; holds its networks, loaded once.

    ``restore(source)``: a path, bytes, binary file or PIL image -> :class:`Restored`.
    """

    def __init__(self, options: RestoreOptions | None = None) -> None:
        self.options = options or RestoreOptions()
        self._nets: dict[str, Network] = {}
        if self.options.backend == "onnxruntime":
            from arcnn.export import onnxruntime_available

            if not onnxruntime_available():
                raise ValueError("backend onnxruntime needs the onnx extra: pip install 'arcnn[onnx]'")
        model = self.options.model
        if model is not None and not isinstance(model, str | Path):
            self._nets["<network>"] = model
        elif model is not None:
            self.network(str(model))  # an unknown name or bad file is refused before any image

    def network(self, name: str) -> Network:
        """The network ``name`` (registry name or weights file) on the options' backend."""
        if name not in self._nets:
            o = self.options
            self._nets[name] = (_shipped(name, o.backend, o.bf16) if name in REGISTRY
                                else on_backend(load_model(name), o.backend, o.bf16))  # fmt: skip
        return self._nets[name]

    def restore(self, source: Source) -> Restored:
        if isinstance(source, Image.Image):
            return self.restore_image(source)
        with open_image(source, self.options.max_pixels) as im:
            return self.restore_image(im)

    def restore_image(self, im: Image.Image) -> Restored:
        """Restore an opened PIL image (a JPEG opened but not yet loaded keeps its YCbCr planes)."""
        o = self.options
        if o.max_pixels and im.width * im.height > o.max_pixels:
            raise ValueError(f"{im.width}x{im.height} exceeds the pixel limit {o.max_pixels:.0f} "
                             "(--max-pixels, max_pixels in the API: a decompression-bomb guard)")  # fmt: skip
        if im.format == "JPEG" and im.mode == "RGB":
            im.draft("YCbCr", im.size)  # no effect once loaded
        info = dict(im.info)
        estimate = file_quality(im) if im.format == "JPEG" or o.quality == "auto" else None
        if o.method == "sadct":
            name, cname, fn, yfn, cfn = None, None, _sadct_fn(im, o.quality), None, None
        else:
            name = "<network>" if "<network>" in self._nets else str(o.model or pick_model(o.quality, im))
            given = o.quality if isinstance(o.quality, int) else None
            q = estimate.quality if estimate is not None else given
            fn = self._luma_fn(self.network(name), luma_qtable(im) if o.consistency else None, q)
            yfn = partial(fn, full_range=True)
            cname = chroma_model(im, o.chroma)
            cfn = (
                None
                if cname is None
                else partial(restore_chroma, self.network(cname), tile=o.tile, bf16=o.bf16)
            )
        im.load()
        return Restored(map_luma(im, fn, cfn, yfn), name, cname, estimate, info)

    def restore_plane(self, luma: np.ndarray, qtable: np.ndarray | None = None, quality: int | None = None,
                      model: str | None = None) -> np.ndarray:  # fmt: skip
        """Restore a bare uint8 (H, W) luminance plane (evaluation, benchmarks) with ``model`` (default:
        the options' model, or by ``quality``); ``qtable``: project onto that JPEG table's intervals."""
        name = model or (
            "<network>" if "<network>" in self._nets else str(self.options.model or pick_model(quality))
        )
        return self._luma_fn(self.network(name), qtable, quality)(luma)

    def _luma_fn(
        self, net: Network, qtable: np.ndarray | None, quality: int | None
    ) -> Callable[..., np.ndarray]:
        o = self.options
        return partial(restore_luma, net, tile=o.tile, bf16=o.bf16, ensemble=o.ensemble, qtable=qtable,
                       quality=quality)  # fmt: skip


def _sadct_fn(im: Image.Image, quality: int | str) -> Callable[[np.ndarray], np.ndarray]:
    """SA-DCT deblocking with σ from the JPEG's own table, or from the IJG table at ``quality``."""
    from arcnn.sadct import sadct_deblock

    if quality != "auto":
        return partial(sadct_deblock, quality=int(quality))
    if im.format != "JPEG":
        raise ValueError("method sadct needs a JPEG (its tables give the noise level) or a quality")
    return partial(sadct_deblock, qtable=read_qtables(im)[0])


def luma_qtable(image: Image.Image) -> np.ndarray | None:
    """The (64,) quantisation table of a JPEG's luminance (or gray) plane, or None for other files
    and for JPEGs whose first plane is not luminance (CMYK, Adobe RGB)."""
    if image.format != "JPEG" or image.mode not in ("L", "RGB", "YCbCr"):
        return None
    if image.mode != "L" and image.info.get("adobe_transform") == 0:  # planes coded as R, G, B
        return None
    tables, layer = getattr(image, "quantization", None), getattr(image, "layer", None)
    if not tables or not layer or layer[0][3] not in tables:
        return None
    return np.asarray(tables[layer[0][3]], dtype=np.float64)


def map_luma(
    image: Image.Image,
    fn: Callable[[np.ndarray], np.ndarray],
    chroma_fn: Callable[[np.ndarray], np.ndarray] | None = None,
    colour_fn: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Image.Image:
    """Apply ``fn`` (uint8 (H, W) -> uint8 (H, W)) to the luminance of a PIL image.

    L images are the luminance; RGB/YCbCr/P images go through JFIF YCbCr, ``colour_fn``
    (default ``fn``) applied to its full-range Y, with Cb and Cr untouched, or replaced by
    ``chroma_fn`` (uint8 (H, W, 3), the restored Y with Cb and Cr as decoded -> uint8 (H, W, 2)
    CbCr); an alpha channel (RGBA, LA, PA) is passed through. CMYK images (CMYK and YCCK JPEGs,
    which code each ink plane with the DCT) have ``fn`` applied to each of the four planes. 16-bit grayscale
    (I;16) is handed to ``fn`` as uint16. Returns L, I;16, RGB, CMYK, LA or RGBA.
    """
    alpha = None
    if image.mode in ("RGBA", "LA", "PA"):
        alpha = image.getchannel("A")
        image = image.convert("L" if image.mode == "LA" else "RGB")
    elif image.mode == "P":
        image = image.convert("RGB")
    if image.mode in ("L", "I;16"):
        out = Image.fromarray(fn(np.asarray(image)))
    elif image.mode == "CMYK":
        planes = np.asarray(image)
        out = Image.fromarray(np.dstack([fn(np.ascontiguousarray(planes[..., i])) for i in range(4)]), "CMYK")
    elif image.mode in ("RGB", "YCbCr"):
        ycbcr = np.asarray(image.convert("YCbCr"))
        y = (colour_fn or fn)(np.ascontiguousarray(ycbcr[..., 0]))
        # The chroma model reads the restored Y: cleaner edges to follow than the decoded one
        # (benchmarks/colour.py --decoded-y measures it).
        cbcr = ycbcr[..., 1:] if chroma_fn is None else chroma_fn(np.dstack([y, ycbcr[..., 1:]]))
        out = Image.fromarray(np.dstack([y, cbcr]), "YCbCr").convert("RGB")
    else:
        raise ValueError(
            f"unsupported image mode {image.mode!r} (supported: L, I;16, RGB, YCbCr, CMYK, P, RGBA, LA)"
        )
    if alpha is not None:
        out.putalpha(alpha)
    return out


def restore(image: Source | np.ndarray, model: str | Path | Network | None = None, **options: Any) -> Any:
    """Remove compression artifacts from one image: ``Restorer(RestoreOptions(model=model, **options))``.

    image: a path, bytes or binary file (-> PIL image), a PIL image (-> PIL image: L, RGB, ... with
    alpha kept), or a uint8 (H, W) / (H, W, 3) RGB array (-> the same kind of array).
    options: the fields of :class:`RestoreOptions` (quality, chroma, consistency, backend, bf16, ...).
    """
    r = Restorer(RestoreOptions(model=model, **options))
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
            raise ValueError(f"expected a uint8 (H, W) or (H, W, 3) array, got {image.dtype} {image.shape}")
        return np.asarray(r.restore_image(Image.fromarray(image)).image)
    if not isinstance(image, str | Path | bytes | bytearray | Image.Image) and not hasattr(image, "read"):
        raise ValueError(
            f"expected a path, bytes, a binary file, a PIL image or an array, not {type(image).__name__}"
        )
    return r.restore(image).image
