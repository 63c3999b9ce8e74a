import io

import numpy as np
import pytest
from PIL import Image

from arcnn.codec import (
    dct_matrix,
    estimate_quality,
    estimate_quality_from_pixels,
    ijg_table,
    jfif2rgb,
    jpeg_roundtrip,
    project_to_jpeg,
    read_qtables,
    rgb2jfif,
    rgb2ycbcr,
    ycbcr2rgb,
)

from .conftest import smooth_image


def test_rgb2ycbcr_matches_matlab_values():
    rgb = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)
    # MATLAB R2020a: rgb2ycbcr(uint8([0 0 0; 255 255 255; 255 0 0; 0 255 0; 0 0 255]))
    expected = [[16, 128, 128], [235, 128, 128], [81, 90, 240], [145, 54, 34], [41, 240, 110]]
    assert rgb2ycbcr(rgb)[0].tolist() == expected


def test_rgb2ycbcr_y_formula_and_float():
    rgb = smooth_image(16, 16, colour=True)
    r, g, b = (rgb[..., i].astype(float) for i in range(3))
    y = np.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255)
    assert np.array_equal(rgb2ycbcr(rgb)[..., 0], y.astype(np.uint8))
    f = rgb2ycbcr(rgb.astype(np.float64) / 255)
    assert np.allclose(f * 255, rgb2ycbcr(rgb), atol=0.5)


def test_jfif_conversions_are_libjpegs():
    # Blocks of one colour at q100 4:4:4 are coded exactly: the decoded planes are the encoder's YCbCr.
    colours = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    rgb = colours.repeat(8, 0).repeat(8, 1)
    for quality, subsampling in ((100, "4:4:4"), (30, "4:2:0"), (60, "4:2:2")):
        buf = io.BytesIO()
        Image.fromarray(rgb if quality == 100 else smooth_image(48, 64, colour=True)).save(
            buf, "JPEG", quality=quality, subsampling=subsampling
        )
        with Image.open(buf) as im:
            im.draft("YCbCr", im.size)
            planes = np.asarray(im)
        with Image.open(buf) as im:
            decoded = np.asarray(im.convert("RGB"))
        if quality == 100:
            assert np.array_equal(planes, rgb2jfif(rgb))  # as libjpeg's encoder converts
        assert np.array_equal(jfif2rgb(planes), decoded)  # as libjpeg's decoder converts
    every = np.stack(np.meshgrid(*[np.arange(0, 256, 3)] * 3, indexing="ij"), -1).reshape(86, -1, 3)
    back = jfif2rgb(rgb2jfif(every.astype(np.uint8))).astype(int) - every
    assert np.abs(back).max() <= 1 and np.abs(back.mean(axis=(0, 1))).max() < 0.01  # no colour shift


def test_float_planes_are_converted_as_libjpeg_converts_then_rounded_once():
    rng = np.random.default_rng(1)
    planes = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert np.array_equal(jfif2rgb(planes.astype(np.float32)), jfif2rgb(planes))  # whole values: libjpeg's
    exact = rng.uniform(0, 255, (64, 64, 3))
    m = np.array([[1, 0, 1.402], [1, -0.34414, -0.71414], [1, 1.772, 0]])
    ideal = np.clip((exact - [0, 128, 128]) @ m.T, 0, 255)
    once = np.abs(jfif2rgb(exact.astype(np.float32)) - ideal)
    twice = np.abs(jfif2rgb(exact.round().astype(np.uint8)) - ideal)
    assert once.max() <= 0.5 + 1e-3 and (once**2).mean() < 0.5 * (twice**2).mean()


def test_scaled_quality_matches_table_steps():
    from arcnn.codec import ijg_table, scaled_quality

    for q in (5, 10, 25, 40, 50, 60, 75):  # above, steps of a few units round too coarsely to match
        s = scaled_quality(q, 219 / 255)
        coarse, fine = ijg_table(q).astype(float), ijg_table(s)
        kept = coarse < 255  # steps not clamped to baseline's 255
        assert q < s and abs(fine[kept].sum() / coarse[kept].sum() - 219 / 255) < 0.03
    assert scaled_quality(50, 1.0) == 50 and scaled_quality(1, 0.5) == 2
    with pytest.raises(ValueError):
        scaled_quality(0, 1.0)


