import numpy as np
import pytest

from arcnn import sadct
from arcnn.codec import ijg_table, jpeg_roundtrip
from arcnn.metrics import psnr

from .conftest import smooth_image

EAST, NORTH_EAST, NORTH, WEST, SOUTH = 0, 1, 2, 4, 6


def test_sigma_from_quality_matches_the_paper_and_is_monotone():
    expected = {10: 12.6, 20: 8.1, 30: 6.2, 40: 5.2}
    for q, s in expected.items():
        assert sadct.sigma_from_quality(q) == pytest.approx(s, abs=0.06)
    sig = [sadct.sigma_from_quality(q) for q in range(1, 101)]
    assert all(a >= b for a, b in zip(sig, sig[1:]))
    assert sig[0] > sig[-1]
    assert sadct.sigma_from_qtable(ijg_table(20).reshape(8, 8)) == sadct.sigma_from_quality(20)


def test_lpa_kernels_are_normalised_and_mix_orders():
    for h in (1, 2, 3, 5, 7, 9, 12):
        assert sadct.lpa_kernel(h, -0.8).sum() == pytest.approx(1.0)
    np.testing.assert_allclose(sadct.lpa_kernel(4, -1.0), np.full(4, 0.25))
    g1 = sadct.lpa_kernel(5, 0.0)  # first order: exact on a linear ramp
    assert g1 @ (3.0 + 2.0 * np.arange(5)) == pytest.approx(3.0)


def test_lpa_ici_stops_at_a_step_edge():
    rng = np.random.default_rng(1)
    z = np.where(np.arange(40)[None, :] < 20, 60.0, 180.0) * np.ones((40, 1))
    z = z + rng.normal(0, 2.0, z.shape)
    lengths = sadct.lpa_ici_lengths(z, 2.0)
    assert lengths.shape == (8, 40, 40) and lengths.dtype.kind == "i"
    row = lengths[:, 20]
    # left of the edge: long along it (north/south, west), short across it (east)
    assert row[EAST, 17] <= 3 and row[EAST, 19] == 1
    assert row[NORTH, 17] == 9 and row[SOUTH, 17] == 9 and row[WEST, 17] == 9
    assert row[NORTH_EAST, 19] == 1
    # right of the edge: mirror image
    assert row[WEST, 20] == 1 and row[EAST, 22] == 9 and row[NORTH, 22] == 9
    # away from the edge every direction reaches the largest scale
    assert (row[[0, 2, 4, 6], 8] == 9).all()
    # no neighbourhood passes the border
    assert (lengths[EAST, :, -1] == 1).all() and (lengths[NORTH, 0] == 1).all()


def test_neighbourhood_is_the_star_polygon_of_the_lengths():
    m = sadct.neighbourhood_mask([3, 1, 1, 1, 1, 1, 1, 1])
    assert m.shape == (5, 5) and m.sum() == 3 and m[2, 2:].all()
    full = sadct.neighbourhood_mask([4] * 8)
    assert full.all() and full.shape == (7, 7)
    m = sadct.neighbourhood_mask([5, 2, 5, 2, 5, 2, 5, 2])
    assert m[4, 0] and m[0, 4] and m[4, 8] and m[8, 4] and not m[0, 0] and m[3, 3]
    assert (m == m.T).all() and (m == m[::-1]).all()


@pytest.mark.parametrize("align", [False, True])
def test_sadct_is_orthonormal_and_reconstructs_arbitrary_shapes(align):
    rng = np.random.default_rng(0)
    for _ in range(12):
        shape = tuple(rng.integers(1, 12, size=2))
        mask = rng.random(shape) < rng.uniform(0.2, 0.9)
        mask.flat[rng.integers(mask.size)] = True
        n = int(mask.sum())
        mat = sadct.sadct_matrix(mask, align)
        assert mat.shape == (n, n)
        np.testing.assert_allclose(mat @ mat.T, np.eye(n), atol=1e-10)
        x = rng.normal(size=shape)
        coef = sadct.sadct_forward(x, mask, align)
        np.testing.assert_allclose(coef, mat @ x[mask], atol=1e-10)
        back = sadct.sadct_inverse(coef, mask, align)
        np.testing.assert_allclose(back[mask], x[mask], atol=1e-10)
        assert (back[~mask] == 0).all()


def test_sadct_of_a_full_block_is_the_2d_dct():
    x = np.random.default_rng(2).normal(size=(8, 8))
    d = sadct.dct_matrix(8)
    coef = sadct.sadct_forward(x, np.ones((8, 8), dtype=bool))
    np.testing.assert_allclose(coef.reshape(8, 8), d @ x @ d.T, atol=1e-10)


def test_deblocking_raises_psnr_on_a_smooth_image():
    y = smooth_image(64, 72, seed=3)
    z = jpeg_roundtrip(y, 10)
    out = sadct.sadct_deblock(z, quality=10)
    assert out.dtype == np.uint8 and out.shape == z.shape
    assert psnr(y, out) > psnr(y, z) + 0.3
    same = sadct.sadct_deblock(z, qtable=ijg_table(10))
    np.testing.assert_array_equal(out, same)


@pytest.mark.parametrize(
    "call",
    [
        lambda: sadct.sadct_deblock(np.zeros((8, 8)), quality=10),  # not uint8
        lambda: sadct.sadct_deblock(np.zeros((8, 8, 3), np.uint8), quality=10),
        lambda: sadct.sadct_deblock(np.zeros((8, 8), np.uint8)),  # no sigma source
        lambda: sadct.sadct_deblock(np.zeros((8, 8), np.uint8), sigma=-1.0),
        lambda: sadct.sadct_deblock(np.zeros((8, 8), np.uint8), quality=0),
        lambda: sadct.sigma_from_qtable(np.ones(63)),
        lambda: sadct.sigma_from_qtable(np.zeros(64)),
        lambda: sadct.sadct_matrix(np.zeros((3, 3), dtype=bool)),
        lambda: sadct.sadct_matrix(np.ones((3, 3))),
        lambda: sadct.sadct_forward(np.ones((3, 4)), np.ones((3, 3), dtype=bool)),
        lambda: sadct.sadct_inverse(np.ones(5), np.ones((3, 3), dtype=bool)),
        lambda: sadct.lpa_ici_lengths(np.ones(5), 3.0),
        lambda: sadct.lpa_ici_lengths(np.ones((5, 5)), 3.0, scales=(3, 2)),
        lambda: sadct.neighbourhood_mask([1, 2, 3]),
        lambda: sadct.sadct_wiener(np.ones((4, 4)), np.ones((4, 5)), 3.0, np.ones((8, 4, 4), int)),
    ],
)
def test_bad_inputs_raise_value_error(call):
    with pytest.raises(ValueError):
        call()
