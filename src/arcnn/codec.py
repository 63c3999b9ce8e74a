"""Colour conversion (MATLAB-exact), JPEG round trips and JPEG quality estimation.

Arrays are NumPy: uint8 images are (H, W) or (H, W, 3) in 0..255; float images
are the same shapes in [0, 1].
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = [
    "rgb2ycbcr",
    "ycbcr2rgb",
    "rgb2jfif",
    "jfif2rgb",
    "jpeg_roundtrip",
    "webp_roundtrip",
    "webp_kind",
    "ijg_table",
    "scaled_quality",
    "read_qtables",
    "QualityEstimate",
    "estimate_quality",
    "chroma_table_quality",
    "estimate_quality_from_pixels",
    "project_to_jpeg",
    "dct_matrix",
]

# MATLAB rgb2ycbcr: ycbcr = OFFSET + T @ rgb, rgb in [0, 1], result in [0, 255].
_T = np.array(
    [
        [65.481, 128.553, 24.966],
        [-37.797, -74.203, 112.0],
        [112.0, -93.786, -18.214],
    ]
)
_OFFSET = np.array([16.0, 128.0, 128.0])
_T_INV = np.linalg.inv(_T)


def _check_rgb(rgb: np.ndarray) -> None:
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {rgb.shape}")


def rgb2ycbcr(rgb: np.ndarray) -> np.ndarray:
    """MATLAB ``rgb2ycbcr``: (H, W, 3) RGB -> (H, W, 3) YCbCr (ITU-R BT.601, studio range).

    uint8 in -> uint8 out (rounded, Y in 16..235); float in [0, 1] -> float out
    (Y in [16/255, 235/255]).
    """
    _check_rgb(rgb)
    is_uint8 = rgb.dtype == np.uint8
    x = rgb.astype(np.float64) / 255.0 if is_uint8 else np.asarray(rgb, dtype=np.float64)
    y = x @ _T.T + _OFFSET
    if is_uint8:
        return np.clip(np.round(y), 0, 255).astype(np.uint8)
    return y / 255.0


def ycbcr2rgb(ycbcr: np.ndarray) -> np.ndarray:
    """MATLAB ``ycbcr2rgb``, the inverse of :func:`rgb2ycbcr`; uint8 or float in [0, 1]."""
    _check_rgb(ycbcr)
    is_uint8 = ycbcr.dtype == np.uint8
    x = ycbcr.astype(np.float64) if is_uint8 else np.asarray(ycbcr, dtype=np.float64) * 255.0
    rgb = (x - _OFFSET) @ _T_INV.T
    if is_uint8:
        return np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)
    return rgb


# JFIF's YCbCr (full range, Cb and Cr centred on 128) as libjpeg converts it: 16-bit fixed point
# (jccolor.c when encoding, jdcolor.c when decoding), so that a decoded JPEG's own YCbCr planes come
# back as the very RGB libjpeg decodes. Pillow's convert() both ways is coarser and biased (its RGB
# sits about half a level low), a colour shift that restoring would add to every colour image.
_SCALE, _HALF = 16, 1 << 15


def _fix(x: float) -> int:
    return int(x * (1 << _SCALE) + 0.5)


def _by_strips(fn: Callable[[np.ndarray], np.ndarray], *planes: np.ndarray, rows: int = 256) -> np.ndarray:
    """``fn`` ((h, W, 3) -> uint8 (h, W, 3)) applied to strips of ``rows`` rows of ``planes`` stacked
    (one (H, W, 3) array, or planes to stack): its temporaries then stay a few MB whatever the
    image's size (a 50 MP image would need GBs)."""
    out = np.empty((*planes[0].shape[:2], 3), np.uint8)
    for r in range(0, len(out), rows):
        parts = [p[r : r + rows] for p in planes]
        out[r : r + rows] = fn(parts[0] if len(parts) == 1 else np.dstack(parts))
    return out


