import numpy as np
import pytest
import torch
from PIL import Image

from arcnn import restore
from arcnn.codec import jpeg_roundtrip
from arcnn.metrics import psnr
from arcnn.models import ConvStack, preset
from arcnn.sample import sample_path

from .conftest import smooth_image


@pytest.fixture
def identity():
    """A residual network with zero weights: restoration returns the input."""
    model = ConvStack(preset("srcnn", residual=True)).eval()
    for conv in model.convs:
        conv.weight.data.zero_()
        conv.bias.data.zero_()
    return model


def test_numpy_api_gray_and_colour(identity):
    gray = smooth_image(30, 40)
    assert np.array_equal(restore(gray, model=identity), gray)
    rgb = smooth_image(30, 40, colour=True)
    out = restore(rgb, model=identity)
    assert out.shape == rgb.shape and np.abs(out.astype(int) - rgb).max() <= 3  # YCbCr round trip
    with pytest.raises(ValueError, match="uint8"):
        restore(gray.astype(np.float32), model=identity)


def test_alpha_is_passed_through(identity):
    rgba = np.dstack([smooth_image(30, 40, colour=True), np.arange(1200, dtype=np.uint8).reshape(30, 40)])
    out = restore(Image.fromarray(rgba, "RGBA"), model=identity)
    assert out.mode == "RGBA"
    assert np.array_equal(np.asarray(out)[..., 3], rgba[..., 3])
    la = Image.fromarray(rgba[..., [0, 3]], "LA")
    assert restore(la, model=identity).mode == "LA"


def test_unsupported_mode_is_refused(identity):
    with pytest.raises(ValueError, match="unsupported image mode"):
        restore(Image.new("F", (16, 16)), model=identity)  # float images were never JPEGs
    with pytest.raises(ValueError, match="unsupported image mode"):
        restore(Image.new("I", (16, 16)), model=identity)


def test_the_shipped_model_improves_the_sample_crop():
    clean = np.asarray(Image.open(sample_path("astronaut-y128.png")))
    jpeg = jpeg_roundtrip(clean, 10)
    out = restore(jpeg, model="arcnn-q10")
    assert psnr(clean, out) > psnr(clean, jpeg) + 0.5


def test_consistency_with_the_jpeg_file(tmp_path):
    import io

    from arcnn.codec import ijg_table
    from arcnn.engine import restore_luma
    from arcnn.pipeline import luma_qtable
    from arcnn.zoo import load_model

    clean = np.asarray(Image.open(sample_path("astronaut-y128.png")))
    buf = io.BytesIO()
    Image.fromarray(clean).save(buf, format="JPEG", quality=10)
    with Image.open(buf) as im:
        assert np.array_equal(luma_qtable(im), ijg_table(10))
        jpeg = np.asarray(im)
        plain, consistent = restore(im, "arcnn-q10", consistency=False), restore(im, "arcnn-q10")
    plain, consistent = np.asarray(plain), np.asarray(consistent)
    assert not np.array_equal(plain, consistent) and np.abs(plain.astype(int) - consistent).max() <= 16
    assert psnr(clean, consistent) >= psnr(clean, plain)
    net = load_model("arcnn-q10")
    whole = restore_luma(net, jpeg, qtable=ijg_table(10))
    assert np.array_equal(whole, consistent)
    tiled = restore_luma(net, jpeg, tile=50, qtable=ijg_table(10))  # tiles kept on the block grid
    assert np.array_equal(tiled, whole)
    ens, ens_plain = (restore_luma(net, jpeg, ensemble=4, qtable=t) for t in (ijg_table(10), None))
    assert psnr(clean, ens) >= psnr(clean, ens_plain) > psnr(clean, plain)
    assert np.array_equal(restore(jpeg, "arcnn-q10"), plain)  # an array has no file to agree with
    assert luma_qtable(Image.fromarray(jpeg)) is None
    with pytest.raises(ValueError, match="8-bit"):
        restore_luma(net, jpeg.astype(np.uint16), qtable=ijg_table(10))


