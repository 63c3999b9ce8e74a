"""Which model restores which image: every choice rule and threshold of ``--quality auto`` and
``--chroma auto`` in one place.

The thresholds were set from benchmarks whose tables live in the docs (the measured numbers
are there, not here): ``python -m benchmarks.blind`` (BSDS500 val, then LIVE1),
``python -m benchmarks.nonstandard_tables`` and ``python -m benchmarks.colour``.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, JpegImagePlugin

from arcnn.codec import (
    QualityEstimate,
    chroma_table_quality,
    estimate_quality,
    estimate_quality_from_pixels,
    webp_kind,
)
from arcnn.zoo import REGISTRY

__all__ = ["DEFAULT_MODEL", "BLIND_MODEL", "LARGE_MODEL", "FAST_BLIND_MODEL", "WEBP_MODEL", "CHROMA_MODEL",
           "FAST_CHROMA_MODEL", "FAST_CHROMA_AUTO_MAX_QUALITY",
           "AUTO_TOLERANCE", "COLOUR_MODES", "LARGE_MAX_QUALITY", "FAST_MAX_QUALITY",
           "CHROMA_AUTO_MAX_QUALITY", "COLOUR_LUMA_ENSEMBLE", "CHROMA_ENSEMBLE", "ensembles",
           "nearest_model", "within_range",
           "auto_model", "pick_model", "pick_model_for", "chroma_model",
           "pixel_quality", "file_quality", "chroma_quality"]  # fmt: skip

DEFAULT_MODEL = "arcnn-q10"
BLIND_MODEL = "arcnn-blind"  # one luminance model for every quality
LARGE_MODEL = "arcnn-large"  # the best luminance model up to LARGE_MAX_QUALITY (it reads the quality)
FAST_BLIND_MODEL = "fast-arcnn-relu-blind"  # the fast tier's every-quality model, once one ships
WEBP_MODEL = "arcnn-webp"  # luminance of lossy WebP images, every quality
# Restores Cb and Cr of colour JPEGs of every quality and subsampling (a U-Net that reads the quality).
CHROMA_MODEL = "arcnn-chroma-unet"
# The fast tier's chroma model: a smaller U-Net at a quarter of the resolution. With the chroma
# U-Net above, chroma would cost --fast more than its luminance does.
FAST_CHROMA_MODEL = "arcnn-chroma-fast"

# A per-quality model for an estimated quality within this many steps of its own; the large model
# for every other quality up to LARGE_MAX_QUALITY and for other encoders' tables (the per-quality
# models know IJG's alone); the blind model above it and for unknown qualities.
AUTO_TOLERANCE = 2
# Colour images get the large model for their luminance wherever it suits, also near q10-q40 where
# grayscale ones keep the per-quality models for their speed: colour photos are what most users
# restore, and the two U-Nets together stay within the colour default's budget of multiply-adds per
# pixel (python -m benchmarks.colour measures that default; docs/results.md, Colour JPEGs).
COLOUR_MODES = ("RGB", "RGBA", "YCbCr", "P", "PA")
# arcnn-large beats arcnn-blind up to here on BSDS500 val; above it, where it was never trained, it
# falls below arcnn-blind and then below the JPEG itself, as it does with the quality unknown on good
# JPEGs (python -m benchmarks.blind --data bsds500/val --images 20 --qualities 60 75 80 90).
LARGE_MAX_QUALITY = 75
# --fast: the Fast AR-CNN model nearest the file's quality up to here; above it, a fast blind model
# once one is shipped, else the default tier's pick: the nearest one (fast-arcnn-relu-q40) lifts q75
# and harms q80 and q90 on BSDS500 val (python -m benchmarks.fast_arcnn --limits).
FAST_MAX_QUALITY = 75
# --chroma auto restores the chroma of a colour JPEG up to this quality of its chroma table
# (chroma_table_quality), by subsampling: the highest of q50, 60, 75, 90 at which the chroma model
# beats luminance-only restoration in RGB PSNR and lowers the CIEDE2000 ΔE by 0.1 or more on BSDS500
# val (python -m benchmarks.colour --data bsds500/val --every 3 --qualities 50 60 75 90 --settings
# 4:2:0 4:2:2 4:4:4 --chroma-model arcnn-chroma-unet); above it the colours gain little.
# Other subsamplings: never.
CHROMA_AUTO_MAX_QUALITY = {"4:2:0": 75, "4:2:2": 75, "4:4:4": 60}
# The same for the fast tier's chroma model, by the same rule over q20 to q90 (python -m
# benchmarks.colour --fast --data bsds500/val --every 3 --qualities 20 30 40 50 60 75 90 --settings
# 4:2:0 4:2:2 4:4:4): the smaller network smooths the finer chroma of better JPEGs.
FAST_CHROMA_AUTO_MAX_QUALITY = {"4:2:0": 40, "4:2:2": 30, "4:4:4": 30}
# Colour images are restored by default as the mean of their luminance restored as is and mirrored,
# and of their chroma restored in the four flips (engine.restore_luma and restore_chroma's
# ensemble): with arcnn-large and the chroma U-Net, within the colour default's budget of 0.5 M
# multiply-adds per pixel (python -m benchmarks.colour prints the cost; docs/results.md, Colour
# JPEGs). Grayscale images and the fast tier keep one pass, for their speed.
COLOUR_LUMA_ENSEMBLE = 2
CHROMA_ENSEMBLE = 4
_SUBSAMPLING = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}  # JpegImagePlugin.get_sampling


def nearest_model(quality: int | None, fast: bool = False) -> str:
    """The shipped per-quality model whose training quality is nearest ``quality``: a 9-7-1-5 one, or
    with ``fast`` a Fast AR-CNN one."""
    per_q = [c for c in REGISTRY.values() if (c.fast_per_quality if fast else c.per_quality)]
    if quality is None or not per_q:
        return DEFAULT_MODEL
    return min(per_q, key=lambda c: (abs(int(c.quality or 0) - quality), c.quality)).name


def auto_model(quality: int | None, standard: bool = True, fast: bool = False, colour: bool = False) -> str:
    """The model ``--quality auto`` uses for an image whose quality was estimated as ``quality``.

    The per-quality model trained within ``AUTO_TOLERANCE`` of ``quality``; for every other quality
    up to ``LARGE_MAX_QUALITY`` and for other encoders' tables (``standard=False``), the large model;
    above it and for unknown qualities (``None``: PNG, BMP), the quality-blind model; each when shipped.
    ``colour`` (the image's luminance, see ``COLOUR_MODES``): the large model wherever it suits.
    ``fast``: the fast tier instead (:func:`_fast_model`).
    """
    if fast:
        return _fast_model(quality, standard)
    near = nearest_model(quality)
    trained = REGISTRY[near].quality if near in REGISTRY else None
    per_quality = (quality is not None and standard and trained is not None
                   and abs(trained - quality) <= AUTO_TOLERANCE)  # fmt: skip
    large = _large_suits(quality) and LARGE_MODEL in REGISTRY
    if per_quality and not (colour and large):
        return near
    if large:
        return LARGE_MODEL
    return BLIND_MODEL if BLIND_MODEL in REGISTRY else near


def _fast_model(quality: int | None, standard: bool) -> str:
    """The fast tier's pick: the Fast AR-CNN model trained nearest ``quality`` up to ``FAST_MAX_QUALITY``;
    above it and for unknown qualities ``FAST_BLIND_MODEL`` when shipped (none is: the one tried harmed
    q90-q95 JPEGs), else the default tier's pick (:func:`auto_model`)."""
    near = REGISTRY.get(nearest_model(quality, fast=True))
    if quality is not None and quality <= FAST_MAX_QUALITY and near is not None and near.fast_per_quality:
        return near.name
    return FAST_BLIND_MODEL if FAST_BLIND_MODEL in REGISTRY else auto_model(quality, standard)


def within_range(name: str, quality: int | None) -> str:
    """``name``, unless it is the large model and ``quality`` is above ``LARGE_MAX_QUALITY`` or
    unknown: such images it harms, even when asked for by name, so they get the blind model."""
    if name == LARGE_MODEL and not _large_suits(quality) and BLIND_MODEL in REGISTRY:
        return BLIND_MODEL
    return name


def _large_suits(quality: int | None) -> bool:
    """Whether the large model improves images of this quality (up to ``LARGE_MAX_QUALITY``; not
    unknown ones): measured by ``python -m benchmarks.blind``."""
    return quality is not None and quality <= LARGE_MAX_QUALITY


def pixel_quality(image: Image.Image) -> QualityEstimate | None:
    """The JPEG quality an image's luminance shows it once had (see ``estimate_quality_from_pixels``);
    None for images that do not show it, and for 16-bit, float and CMYK images."""
    if image.mode not in ("L", "LA", "RGB", "RGBA", "P", "PA", "YCbCr"):
        return None
    if image.mode in ("P", "PA"):  # through RGBA: a palette's transparency has no meaning in L
        image = image.convert("RGBA")
    return estimate_quality_from_pixels(np.asarray(image.convert("L")))


def file_quality(image: Image.Image) -> QualityEstimate | None:
    """A JPEG's quality from its tables, or another image's from its pixels (None: no evidence)."""
    if image.format == "JPEG" and getattr(image, "quantization", None):
        return estimate_quality(image)
    return pixel_quality(image)


def pick_model(quality: int | str | None, image: Image.Image | None = None, fast: bool = False) -> str:
    """Registry name for ``quality``: a number, or ``"auto"``.

    ``"auto"``: a JPEG's quality from its tables; a lossy WebP file gets the WebP model when it is
    shipped; other 8-bit images (PNG, BMP, ...) the quality their pixels show they had as a JPEG
    (:func:`arcnn.codec.estimate_quality_from_pixels`), or, without such evidence, the blind model.
    A number: the nearest per-quality model; with ``fast``, as :func:`auto_model` picks in the fast tier.
    """
    if quality not in (None, "auto"):
        return auto_model(int(quality), fast=True) if fast else nearest_model(int(quality))
    if image is None:
        return auto_model(None, fast=fast)
    return pick_model_for(image, file_quality(image), fast)


def pick_model_for(image: Image.Image, est: QualityEstimate | None, fast: bool = False) -> str:
    """``pick_model("auto", image, fast)`` given the image's quality estimate (:func:`file_quality`),
    for a caller that already has it: the pixel estimate is not cheap."""
    if image.format == "WEBP" and WEBP_MODEL in REGISTRY and webp_kind(image) == "lossy":
        return WEBP_MODEL
    if est is None:
        return auto_model(None, fast=fast)
    standard = est.exact if image.format == "JPEG" else True
    return auto_model(est.quality, standard, fast, colour=image.mode in COLOUR_MODES)


def ensembles(ensemble: int | None, fast: bool = False) -> tuple[int, int, int]:
    """Self-ensemble sizes (grayscale luminance, colour luminance, chroma) for ``RestoreOptions``'
    ``ensemble`` and ``fast``: ``ensemble`` for all three when given; else one pass for grayscale
    images and the fast tier, ``COLOUR_LUMA_ENSEMBLE`` and ``CHROMA_ENSEMBLE`` for colour ones.

    Example:
        >>> ensembles(None), ensembles(None, fast=True), ensembles(8)
        ((1, 2, 4), (1, 1, 1), (8, 8, 8))
    """
    if ensemble is not None:
        return ensemble, ensemble, ensemble
    return (1, 1, 1) if fast else (1, COLOUR_LUMA_ENSEMBLE, CHROMA_ENSEMBLE)


def chroma_model(image: Image.Image, chroma: str = "auto", fast: bool = False) -> str | None:
    """Registry name of the chroma model for ``image``, or None (chroma left as decoded).

    ``chroma``: "off"; "on" (every colour image); "auto": colour JPEGs coded as YCbCr at 4:2:0,
    4:2:2 or 4:4:4 whose chroma table is no finer than IJG's at ``CHROMA_AUTO_MAX_QUALITY`` for
    that subsampling (:func:`chroma_quality`). ``fast``: the fast tier's chroma model
    (``FAST_CHROMA_MODEL``) where it is shipped, up to ``FAST_CHROMA_AUTO_MAX_QUALITY``.
    """
    if chroma not in ("auto", "on", "off"):
        raise ValueError(f"chroma must be auto, on or off, not {chroma!r}")
    name, limits = CHROMA_MODEL, CHROMA_AUTO_MAX_QUALITY
    if fast and FAST_CHROMA_MODEL in REGISTRY:
        name, limits = FAST_CHROMA_MODEL, FAST_CHROMA_AUTO_MAX_QUALITY
    if chroma == "off" or name not in REGISTRY or image.mode in ("L", "LA", "I", "I;16", "F", "1"):
        return None
    if chroma == "auto":
        cq = chroma_quality(image)  # None unless a JPEG coded as Y, Cb, Cr
        sampling = _SUBSAMPLING.get(JpegImagePlugin.get_sampling(image), "") if cq is not None else ""
        if cq is None or cq > limits.get(sampling, 0):
            return None
    return name


def chroma_quality(image: Image.Image) -> int | None:
    """The IJG quality a colour JPEG's chroma table amounts to (:func:`arcnn.codec.chroma_table_quality`):
    its quality for libjpeg's and Pillow's tables. None for other images and for JPEGs whose planes
    are not Y, Cb, Cr (grayscale, CMYK, coded as R, G, B)."""
    tables, layer = getattr(image, "quantization", None), getattr(image, "layer", None)
    if image.format != "JPEG" or not tables or not layer or len(layer) != 3:
        return None
    if image.info.get("adobe_transform") == 0 or layer[1][3] not in tables:
        return None
    return chroma_table_quality(np.asarray(tables[layer[1][3]]))