def rgb2jfif(rgb: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) RGB -> uint8 (H, W, 3) JFIF YCbCr, rounded as libjpeg's encoder rounds."""
    _check_rgb(rgb)
    return _by_strips(_rgb2jfif, rgb)


def _rgb2jfif(rgb: np.ndarray) -> np.ndarray:
    # int32 holds every sum: 255 * 2**16 * (sum of the weights' magnitudes) < 2**31.
    r, g, b = (rgb[..., i].astype(np.int32) for i in range(3))
    offset = (128 << _SCALE) + _HALF - 1
    y = (_fix(0.299) * r + _fix(0.587) * g + _fix(0.114) * b + _HALF) >> _SCALE
    cb = (-_fix(0.16874) * r - _fix(0.33126) * g + _fix(0.5) * b + offset) >> _SCALE
    cr = (_fix(0.5) * r - _fix(0.41869) * g - _fix(0.08131) * b + offset) >> _SCALE
    return np.dstack([y, cb, cr]).astype(np.uint8)


def jfif2rgb(ycbcr: np.ndarray, cbcr: np.ndarray | None = None) -> np.ndarray:
    """uint8 (H, W, 3) JFIF YCbCr -> uint8 (H, W, 3) RGB, exactly as libjpeg's decoder converts it.
    With ``cbcr`` (H, W, 2), ``ycbcr`` is the (H, W) Y alone (stacked strip by strip, no copy).

    Float planes (on 0..255, unrounded: restored ones) go through libjpeg's coefficients, rounded
    once, at the end: whole-valued ones give what their uint8 would give.

    Example:
        >>> planes = np.array([[[100, 90, 200]]], np.uint8)
        >>> jfif2rgb(planes).tolist(), jfif2rgb(planes.astype(np.float32)).tolist()
        ([[[201, 62, 33]]], [[[201, 62, 33]]])
        >>> jfif2rgb(np.array([[[100.4, 90.3, 200.2]]], np.float32)).tolist()  # not its rounded planes' RGB
        [[[202, 62, 34]]]
    """
    if cbcr is None:
        _check_rgb(ycbcr)
    elif ycbcr.ndim != 2 or cbcr.shape != (*ycbcr.shape, 2):
        raise ValueError(f"expected (H, W) Y and (H, W, 2) CbCr, got {ycbcr.shape} and {cbcr.shape}")
    planes = (ycbcr,) if cbcr is None else (ycbcr, cbcr)
    floating = any(np.issubdtype(p.dtype, np.floating) for p in planes)
    return _by_strips(_jfif2rgb_float if floating else _jfif2rgb, *planes)


def _jfif2rgb(ycbcr: np.ndarray) -> np.ndarray:
    y, cb, cr = (ycbcr[..., i].astype(np.int32) for i in range(3))
    cb, cr = cb - 128, cr - 128
    r = y + ((_fix(1.402) * cr + _HALF) >> _SCALE)
    g = y + ((-_fix(0.34414) * cb - _fix(0.71414) * cr + _HALF) >> _SCALE)
    b = y + ((_fix(1.772) * cb + _HALF) >> _SCALE)
    return np.clip(np.dstack([r, g, b]), 0, 255).astype(np.uint8)


def _jfif2rgb_float(ycbcr: np.ndarray) -> np.ndarray:
    # libjpeg's fixed-point coefficients, exact in float64, and its rounding (half up): for
    # whole-valued planes this is _jfif2rgb's arithmetic, with the rounding moved after the sum.
    y, cb, cr = (ycbcr[..., i].astype(np.float64) for i in range(3))
    cb, cr = cb - 128, cr - 128
    one = float(1 << _SCALE)
    r = y + _fix(1.402) * cr / one
    g = y - (_fix(0.34414) * cb + _fix(0.71414) * cr) / one
    b = y + _fix(1.772) * cb / one
    return np.clip(np.floor(np.dstack([r, g, b]) + 0.5), 0, 255).astype(np.uint8)


