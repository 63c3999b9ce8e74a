"""The chroma model: colour pairs, training, restoration and the CLI's --chroma."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from arcnn.codec import rgb2jfif
from arcnn.data import Degradation, jfif_rgb, jfif_ycbcr, sample_batch
from arcnn.data import PairSet as Pairs
from arcnn.engine import restore_chroma
from arcnn.models import ConvStack, ModelConfig
from arcnn.pipeline import map_luma
from arcnn.policy import chroma_model
from arcnn.train import make_config, train
from arcnn.zoo import load_model

from .conftest import smooth_image


def _chroma_net() -> ConvStack:
    cfg = ModelConfig((5, 1, 3), (8, 4, 2), channels=2, in_channels=3, residual=True)
    torch.manual_seed(0)
    return ConvStack(cfg).eval()


def test_colour_pairs_are_jfif_ycbcr_as_decoded(tmp_path):
    path = tmp_path / "photo.png"
    rgb = smooth_image(48, 64, colour=True)
    Image.fromarray(rgb).save(path)
    clean, degraded = Degradation(10, chroma=True).pair(path)
    assert clean.shape == degraded.shape == (48, 64, 3)
    assert np.array_equal(clean, jfif_ycbcr(rgb)) and np.abs(jfif_rgb(clean).astype(int) - rgb).max() <= 1
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=10, subsampling="4:2:0")
    with Image.open(buf) as im:
        im.draft("YCbCr", im.size)
        assert np.array_equal(degraded, np.asarray(im))
    gray = tmp_path / "gray.png"
    Image.fromarray(smooth_image(48, 64)).save(gray)
    with pytest.raises(ValueError, match="no chroma"):
        Degradation(10, chroma=True).pair(gray)


def test_jfif_planes_are_rounded_as_libjpeg_codes_them():
    rgb = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=100, subsampling="4:4:4")
    with Image.open(buf) as im:
        im.draft("YCbCr", im.size)
        coded = np.asarray(im).astype(float)
    # q100 codes the planes to within a level or two; Pillow's convert("YCbCr") truncates (-0.5)
    assert np.abs((coded - jfif_ycbcr(rgb)).mean(axis=(0, 1))).max() < 0.02


def test_colour_batches_are_channel_first():
    c = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    x, y = sample_batch(Pairs([c], [c.copy()]), np.random.default_rng(1), 6, 16, augment=True)
    assert x.shape == y.shape == (6, 3, 16, 16) and torch.equal(x, y)


def test_chroma_model_trains_and_restores(image_dir, tmp_path):
    cfg = make_config("fast", model="srcnn", target="cbcr", qualities=(10, 30), steps=40, batch=4, patch=24,
                      val_every=20, val_images=2, lr=3e-3, warmup=0, bf16=False,
                      train_dirs=(str(image_dir),), val_dir=str(image_dir))  # fmt: skip
    out = train(cfg, tmp_path / "run", log=lambda *_: None)
    model = load_model(out)
    assert (model.config.inputs, model.config.channels) == (3, 2)
    ycbcr = np.asarray(Image.fromarray(smooth_image(40, 50, colour=True)).convert("YCbCr"))
    assert restore_chroma(model, ycbcr).shape == (40, 50, 2)


def test_chroma_restoration_is_tiling_invariant_and_residual():
    net = _chroma_net()
    ycbcr = np.asarray(Image.fromarray(smooth_image(70, 90, colour=True)).convert("YCbCr"))
    whole = restore_chroma(net, ycbcr, tile=512)
    assert np.array_equal(whole, restore_chroma(net, ycbcr, tile=16))
    for conv in net.convs:
        conv.weight.data.zero_()
        conv.bias.data.zero_()
    assert np.array_equal(restore_chroma(net, ycbcr), ycbcr[..., 1:])  # zero net: chroma kept
    with pytest.raises(ValueError, match="uint8"):
        restore_chroma(net, ycbcr[..., 0])


def test_map_luma_replaces_chroma_when_asked():
    rgb = Image.fromarray(smooth_image(30, 40, colour=True))
    flat = map_luma(rgb, lambda y: y, lambda ycc: np.full((*ycc.shape[:2], 2), 128, np.uint8))
    ycc = np.asarray(flat.convert("YCbCr")).astype(int)
    assert np.abs(ycc[..., 1:] - 128).max() <= 1  # neutral chroma, up to the RGB round trip
    seen = []
    map_luma(rgb, lambda y: 255 - y, lambda ycc: seen.append(ycc) or ycc[..., 1:])
    decoded = rgb2jfif(np.asarray(rgb))  # JFIF YCbCr as libjpeg's encoder rounds it
    assert np.array_equal(seen[0][..., 0], 255 - decoded[..., 0])  # the chroma model reads the restored Y
    assert np.array_equal(seen[0][..., 1:], decoded[..., 1:])


def _jpeg(rgb: np.ndarray, subsampling: str, quality: int = 20) -> Image.Image:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality, subsampling=subsampling)
    buf.seek(0)
    return Image.open(buf)


def test_chroma_model_choice(monkeypatch):
    import arcnn.policy as policy
    import arcnn.zoo as zoo

    rgb = smooth_image(32, 32, colour=True)
    monkeypatch.setitem(zoo.REGISTRY, policy.CHROMA_MODEL, zoo.REGISTRY[policy.DEFAULT_MODEL])
    assert chroma_model(_jpeg(rgb, "4:2:0")) == policy.CHROMA_MODEL
    assert chroma_model(_jpeg(rgb, "4:2:0", quality=10)) == policy.CHROMA_MODEL  # one model for every quality
    assert chroma_model(Image.fromarray(rgb), "on") == policy.CHROMA_MODEL  # quality unknown
    top = policy.CHROMA_AUTO_MAX_QUALITY["4:2:0"] + 1
    assert chroma_model(_jpeg(rgb, "4:2:0", quality=top)) is None  # above CHROMA_AUTO_MAX_QUALITY
    assert chroma_model(_jpeg(rgb, "4:2:0", quality=top), "on") == policy.CHROMA_MODEL
    assert chroma_model(_jpeg(rgb, "4:4:4"), "on") == policy.CHROMA_MODEL
    assert chroma_model(_jpeg(rgb, "4:2:0"), "off") is None
    assert chroma_model(Image.fromarray(rgb)) is None  # not a JPEG
    assert chroma_model(Image.fromarray(rgb[..., 0]), "on") is None  # grayscale
    with pytest.raises(ValueError, match="chroma"):
        chroma_model(Image.fromarray(rgb), "maybe")


def test_chroma_auto_stops_by_subsampling_and_by_the_chroma_table(monkeypatch):
    """--chroma auto restores chroma up to CHROMA_AUTO_MAX_QUALITY of the file's subsampling, judged by
    its chroma table: mozjpeg's, finer than IJG's at the quality its luminance matches, stops sooner."""
    import arcnn.policy as policy
    import arcnn.zoo as zoo
    from arcnn.codec import chroma_table_quality, estimate_quality, ijg_table
    from benchmarks.colour import encode

    rgb = smooth_image(32, 32, colour=True)
    monkeypatch.setitem(zoo.REGISTRY, policy.CHROMA_MODEL, zoo.REGISTRY[policy.DEFAULT_MODEL])
    for subsampling, limit in policy.CHROMA_AUTO_MAX_QUALITY.items():
        assert chroma_model(_jpeg(rgb, subsampling, quality=10)) == policy.CHROMA_MODEL
        assert chroma_model(_jpeg(rgb, subsampling, quality=limit)) == policy.CHROMA_MODEL
        assert chroma_model(_jpeg(rgb, subsampling, quality=limit + 1)) is None
        assert chroma_model(_jpeg(rgb, subsampling, quality=limit + 1), "on") == policy.CHROMA_MODEL
    assert set(policy.CHROMA_AUTO_MAX_QUALITY) == {"4:2:0", "4:2:2", "4:4:4"}
    assert all(chroma_table_quality(ijg_table(q, chroma=True)) == q for q in range(3, 101))
    limit = policy.CHROMA_AUTO_MAX_QUALITY["4:2:0"]
    finer = 0  # mozjpeg qualities whose luminance is within the limit and whose chroma is not
    for q in range(40, 95, 5):
        with Image.open(io.BytesIO(encode(rgb, "mozjpeg", q))) as moz:
            if estimate_quality(moz).quality <= limit < policy.chroma_quality(moz):
                assert chroma_model(moz) is None and chroma_model(moz, "on") is not None
                finer += 1
    assert finer
    with Image.open(io.BytesIO(encode(rgb, "mozjpeg", 10))) as moz:
        assert chroma_model(moz) is not None
    buf = io.BytesIO()  # planes coded as R, G, B (Adobe transform 0): no chroma to restore
    Image.fromarray(rgb).save(buf, "JPEG", quality=10, subsampling="4:4:4", keep_rgb=True)
    with Image.open(buf) as coded_rgb:
        assert policy.chroma_quality(coded_rgb) is None and chroma_model(coded_rgb) is None


@pytest.mark.parametrize("quality, fast", [(10, False), (95, False), (10, True)])
def test_colour_benchmark_shares_one_luminance_and_matches_arcnn_restore(quality, fast, monkeypatch):
    """benchmarks.colour's rows from one luminance restoration are arcnn restore's, pixel for pixel
    (the shipped models, where --chroma auto restores chroma and where it does not; and the fast
    tier's, with --fast); a difference stops the run."""
    import argparse

    import benchmarks.colour as colour
    from benchmarks._common import restorer

    data = colour.encode(smooth_image(48, 40, colour=True), "4:2:0", quality)
    args = argparse.Namespace(jfif_luma=False, decoded_y=False, no_consistency=False, chroma_model=None,
                              model=None, ensembles=None)  # fmt: skip
    restorers = {
        k: restorer(chroma=c, backend="auto", fast=fast)
        for k, c in (("yonly", "off"), ("colour", "on"), ("auto", "auto"))
    }
    shared, names = colour._checked(data, restorers, args, check=True)
    exact, exact_names = colour._as_arcnn_restore(data, restorers)
    assert names == exact_names and all(np.array_equal(shared[k], exact[k]) for k in exact)
    assert (names[2] == "None") == (quality == 95)  # chroma restored at q10 only, by default
    assert names[0].startswith("fast-arcnn") == fast and (names[1] == "arcnn-chroma-fast") == fast
    assert not np.array_equal(shared["yonly"], shared["colour"])

    variant = colour._variant

    def off_by_one(*a):
        images, n = variant(*a)
        return {**images, "yonly": images["yonly"] ^ 1}, n

    monkeypatch.setattr(colour, "_variant", off_by_one)
    with pytest.raises(SystemExit, match="yonly"):
        colour._checked(data, restorers, args, check=True)
    colour._checked(data, restorers, args, check=False)  # unchecked files are not compared


def test_colour_benchmark_counts_the_default_cost_with_its_self_ensembles():
    from arcnn.flops import macs_per_pixel
    from arcnn.zoo import load_model
    from benchmarks.colour import cost_line

    q10 = {"4:2:0": {10: ("arcnn-large", "arcnn-chroma-unet", "arcnn-chroma-unet")}}
    models = ("arcnn-large", "arcnn-chroma-unet", "arcnn-blind")
    large, chroma, blind = (macs_per_pixel(load_model(m)) for m in models)
    line = cost_line(q10, None)
    assert f"at most {(2 * large + 4 * chroma) / 1e3:.0f} k" in line and line.endswith("0.5 M: yes.")
    assert "(2 × arcnn-large + 4 × arcnn-chroma-unet," in line
    assert cost_line(q10, None, [4, 8]).endswith("0.5 M: no.")
    both = {"4:2:0": {**q10["4:2:0"], 95: ("arcnn-blind", "arcnn-chroma-unet", "None")}}
    worst = max(2 * large + 4 * chroma, 2 * blind)
    assert f"at most {worst / 1e3:.0f} k" in cost_line(both, None)


def test_the_fast_tier_gets_its_own_chroma_model_where_one_is_shipped(monkeypatch):
    import arcnn.policy as policy
    import arcnn.zoo as zoo

    rgb = smooth_image(32, 32, colour=True)
    assert policy.FAST_CHROMA_MODEL in zoo.REGISTRY
    assert chroma_model(_jpeg(rgb, "4:2:0"), fast=True) == policy.FAST_CHROMA_MODEL
    assert chroma_model(_jpeg(rgb, "4:2:0")) == policy.CHROMA_MODEL  # the default tier keeps its own
    for subsampling, limit in policy.FAST_CHROMA_AUTO_MAX_QUALITY.items():  # its own limits
        assert limit <= policy.CHROMA_AUTO_MAX_QUALITY[subsampling]
        assert chroma_model(_jpeg(rgb, subsampling, quality=limit), fast=True) == policy.FAST_CHROMA_MODEL
        assert chroma_model(_jpeg(rgb, subsampling, quality=limit + 1), fast=True) is None
        assert chroma_model(_jpeg(rgb, subsampling, limit + 1), "on", fast=True) == policy.FAST_CHROMA_MODEL
    assert chroma_model(_jpeg(rgb, "4:2:0"), "off", fast=True) is None
    monkeypatch.setattr(policy, "FAST_CHROMA_MODEL", "not-shipped")  # none shipped: the default's
    assert chroma_model(_jpeg(rgb, "4:2:0"), fast=True) == policy.CHROMA_MODEL


def test_colour_benchmark_of_the_fast_tier_names_it_and_claims_no_default_target():
    from benchmarks.colour import cost_line, results_lines

    m = {"jpeg": np.array([25.0, 28.0, 6.0]), "yonly": np.array([26.0, 29.0, 5.9])}
    m |= {"colour": np.array([26.5, 29.0, 5.0]), "auto": np.array([26.5, 29.0, 5.0])}
    names = {"4:2:0": {10: ("fast-arcnn-relu-q10", "arcnn-chroma-unet", "arcnn-chroma-unet")}}
    fast = results_lines("LIVE1", 29, {"4:2:0": {10: m}}, names, fast=True)
    assert "what `arcnn restore --fast` does" in fast[0] and not any("targets" in x for x in fast)
    assert any("targets" in x for x in results_lines("LIVE1", 29, {"4:2:0": {10: m}}, names))
    line = cost_line(names, None, fast=True)
    assert line.startswith("`--fast`'s cost: at most")
    assert "(1 × fast-arcnn-relu-q10 + 1 × arcnn-chroma-unet;" in line
