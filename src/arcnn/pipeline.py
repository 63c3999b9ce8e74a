"""The one restoration pipeline: every surface (the API, ``arcnn restore``, ``evaluate``, the
benchmarks) restores through :class:`Restorer`.

    source (path | bytes | PIL image)
      -> open: bomb guard, a colour JPEG's own YCbCr planes        (files.open_image)
      -> choose: luminance model by quality, chroma model          (policy)
      -> luminance: network tile by tile, ensemble, projection     (engine.restore_luma)
      -> chroma: the chroma model reads restored Y with Cb, Cr     (engine.restore_chroma)
      -> back to the image's mode (alpha, CMYK, 16-bit kept)       (map_luma)
      -> the same for every further frame (GIF, TIFF pages, WebP, APNG), with the same models
      -> Restored(image, model, chroma_model, quality, info, frames)  encode with files.save_image

Example:
    >>> from PIL import Image
    >>> from arcnn.sample import sample_path
    >>> result = Restorer(RestoreOptions(chroma="off")).restore(sample_path("astronaut-q10.jpg"))
    >>> result.model, result.quality.quality, result.image.size
    ('arcnn-large', 10, (512, 512))
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image

from arcnn.codec import QualityEstimate, jfif2rgb, jpeg_warnings, read_qtables, rgb2jfif
from arcnn.engine import on_backend, restore_chroma, restore_luma
from arcnn.files import DEFAULT_PNG_LEVEL, open_image
from arcnn.netconfig import Network
from arcnn.options import RestoreOptions
from arcnn.policy import chroma_model, ensembles, file_quality, pick_model, pick_model_for, within_range
from arcnn.zoo import REGISTRY, load_model

__all__ = ["RestoreOptions", "Restorer", "Restored", "Opened", "RestoreError", "restore", "map_luma",
           "luma_qtable", "frame_count"]  # fmt: skip

Source = str | Path | bytes | IO[bytes] | Image.Image


class RestoreError(ValueError):
    """One image that could not be restored: ``stage`` is "read", "decode" or "restore"."""

    def __init__(self, stage: str, cause: Exception) -> None:
        reason = str(cause) if isinstance(cause, ValueError) else f"{cause.__class__.__name__}: {cause}"
        super().__init__(f"{stage} failed: {reason}")
        self.stage = stage


@dataclass
class Restored:
    """A restored image and how it was made.

    ``frames``: every restored frame of a multi-frame input (animated GIF, WebP or PNG, multi-page
    TIFF), ``image`` first; ``[image]`` for one. ``info`` then also holds ``duration`` (one per
    frame, ms) and ``loop`` (plays, 0: forever, as WebP counts them) when the input had them.
    Write them all with ``files.save_image(result, path)``.
    """

    image: Image.Image  # the first frame
    model: str | None  # luminance model (registry name or file); None for sadct
    chroma_model: str | None  # None: chroma left as decoded
    quality: QualityEstimate | None  # the input's estimated JPEG quality, when known
    info: dict = field(default_factory=dict)  # metadata to carry to the output (icc_profile, exif, dpi)
    frames: list[Image.Image] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the decoder's complaints: the input is damaged
    png_level: int = DEFAULT_PNG_LEVEL  # RestoreOptions.output_png_level: save_image's zlib level for PNG

    def __post_init__(self) -> None:
        if not self.frames:
            self.frames = [self.image]


@lru_cache(maxsize=16)
def _shipped(name: str, backend: str, bf16: bool, int8: bool = False) -> Network:
    # Shipped weights do not change: read and hash them once per process. User files may change.
    # ONNX Runtime loads the shipped ONNX file itself (no PyTorch); bf16 runs on PyTorch.
    return on_backend(load_model(name, backend="torch" if bf16 else backend, int8=int8), backend, bf16)


@dataclass
class Opened:
    """A source read and its first frame decoded (:meth:`Restorer.open`), ready to restore."""

    image: Image.Image
    frames: int  # frames to restore (:func:`frame_count`)
    start: int  # the frame the image was at when opened
    warnings: list[str]  # the decoder's complaints: the input is damaged


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
                raise ValueError("backend onnxruntime needs onnxruntime: pip install onnxruntime")
        model = self.options.model
        if model is not None and not isinstance(model, str | Path):
            _check_role("given", model, "luma")
            self._nets["<network>"] = model
        elif model is not None:
            self.network(str(model))  # an unknown name or bad file is refused before any image

    def network(self, name: str, role: str = "luma") -> Network:
        """The network ``name`` (registry name or weights file) on the options' backend, after checking
        it restores what ``role`` asks: ``"luma"`` (Y, and maybe a quality plane, in; Y out) or
        ``"chroma"`` (Y, Cb, Cr in; Cb, Cr out)."""
        if name not in self._nets:
            o = self.options
            self._nets[name] = (_shipped(name, o.backend, o.bf16, o.int8) if name in REGISTRY
                                else on_backend(load_model(name), o.backend, o.bf16))  # fmt: skip
        net = self._nets[name]
        _check_role(name, net, role)
        return net

    def restore(self, source: Source) -> Restored:
        """Restore a path, bytes, binary file or PIL image; failures are :class:`RestoreError`."""
        if not isinstance(source, Image.Image):
            return self.restore_opened(self.open(source))
        result = self.restore_image(source)
        name = getattr(source, "filename", "")
        data = _read_bytes(name) if source.format == "JPEG" and name else b""
        result.warnings = jpeg_warnings(data) if data[:2] == b"\xff\xd8" else []
        return result

    def open(self, source: str | Path | bytes | IO[bytes]) -> Opened:
        """Read and decode ``source`` (its first frame), and collect a JPEG's decoder warnings: the
        first half of :meth:`restore`, which a caller may run in another thread while the previous
        image is restored. Failures are :class:`RestoreError` ("read" or "decode")."""
        try:
            data = source if isinstance(source, bytes) else _read_bytes(source)
            im = open_image(data, self.options.max_pixels)
        except Exception as e:  # noqa: BLE001 - image plugins raise many types: all mean "cannot read"
            raise RestoreError("read", e) from e
        try:
            n, start = self._decode(im)
            found = jpeg_warnings(data) if data[:2] == b"\xff\xd8" else []
        except BaseException:
            im.close()
            raise
        return Opened(im, n, start, found)

    def restore_opened(self, opened: Opened) -> Restored:
        """The second half of :meth:`restore`: restore what :meth:`open` gave, then close it."""
        with opened.image:
            result = self._restore_decoded(opened.image, opened.frames, opened.start)
        result.warnings = opened.warnings
        return result

    def restore_image(self, im: Image.Image) -> Restored:
        """Restore an opened PIL image (a JPEG opened but not yet loaded keeps its YCbCr planes).

        Every frame of an animated or multi-page image is restored, from the first (the image is left
        at the frame it was at); to restore one frame alone, pass ``im.copy()`` after seeking to it.
        """
        return self._restore_decoded(im, *self._decode(im))

    def _decode(self, im: Image.Image) -> tuple[int, int]:
        """Decode the first frame of ``im`` after the pixel limit's check: (frames, the frame it was at)."""
        o = self.options
        try:
            n = frame_count(im)  # a GIF is read through to count its frames
        except Exception as e:  # noqa: BLE001 - decoders raise many types: all mean "cannot decode"
            raise RestoreError("decode", e) from e
        if o.max_pixels and im.width * im.height * n > o.max_pixels:
            frames = f" x {n} frames" if n > 1 else ""
            raise RestoreError("read", ValueError(
                f"{im.width}x{im.height}{frames} exceeds the pixel limit {o.max_pixels:.0f} (--max-pixels, "
                "max_pixels in the API: a decompression-bomb guard)"))  # fmt: skip
        if im.format == "JPEG" and im.mode == "RGB":
            im.draft("YCbCr", im.size)  # no effect once loaded
        start = im.tell() if n > 1 else 0
        try:
            if start:
                im.seek(0)
            im.load()
        except Exception as e:  # noqa: BLE001 - decoders raise many types: all mean "cannot decode"
            raise RestoreError("decode", e) from e
        return n, start

    def _restore_decoded(self, im: Image.Image, n: int, start: int) -> Restored:
        try:
            return self._restore_loaded(im, n)
        except RestoreError:
            raise
        except Exception as e:  # noqa: BLE001 - one image's failure is reported, never a traceback
            raise RestoreError("restore", e) from e
        finally:
            if n > 1:  # back to where the caller had it; the result (or its error) is what matters
                with suppress(Exception):
                    im.seek(start)

    def _restore_loaded(self, im: Image.Image, n: int = 1) -> Restored:
        o = self.options
        estimate = file_quality(im) if im.format == "JPEG" or o.quality == "auto" else None
        name = cname = None
        cfn = yfn = None
        if o.method == "sadct":
            fn = _sadct_fn(im, o.quality)
        else:
            by_quality = (pick_model_for(im, estimate, o.fast) if o.quality == "auto"
                          else pick_model(o.quality, fast=o.fast))  # fmt: skip
            given = o.quality if isinstance(o.quality, int) else None
            q = estimate.quality if estimate is not None else given
            name = within_range(self._luma_name(by_quality), q)
            gray_n, colour_n, chroma_n = ensembles(o.ensemble, o.fast)
            fn = self._luma_fn(self.network(name), luma_qtable(im) if o.consistency else None, q, gray_n)
            cname = chroma_model(im, o.chroma, o.fast)
            # With chroma restored, the planes are rounded once, in the conversion to RGB. With
            # chroma as decoded, the Y is rounded first: the three channels then move together, as
            # JPEG's own decoding moves them, so rounding adds no hue of its own (lower ΔE at q95:
            # python -m benchmarks.colour; docs/results.md, Colour JPEGs).
            yfn = partial(fn, full_range=True, rounded=cname is None, ensemble=colour_n)
            if cname is not None:
                cfn = partial(restore_chroma, self.network(cname, "chroma"), tile=o.tile, bf16=o.bf16,
                              quality=q, rounded=False, ensemble=chroma_n)  # fmt: skip
        info = dict(im.info)
        frames = [map_luma(im, fn, cfn, yfn)]
        durations = [im.info.get("duration")]
        pixels = im.width * im.height
        for i in range(1, n):
            # The models chosen from the first frame restore every frame: no flicker between them.
            try:
                im.seek(i)
            except Exception as e:  # noqa: BLE001 - decoders raise many types: all mean "cannot decode"
                raise RestoreError("decode", ValueError(f"frame {i + 1} of {n}: {_reason(e)}")) from e
            pixels += im.width * im.height  # TIFF pages may differ in size: the limit holds for the sum
            if o.max_pixels and pixels > o.max_pixels:
                raise RestoreError("read", ValueError(
                    f"frames 1 to {i + 1} of {n} hold {pixels} pixels, over the pixel limit "
                    f"{o.max_pixels:.0f} (--max-pixels, max_pixels in the API: a decompression-bomb "
                    "guard)"))  # fmt: skip
            try:
                im.load()
            except Exception as e:  # noqa: BLE001 - decoders raise many types: all mean "cannot decode"
                raise RestoreError("decode", ValueError(f"frame {i + 1} of {n}: {_reason(e)}")) from e
            frames.append(map_luma(im, fn, cfn, yfn))
            durations.append(im.info.get("duration"))
        if n > 1:
            info.update(_timing(im, durations))
        return Restored(frames[0], name, cname, estimate, info, frames, png_level=o.output_png_level)

    def restore_plane(self, luma: np.ndarray, qtable: np.ndarray | None = None, quality: int | None = None,
                      model: str | None = None) -> np.ndarray:  # fmt: skip
        """Restore a bare uint8 (H, W) luminance plane (evaluation, benchmarks) with ``model`` (default:
        the options' model, or by ``quality``); ``qtable``: project onto that JPEG table's intervals."""
        name = model or self._luma_name(pick_model(quality, fast=self.options.fast))
        return self._luma_fn(self.network(name), qtable, quality, ensembles(self.options.ensemble)[0])(luma)

    def _luma_name(self, by_quality: str) -> str:
        """The luminance network: the one given, else the options' model, else ``by_quality``."""
        return "<network>" if "<network>" in self._nets else str(self.options.model or by_quality)

    def _luma_fn(
        self, net: Network, qtable: np.ndarray | None, quality: int | None, ensemble: int
    ) -> Callable[..., np.ndarray]:
        o = self.options
        return partial(restore_luma, net, tile=o.tile, bf16=o.bf16, ensemble=ensemble, qtable=qtable,
                       quality=quality)  # fmt: skip