def jpeg_roundtrip(image: np.ndarray, quality: int, subsampling: int | str = "4:2:0") -> np.ndarray:
    """Compress a uint8 (H, W) or (H, W, 3) image with Pillow's libjpeg at ``quality`` and decode it.

    A 2-D array is written as a grayscale JPEG, as in the evaluation protocol.
    """
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"expected a uint8 (H, W) or (H, W, 3) image, got {image.dtype} {image.shape}")
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"JPEG quality must be in 1..100, got {quality}")
    buf = io.BytesIO()
    kw = {} if image.ndim == 2 else {"subsampling": subsampling}
    Image.fromarray(image).save(buf, format="JPEG", quality=int(quality), **kw)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("L" if image.ndim == 2 else "RGB"))


def webp_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """Compress a uint8 (H, W) or (H, W, 3) image as lossy WebP (Pillow's libwebp) at ``quality``.

    WebP has no grayscale mode: a 2-D array is coded as gray RGB (4:2:0 YUV inside) and the
    decoded image's gray values are returned.
    """
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"expected a uint8 (H, W) or (H, W, 3) image, got {image.dtype} {image.shape}")
    if not 0 <= int(quality) <= 100:
        raise ValueError(f"WebP quality must be in 0..100, got {quality}")
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="WEBP", quality=int(quality))
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("L" if image.ndim == 2 else "RGB"))


# The example luminance and chrominance tables of the JPEG standard (Annex K), row-major.
_STD_LUMA = np.array(
    [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
     14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
     18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
     49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99],
)  # fmt: skip
_STD_CHROMA = np.array([17, 18, 24, 47] + [99] * 4 + [18, 21, 26, 66] + [99] * 4
                       + [24, 26, 56] + [99] * 5 + [47, 66] + [99] * 6 + [99] * 32)  # fmt: skip


def _ijg_tables(base: np.ndarray) -> np.ndarray:
    """(100, 64) int: row q - 1 is the table libjpeg writes at quality q from ``base`` (its quality
    scaling, baseline-clamped to 1..255), for all 100 qualities in one step: every command imports
    this module."""
    q = np.arange(1, 101)
    scale = np.where(q < 50, 5000 // q, 200 - 2 * q)
    return np.clip((base * scale[:, None] + 50) // 100, 1, 255)


_IJG_TABLES = (_ijg_tables(_STD_LUMA), _ijg_tables(_STD_CHROMA))  # luminance, chrominance


def webp_kind(source: str | Path | Image.Image) -> str | None:
    """``"lossy"`` (VP8) or ``"lossless"`` (VP8L) for a WebP file, from its first image chunk.

    None when ``source`` is not a readable WebP file (a PIL image needs its ``filename``).
    """
    path = getattr(source, "filename", None) if isinstance(source, Image.Image) else source
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:] != b"WEBP":
                return None
            while chunk := f.read(8):  # RIFF chunks: fourcc, little-endian size, data padded to even
                if len(chunk) < 8:
                    return None
                fourcc, size = chunk[:4], int.from_bytes(chunk[4:], "little")
                if fourcc in (b"VP8 ", b"VP8L"):
                    return "lossy" if fourcc == b"VP8 " else "lossless"
                f.seek(size + size % 2, 1)
    except (OSError, TypeError):
        return None
    return None


def ijg_table(quality: int, chroma: bool = False) -> np.ndarray:
    """The (64,) row-major table libjpeg writes at ``quality`` (1..100), baseline-clamped to 1..255."""
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"JPEG quality must be in 1..100, got {quality}")
    return _IJG_TABLES[bool(chroma)][int(quality) - 1].copy()


