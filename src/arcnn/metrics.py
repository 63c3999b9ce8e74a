"""Image quality metrics of the paper's protocol, as pure functions of two images.

Each function takes a reference and a distorted image, NumPy arrays of the same
(H, W) shape on the 0..255 scale (any real dtype), and returns one float.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["psnr", "ssim", "ssim_gauss", "psnr_b", "blocking_effect_factor", "Metrics"]

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


class Metrics:
    """All four metrics of the protocol at once: ``Metrics()(ref, dist) -> dict``."""

    names = ("psnr", "ssim", "ssim_gauss", "psnrb")
    _funcs = {"psnr": psnr, "ssim": ssim, "ssim_gauss": ssim_gauss, "psnrb": psnr_b}

    def __call__(self, ref: np.ndarray, dist: np.ndarray) -> dict[str, float]:
        return {name: self._funcs[name](ref, dist) for name in self.names}