# Formats whose further frames are part of the picture: animation frames, TIFF pages. An MPO
# (a JPEG with extra images: previews, the other eye of a stereo pair) is restored as its primary image.
MULTI_FRAME_FORMATS = ("GIF", "TIFF", "WEBP", "PNG")


def frame_count(im: Image.Image) -> int:
    """How many frames of ``im`` a restoration restores: every frame of an animated GIF, WebP or PNG
    and every page of a TIFF; 1 for everything else."""
    if im.format not in MULTI_FRAME_FORMATS:
        return 1
    return max(1, int(getattr(im, "n_frames", 1)))


def _reason(e: Exception) -> str:
    return str(e) if isinstance(e, ValueError) else f"{e.__class__.__name__}: {e}"


def _timing(im: Image.Image, durations: list[Any]) -> dict[str, Any]:
    """An animation's ``duration`` (ms per frame) and ``loop`` (plays, 0: forever, WebP's count)."""
    timing: dict[str, Any] = {}
    if all(isinstance(d, int | float) for d in durations):
        timing["duration"] = [int(d) for d in durations]
    loop = im.info.get("loop")
    if im.format == "GIF":
        # A GIF without a loop count plays once; one with count n repeats n times, so plays n + 1
        # (browsers, gif2webp); 0 is forever in both.
        loop = 1 if loop is None else loop + 1 if loop else 0
    if isinstance(loop, int):
        timing["loop"] = min(loop, 65535)
    return timing