def test_shipped_models_are_loaded_once_across_calls():
    from arcnn.pipeline import _shipped

    jpeg = jpeg_roundtrip(np.asarray(Image.open(sample_path("astronaut-y128.png"))), 10)
    restore(jpeg, model="arcnn-q10")
    hits = _shipped.cache_info().hits
    first = restore(jpeg, model="arcnn-q10")
    assert _shipped.cache_info().hits == hits + 1
    assert np.array_equal(first, restore(jpeg, model="arcnn-q10"))


@pytest.mark.parametrize("ensemble", [2, 4, 8])
def test_self_ensemble_is_the_mean_of_transformed_restorations(ensemble):
    from arcnn.engine import restore_luma
    from arcnn.models import build_model

    torch.manual_seed(0)
    model = build_model(preset("srcnn", residual=True)).eval()
    img = np.random.default_rng(0).integers(0, 256, (30, 41), dtype=np.uint8)
    got = restore_luma(model, img, ensemble=ensemble)
    # mirrored out to 32x48 (multiples of 16) before the flips and turns, cut back after
    x = torch.from_numpy(np.pad(img, [(0, 2), (0, 7)], mode="symmetric").astype(np.float32) / 255)[None, None]
    acc = torch.zeros_like(x)
    for rot in {2: (0,), 4: (0, 2), 8: (0, 1, 2, 3)}[ensemble]:
        for mirror in (False, True):
            t = torch.rot90(x.flip(-1) if mirror else x, rot, (-2, -1))
            with torch.no_grad():
                y = torch.rot90(model.restore_tensor(t).clamp(0, 1), -rot, (-2, -1))
            acc += y.flip(-1) if mirror else y
    want = (acc / ensemble * 255).round()[0, 0, :30, :41].numpy()
    assert np.abs(got.astype(float) - want).max() <= 1
    assert not np.array_equal(got, restore_luma(model, img))
    for bad in (3, True, 16):
        with pytest.raises(ValueError, match="ensemble"):
            restore_luma(model, img, ensemble=bad)


@pytest.mark.parametrize("ensemble", [2, 4, 8])
def test_every_ensemble_member_sees_the_block_grid_of_the_file(ensemble):
    """A member that marks the first row and column of each 8x8 block of what it is given marks,
    mapped back, only rows and columns on the file's block boundaries, whatever the image's size."""
    from arcnn.engine import _ensemble_mean

    def mark(t: np.ndarray) -> np.ndarray:
        out = np.zeros(t.shape, np.float32)
        out[::8], out[:, ::8] = 1, 1
        return out

    got = _ensemble_mean(mark, np.zeros((37, 53), np.uint8), ensemble)
    rows, cols = np.nonzero(got)
    assert (np.isin(rows % 8, [0, 7]) | np.isin(cols % 8, [0, 7])).all()
    assert got[8, 8] > 0 and got[15, 15] > 0 and got[4, 4] == 0
    assert got.shape == (37, 53) and got.dtype == np.float32


def test_chroma_ensemble_is_the_mean_of_transformed_restorations():
    from arcnn.engine import restore_chroma
    from arcnn.unet import UNet, UNetConfig

    torch.manual_seed(0)
    model = UNet(UNetConfig(widths=(4, 8), blocks=(1, 1), planes=3, channels=2, unshuffle=2)).eval()
    ycbcr = np.random.default_rng(1).integers(0, 256, (21, 34, 3), dtype=np.uint8)
    got = restore_chroma(model, ycbcr, ensemble=2, rounded=False)
    padded = np.pad(ycbcr, [(0, 11), (0, 14), (0, 0)], mode="symmetric")
    plain = restore_chroma(model, padded, rounded=False)
    mirrored = restore_chroma(model, np.ascontiguousarray(padded[:, ::-1]), rounded=False)[:, ::-1]
    want = ((plain + mirrored) / 2)[:21, :34]
    assert got.shape == (21, 34, 2) and np.abs(got - want).max() < 1e-3
    assert np.array_equal(restore_chroma(model, ycbcr, ensemble=2), got.round().astype(np.uint8))
    with pytest.raises(ValueError, match="ensemble"):
        restore_chroma(model, ycbcr, ensemble=5)