def scaled_quality(quality: int, ratio: float) -> int:
    """The IJG quality (1..100) whose table steps are nearest ``ratio`` times those of ``quality``
    on libjpeg's scale (5000 / q below q50, 200 - 2 q from there), before the steps' rounding. A
    colour JPEG's full-range Y mapped to the studio range shrinks its steps by 219/255.

    Example:
        >>> scaled_quality(10, 219 / 255), scaled_quality(40, 219 / 255), scaled_quality(100, 219 / 255)
        (12, 47, 100)
    """
    if not 1 <= int(quality) <= 100 or ratio <= 0:
        raise ValueError(f"expected a quality in 1..100 and a positive ratio, got {quality}, {ratio}")
    q = int(quality)
    scale = (5000 / q if q < 50 else 200 - 2 * q) * ratio
    return int(np.clip(round(5000 / scale if scale > 100 else (200 - scale) / 2), 1, 100))


def read_qtables(source: str | Path | Image.Image) -> dict[int, np.ndarray]:
    """The quantisation tables of a JPEG file, ``{table id: (64,) row-major array}``.

    Raises ``ValueError`` when the source is not a JPEG.
    """
    if isinstance(source, Image.Image):
        tables = getattr(source, "quantization", None)
        if source.format != "JPEG" or not tables:
            raise ValueError("not a JPEG image: no quantisation tables")
        return {k: np.asarray(v, dtype=np.int64) for k, v in tables.items()}
    with Image.open(source) as im:
        return read_qtables(im)


@dataclass(frozen=True)
class QualityEstimate:
    """IJG quality that best explains a file's tables; ``exact`` when they match it bit for bit."""

    quality: int
    exact: bool
    from_pixels: bool = False

    def __str__(self) -> str:
        if self.from_pixels:
            return f"~q{self.quality} (from the pixels: a JPEG once)"
        return f"q{self.quality}" if self.exact else f"~q{self.quality} (non-standard tables)"


_LUMA_BANK, _CHROMA_BANK = (t.astype(np.float64) for t in _IJG_TABLES)


def estimate_quality(source: str | Path | Image.Image | dict[int, np.ndarray]) -> QualityEstimate:
    """Estimate the IJG quality (1..100) of a JPEG from its quantisation tables.

    Exact for files written by libjpeg/Pillow with the standard tables; otherwise the
    quality whose luminance table is nearest in log scale, flagged ``exact=False``.
    """
    tables = source if isinstance(source, dict) else read_qtables(source)
    if 0 not in tables:
        raise ValueError("JPEG has no luminance quantisation table")
    luma = np.asarray(tables[0], dtype=np.float64)
    if luma.shape != (64,):
        raise ValueError(f"expected a 64-entry table, got {luma.shape}")
    matches = np.flatnonzero((_LUMA_BANK == luma).all(axis=1))
    if matches.size:
        chroma = tables.get(1)
        for i in matches[::-1]:  # q near 100 can tie (all ones): prefer the highest
            if chroma is None or np.array_equal(_CHROMA_BANK[i], np.asarray(chroma)):
                return QualityEstimate(int(i) + 1, True)
    dist = np.abs(np.log(_LUMA_BANK) - np.log(np.maximum(luma, 1))).mean(axis=1)
    return QualityEstimate(int(np.argmin(dist)) + 1, False)


def chroma_table_quality(table: np.ndarray) -> int:
    """The IJG quality (1..100) whose chrominance table is nearest the (64,) ``table`` in log scale:
    a libjpeg or Pillow file's own quality, and what another encoder's chroma steps amount to (mozjpeg's
    chroma is finer than IJG's at the quality its luminance table matches). The highest where several tie."""
    t = np.asarray(table, dtype=np.float64)
    if t.shape != (64,):
        raise ValueError(f"expected a 64-entry table, got {t.shape}")
    dist = np.abs(np.log(_CHROMA_BANK) - np.log(np.maximum(t, 1))).mean(axis=1)
    return int(np.flatnonzero(dist == dist.min())[-1]) + 1