def test_ycbcr2rgb_inverts():
    rgb = smooth_image(16, 16, colour=True)
    assert np.abs(ycbcr2rgb(rgb2ycbcr(rgb)).astype(int) - rgb).max() <= 2
    f = rgb.astype(np.float64) / 255
    assert np.allclose(ycbcr2rgb(rgb2ycbcr(f)), f)
    with pytest.raises(ValueError):
        rgb2ycbcr(np.zeros((4, 4), np.uint8))


def test_jpeg_roundtrip_gray_and_colour():
    gray = smooth_image(40, 48)
    out = jpeg_roundtrip(gray, 10)
    assert out.shape == gray.shape and out.dtype == np.uint8
    assert 0 < np.abs(out.astype(int) - gray).mean() < 20
    assert np.abs(jpeg_roundtrip(gray, 95).astype(int) - gray).mean() < np.abs(out.astype(int) - gray).mean()
    col = smooth_image(40, 48, colour=True)
    assert jpeg_roundtrip(col, 50).shape == col.shape
    with pytest.raises(ValueError, match="quality"):
        jpeg_roundtrip(gray, 0)


def test_ijg_table_standard_at_50():
    assert ijg_table(50)[:8].tolist() == [16, 11, 10, 16, 24, 40, 51, 61]
    assert ijg_table(100).tolist() == [1] * 64
    assert ijg_table(1).max() == 255


def test_the_quality_banks_hold_every_ijg_table():
    from arcnn import codec

    for bank, chroma in ((codec._LUMA_BANK, False), (codec._CHROMA_BANK, True)):
        assert bank.shape == (100, 64)
        for q in range(1, 101):
            assert np.array_equal(bank[q - 1], ijg_table(q, chroma=chroma)), (q, chroma)
    # and they are the tables Pillow (libjpeg) writes, read back from its files at every quality
    colour = smooth_image(16, 16, colour=True)
    for q in range(1, 101):
        tables = read_qtables(_jpeg_bytes(colour, quality=q))
        assert tables[0].tolist() == ijg_table(q).tolist(), q
        assert tables[1].tolist() == ijg_table(q, chroma=True).tolist(), q


def _jpeg_bytes(img, **kw) -> io.BytesIO:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", **kw)
    buf.seek(0)
    return buf


@pytest.mark.parametrize("colour", [False, True])
def test_estimate_quality_exact_for_pillow_files(colour):
    img = smooth_image(32, 32, colour=colour)
    for q in range(5, 96):
        with Image.open(_jpeg_bytes(img, quality=q)) as im:
            est = estimate_quality(im)
        assert est.exact and est.quality == q, (q, est)


def test_estimate_quality_non_standard_tables():
    img = smooth_image(32, 32)
    table = (ijg_table(30) * 1.3).clip(1, 255).astype(int).tolist()
    with Image.open(_jpeg_bytes(img, qtables=[table])) as im:
        est = estimate_quality(im)
    assert not est.exact and 15 <= est.quality <= 30
    assert "non-standard" in str(est)


@pytest.mark.parametrize("quality", [10, 20, 40, 60])
@pytest.mark.parametrize("colour", [False, True])
def test_estimate_quality_from_pixels_of_a_decoded_jpeg(quality, colour):
    img = smooth_image(160, 192, seed=quality, colour=colour)
    with Image.open(_jpeg_bytes(img, quality=quality)) as im:
        luma = np.asarray(im.convert("L"))
    est = estimate_quality_from_pixels(luma)
    assert est is not None and abs(est.quality - quality) <= 1 and est.from_pixels
    assert "from the pixels" in str(est)
    crop = estimate_quality_from_pixels(np.ascontiguousarray(luma[3:, 5:]))  # the grid no longer at (0, 0)
    assert crop is not None and abs(crop.quality - quality) <= 1