def _check_role(name: str, net: Network, role: str) -> None:
    shape = (net.config.inputs, net.config.channels)
    if role == "luma" and shape not in ((1, 1), (2, 1)):
        raise ValueError(f"model {name} reads {shape[0]} channels and restores {shape[1]}: not a luminance "
                         "model (chroma models are chosen by --chroma)")  # fmt: skip
    if role == "chroma" and shape not in ((3, 2), (4, 2)):
        raise ValueError(
            f"model {name} reads {shape[0]} channels and restores {shape[1]}: not a chroma model"
        )


def _sadct_fn(im: Image.Image, quality: int | str) -> Callable[[np.ndarray], np.ndarray]:
    """SA-DCT deblocking with σ from the JPEG's own table, or from the IJG table at ``quality``."""
    from arcnn.sadct import sadct_deblock

    if quality != "auto":
        return partial(sadct_deblock, quality=int(quality))
    if im.format != "JPEG":
        raise ValueError("method sadct needs a JPEG (its tables give the noise level) or a quality")
    return partial(sadct_deblock, qtable=read_qtables(im)[0])


def _read_bytes(source: str | Path | IO[bytes]) -> bytes:
    if isinstance(source, str | Path):
        with open(source, "rb") as f:
            return f.read()
    return source.read()


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


