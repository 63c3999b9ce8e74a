"""Files in and out: opening images safely, writing outputs atomically, the output formats.

Every write in arcnn goes through :func:`atomic_write`: the data goes to a short hidden temporary
name in the target's folder (``.arcnn-PID-RANDOM.tmp``), then is renamed over the target, so no
half-written file ever has the target's name, and the temporary name fits any legal target name.
"""

from __future__ import annotations

import io
import math
import os
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

from PIL import Image

__all__ = ["IMAGE_SUFFIXES", "FORMATS", "SUFFIX_FORMAT", "TEMP_PREFIX", "DEFAULT_MAX_PIXELS", "atomic_write",
           "write_bytes_atomic", "remove_stale_temps", "open_image", "read_image", "check_max_pixels",
           "DEFAULT_PNG_LEVEL", "FAST_PNG_LEVEL", "check_png_level", "encode_image", "save_image",
           "format_for", "to_8bit",
           "Frames", "HasFrames"]  # fmt: skip

TEMP_PREFIX = ".arcnn-"
_PILLOW_GUARD = threading.Lock()
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".gif")
DEFAULT_MAX_PIXELS = 200e6
# PNG's zlib level, 0 (stored) .. 9 (smallest); Pillow's and zlib's default. Lower levels write faster
# and larger files, the same pixels (docs/speed.md, benchmarks/png_level.py).
DEFAULT_PNG_LEVEL = 6
# The fast tier's: its networks are so cheap that level 6's encoding is a real share of a file's
# time, and level 3 writes the same pixels much faster (docs/speed.md).
FAST_PNG_LEVEL = 3
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
def atomic_write(path: str | Path, overwrite: bool = True) -> Iterator[Path]:
    """``with atomic_write(target) as tmp:`` write ``tmp``; on success it becomes ``target``.

    ``overwrite=False``: an existing ``target`` is never replaced, even by a file that appears while
    this one is written (``FileExistsError``): the temporary file is linked to the name, which fails
    if the name exists. On any failure or interruption the temporary file is removed and the
    target is untouched.
    """
    path = Path(path)
    tmp = path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(4).hex()}.tmp")
    try:
        yield tmp
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_new(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _link_new(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(f"{path} exists") from None
    except OSError:  # no hard links on this file system (FAT, some network ones): check, then rename
        if path.exists():
            raise FileExistsError(f"{path} exists") from None
        os.replace(tmp, path)


def remove_stale_temps(folder: str | Path, min_age_s: float = 60.0) -> int:
    """Remove this tool's temporary files in ``folder`` left by processes that are gone (killed while
    writing); returns how many. Files of live processes, and younger ones, are left alone."""
    removed = 0
    for f in Path(folder).glob(f"{TEMP_PREFIX}*-*.tmp"):
        try:
            pid = int(f.name[len(TEMP_PREFIX) :].split("-")[0])
            if _alive(pid) or time.time() - f.stat().st_mtime < min_age_s:
                continue
            f.unlink()
            removed += 1
        except (ValueError, OSError):
            continue
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by another user
    return True


def write_bytes_atomic(path: str | Path, data: bytes, overwrite: bool = True) -> None:
    with atomic_write(path, overwrite) as tmp:
        tmp.write_bytes(data)


def check_max_pixels(max_pixels: float) -> float:
    """``max_pixels`` as given, after refusing what is not a finite number >= 0 (0: no limit)."""
    if not isinstance(max_pixels, int | float) or isinstance(max_pixels, bool):
        raise ValueError(f"max_pixels must be a number, not {max_pixels!r}")
    if not math.isfinite(max_pixels) or max_pixels < 0:
        raise ValueError(f"max_pixels must be a finite number >= 0 (0: no limit), not {max_pixels}")
    return max_pixels


def check_png_level(level: int) -> int:
    """``level`` as given, after refusing what is not an integer in 0..9 (PNG's zlib levels)."""
    if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 9:
        raise ValueError(f"png_level must be an integer in 0..9 (zlib's levels), not {level!r}")
    return level


def open_image(source: str | Path | bytes | IO[bytes], max_pixels: float = DEFAULT_MAX_PIXELS) -> Image.Image:
    """A lazily decoded PIL image of a path, bytes or binary file, after the bomb guard.

    The size is read from the header and refused past ``max_pixels`` (0: no limit) before any
    pixel is decoded. A colour JPEG is asked for its YCbCr planes (the coded luminance itself).
    """
    check_max_pixels(max_pixels)
    if isinstance(source, str | Path):
        with open(source, "rb") as f:
            source = f.read()
    if isinstance(source, bytes | bytearray) and source[:4] == b"GIF8":
        _check_gif_frames(bytes(source), max_pixels)
    fp = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    with _PILLOW_GUARD:
        # The pixel limit below replaces Pillow's global bomb guard for this call only, with a message
        # that says how to pass; the global stays as it was for every other reader in the process.
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            im = Image.open(fp)
        except MemoryError:
            raise ValueError("too large to decode in memory") from None
        except (OSError, SyntaxError, ValueError, TypeError, IndexError, struct.error, EOFError) as e:
            raise ValueError(f"not an image arcnn can read ({e.__class__.__name__}: {e})") from None
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    if max_pixels and im.width * im.height > max_pixels:
        im.close()
        raise ValueError(
            f"{im.width}x{im.height} exceeds the pixel limit {max_pixels:.0f} (--max-pixels, "
            "max_pixels in the API: a decompression-bomb guard); raise it to restore this image"
        )
    if im.format == "JPEG" and im.mode == "RGB":
        im.draft("YCbCr", im.size)
    return im


def read_image(source: str | Path | bytes | IO[bytes], max_pixels: float = DEFAULT_MAX_PIXELS) -> Image.Image:
    """:func:`open_image`, then decoded: a loaded PIL image, or ``ValueError`` (never Pillow's own
    error types) for whatever cannot be read or decoded."""
    im = open_image(source, max_pixels)
    try:
        im.load()
    except MemoryError:
        im.close()
        raise ValueError("too large to decode in memory") from None
    except Exception as e:  # noqa: BLE001 - decoders raise many types: all mean "cannot decode"
        im.close()
        raise ValueError(f"cannot decode the image ({e.__class__.__name__}: {e})") from None
    return im


def _check_gif_frames(data: bytes, max_pixels: float) -> None:
    """Refuse a GIF any of whose frames reaches past ``max_pixels`` (from its image descriptors,
    before Pillow allocates a frame's area, which a GIF may set far beyond its canvas)."""
    if not max_pixels:
        return
    pos = 13 + (3 << ((data[10] & 7) + 1) if len(data) > 10 and data[10] & 0x80 else 0)
    while pos < len(data):
        kind = data[pos]
        if kind == 0x2C and pos + 10 <= len(data):  # image descriptor: left, top, width, height
            left, top, w, h = struct.unpack("<4H", data[pos + 1 : pos + 9])
            if (left + w) * (top + h) > max_pixels:
                raise ValueError(f"a GIF frame reaching {left + w}x{top + h} exceeds the pixel limit "
                                 f"{max_pixels:.0f} (--max-pixels, max_pixels in the API)")  # fmt: skip
            flags = data[pos + 9]
            pos += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1  # + LZW minimum code size
        elif kind == 0x21:  # extension: label, then sub-blocks
            pos += 2
        elif kind == 0x3B:  # trailer
            return
        else:  # Pillow skips a byte it does not know, one at a time: so does this
            pos += 1
            continue
        while pos < len(data) and data[pos]:  # data sub-blocks, each led by its length
            pos += data[pos] + 1
        pos += 1


def format_for(path: str | Path, fmt: str | None = None) -> str:
    """The output format: ``fmt`` when given, else from the suffix of ``path`` (no suffix: png).

    A suffix arcnn does not write (``.bmp``, ``.gif``, ...) is refused unless ``fmt`` is given (the
    file then gets that format under the name asked for); a suffix that names another format than
    ``fmt`` (``x.png`` with jpeg) is refused: the name would lie about the bytes.
    """
    suffix = Path(path).suffix.lower()
    named = SUFFIX_FORMAT.get(suffix)
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        if named is not None and named != fmt:
            raise ValueError(
                f"{Path(path).name} names a {named} file but the format asked for is {fmt}: "
                f"name it {Path(path).stem}{FORMATS[fmt][0]} or drop --format"
            )
        return fmt
    if named is None and suffix:
        suffixes = ", ".join(sorted(SUFFIX_FORMAT))
        raise ValueError(
            f"arcnn does not write {suffix} files ({Path(path).name}): use one of {suffixes}, "
            "or --format to choose the format"
        )
    return named or "png"


Frames = Image.Image | Sequence[Image.Image]


class HasFrames(Protocol):
    """What :func:`save_image` also accepts: a result with its frames and metadata
    (:class:`arcnn.pipeline.Restored`; its ``png_level``, when it has one, is the PNG level written
    unless one is given)."""

    frames: list[Image.Image]
    info: dict


def _frames_and_info(image: Frames | HasFrames, info: dict | None) -> tuple[list[Image.Image], dict]:
    if isinstance(image, Image.Image):
        return [image], info or {}
    if isinstance(image, Sequence):
        return list(image), info or {}
    return list(image.frames), image.info if info is None else info


def _png_level(image: Frames | HasFrames, level: int | None) -> int:
    """``level``, else the result's own ``png_level`` (:class:`arcnn.pipeline.Restored`), else 6."""
    if level is None:
        level = getattr(image, "png_level", DEFAULT_PNG_LEVEL)
    return check_png_level(level)


def to_8bit(image: Image.Image) -> Image.Image:
    """A 16-bit grayscale (I;16) image as 8-bit L: each value / 257, rounded (65535 -> 255)."""
    import numpy as np  # here only: arcnn --help does not pay for numpy's import

    a = np.asarray(image).astype(np.uint32)
    return Image.fromarray(((a + 128) // 257).astype(np.uint8), "L")


def _fit(image: Image.Image, fmt: str) -> Image.Image:
    """One frame as ``fmt`` holds it: 16-bit gray -> 8-bit for WebP and JPEG, CMYK -> RGB for PNG
    and WebP; alpha to JPEG is refused."""
    if image.mode == "I;16" and fmt in ("webp", "jpeg"):
        image = to_8bit(image)  # Pillow's own conversion clips to 255: a white image
    if image.mode == "CMYK" and fmt in ("png", "webp"):
        image = image.convert("RGB")
    if fmt == "jpeg" and image.mode in ("RGBA", "LA"):
        raise ValueError("JPEG output cannot keep the alpha channel: choose png, webp or tiff")
    return image


def _prepare(frames: list[Image.Image], fmt: str, info: dict, jpeg_quality: int,
             png_level: int = DEFAULT_PNG_LEVEL) -> tuple[Image.Image, dict]:  # fmt: skip
    """The first frame as ``fmt`` can hold it, and Pillow's save parameters (metadata kept where it
    fits; further frames as ``append_images``)."""
    check_png_level(png_level)
    if not 1 <= jpeg_quality <= 100:
        raise ValueError(f"jpeg quality must be in 1..100, not {jpeg_quality}")
    if not frames:
        raise ValueError("no image to write")
    n = len(frames)
    if n > 1 and fmt in ("png", "jpeg"):
        raise ValueError(
            f"the image has {n} frames; {FORMATS[fmt][1]} would keep only the first: "
            "use --format tiff or --format webp"
        )
    if n > 1 and fmt == "webp" and len({f.size for f in frames}) > 1:
        sizes = ", ".join(sorted({f"{f.width}x{f.height}" for f in frames}))
        raise ValueError(
            f"the frames differ in size ({sizes}); an animated WebP has one size: use --format tiff"
        )
    _, _, keys = FORMATS[fmt]
    params = {k: info[k] for k in keys if info.get(k)}
    if frames[0].mode == "CMYK" and fmt in ("png", "webp"):
        params.pop("icc_profile", None)  # the CMYK profile no longer applies to the RGB written
    out = [_fit(f, fmt) for f in frames]
    if fmt == "webp":
        # exact: keep the colour under fully transparent pixels (libwebp otherwise rewrites it);
        # the animation encoder has no such option: there it is not kept.
        params.update(lossless=True, quality=100, exact=True)
    elif fmt == "tiff":
        params.update(compression="tiff_deflate")
    elif fmt == "jpeg":
        params.update(quality=jpeg_quality, subsampling=0)
    elif fmt == "png":
        params.update(compress_level=png_level)
    if n > 1:
        params.update(save_all=True, append_images=out[1:])
        if fmt == "webp":
            params.update({k: info[k] for k in ("duration", "loop") if info.get(k) is not None})
    return out[0], params


def encode_image(
    image: Frames | HasFrames, fmt: str = "png", info: dict | None = None, jpeg_quality: int = 95,
    png_level: int | None = None,
) -> bytes:  # fmt: skip
    """The bytes of ``image`` in ``fmt`` (png, webp lossless, tiff deflate, jpeg 4:4:4).

    ``image``: a PIL image, a list of frames (multi-page TIFF, animated WebP) or a result with
    ``frames`` and ``info`` (:class:`arcnn.pipeline.Restored`; ``info`` defaults to its own).
    16-bit gray is written 8-bit (value / 257, rounded) where the format holds no 16 bits (webp,
    jpeg), CMYK as RGB where it holds no CMYK (png, webp); what ``fmt`` cannot hold (alpha in JPEG,
    several frames in PNG or JPEG) is refused with a ValueError that names a format that can.
    ``png_level``: PNG's zlib level 0..9; None: the result's ``png_level``, else 6 (lossless at any).
    """
    fmt = format_for("", fmt)
    level = _png_level(image, png_level)
    frames, info = _frames_and_info(image, info)
    first, params = _prepare(frames, fmt, info, jpeg_quality, level)
    buf = io.BytesIO()
    _write(first, buf, fmt, params)
    return buf.getvalue()


def save_image(
    image: Frames | HasFrames, path: str | Path, fmt: str | None = None, info: dict | None = None,
    jpeg_quality: int = 95, overwrite: bool = False, png_level: int | None = None,
) -> None:  # fmt: skip
    """Write ``image`` (as in :func:`encode_image`) to ``path`` atomically (format from ``fmt`` or the
    suffix, see :func:`format_for`); an existing file is replaced only with ``overwrite``
    (``FileExistsError`` otherwise). Nothing is written when the format cannot hold the image.
    ``png_level`` as in :func:`encode_image`."""
    path = Path(path)
    fmt = format_for(path, fmt)
    level = _png_level(image, png_level)
    frames, info = _frames_and_info(image, info)
    first, params = _prepare(frames, fmt, info, jpeg_quality, level)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, overwrite) as tmp:
        _write(first, tmp, fmt, params)


def _write(first: Image.Image, target: Path | IO[bytes], fmt: str, params: dict) -> None:
    """Pillow's writer, whose own errors on what it is handed (an EXIF block it cannot parse, a tag
    out of range: SyntaxError, RuntimeError ...) become one ValueError; OSError stays (a full disk)."""
    try:
        first.save(target, format=FORMATS[fmt][1], **params)
    except OSError:
        raise
    except Exception as e:  # noqa: BLE001 - Pillow's writers raise many types for bad metadata
        raise ValueError(f"cannot write {fmt} ({e.__class__.__name__}: {e})") from None