def test_estimate_quality_from_pixels_refuses_without_evidence():
    img = smooth_image(160, 192)
    assert estimate_quality_from_pixels(img) is None  # never compressed
    assert estimate_quality_from_pixels(img[:4, :4]) is None  # too small to tell
    with Image.open(_jpeg_bytes(img, quality=10)) as im:
        resized = np.asarray(im.convert("L").resize((173, 144), Image.BICUBIC))
    assert estimate_quality_from_pixels(resized) is None  # the block grid is gone
    with Image.open(_jpeg_bytes(img, quality=95)) as im:
        assert estimate_quality_from_pixels(np.asarray(im)) is None  # steps too fine to tell
    with pytest.raises(ValueError, match="uint8"):
        estimate_quality_from_pixels(img.astype(np.float32))


def test_project_to_jpeg_is_a_projection_towards_the_original():
    clean = smooth_image(64, 72, seed=3)
    with Image.open(_jpeg_bytes(clean, quality=10)) as im:
        decoded = np.asarray(im)
    table = ijg_table(10)
    centre = project_to_jpeg(decoded.astype(float), decoded, table)
    assert np.abs(centre - decoded).max() < 1  # the decoded image is the middle of its set
    rng = np.random.default_rng(0)
    guess = clean + rng.normal(0, 8, clean.shape)  # a restoration with errors of its own
    once = project_to_jpeg(guess, decoded, table)
    assert np.abs(once - guess).max() > 1  # it did move
    assert np.allclose(project_to_jpeg(once, decoded, table), once, atol=1e-6)  # idempotent
    err = lambda x: np.sqrt(np.mean((x - clean) ** 2))  # noqa: E731
    assert err(once) < err(guess)
    with pytest.raises(ValueError, match="same"):
        project_to_jpeg(guess[:8], decoded, table)


def test_read_qtables_rejects_non_jpeg(tmp_path):
    p = tmp_path / "x.png"
    Image.fromarray(smooth_image(16, 16)).save(p)
    with pytest.raises(ValueError, match="not a JPEG"):
        read_qtables(p)


def _project_reference(restored, decoded, table):
    """project_to_jpeg as first written (numpy's stacked 8x8 products on strided blocks): the
    faster one must give the same floats, so restored images keep every pixel."""
    dct = dct_matrix(8)

    def blocks(x):
        h, w = x.shape[0] // 8, x.shape[1] // 8
        return x[: h * 8, : w * 8].reshape(h, 8, w, 8).transpose(0, 2, 1, 3).astype(np.float64) - 128

    step = np.asarray(table, dtype=np.float64).reshape(8, 8)
    h, w = restored.shape[0] // 8, restored.shape[1] // 8
    out = np.array(restored, dtype=np.float64)
    coded = dct @ blocks(decoded) @ dct.T / step
    k = np.round(coded)
    kept = step >= 4
    on_steps = (np.abs(coded - k) * step <= 2.0)[..., kept].all(axis=-1)
    c = dct @ blocks(out) @ dct.T
    c = np.where(kept & on_steps[..., None, None], np.clip(c, (k - 0.5) * step, (k + 0.5) * step), c)
    out[: h * 8, : w * 8] = (dct.T @ c @ dct + 128).transpose(0, 2, 1, 3).reshape(h * 8, w * 8)
    return out


@pytest.mark.parametrize("quality", [5, 10, 40, 90])
def test_project_to_jpeg_gives_the_floats_of_the_plain_formula(quality):
    clean = smooth_image(75, 98, seed=quality)
    with Image.open(_jpeg_bytes(clean, quality=quality)) as im:
        decoded = np.asarray(im)
    rng = np.random.default_rng(quality)
    guess = np.clip(decoded + rng.normal(0, 6, decoded.shape), 0, 255).astype(np.float32)
    table = ijg_table(quality)
    assert np.array_equal(project_to_jpeg(guess, decoded, table), _project_reference(guess, decoded, table))


def test_colour_conversion_memory_does_not_grow_with_the_image():
    """Whole-image integer temporaries took GBs on a 50 MP photo: the conversions work in strips."""
    import tracemalloc

    from arcnn.codec import jfif2rgb, rgb2jfif

    rgb = np.random.default_rng(0).integers(0, 256, (2048, 2048, 3), dtype=np.uint8)  # 12 MiB
    tracemalloc.start()
    try:
        jfif2rgb(rgb2jfif(rgb))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the two results and a strip's temporaries; whole-image int64 ones were over 16 times the image
    assert peak < 6 * rgb.nbytes, peak