# A function of planes: uint8 (H, W) or (H, W, 3) -> (H, W) or (H, W, 2), uint8 or float32.
Plane = Callable[[np.ndarray], np.ndarray]


def map_luma(
    image: Image.Image,
    fn: Callable[[np.ndarray], np.ndarray],
    chroma_fn: Callable[[np.ndarray], np.ndarray] | None = None,
    colour_fn: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Image.Image:
    """Apply ``fn`` (uint8 (H, W) -> uint8 (H, W)) to the luminance of a PIL image.

    L images are the luminance; RGB/YCbCr/P images go through JFIF YCbCr (both ways as libjpeg
    converts: :func:`arcnn.codec.rgb2jfif`, :func:`arcnn.codec.jfif2rgb`), ``colour_fn``
    (default ``fn``) applied to its full-range Y, with Cb and Cr untouched, or replaced by
    ``chroma_fn`` (uint8 (H, W, 3), the restored Y with Cb and Cr as decoded -> uint8 (H, W, 2)
    CbCr). ``colour_fn`` and ``chroma_fn`` may return float32 on 0..255 instead, unrounded: the
    planes are then rounded once, in the conversion to RGB (the chroma model reads the rounded Y);
    an alpha channel (RGBA, LA, PA) is passed through, and a transparent colour (a PNG's
    tRNS, a GIF's transparent index: ``info["transparency"]`` of a P, RGB or L image) becomes one
    first (RGBA, or LA for L), so it is kept. CMYK images (CMYK and YCCK JPEGs, which code each ink
    plane with the DCT) have ``fn`` applied to each of the four planes. 16-bit grayscale (I;16) is
    handed to ``fn`` as uint16 (refused when it has a transparent value: Pillow holds no 16-bit gray
    with alpha). Returns L, I;16, RGB, CMYK, LA or RGBA.
    """
    alpha = None
    if image.info.get("transparency") is not None:
        if image.mode in ("P", "RGB"):
            image = image.convert("RGBA")
        elif image.mode == "L":
            image = image.convert("LA")
        elif image.mode == "I;16":
            raise ValueError(
                "16-bit grayscale with a transparent value (tRNS) is not supported: arcnn would lose "
                "either the 16 bits or the transparency; convert it to 8-bit with alpha (LA) first"
            )
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
        ycbcr = np.array(image) if image.mode == "YCbCr" else rgb2jfif(np.asarray(image))
        out = Image.fromarray(_map_ycbcr(ycbcr, colour_fn or fn, chroma_fn))
    else:
        raise ValueError(
            f"unsupported image mode {image.mode!r} (supported: L, I;16, RGB, YCbCr, CMYK, P, RGBA, LA)"
        )
    if alpha is not None:
        out.putalpha(alpha)
    return out


def _map_ycbcr(ycbcr: np.ndarray, fn: Plane, chroma_fn: Plane | None) -> np.ndarray:
    """uint8 (H, W, 3) JFIF YCbCr -> uint8 (H, W, 3) RGB: ``fn`` on Y, then ``chroma_fn`` (if any) on
    the planes with that Y. Float planes they return are rounded once, in the conversion to RGB."""
    y = fn(np.ascontiguousarray(ycbcr[..., 0]))
    ycbcr[..., 0] = y.round() if y.dtype != np.uint8 else y
    # The chroma model reads the restored Y: cleaner edges to follow than the decoded one
    # (python -m benchmarks.colour --decoded-y measures it).
    cbcr = ycbcr[..., 1:] if chroma_fn is None else chroma_fn(ycbcr)
    return jfif2rgb(y, cbcr)  # as libjpeg converts: unchanged planes give its RGB


def restore(image: Source | np.ndarray, model: str | Path | Network | None = None, **options: Any) -> Any:
    """Remove compression artifacts from one image: ``Restorer(RestoreOptions(model=model, **options))``.

    image: a path, bytes or binary file (-> PIL image), a PIL image (-> PIL image: L, RGB, ... with
    alpha kept; an animation's first frame: ``Restorer.restore`` gives every frame), or a uint8
    (H, W) / (H, W, 3) RGB array (-> the same kind of array).
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
    result = r.restore(image)
    for w in result.warnings:
        warnings.warn(f"the decoder found damage ({w}): restored as decoded", stacklevel=2)
    return result.image
