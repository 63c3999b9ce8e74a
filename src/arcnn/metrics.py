"""Image quality metrics of the paper's protocol, as pure functions of two images.

Each function takes a reference and a distorted image, NumPy arrays of the same
(H, W) shape on the 0..255 scale (any real dtype), and returns one float; ``ciede2000``
takes two uint8 (H, W, 3) sRGB images.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["psnr", "ssim", "ssim_gauss", "psnr_b", "blocking_effect_factor", "ciede2000", "Metrics"]

_PEAK = 255.0


def _pair(ref: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref = np.asarray(ref)
    dist = np.asarray(dist)
    if ref.shape != dist.shape:
        raise ValueError(f"images differ in shape: {ref.shape} vs {dist.shape}")
    if ref.ndim != 2:
        raise ValueError(f"expected 2-D (H, W) images, got shape {ref.shape}")
    return ref.astype(np.float64), dist.astype(np.float64)


def _psnr_from_mse(mse: float) -> float:
    return math.inf if mse == 0 else 10.0 * math.log10(_PEAK**2 / mse)


def psnr(ref: np.ndarray, dist: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB, peak 255; ``inf`` for identical images."""
    ref, dist = _pair(ref, dist)
    return _psnr_from_mse(float(np.mean((ref - dist) ** 2)))


def _filter_valid(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Separable correlation with 1-D window ``w`` along both axes, 'valid' region only."""
    k = len(w)
    h, wd = x.shape
    if h < k or wd < k:
        raise ValueError(f"image {x.shape} is smaller than the {k}x{k} SSIM window")
    rows = sum(w[i] * x[i : h - k + 1 + i, :] for i in range(k))
    return sum(w[i] * rows[:, i : wd - k + 1 + i] for i in range(k))


def _ssim(ref: np.ndarray, dist: np.ndarray, window: np.ndarray) -> float:
    ref, dist = _pair(ref, dist)
    c1 = (0.01 * _PEAK) ** 2
    c2 = (0.03 * _PEAK) ** 2
    mu_x = _filter_valid(ref, window)
    mu_y = _filter_valid(dist, window)
    sxx = _filter_valid(ref * ref, window) - mu_x**2
    syy = _filter_valid(dist * dist, window) - mu_y**2
    sxy = _filter_valid(ref * dist, window) - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * sxy + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2)
    return float(np.mean(num / den))


def ssim(ref: np.ndarray, dist: np.ndarray) -> float:
    """SSIM with an unweighted 8x8 sliding window (the paper's variant).

    Population statistics per window, C1 = (0.01*255)^2, C2 = (0.03*255)^2, mean over
    every position where the window fits. Images at least 8x8.
    """
    return _ssim(ref, dist, np.full(8, 1.0 / 8))


def ssim_gauss(ref: np.ndarray, dist: np.ndarray) -> float:
    """SSIM of Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, mean over the valid region."""
    g = np.exp(-0.5 * (np.arange(11) - 5.0) ** 2 / 1.5**2)
    return _ssim(ref, dist, g / g.sum())


def blocking_effect_factor(image: np.ndarray, block: int = 8) -> float:
    """Blocking effect factor (Yim & Bovik 2011) of one (H, W) image on the 0..255 scale.

    Mean squared difference across block boundaries minus that across the other
    neighbour pairs, scaled by log2(block) / log2(min(H, W)); 0 when the boundary
    differences are not the larger.
    """
    x = np.asarray(image, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-D (H, W) image, got shape {x.shape}")
    h, w = x.shape
    dh = (x[:, 1:] - x[:, :-1]) ** 2  # pair (j, j+1) at index j
    dv = (x[1:, :] - x[:-1, :]) ** 2
    bh = np.arange(block - 1, w - 1, block)  # columns j with j+1 on a block boundary
    bv = np.arange(block - 1, h - 1, block)
    d_b_sum = dh[:, bh].sum() + dv[bv, :].sum()
    # Pair counts as Yim & Bovik define them, N_V (N_H / B - 1) + N_H (N_V / B - 1) with
    # floor division, as the reference MATLAB code does; when a side is not a multiple
    # of B this is one boundary fewer than summed above, and it reproduces the paper's
    # JPEG PSNR-B figures (the exact count does not).
    n_b = h * (w // block - 1) + w * (h // block - 1)
    n_bc = h * (w - 1) + w * (h - 1) - n_b
    if n_b <= 0 or n_bc <= 0:
        return 0.0
    d_b = d_b_sum / n_b
    d_bc = (dh.sum() + dv.sum() - d_b_sum) / n_bc
    if d_b <= d_bc:
        return 0.0
    eta = math.log2(block) / math.log2(min(h, w))
    return float(eta * (d_b - d_bc))


def psnr_b(ref: np.ndarray, dist: np.ndarray) -> float:
    """PSNR-B (Yim & Bovik 2011) in dB: PSNR with the blocking effect factor of ``dist`` added to the MSE."""
    ref, dist = _pair(ref, dist)
    mse = float(np.mean((ref - dist) ** 2)) + blocking_effect_factor(dist)
    return _psnr_from_mse(mse)


# sRGB (D65) -> CIE XYZ, and the D65 white of the 2-degree observer: the constants of
# scikit-image's rgb2lab, which the tests compare against.
_XYZ_FROM_RGB = np.array([[0.412453, 0.357580, 0.180423],
                          [0.212671, 0.715160, 0.072169],
                          [0.019334, 0.119193, 0.950227]])  # fmt: skip
_D65 = np.array([0.95047, 1.0, 1.08883])


def _linear(c: np.ndarray) -> np.ndarray:
    """sRGB's decoding curve: float values on 0..1 -> linear light."""
    return np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)


# The curve at every uint8 value: a lookup instead of a power per pixel, the same numbers.
_LINEAR = _linear(np.arange(256) / 255.0)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) sRGB -> float64 (H, W, 3) CIE L*a*b* (L in 0..100)."""
    linear = _LINEAR[rgb] if rgb.dtype == np.uint8 else _linear(rgb.astype(np.float64) / 255.0)
    t = linear @ _XYZ_FROM_RGB.T / _D65
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16.0 / 116.0)
    x, y, z = np.moveaxis(f, -1, 0)
    return np.stack([116.0 * y - 16.0, 500.0 * (x - y), 200.0 * (y - z)], -1)


def _hue(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Hue angle in degrees, 0..360."""
    return np.degrees(np.arctan2(b, a)) % 360.0