def dct_matrix(n: int) -> np.ndarray:
    """(n, n) orthonormal DCT-II matrix (rows are the basis vectors)."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    d = np.sqrt(2.0 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    d[0] /= np.sqrt(2.0)
    return d


# JPEG's transform: a level-shifted 8x8 block's coefficients are _DCT @ block @ _DCT.T.
_DCT = dct_matrix(8)


def _blocks(x: np.ndarray) -> np.ndarray:
    """The full 8x8 blocks of an (H, W) plane, level-shifted as JPEG codes them: float (H/8, W/8, 8, 8)."""
    h, w = x.shape[0] // 8, x.shape[1] // 8
    # C order: numpy hands contiguous stacks of 8x8 matrices to BLAS (the same sums, faster).
    b = np.empty((h, w, 8, 8))
    b[...] = x[: h * 8, : w * 8].reshape(h, 8, w, 8).transpose(0, 2, 1, 3)
    b -= 128
    return b


# Zigzag positions 1..14 (row-major index): the AC frequencies every quality keeps some of.
_LOW_AC = [1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4]
_EVIDENCE_SIDE = 2048


def _grid_offset(plane: np.ndarray, axis: int) -> int:
    """Where a JPEG's 8-px block grid starts along ``axis``: block edges are the steps that are largest."""
    steps = np.abs(np.diff(plane.astype(np.float32), axis=axis)).mean(axis=1 - axis)
    by_phase = [steps[p::8].mean() for p in range(8)]  # steps[i] is the edge before pixel i + 1
    return (int(np.argmax(by_phase)) + 1) % 8


