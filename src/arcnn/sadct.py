"""Pointwise Shape-Adaptive DCT (SA-DCT) deblocking of JPEG images, in NumPy.

A. Foi, V. Katkovnik, K. Egiazarian, "Pointwise Shape-Adaptive DCT for High-Quality Denoising and
Deblocking of Grayscale and Color Images", IEEE Trans. Image Process. 16(5):1395-1411, 2007.
Written from the paper and from the parameters of the authors' deblocking demo (SA-DCT Demobox,
``demo_SADCT_deblocking.m``, v1.40/1.41); no code of theirs is used.

The algorithm, for a grayscale JPEG ``z`` modelled as ``z = y + noise`` of standard deviation σ:

1. σ from the luminance quantisation table: B = mean of its top-left 3x3 entries,
   σ = (7.65 B)^0.65 / 1150 on the [0, 1] scale (12.6, 8.1, 6.2, 5.2 on 0..255 for the IJG
   tables at q = 10, 20, 30, 40).
2. Anisotropic LPA-ICI: in each of 8 directions (every 45°) 1-D directional LPA kernels at the
   scales h = 1, 2, 3, 5, 7, 9, 12 (only h < 10 when σ <= 40/255), each
   g = (1 + s) g1 - s g0 (g0, g1: zero- and first-order LPA with a uniform one-sided window of h
   pixels, s = -0.75, -0.70, -0.85, -0.90, -0.97, -1, -1); the ICI rule with
   Γ = max(0.8, 2.4 / ln(1 + 60σ)) keeps the largest scale whose confidence interval
   (half-width Γ σ ||g||) still intersects all the smaller ones.
3. The adaptive neighbourhood of a pixel is the star-shaped polygon spanned by the 8 lengths:
   the union of the 8 triangles between consecutive directions' end points.
4. Hard thresholding: on each neighbourhood U the orthonormal SA-DCT (column then row 1-D DCT-II
   of varying length) of the data minus its mean (DC separation), threshold
   T = 0.925 sqrt(2 ln|U| + 1) σ, inverse, mean added back. Each local estimate is aggregated
   with weight 1 / (σ² N_har), N_har the number of retained coefficients (the mean counted).
   At most 70 overlapping estimates per pixel (``max_overlap``).
5. Wiener stage with the thresholding result as pilot: scales h = 1, 2, 3, 5, 6, 8 (h < 7 at low σ),
   the ICI scale index of step 2 clamped to the last of these; on each neighbourhood the
   empirical Wiener gains ω = P² / (P² + σ²) (P the pilot's SA-DCT coefficients) multiply
   the data's coefficients; weights 1 / (σ² ||ω||²); at most 70 overlapping estimates.

Choices where the publication (and the demo, whose LPA-ICI and SA-DCT are compiled) leaves the
detail open (effects measured on 256x384 crops of the first 4 LIVE1 images at q10):

- Work on the 0..255 scale (σ and thresholds scaled by 255); output rounded and clipped to uint8.
- Directions are taken counterclockwise from east; diagonal kernels step one pixel on both axes,
  so a diagonal length h reaches the pixel (h-1, h-1) away, like the demo's triangle masks.
- Borders: a direction's length never passes the image border (the ICI stops at the last scale
  that fits), so every neighbourhood lies inside the image; the LPA estimates themselves use a
  symmetric (mirror) extension.
- ICI: the running intersection of the intervals; the first empty intersection stops the scale
  search (the scale before it is kept).
- Triangle between two consecutive directions of lengths a and b: for each of the b steps
  along the diagonal edge (row d), the pixels from the diagonal out to the straight line joining the
  two end points (rounded down), as in the demo's masks; odd triangles are mirror images.
- SA-DCT: columns first (pixels packed to the top, DCT of each column's length), then rows
  (coefficients of equal vertical frequency index packed to the left). The demo's "coefficient
  alignment" is undocumented; the variant offered here (``align=True``: coefficient k of a column
  of length L joins row round(k Lmax / L)) measured slightly worse at q10, so the filter does not use it.
- DC separation: the mean over U is subtracted, all SA-DCT coefficients of the zero-mean residual
  are thresholded, and after the inverse the residual's mean over U is removed again (ΔDC
  correction; its measured effect is negligible) before the data mean is added back; N_har and ||ω||²
  count the mean as one retained coefficient (gain 1). In the Wiener stage the mean is the data's
  mean over U (the pilot's mean measured worse at q10) and the pilot's SA-DCT is taken of
  the pilot minus its own mean.
- Vectorisation: reference pixels are processed a row at a time; their neighbourhoods are cut out as
  (N, 2h_max-1, 2h_max-1) patches with masks, and each 1-D DCT length is applied to all vectors of
  that length at once; estimates are accumulated with ``np.bincount``.
- Overlap limit: pixels are processed in raster order of row strips (``strip`` rows at a time); a
  pixel is skipped as a reference point when ``max_overlap`` estimates already cover it from the
  strips before (strip = 1 row; no limit at all measured about as good, and slower).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from arcnn.codec import dct_matrix, ijg_table

__all__ = [
    "DIRECTIONS",
    "sigma_from_qtable",
    "sigma_from_quality",
    "lpa_kernel",
    "lpa_ici_lengths",
    "neighbourhood_mask",
    "dct_matrix",
    "sadct_matrix",
    "sadct_forward",
    "sadct_inverse",
    "sadct_threshold",
    "sadct_wiener",
    "sadct_deblock",
]

# (dy, dx) unit steps, counterclockwise from east (y grows downwards).
DIRECTIONS = ((0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1))

# Demo v1.40 parameters.
SCALES = (1, 2, 3, 5, 7, 9, 12)
SCALES_WIENER = (1, 2, 3, 5, 6, 8)
ORDER_MIX = (-0.75, -0.70, -0.85, -0.90, -0.97, -1.00, -1.00)
THRESHOLD_COEF = 0.925
MAX_OVERLAP = 70


# --------------------------------------------------------------------------------------------- σ
def sigma_from_qtable(table: np.ndarray) -> float:
    """σ (0..255 scale) of the JPEG noise model from a (64,) row-major (or 8x8) luminance table."""
    t = np.asarray(table, dtype=np.float64)
    if t.shape == (8, 8):
        t = t.ravel()
    if t.shape != (64,):
        raise ValueError(f"expected a (64,) quantisation table, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or t.min() < 1:
        raise ValueError("quantisation table entries must be finite and >= 1")
    b = t.reshape(8, 8)[:3, :3].mean()
    return float((7.65 * b) ** 0.65 / 1150.0 * 255.0)


def sigma_from_quality(q: int) -> float:
    """σ (0..255 scale) for a JPEG written with the standard IJG luminance table at quality q (1..100)."""
    return sigma_from_qtable(ijg_table(q))


def _default_scales(sigma: float, wiener: bool = False) -> tuple[int, ...]:
    full = SCALES_WIENER if wiener else SCALES
    if sigma > 40.0:
        return full
    bound = 7 if wiener else 10
    return tuple(h for h in full if h < bound)


def _gamma(sigma: float) -> float:
    return max(0.8, 2.4 / math.log(1.0 + 60.0 * sigma / 255.0))


# ---------------------------------------------------------------------------------------- LPA-ICI
def lpa_kernel(h: int, mix: float) -> np.ndarray:
    """(h,) one-sided directional LPA kernel ``(1 + mix) g1 - mix g0`` (uniform window, sums to 1).

    g0 is the zero-order (mean) kernel, g1 the first-order one (linear fit evaluated at the origin).
    """
    if int(h) != h or h < 1:
        raise ValueError(f"kernel length must be a positive integer, got {h}")
    h = int(h)
    x = np.arange(h, dtype=np.float64)
    g0 = np.full(h, 1.0 / h)
    if h == 1:
        g1 = np.ones(1)
    else:
        s1, s2 = x.sum(), (x * x).sum()
        g1 = (s2 - s1 * x) / (h * s2 - s1 * s1)
    return (1.0 + mix) * g1 - mix * g0


def _check_image(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z)
    if z.ndim != 2 or min(z.shape) < 1:
        raise ValueError(f"expected a 2-D (H, W) image, got shape {z.shape}")
    if not np.issubdtype(z.dtype, np.number):
        raise ValueError(f"expected a numeric image, got dtype {z.dtype}")
    z = z.astype(np.float64)
    if not np.all(np.isfinite(z)):
        raise ValueError("image has non-finite values")
    return z


def _check_sigma(sigma: float) -> float:
    s = float(sigma)
    if not math.isfinite(s) or s <= 0:
        raise ValueError(f"sigma must be a positive finite number, got {sigma}")
    return s


def lpa_ici_lengths(
    z: np.ndarray,
    sigma: float,
    scales: Sequence[int] | None = None,
    mix: Sequence[float] | None = None,
    gamma: float | None = None,
) -> np.ndarray:
    """Anisotropic LPA-ICI: the adaptive length per direction of every pixel.

    ``z``: (H, W) image on the 0..255 scale; ``sigma``: noise std on the same scale; ``scales``:
    increasing kernel lengths (default: the demo's set for this σ); ``mix``: order-mixture
    parameter per scale (default: the demo's); ``gamma``: the ICI threshold (default: the demo's
    formula). Returns (8, H, W) int lengths, each one of ``scales``, in the order of
    :data:`DIRECTIONS`; a length never reaches past the image border.
    """
    z = _check_image(z)
    sigma = _check_sigma(sigma)
    scales = tuple(_default_scales(sigma) if scales is None else scales)
    if not scales or any(int(h) != h or h < 1 for h in scales) or list(scales) != sorted(set(scales)):
        raise ValueError(f"scales must be increasing positive integers, got {scales}")
    if mix is None:
        mix = tuple(ORDER_MIX[SCALES.index(h)] if h in SCALES else -1.0 for h in scales)
    if len(mix) != len(scales):
        raise ValueError("mix needs one value per scale")
    gamma = _gamma(sigma) if gamma is None else float(gamma)
    hgt, wid = z.shape
    p = max(scales) - 1
    zp = np.pad(z, p, mode="symmetric") if p else z
    rows = np.arange(hgt)[:, None]
    cols = np.arange(wid)[None, :]
    kernels = [lpa_kernel(h, m) for h, m in zip(scales, mix)]
    out = np.empty((8, hgt, wid), dtype=np.int64)
    for d, (dy, dx) in enumerate(DIRECTIONS):
        room_y = rows if dy < 0 else (hgt - 1 - rows if dy > 0 else np.full_like(rows, 1 << 30))
        room_x = cols if dx < 0 else (wid - 1 - cols if dx > 0 else np.full_like(cols, 1 << 30))
        room = np.minimum(room_y, room_x)
        lower = np.full((hgt, wid), -np.inf)
        upper = np.full((hgt, wid), np.inf)
        alive = np.ones((hgt, wid), dtype=bool)
        best = np.full((hgt, wid), scales[0], dtype=np.int64)
        for h, g in zip(scales, kernels):
            est = np.zeros((hgt, wid))
            for k in range(h):
                oy, ox = p + k * dy, p + k * dx
                est += g[k] * zp[oy : oy + hgt, ox : ox + wid]
            half = gamma * sigma * float(np.sqrt((g * g).sum()))
            np.maximum(lower, est - half, out=lower)
            np.minimum(upper, est + half, out=upper)
            alive &= (lower <= upper) & (room >= h - 1)
            best[alive] = h
        out[d] = best
    return out


# ------------------------------------------------------------------------------------ neighbourhoods
def _triangle_offsets(a: int, b: int, t: int) -> list[tuple[int, int]]:
    """(dy, dx) offsets of triangle ``t`` (between directions t and t+1, of lengths a and b)."""
    if t % 2:  # diagonal (length a) to axis (length b): mirror of the canonical (b, a) triangle
        a, b = b, a
    pts = []
    for d in range(b):
        end = a - 1 - (d * (a - b) / (b - 1) if b > 1 else 0.0)
        for c in range(d, math.floor(end + 1e-9) + 1):
            pts.append((-d, c))  # canonical: east arm (0, c), north-east arm (-d, d)
    if t % 2:
        pts = [(-dx, -dy) for dy, dx in pts]  # reflect across the north-east diagonal
    for _ in range(t // 2):
        pts = [(-dx, dy) for dy, dx in pts]  # rotate 90° counterclockwise
    return pts


def neighbourhood_mask(lengths: Sequence[int]) -> np.ndarray:
    """Star-shaped neighbourhood of one pixel from its 8 directional lengths.

    Returns a (2m-1, 2m-1) bool mask centred on the pixel, m = max(lengths).
    """
    lengths = [int(v) for v in lengths]
    if len(lengths) != 8 or min(lengths) < 1:
        raise ValueError(f"expected 8 positive lengths, got {lengths}")
    m = max(lengths)
    mask = np.zeros((2 * m - 1, 2 * m - 1), dtype=bool)
    for t in range(8):
        for dy, dx in _triangle_offsets(lengths[t], lengths[(t + 1) % 8], t):
            mask[m - 1 + dy, m - 1 + dx] = True
    return mask


def _triangle_table(scales: Sequence[int]) -> np.ndarray:
    """(8, n, n, S, S) bool: triangle t for scale indices (i, j), S = 2 max(scales) - 1."""
    n, m = len(scales), max(scales)
    table = np.zeros((8, n, n, 2 * m - 1, 2 * m - 1), dtype=bool)
    for t in range(8):
        for i, a in enumerate(scales):
            for j, b in enumerate(scales):
                for dy, dx in _triangle_offsets(a, b, t):
                    table[t, i, j, m - 1 + dy, m - 1 + dx] = True
    return table


# --------------------------------------------------------------------------------------- SA-DCT
_DCT_CACHE: dict[int, np.ndarray] = {}


def _dct(n: int) -> np.ndarray:
    if n not in _DCT_CACHE:
        _DCT_CACHE[n] = dct_matrix(n)
    return _DCT_CACHE[n]


def _dct_rows(v: np.ndarray, lens: np.ndarray, inverse: bool) -> np.ndarray:
    """Length-adaptive 1-D DCT along the last axis: each vector's first ``len`` entries."""
    size = v.shape[-1]
    flat = v.reshape(-1, size)
    lf = lens.reshape(-1)
    order = np.argsort(lf, kind="stable")
    ls = lf[order]
    out = np.zeros_like(flat)
    for n in np.unique(ls):
        if n == 0:
            continue
        lo, hi = np.searchsorted(ls, n, "left"), np.searchsorted(ls, n, "right")
        idx = order[lo:hi]
        d = _dct(int(n))
        out[idx, :n] = flat[idx, :n] @ (d if inverse else d.T)
    return out.reshape(v.shape)


def _pack(valid: np.ndarray) -> np.ndarray:
    """Permutation along the last axis putting the valid entries first, in order."""
    return np.argsort(~valid, axis=-1, kind="stable")


def _sadct_fwd(x: np.ndarray, mask: np.ndarray, align: bool = False) -> tuple[np.ndarray, tuple]:
    """Batched SA-DCT: x, mask (N, R, C) -> coefficients (N, R, C) and the plan for the inverse.

    Coefficients lie in ``coef[n, k, j]`` for ``j < rlen[n, k]`` (zero elsewhere).
    """
    xt = np.swapaxes(x, 1, 2)  # (N, C, R): one column per row vector
    mt = np.swapaxes(mask, 1, 2)
    o1 = _pack(mt)
    clen = mt.sum(-1)
    col = _dct_rows(np.take_along_axis(xt, o1, -1), clen, inverse=False)  # (N, C, K)
    size = col.shape[-1]
    k = np.arange(size)
    valid = k < clen[..., None]
    perm = None
    if align:
        # coefficient k of a column of length L goes to row round(k * Lmax / L): equal frequencies share a row
        lmax = clen.max(-1)[:, None, None]
        target = np.where(valid, np.rint(k * lmax / np.maximum(clen, 1)[..., None]), 0).astype(np.int64)
        used = np.zeros_like(valid)
        np.put_along_axis(used, target, valid | (clen[..., None] > 0), -1)  # row 0 is used if any
        free = _pack(~used)
        rest = np.take_along_axis(free, np.clip(k - clen[..., None], 0, size - 1), -1)
        perm = np.where(valid, target, rest)
        aligned = np.empty_like(col)
        np.put_along_axis(aligned, perm, col, -1)
        col, valid = aligned, used
    y = np.swapaxes(col, 1, 2)  # (N, K, C)
    vt = np.swapaxes(valid, 1, 2)
    o2 = _pack(vt)
    rlen = vt.sum(-1)
    coef = _dct_rows(np.take_along_axis(y, o2, -1), rlen, inverse=False)
    return coef, (o1, clen, o2, rlen, perm)


def _sadct_inv(coef: np.ndarray, plan: tuple) -> np.ndarray:
    o1, clen, o2, rlen, perm = plan
    y = np.empty_like(coef)
    np.put_along_axis(y, o2, _dct_rows(coef, rlen, inverse=True), -1)
    col = np.ascontiguousarray(np.swapaxes(y, 1, 2))
    if perm is not None:
        col = np.take_along_axis(col, perm, -1)
    xt = np.empty_like(col)
    np.put_along_axis(xt, o1, _dct_rows(col, clen, inverse=True), -1)
    return np.swapaxes(xt, 1, 2)


def _coef_valid(plan: tuple, size: int) -> np.ndarray:
    return np.arange(size) < plan[3][..., None]


def _check_mask(mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.dtype != bool:
        raise ValueError(f"expected a 2-D bool mask, got {mask.dtype} {mask.shape}")
    if not mask.any():
        raise ValueError("mask is empty")
    return mask


def sadct_forward(x: np.ndarray, mask: np.ndarray, align: bool = False) -> np.ndarray:
    """SA-DCT of the values of (R, C) ``x`` on the (R, C) bool ``mask``: (n,) coefficients, n = mask.sum().

    Orthonormal: ``sadct_inverse(sadct_forward(x, mask), mask)`` returns x on the mask. ``align``:
    coefficient alignment (column coefficient k of a length-L column joins row round(k Lmax / L)).
    """
    mask = _check_mask(mask)
    x = np.asarray(x, dtype=np.float64)
    if x.shape != mask.shape:
        raise ValueError(f"x {x.shape} and mask {mask.shape} differ in shape")
    coef, plan = _sadct_fwd(np.where(mask, x, 0.0)[None], mask[None], align)
    return coef[0][_coef_valid(plan, coef.shape[-1])[0]]


def sadct_inverse(coef: np.ndarray, mask: np.ndarray, align: bool = False) -> np.ndarray:
    """Inverse of :func:`sadct_forward`: (n,) coefficients -> (R, C) array, zero off the mask."""
    mask = _check_mask(mask)
    coef = np.asarray(coef, dtype=np.float64)
    if coef.shape != (int(mask.sum()),):
        raise ValueError(f"expected {int(mask.sum())} coefficients, got shape {coef.shape}")
    _, plan = _sadct_fwd(np.zeros((1, *mask.shape)), mask[None], align)
    full = np.zeros((1, *mask.shape))
    full[_coef_valid(plan, mask.shape[1])] = coef
    return _sadct_inv(full, plan)[0]


def sadct_matrix(mask: np.ndarray, align: bool = False) -> np.ndarray:
    """(n, n) orthonormal SA-DCT matrix of a bool mask: coefficients = M @ x[mask]."""
    mask = _check_mask(mask)
    n = int(mask.sum())
    basis = np.zeros((n, *mask.shape))
    basis[:, mask] = np.eye(n)
    coef, plan = _sadct_fwd(basis, np.broadcast_to(mask, basis.shape), align)
    valid = _coef_valid(plan, coef.shape[-1])
    return coef[valid].reshape(n, n).T


# ------------------------------------------------------------------------------ filtering stages
def _filter(
    z: np.ndarray,
    lengths: np.ndarray,
    scales: Sequence[int],
    sigma: float,
    pilot: np.ndarray | None,
    max_overlap: int | None,
    strip: int,
) -> np.ndarray:
    """Shared loop of both stages: hard thresholding (``pilot`` None) or Wiener filtering."""
    hgt, wid = z.shape
    scales = tuple(scales)
    m = max(scales)
    p = m - 1
    size = 2 * m - 1
    table = _triangle_table(scales)
    idx = np.searchsorted(np.asarray(scales), lengths)
    zp = np.pad(z, p)
    win_z = np.lib.stride_tricks.sliding_window_view(zp, (size, size))
    win_p = (
        None if pilot is None else np.lib.stride_tricks.sliding_window_view(np.pad(pilot, p), (size, size))
    )
    wp = wid + 2 * p
    num = np.zeros((hgt + 2 * p) * wp)
    den = np.zeros_like(num)
    count = np.zeros_like(num)
    thr = THRESHOLD_COEF * np.sqrt(2.0 * np.log(np.arange(1, size * size + 1)) + 1.0) * sigma
    thr = np.concatenate([[np.inf], thr])
    oy, ox = np.mgrid[0:size, 0:size]
    offsets = (oy * wp + ox).ravel()
    for r0 in range(0, hgt, strip):
        r1 = min(hgt, r0 + strip)
        ys, xs = np.mgrid[r0:r1, 0:wid]
        ys, xs = ys.ravel(), xs.ravel()
        if max_overlap is not None:
            keep = count[(ys + p) * wp + xs + p] < max_overlap
            ys, xs = ys[keep], xs[keep]
            if ys.size == 0:
                continue
        mask = np.zeros((ys.size, size, size), dtype=bool)
        for t in range(8):
            mask |= table[t, idx[t, ys, xs], idx[(t + 1) % 8, ys, xs]]
        n = mask.sum((1, 2))
        patch = win_z[ys, xs]
        mean = (patch * mask).sum((1, 2)) / n
        coef, plan = _sadct_fwd(np.where(mask, patch - mean[:, None, None], 0.0), mask)
        if pilot is None:
            kept = np.abs(coef) > thr[n][:, None, None]
            coef = np.where(kept, coef, 0.0)
            energy = kept.sum((1, 2)) + 1.0
        else:
            assert win_p is not None
            ppatch = win_p[ys, xs]
            pmean = (ppatch * mask).sum((1, 2)) / n
            pc, _ = _sadct_fwd(np.where(mask, ppatch - pmean[:, None, None], 0.0), mask)
            gain = pc * pc / (pc * pc + sigma * sigma)
            gain *= _coef_valid(plan, size)
            coef = coef * gain
            energy = (gain * gain).sum((1, 2)) + 1.0
        rec = _sadct_inv(coef, plan)
        # ΔDC correction: the residual's mean over U is removed, then the data mean added back
        rec = np.where(mask, rec - ((rec * mask).sum((1, 2)) / n - mean)[:, None, None], 0.0)
        w = 1.0 / (sigma * sigma * energy)
        base = (ys - r0) * wp + xs  # accumulate in the band of rows this strip can reach
        sel = (base[:, None] + offsets[None, :]).reshape(mask.shape)[mask]
        lo, span = r0 * wp, (r1 - r0 + 2 * p) * wp
        num[lo : lo + span] += np.bincount(sel, weights=(rec * w[:, None, None])[mask], minlength=span)
        wts = np.broadcast_to(w[:, None, None], mask.shape)[mask]
        den[lo : lo + span] += np.bincount(sel, weights=wts, minlength=span)
        count[lo : lo + span] += np.bincount(sel, minlength=span)
    num = num.reshape(hgt + 2 * p, wp)[p : p + hgt, p : p + wid]
    den = den.reshape(hgt + 2 * p, wp)[p : p + hgt, p : p + wid]
    return np.where(den > 0, num / np.maximum(den, 1e-300), z)


def sadct_threshold(
    z: np.ndarray,
    sigma: float,
    lengths: np.ndarray | None = None,
    scales: Sequence[int] | None = None,
    max_overlap: int | None = MAX_OVERLAP,
    strip: int = 1,
) -> np.ndarray:
    """First stage: pointwise SA-DCT hard thresholding of (H, W) ``z`` (0..255 scale), float out.

    ``lengths``: (8, H, W) from :func:`lpa_ici_lengths` (computed when None).
    """
    z = _check_image(z)
    sigma = _check_sigma(sigma)
    scales = tuple(_default_scales(sigma) if scales is None else scales)
    if lengths is None:
        lengths = lpa_ici_lengths(z, sigma, scales)
    _check_lengths(lengths, z.shape, scales)
    return _filter(z, lengths, scales, sigma, None, max_overlap, max(1, int(strip)))


def sadct_wiener(
    z: np.ndarray,
    pilot: np.ndarray,
    sigma: float,
    lengths: np.ndarray,
    scales: Sequence[int] | None = None,
    max_overlap: int | None = MAX_OVERLAP,
    strip: int = 1,
) -> np.ndarray:
    """Second stage: pointwise SA-DCT empirical Wiener filtering of ``z`` with ``pilot`` as reference.

    ``lengths``: (8, H, W) lengths, each one of ``scales`` (the Wiener scales, default the demo's).
    """
    z = _check_image(z)
    pilot = _check_image(pilot)
    if pilot.shape != z.shape:
        raise ValueError(f"pilot {pilot.shape} and image {z.shape} differ in shape")
    sigma = _check_sigma(sigma)
    scales = tuple(_default_scales(sigma, wiener=True) if scales is None else scales)
    _check_lengths(lengths, z.shape, scales)
    return _filter(z, lengths, scales, sigma, pilot, max_overlap, max(1, int(strip)))


def _check_lengths(lengths: np.ndarray, shape: tuple[int, int], scales: Sequence[int]) -> None:
    lengths = np.asarray(lengths)
    if lengths.shape != (8, *shape):
        raise ValueError(f"expected (8, {shape[0]}, {shape[1]}) lengths, got {lengths.shape}")
    if not np.isin(lengths, np.asarray(scales)).all():
        raise ValueError(f"every length must be one of the scales {tuple(scales)}")


def sadct_deblock(
    y: np.ndarray,
    sigma: float | None = None,
    quality: int | None = None,
    qtable: np.ndarray | None = None,
    wiener: bool = True,
    max_overlap: int | None = MAX_OVERLAP,
) -> np.ndarray:
    """Deblock a decoded grayscale JPEG: uint8 (H, W) in, uint8 (H, W) out.

    σ (0..255 scale) is ``sigma`` if given, else estimated from ``qtable`` (the file's (64,)
    luminance table), else from the IJG table at ``quality``; one of them is required.
    """
    y = np.asarray(y)
    if y.dtype != np.uint8 or y.ndim != 2:
        raise ValueError(f"expected a uint8 (H, W) image, got {y.dtype} {y.shape}")
    if sigma is not None:
        sigma = _check_sigma(sigma)
    elif qtable is not None:
        sigma = sigma_from_qtable(qtable)
    elif quality is not None:
        sigma = sigma_from_quality(quality)
    else:
        raise ValueError("give sigma, qtable or quality")
    z = y.astype(np.float64)
    scales = _default_scales(sigma)
    lengths = lpa_ici_lengths(z, sigma, scales)
    est = sadct_threshold(z, sigma, lengths, scales, max_overlap)
    if wiener:
        scales_w = _default_scales(sigma, wiener=True)
        idx = np.minimum(np.searchsorted(np.asarray(scales), lengths), len(scales_w) - 1)
        est = sadct_wiener(z, est, sigma, np.asarray(scales_w)[idx], scales_w, max_overlap)
    return np.clip(np.round(est), 0, 255).astype(np.uint8)