def ciede2000(ref: np.ndarray, dist: np.ndarray) -> float:
    r"""Mean CIEDE2000 colour difference :math:`\Delta E_{00}` (Sharma, Wu & Dalal 2005) between two
    sRGB images, through CIE L*a*b* (D65), with :math:`k_L = k_C = k_H = 1`.

    About 1 is a just noticeable difference; 0 for identical images.

    Args:
        ref: the reference, uint8 (H, W, 3) sRGB.
        dist: the distorted image, uint8 (H, W, 3) sRGB.

    Returns:
        The mean over pixels of :math:`\Delta E_{00}`, >= 0.

    Example:
        >>> grey = np.full((4, 4, 3), 128, np.uint8)
        >>> ciede2000(grey, grey)
        0.0
        >>> round(ciede2000(grey, np.full((4, 4, 3), (128, 120, 128), np.uint8)), 2)  # a green tint
        6.89
    """
    ref, dist = np.asarray(ref), np.asarray(dist)
    if ref.shape != dist.shape or ref.ndim != 3 or ref.shape[2] != 3:
        raise ValueError(f"expected two (H, W, 3) sRGB images of one shape, got {ref.shape} / {dist.shape}")
    (l1, a1, b1), (l2, a2, b2) = np.moveaxis(_lab(ref), -1, 0), np.moveaxis(_lab(dist), -1, 0)
    c7 = ((np.hypot(a1, b1) + np.hypot(a2, b2)) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(c7 / (c7 + 25.0**7)))
    a1, a2 = (1 + g) * a1, (1 + g) * a2
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1, h2 = _hue(b1, a1), _hue(b2, a2)
    chroma = c1 * c2 != 0  # a grey's hue is undefined: it adds nothing to the hue terms
    dh = np.where(chroma, (h2 - h1 + 180.0) % 360.0 - 180.0, 0.0)
    d_hue = 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh) / 2)
    # the mean hue, on the shorter arc between the two
    turn = np.where(np.abs(h1 - h2) > 180.0, np.where(h1 + h2 < 360.0, 360.0, -360.0), 0.0)
    h = np.where(chroma, (h1 + h2 + turn) / 2, h1 + h2)
    t = (1 - 0.17 * np.cos(np.radians(h - 30)) + 0.24 * np.cos(np.radians(2 * h))
         + 0.32 * np.cos(np.radians(3 * h + 6)) - 0.20 * np.cos(np.radians(4 * h - 63)))  # fmt: skip
    l50, c = ((l1 + l2) / 2 - 50) ** 2, (c1 + c2) / 2
    sl, sc, sh = 1 + 0.015 * l50 / np.sqrt(20 + l50), 1 + 0.045 * c, 1 + 0.015 * c * t
    rt = -2 * np.sqrt(c**7 / (c**7 + 25.0**7)) * np.sin(np.radians(60 * np.exp(-(((h - 275) / 25) ** 2))))
    dl, dc, dhh = (l2 - l1) / sl, (c2 - c1) / sc, d_hue / sh
    return float(np.mean(np.sqrt(dl**2 + dc**2 + dhh**2 + rt * dc * dhh)))


class Metrics:
    """All four metrics of the protocol at once: ``Metrics()(ref, dist) -> dict``."""

    names = ("psnr", "ssim", "ssim_gauss", "psnrb")
    _funcs = {"psnr": psnr, "ssim": ssim, "ssim_gauss": ssim_gauss, "psnrb": psnr_b}

    def __call__(self, ref: np.ndarray, dist: np.ndarray) -> dict[str, float]:
        return {name: self._funcs[name](ref, dist) for name in self.names}