def estimate_quality_from_pixels(luma: np.ndarray, max_blocks: int = 16384) -> QualityEstimate | None:
    """The IJG quality of the JPEG that a decoded image (PNG, BMP, ...) was, from its luminance.

    luma: uint8 (H, W), the image's JFIF Y (or its gray values). A decoded JPEG's 8x8 block DCT
    coefficients sit on multiples of the quantisation table's steps (give or take the rounding
    of pixels); the estimate is the coarsest IJG luminance table (lowest quality) whose steps
    explain as many of the coefficients it would have quantised to non-zero as the best table
    does, judged on 14 low AC frequencies. The block grid is found from where the pixel steps are
    largest, so a crop of a JPEG works too. Returns None (not evidently a JPEG once; a resized
    image, or one better than about q85, whose steps are too fine to tell) when no table explains
    70% of them. Reads the central 2048 x 2048 pixels at most, ``max_blocks`` blocks of them.
    """
    if luma.dtype != np.uint8 or luma.ndim != 2:
        raise ValueError(f"expected a uint8 (H, W) plane, got {luma.dtype} {luma.shape}")
    if max_blocks < 1:
        raise ValueError(f"max_blocks must be >= 1, not {max_blocks}")
    if min(luma.shape) < 16:  # not two blocks across: no grid to find
        return None
    # A central crop (on the block grid) is evidence enough, and bounds time and memory.
    r, c = (max(0, (n - _EVIDENCE_SIDE) // 2 // 8 * 8) for n in luma.shape)
    luma = luma[r : r + _EVIDENCE_SIDE, c : c + _EVIDENCE_SIDE]
    # The grid of an uncropped file starts at (0, 0); a crop's is where the steps are largest.
    grids = {(0, 0), (_grid_offset(luma, 0), _grid_offset(luma, 1))}
    explained = max((_explained(luma[r:, c:], max_blocks) for r, c in grids), key=np.max)
    best = explained.max()
    if best < 0.7:
        return None
    # A finer table whose steps divide the true ones explains the data as well: take the coarsest
    # (then the best of its near neighbours, whose tables differ in a few steps only).
    i = int(np.flatnonzero(explained >= best - 0.05)[0])
    i += int(np.argmax(explained[i : i + 4]))
    return QualityEstimate(i + 1, False, from_pixels=True)


def _explained(x: np.ndarray, max_blocks: int) -> np.ndarray:
    """(100,): for each IJG quality, the share of the coefficients its table would keep that sit on
    its steps, in the 8x8 blocks of ``x`` (a uint8 plane whose block grid starts at (0, 0))."""
    explained = np.zeros(100)
    blocks = _blocks(x).reshape(-1, 8, 8)
    if len(blocks) < 16:
        return explained
    blocks = blocks[:: max(1, len(blocks) // max_blocks)]
    coef = (_DCT @ blocks @ _DCT.T).reshape(-1, 64)[:, _LOW_AC]
    for i, table in enumerate(_LUMA_BANK[:, _LOW_AC]):
        use = table >= 6  # finer steps are near any value: no evidence either way
        if use.sum() < 3:
            continue
        c, step = coef[:, use], table[use]
        coded = np.abs(c) >= step / 2  # the coefficients this table would have kept
        # Pixel rounding and clipping (and, for colour, the RGB round trip) move a coefficient by
        # up to a few units, more on coarse steps where clipping is common: allow a tenth of a step.
        off = np.abs(c - step * np.round(c / step))
        fits = coded & (off <= np.maximum(1.5, step / 10))
        if coded.sum() >= 100:
            explained[i] = fits.sum() / coded.sum()
    return explained


def project_to_jpeg(restored: np.ndarray, decoded: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The image nearest ``restored`` that the JPEG ``decoded`` came from could have coded.

    restored: float (H, W) on 0..255; decoded: uint8 (H, W), the JPEG's decoded plane, block grid
    at (0, 0); table: (64,) row-major quantisation steps. In each full 8x8 block, every DCT
    coefficient with a step of 4 or more is clipped to [(k - 1/2) step, (k + 1/2) step], where k
    is the value the file stores, recovered from ``decoded``. The original image lies in that set
    and, the DCT being orthonormal, clipping is the Euclidean projection onto it: the result is
    never farther from the original than ``restored``. Blocks whose decoded coefficients do not
    all sit on the steps (clipped pixels, or a table that is not this plane's) and the partial
    blocks at the right and bottom edges are left as they are. Returns float (H, W).
    """
    if restored.shape != decoded.shape or restored.ndim != 2:
        raise ValueError(f"restored {restored.shape} and decoded {decoded.shape} must be the same (H, W)")
    step = np.asarray(table, dtype=np.float64).reshape(8, 8)
    h, w = restored.shape[0] // 8, restored.shape[1] // 8
    out = np.array(restored, dtype=np.float64)
    if h == 0 or w == 0:
        return out
    coded = _DCT @ _blocks(decoded) @ _DCT.T
    coded /= step
    k = np.round(coded)
    kept = step >= 4  # finer steps: the decoder's rounding alone may move a coefficient past one
    # Pixel rounding moves a coefficient by ~0.3 (std); a block off the steps by more was not coded so.
    coded -= k
    np.abs(coded, out=coded)
    coded *= step
    on_steps = (coded <= 2.0)[..., kept].all(axis=-1)
    c = _DCT @ _blocks(out) @ _DCT.T
    # Bounds of +-inf where nothing is clipped: np.clip then leaves c as it is, as np.where would.
    clip = kept & on_steps[..., None, None]
    lo, hi = k - 0.5, k + 0.5
    lo *= step
    hi *= step
    lo[~clip], hi[~clip] = -np.inf, np.inf
    np.clip(c, lo, hi, out=c)
    c = _DCT.T @ c @ _DCT
    c += 128
    out[: h * 8, : w * 8] = c.transpose(0, 2, 1, 3).reshape(h * 8, w * 8)
    return out


def jpeg_warnings(data: bytes) -> list[str]:
    """What libjpeg-turbo warns of while decoding the JPEG ``data`` ("Corrupt JPEG data: premature end
    of data segment", ...): damage Pillow decodes silently, as garbage. Empty for a sound file, and
    for files it cannot judge (colour spaces it does not convert); a truncated file says so."""
    import simplejpeg

    try:
        simplejpeg.decode_jpeg(data, colorspace="GRAY", strict=True)
    except ValueError as e:
        text = str(e)
        damage = ("corrupt", "premature", "extraneous", "invalid", "bogus", "warning")
        return [text] if any(word in text.lower() for word in damage) else []
    return []
