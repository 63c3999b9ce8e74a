import doctest
import math

import numpy as np
import pytest
from skimage.metrics import structural_similarity

import arcnn.metrics
from arcnn.codec import jpeg_roundtrip
from arcnn.metrics import Metrics, blocking_effect_factor, ciede2000, psnr, psnr_b, ssim, ssim_gauss

from .conftest import smooth_image


@pytest.fixture
def pair():
    ref = smooth_image(48, 56)
    return ref, jpeg_roundtrip(ref, 10)


def test_psnr_known_value():
    ref = np.zeros((8, 8))
    dist = np.full((8, 8), 5.0)
    assert psnr(ref, dist) == pytest.approx(10 * math.log10(255**2 / 25))
    assert psnr(ref, ref) == math.inf


def test_ssim_gauss_matches_scikit_image(pair):
    ref, dist = pair
    expected = structural_similarity(
        ref, dist, data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    assert ssim_gauss(ref, dist) == pytest.approx(expected, abs=1e-9)


def test_ssim_8x8_matches_a_direct_window_loop(pair):
    ref, dist = (a.astype(np.float64) for a in pair)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    vals = []
    for i in range(ref.shape[0] - 7):
        for j in range(ref.shape[1] - 7):
            x, y = ref[i : i + 8, j : j + 8], dist[i : i + 8, j : j + 8]
            mx, my = x.mean(), y.mean()
            vx, vy, cxy = x.var(), y.var(), ((x - mx) * (y - my)).mean()
            vals.append((2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2)))
    assert ssim(*pair) == pytest.approx(np.mean(vals), abs=1e-10)
    assert ssim(ref, ref) == pytest.approx(1.0)


def test_bef_of_hand_made_blocks():
    """Constant 8x8 blocks alternating 100/110: every boundary pair differs by 10, no other pair does."""
    h, w = 32, 40
    blocks = (np.add.outer(np.arange(h) // 8, np.arange(w) // 8) % 2) * 10 + 100.0
    d_b = 100.0  # 10**2 on every boundary pair
    eta = math.log2(8) / math.log2(min(h, w))
    assert blocking_effect_factor(blocks) == pytest.approx(eta * d_b)
    ref = np.full((h, w), 105.0)
    mse = 25.0
    assert psnr_b(ref, blocks) == pytest.approx(10 * math.log10(255**2 / (mse + eta * d_b)))


def test_bef_zero_without_blocking():
    smooth = np.add.outer(np.arange(32.0), np.arange(40.0))  # equal steps everywhere
    assert blocking_effect_factor(smooth) == 0.0
    ref = smooth + 3
    assert psnr_b(ref, smooth) == pytest.approx(psnr(ref, smooth))


def test_psnr_b_penalises_jpeg_blocking(pair):
    ref, dist = pair
    assert blocking_effect_factor(dist) > 0
    assert psnr_b(ref, dist) < psnr(ref, dist)


def test_errors_are_value_errors():
    with pytest.raises(ValueError, match="shape"):
        psnr(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="2-D"):
        ssim(np.zeros((9, 9, 3)), np.zeros((9, 9, 3)))
    with pytest.raises(ValueError, match="smaller than"):
        ssim_gauss(np.zeros((9, 9)), np.zeros((9, 9)))


def test_metrics_class(pair):
    scores = Metrics()(*pair)
    assert set(scores) == {"psnr", "ssim", "ssim_gauss", "psnrb"}
    assert scores["psnr"] == psnr(*pair)


def test_ciede2000_matches_scikit_image():
    from skimage.color import deltaE_ciede2000, rgb2lab

    rgb = smooth_image(40, 48, colour=True)
    jpeg = jpeg_roundtrip(rgb, 10, "4:2:0")
    rng = np.random.default_rng(0)
    noisy = np.clip(rgb + rng.integers(-60, 61, rgb.shape), 0, 255).astype(np.uint8)
    grey = np.repeat(rgb[..., :1], 3, axis=2)  # hue undefined on one side or both
    for a, b in ((rgb, jpeg), (rgb, noisy), (rgb, grey), (grey, grey[::-1])):
        expected = deltaE_ciede2000(rgb2lab(a), rgb2lab(b)).mean()
        assert ciede2000(a, b) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert ciede2000(rgb, rgb) == 0.0
    with pytest.raises(ValueError, match="H, W, 3"):
        ciede2000(rgb[..., 0], rgb[..., 0])


def test_metrics_docstring_examples_run():
    failed, tried = doctest.testmod(arcnn.metrics)
    assert tried and not failed
