"""Restoration of whole images: luminance planes, PIL images and JPEG files.

The network restores luminance. A colour image is split into JPEG's own YCbCr
(JFIF, full range); Y is restored, and Cb and Cr are restored by the chroma model
(which also reads the decoded Y) or kept as the decoder upsampled them; the result
is converted back to RGB as a decoder would.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from arcnn.codec import (
    QualityEstimate,
    estimate_quality,
    estimate_quality_from_pixels,
    project_to_jpeg,
    webp_kind,
)
from arcnn.models import ConvStack
from arcnn.zoo import (
    CHROMA_MODEL,
    REGISTRY,
    WEBP_MODEL,
    auto_chroma_model,
    auto_model,
    load_model,
    nearest_model,
)

__all__ = ["restore_luma", "restore_chroma", "restore", "map_luma", "open_jpeg_ycbcr", "pick_model",
           "pixel_quality", "luma_qtable", "chroma_model", "TILE"]  # fmt: skip

TILE = 512  # output tile side: bounds memory at ~64 x (TILE + 18)^2 floats per layer
# --chroma auto leaves the chroma of better JPEGs as decoded: benchmarks/colour.py measures arcnn-chroma
# helping at q40 and harming from q50.
CHROMA_AUTO_MAX_QUALITY = 40


# (quarter turns, mirror) of each self-ensemble member; the first 4 are the flips, which map a
# JPEG's block grid and its (non-symmetric) quantisation tables onto themselves.
_ENSEMBLE = [(0, False), (0, True), (2, False), (2, True), (1, False), (1, True), (3, False), (3, True)]


@torch.no_grad()
def restore_luma(
    model: ConvStack,
    luma: np.ndarray,
    tile: int = TILE,
    bf16: bool = False,
    ensemble: int = 1,
    full_range: bool = False,
    qtable: np.ndarray | None = None,
) -> np.ndarray:
    """Restore one uint8 (H, W) plane; returns uint8 (H, W). A uint16 plane (16-bit images) is
    scaled to [0, 1] by 65535 instead of 255 and comes back as uint16.

    ``bf16``: compute under bfloat16 autocast (about 2x faster on CPUs with AVX-512 BF16;
    ``benchmarks/inference_speed.py`` measures the PSNR it costs).
    ``ensemble``: 1, or the mean of 4 (flips) or 8 (flips and rotations) restorations of
    the flipped/rotated plane, mapped back (``benchmarks/ensemble.py`` measures the gain).
    ``full_range``: the plane is a colour image's JFIF Y (0-255); the networks learned MATLAB's
    studio-range Y (16-235), so the network sees it mapped to that range, in floating point.
    ``qtable``: the (64,) quantisation table of the JPEG plane ``luma`` is (decoded, block grid at
    the origin): the result is projected onto the images that JPEG could have come from
    (:func:`arcnn.codec.project_to_jpeg`; ``benchmarks/consistency.py`` measures it).

    The plane is symmetric-padded by the network's border once, then cut into
    ``tile``-sized output tiles, each computed from its exact receptive field, so
    the result does not depend on the tiling.
    """
    if luma.dtype not in (np.uint8, np.uint16) or luma.ndim != 2:
        raise ValueError(f"expected a uint8 or uint16 (H, W) plane, got {luma.dtype} {luma.shape}")
    if ensemble not in (1, 4, 8):
        raise ValueError(f"ensemble must be 1, 4 or 8, not {ensemble}")
    if qtable is not None and luma.dtype != np.uint8:
        raise ValueError("qtable is for 8-bit JPEG planes")
    project = None
    if qtable is not None:

        def project(y: np.ndarray, r: int, c: int) -> np.ndarray:
            return project_to_jpeg(y, luma[r : r + y.shape[0], c : c + y.shape[1]], qtable)

    model.eval()
    if ensemble == 1:
        if project is not None:  # tiles on the 8x8 block grid (and a stride of 1, 2, 4): projected whole
            tile = max(8, tile - tile % 8)
        return _restore_float(model, luma, tile, bf16, luma.dtype.type, full_range, project)
    acc = np.zeros(luma.shape, np.float32)
    for k, mirror in _ENSEMBLE[:ensemble]:
        t = np.rot90(luma[:, ::-1] if mirror else luma, k)
        y = np.rot90(_restore_float(model, np.ascontiguousarray(t), tile, bf16, full_range=full_range), -k)
        acc += y[:, ::-1] if mirror else y
    acc /= ensemble
    if project is not None:
        for r in range(0, acc.shape[0], 512):  # strips on the block grid: float64 copies stay small
            acc[r : r + 512] = np.clip(project(acc[r : r + 512], r, 0), 0, 255)
    return acc.round().astype(luma.dtype)


@torch.no_grad()
def restore_chroma(model: ConvStack, ycbcr: np.ndarray, tile: int = TILE, bf16: bool = False) -> np.ndarray:
    """Restore the chroma of a decoded colour JPEG: uint8 (H, W, 3) JFIF YCbCr -> uint8 (H, W, 2) CbCr.

    ``model`` reads (Y, Cb, Cr) and returns (Cb, Cr) (``in_channels=3, channels=2``).
    """
    if ycbcr.dtype != np.uint8 or ycbcr.ndim != 3 or ycbcr.shape[2] != model.config.inputs:
        raise ValueError(
            f"expected uint8 (H, W, {model.config.inputs}) planes, got {ycbcr.dtype} {ycbcr.shape}"
        )
    model.eval()
    return _restore_float(model, ycbcr, tile, bf16, np.uint8)


def _restore_float(
    model: ConvStack,
    planes: np.ndarray,
    tile: int,
    bf16: bool,
    dtype: type = np.float32,
    full_range: bool = False,
    post: Callable[[np.ndarray, int, int], np.ndarray] | None = None,
) -> np.ndarray:
    """uint8 (H, W) or (H, W, C_in) -> (H, W) or (H, W, C) in [0, 255]: float32 before rounding,
    or rounded to uint8 tile by tile (``dtype=np.uint8``), which keeps huge images small.
    uint16 planes are on [0, 65535] instead. ``post(tile, row, col)``: applied to each float
    (h, w) output tile of a one-channel network before rounding."""
    b, s = model.config.border, model.config.stride
    # Tiles start on the stride's grid, so a strided network samples every tile alike.
    tile = max(s, tile - tile % s)
    h, w = planes.shape[:2]
    peak = 65535.0 if planes.dtype == np.uint16 else 255.0
    # Padded in uint8, converted to float one tile at a time: memory stays ~2 bytes per pixel.
    mode = "symmetric" if min(h, w) >= b else "edge"  # as models.pad_symmetric
    x = np.pad(planes, ((b, b), (b, b)) + ((0, 0),) * (planes.ndim - 2), mode=mode)
    # channels-last (NHWC) lets oneDNN run these convolutions without layout reorders: ~15% faster.
    fmt = torch.channels_last if isinstance(model, torch.nn.Module) else torch.contiguous_format
    if fmt is torch.channels_last:
        model.to(memory_format=fmt)
    out = np.empty((h, w, model.config.channels), dtype)
    for r in range(0, h, tile):
        for c in range(0, w, tile):
            r1, c1 = min(r + tile, h), min(c + tile, w)
            t = torch.from_numpy(x[r : r1 + 2 * b, c : c1 + 2 * b].astype(np.float32) / peak)
            if full_range:
                t = (16.0 + 219.0 * t) / 255.0
            t = (t[None, None] if t.ndim == 2 else t.permute(2, 0, 1)[None]).contiguous(memory_format=fmt)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                y = model(t).float()
            if full_range:
                y = (255.0 * y - 16.0) / 219.0
            y = (y.clamp(0, 1) * peak)[0].permute(1, 2, 0).numpy()
            if post is not None:
                y = np.clip(post(y[..., 0], r, c), 0, peak)[..., None]
            out[r:r1, c:c1] = y if dtype == np.float32 else y.round()
    return out[..., 0] if planes.ndim == 2 else out


@lru_cache(maxsize=8)
def _registry_model(name: str) -> ConvStack:
    # restore() is called once per image; reading and hashing the weights every time would cost
    # more than restoring a small image. Shipped weights do not change, user files may: not cached.
    return load_model(name)


def _as_model(model: ConvStack | str | Path) -> ConvStack:
    if isinstance(model, ConvStack):
        return model
    return _registry_model(model) if isinstance(model, str) and model in REGISTRY else load_model(model)


def pick_model(quality: int | str | None, image: Image.Image | None = None) -> str:
    """Registry name for ``quality``: a number, or ``"auto"``.

    ``"auto"``: a JPEG's quality from its tables; a lossy WebP file gets the WebP model when it is
    shipped; other 8-bit images (PNG, BMP, ...) the quality their pixels show they had as a JPEG
    (:func:`arcnn.codec.estimate_quality_from_pixels`), or, without such evidence, the blind model.
    """
    if quality not in (None, "auto"):
        return nearest_model(int(quality))
    if image is None:
        return auto_model(None)
    if image.format == "WEBP" and WEBP_MODEL in REGISTRY and webp_kind(image) == "lossy":
        return WEBP_MODEL
    if image.format == "JPEG" and getattr(image, "quantization", None):
        est = estimate_quality(image)
        return auto_model(est.quality, standard=est.exact)
    est = pixel_quality(image)
    return auto_model(None if est is None else est.quality)


def pixel_quality(image: Image.Image) -> QualityEstimate | None:
    """The JPEG quality an image's luminance shows it once had (see ``estimate_quality_from_pixels``);
    None for images that do not show it, and for 16-bit, float and CMYK images."""
    if image.mode not in ("L", "LA", "RGB", "RGBA", "P", "PA", "YCbCr"):
        return None
    return estimate_quality_from_pixels(np.asarray(image.convert("L")))


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


def open_jpeg_ycbcr(im: Image.Image) -> Image.Image:
    """Ask the JPEG decoder for YCbCr instead of RGB, so Y is the coded luminance itself."""
    if im.format == "JPEG" and im.mode == "RGB":
        im.draft("YCbCr", im.size)
    return im


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


def chroma_model(image: Image.Image, chroma: str = "auto") -> str | None:
    """Registry name of the chroma model for ``image``, or None (chroma left as decoded).

    ``chroma``: "off"; "on" (every colour image); "auto": colour JPEGs whose chroma is
    subsampled (4:2:0 or 4:2:2), the case the chroma models are trained for, at an estimated
    quality up to ``CHROMA_AUTO_MAX_QUALITY`` (above it the shipped chroma model does not help:
    ``benchmarks/colour.py``). A JPEG's estimated quality picks the model (``auto_chroma_model``).
    """
    if chroma not in ("auto", "on", "off"):
        raise ValueError(f"chroma must be auto, on or off, not {chroma!r}")
    if chroma == "off" or CHROMA_MODEL not in REGISTRY or image.mode in ("L", "LA", "I", "I;16", "F", "1"):
        return None
    jpeg = image.format == "JPEG" and bool(getattr(image, "quantization", None))
    quality = estimate_quality(image).quality if jpeg else None
    if chroma == "auto":
        from PIL import JpegImagePlugin

        if not jpeg or JpegImagePlugin.get_sampling(image) not in (1, 2):
            return None
        if quality > CHROMA_AUTO_MAX_QUALITY:
            return None
    return auto_chroma_model(quality)


def restore(
    image: Image.Image | np.ndarray,
    model: ConvStack | str | Path | None = None,
    quality: int | str | None = "auto",
    chroma: str = "auto",
    consistency: bool = True,
) -> Image.Image | np.ndarray:
    """Remove compression artifacts from a grayscale or colour image.

    image: PIL image (L, RGB, YCbCr, RGBA, LA, P) or uint8 array (H, W) / (H, W, 3) RGB.
    model: a ConvStack, a registry name or a weights path; default: chosen by ``quality``
    (:func:`pick_model`: ``"auto"`` reads a JPEG's tables, or other images' pixels).
    chroma: "auto", "on" or "off": also restore Cb and Cr with the chroma model (see
    :func:`chroma_model`; arrays count as not-JPEG, so "auto" leaves their chroma).
    consistency: project a JPEG's restored luminance onto what the file could have coded
    (``qtable`` of :func:`restore_luma`).
    Returns the same kind of object (a PIL image comes back as L, RGB or with alpha).
    """
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
            raise ValueError(f"expected a uint8 (H, W) or (H, W, 3) array, got {image.dtype} {image.shape}")
        return np.asarray(restore(Image.fromarray(image), model, quality, chroma, consistency))
    net = _as_model(model if model is not None else pick_model(quality, image))
    cname = chroma_model(image, chroma)
    cfn = None if cname is None else partial(restore_chroma, _as_model(cname))
    fn = partial(restore_luma, net, qtable=luma_qtable(image) if consistency else None)
    return map_luma(image, fn, cfn, partial(fn, full_range=True))
