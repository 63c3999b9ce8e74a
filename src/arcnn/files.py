"""Files in and out: opening images safely, writing outputs atomically, the output formats.

Every write in arcnn goes through :func:`atomic_write`: the data goes to a short hidden temporary
name in the target's folder (``.arcnn-PID-RANDOM.tmp``), then is renamed over the target, so no
half-written file ever has the target's name, and the temporary name fits any legal target name.
"""

from __future__ import annotations

import io
import math
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from PIL import Image

__all__ = ["FORMATS", "SUFFIX_FORMAT", "TEMP_PREFIX", "DEFAULT_MAX_PIXELS", "atomic_write", "open_image",
           "check_max_pixels", "encode_image", "save_image", "format_for"]  # fmt: skip

TEMP_PREFIX = ".arcnn-"
DEFAULT_MAX_PIXELS = 200e6
# format -> (file suffix, Pillow format, metadata keys the format carries)
FORMATS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "png": (".png", "PNG", ("icc_profile", "exif", "dpi")),
    "webp": (".webp", "WEBP", ("icc_profile", "exif")),
    "tiff": (".tif", "TIFF", ("icc_profile", "exif", "dpi")),
    "jpeg": (".jpg", "JPEG", ("icc_profile", "exif", "dpi")),
}
SUFFIX_FORMAT = {".png": "png", ".webp": "webp", ".tif": "tiff", ".tiff": "tiff", ".jpg": "jpeg",
                 ".jpeg": "jpeg"}  # fmt: skip


@contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """``with atomic_write(target) as tmp:`` write ``tmp``; on success it replaces ``target``.

    On any failure (or interruption) the temporary file is removed and the target is untouched.
    """
    path = Path(path)
    tmp = path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    with atomic_write(path) as tmp:
        tmp.write_bytes(data)


def check_max_pixels(max_pixels: float) -> float:
    """``max_pixels`` as given, after refusing what is not a finite number >= 0 (0: no limit)."""
    if not isinstance(max_pixels, int | float) or isinstance(max_pixels, bool):
        raise ValueError(f"max_pixels must be a number, not {max_pixels!r}")
    if not math.isfinite(max_pixels) or max_pixels < 0:
        raise ValueError(f"max_pixels must be a finite number >= 0 (0: no limit), not {max_pixels}")
    return max_pixels


def open_image(source: str | Path | bytes | IO[bytes], max_pixels: float = DEFAULT_MAX_PIXELS) -> Image.Image:
    """A lazily decoded PIL image of a path, bytes or binary file, after the bomb guard.

    The size is read from the header and refused past ``max_pixels`` (0: no limit) before any
    pixel is decoded. A colour JPEG is asked for its YCbCr planes (the coded luminance itself).
    """
    check_max_pixels(max_pixels)
    fp = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    # The pixel limit below replaces Pillow's global bomb guard, with a message that says how to pass.
    Image.MAX_IMAGE_PIXELS = None
    im = Image.open(fp)
    if max_pixels and im.width * im.height > max_pixels:
        im.close()
        raise ValueError(
            f"{im.width}x{im.height} exceeds the pixel limit {max_pixels:.0f} (--max-pixels, "
            "max_pixels in the API: a decompression-bomb guard); raise it to restore this image"
        )
    if im.format == "JPEG" and im.mode == "RGB":
        im.draft("YCbCr", im.size)
    return im


def format_for(path: str | Path, fmt: str | None = None) -> str:
    """The output format: ``fmt`` when given, else from the suffix of ``path``, else png."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        return fmt
    return SUFFIX_FORMAT.get(Path(path).suffix.lower(), "png")


def _prepare(image: Image.Image, fmt: str, info: dict, jpeg_quality: int) -> tuple[Image.Image, dict]:
    """The image as ``fmt`` can hold it, and Pillow's save parameters (metadata kept where it fits)."""
    if not 1 <= jpeg_quality <= 100:
        raise ValueError(f"jpeg quality must be in 1..100, not {jpeg_quality}")
    _, _, keys = FORMATS[fmt]
    params = {k: info[k] for k in keys if info.get(k)}
    if image.mode == "CMYK" and fmt in ("png", "webp"):
        # PNG and WebP hold no CMYK: convert, and drop the CMYK profile that no longer applies.
        image = image.convert("RGB")
        params.pop("icc_profile", None)
    if fmt == "webp":
        params.update(lossless=True, quality=100)
    elif fmt == "tiff":
        params.update(compression="tiff_deflate")
    elif fmt == "jpeg":
        if image.mode in ("RGBA", "LA"):
            raise ValueError("JPEG output cannot keep the alpha channel: choose png, webp or tiff")
        params.update(quality=jpeg_quality, subsampling=0)
    return image, params


def encode_image(
    image: Image.Image, fmt: str = "png", info: dict | None = None, jpeg_quality: int = 95
) -> bytes:
    """The bytes of ``image`` in ``fmt`` (png, webp lossless, tiff deflate, jpeg 4:4:4)."""
    image, params = _prepare(image, format_for("", fmt), info or {}, jpeg_quality)
    buf = io.BytesIO()
    image.save(buf, format=FORMATS[fmt][1], **params)
    return buf.getvalue()


def save_image(
    image: Image.Image, path: str | Path, fmt: str | None = None, info: dict | None = None,
    jpeg_quality: int = 95,
) -> None:  # fmt: skip
    """Write ``image`` to ``path`` atomically (format from ``fmt`` or the suffix)."""
    path = Path(path)
    fmt = format_for(path, fmt)
    image, params = _prepare(image, fmt, info or {}, jpeg_quality)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        image.save(tmp, format=FORMATS[fmt][1], **params)