def test_memory_grows_by_bytes_per_pixel_not_floats():
    """Tiles are converted to float one at a time: NumPy's peak stays ~2 bytes per pixel."""
    import tracemalloc

    from arcnn.engine import restore_luma
    from arcnn.models import ModelConfig

    model = ConvStack(ModelConfig((3, 3), (4, 1), residual=True)).eval()
    img = np.random.default_rng(0).integers(0, 256, (1536, 1536), dtype=np.uint8)
    tracemalloc.start()
    restore_luma(model, img, tile=256)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 3 * img.size  # a float32 copy of the image alone would be 4 bytes per pixel


def test_auto_quality_sends_good_and_table_less_files_to_the_blind_model(monkeypatch, tmp_path):
    """And files of other qualities up to LARGE_MAX_QUALITY, or other tables, to the large model."""
    import io

    import arcnn.policy as policy
    import arcnn.zoo as zoo
    from arcnn.codec import estimate_quality
    from arcnn.policy import pick_model

    monkeypatch.setitem(zoo.REGISTRY, policy.BLIND_MODEL, zoo.REGISTRY["arcnn-q10"])
    monkeypatch.setitem(zoo.REGISTRY, policy.LARGE_MODEL, zoo.REGISTRY["arcnn-q20"])
    img = smooth_image(32, 32)

    def jpeg(**kw):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", **kw)
        buf.seek(0)
        return Image.open(buf)

    assert pick_model("auto", jpeg(quality=10)) == "arcnn-q10"
    assert pick_model("auto", jpeg(quality=41)) == "arcnn-q40"  # near the quality it was trained for
    assert pick_model("auto", jpeg(quality=75)) == policy.LARGE_MODEL  # far from any: the large model
    assert pick_model("auto", jpeg(quality=90)) == policy.BLIND_MODEL  # q40's and the large would harm it
    phone = [int(v) for v in np.clip(np.arange(64) // 16 + 1, 1, 255)]  # not an IJG-scaled table, ~q95
    assert pick_model("auto", jpeg(qtables=[phone])) == policy.BLIND_MODEL
    coarse = [int(v) for v in np.clip(np.arange(64) * 2 + 60, 1, 255)]  # another encoder, low quality
    est = estimate_quality(jpeg(qtables=[coarse]))
    assert est.quality <= 25 and not est.exact
    assert pick_model("auto", jpeg(qtables=[coarse])) == policy.LARGE_MODEL  # other tables: the large model
    assert pick_model("auto", Image.fromarray(img)) == policy.BLIND_MODEL  # no tables, no JPEG in its pixels
    big = smooth_image(128, 160)
    for q, name in ((10, "arcnn-q10"), (40, "arcnn-q40"), (95, policy.BLIND_MODEL)):
        buf = io.BytesIO()
        Image.fromarray(big).save(buf, format="JPEG", quality=q)
        once = Image.fromarray(np.asarray(Image.open(buf)))  # a decoded JPEG, as a PNG would hold it
        assert pick_model("auto", once) == name
    assert pick_model(20, jpeg(quality=75)) == "arcnn-q20"  # an explicit quality wins
    img = smooth_image(32, 32, colour=True)  # colour: the large model wherever it suits
    assert pick_model("auto", jpeg(quality=10)) == pick_model("auto", jpeg(quality=40)) == policy.LARGE_MODEL
    assert pick_model("auto", jpeg(quality=90)) == policy.BLIND_MODEL
    assert pick_model(10, jpeg(quality=10)) == "arcnn-q10"


def test_full_range_luma_is_restored_in_the_studio_range():
    """A colour image's JFIF Y is mapped to 16-235 for the network and back: a network that adds a
    constant c (studio units) adds c * 255 / 219 to full-range Y, and an identity stays exact."""
    from arcnn.engine import restore_luma
    from arcnn.pipeline import map_luma

    model = ConvStack(preset("srcnn", residual=True))
    for conv in model.convs:
        conv.weight.data.zero_()
        conv.bias.data.zero_()
    y = np.full((24, 24), 100, np.uint8)
    assert np.array_equal(restore_luma(model, y, full_range=True), y)
    model.convs[-1].bias.data.fill_(21.9 / 255.0)
    assert np.all(restore_luma(model, y) == 122)  # 100 + 21.9, rounded
    assert np.all(restore_luma(model, y, full_range=True) == 126)  # 100 + 21.9 * 255 / 219 = 125.5
    gray, rgb = Image.fromarray(y), Image.fromarray(np.dstack([y] * 3))

    def plus(n):
        return lambda p: p + n

    assert np.all(np.asarray(map_luma(gray, plus(1), colour_fn=plus(5))) == 101)
    assert np.all(np.asarray(map_luma(rgb, plus(1), colour_fn=plus(5)).convert("L")) == 105)


def test_float_planes_are_rounded_once_in_the_conversion_to_rgb():
    """``map_luma`` converts unrounded Y and CbCr to RGB as ``jfif2rgb`` converts them whole (in
    strips of rows); the chroma function reads the Y rounded."""
    from arcnn.codec import jfif2rgb, rgb2jfif
    from arcnn.pipeline import map_luma

    rgb = smooth_image(300, 40, colour=True)
    planes = rgb2jfif(rgb).astype(np.float32) + np.float32(0.4)
    read = []

    def chroma(p):
        read.append(p[..., 0].copy())
        return planes[..., 1:]

    out = map_luma(Image.fromarray(rgb), lambda p: p, chroma, colour_fn=lambda p: planes[..., 0])
    assert np.array_equal(np.asarray(out), jfif2rgb(planes))
    assert np.array_equal(read[0], planes[..., 0].round())
    assert not np.array_equal(np.asarray(out), jfif2rgb(planes.round().astype(np.uint8)))


def test_the_policys_colour_modes_are_those_map_luma_restores_as_colour():
    """``policy.COLOUR_MODES`` (where colour luminance gets its model) names exactly the modes whose
    luminance ``map_luma`` hands to ``colour_fn``."""
    from arcnn.pipeline import map_luma
    from arcnn.policy import COLOUR_MODES

    seen = []
    base = Image.fromarray(np.full((8, 8, 3), 90, np.uint8))
    for mode in ("RGB", "RGBA", "YCbCr", "P", "PA", "L", "LA", "CMYK", "I;16"):
        im = base.convert("RGBA").convert("PA") if mode == "PA" else base.convert(mode)
        map_luma(im, lambda p: p, colour_fn=lambda p, m=mode: seen.append(m) or p)
    assert tuple(seen) == COLOUR_MODES


def test_the_large_model_leaves_good_and_unknown_jpegs_to_the_blind_model():
    import io

    from arcnn.pipeline import RestoreOptions, Restorer
    from arcnn.policy import BLIND_MODEL, LARGE_MAX_QUALITY, LARGE_MODEL, within_range

    assert within_range(LARGE_MODEL, LARGE_MAX_QUALITY) == LARGE_MODEL
    assert within_range(LARGE_MODEL, LARGE_MAX_QUALITY + 1) == BLIND_MODEL  # it would harm them
    assert within_range(LARGE_MODEL, None) == BLIND_MODEL
    assert within_range("arcnn-q40", 90) == "arcnn-q40"  # any other model as asked
    restorer = Restorer(RestoreOptions(model=LARGE_MODEL))
    for q, name in ((20, LARGE_MODEL), (90, BLIND_MODEL)):
        buf = io.BytesIO()
        Image.fromarray(smooth_image(48, 48)).save(buf, format="JPEG", quality=q)
        buf.seek(0)
        assert restorer.restore_image(Image.open(buf)).model == name
