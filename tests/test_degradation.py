"""Degradation pipelines: the evaluation protocol, down-scaling (Table 3), the social-media case."""

import numpy as np
import pytest
from PIL import Image

from arcnn.codec import jpeg_roundtrip, rgb2ycbcr
from arcnn.data import Degradation, load_luma, make_pairs
from arcnn.evaluate import evaluate
from arcnn.train import make_config

from .conftest import smooth_image


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(smooth_image(96, 144, colour=True)).save(path)
    return path


def test_protocol_is_grayscale_jpeg_of_y(photo):
    clean, degraded = Degradation(20).pair(photo)
    assert np.array_equal(clean, load_luma(photo))
    assert np.array_equal(degraded, jpeg_roundtrip(clean, 20))


def test_scale_resizes_before_compressing(photo):
    clean, degraded = Degradation(10, scale=0.5).pair(photo)
    assert clean.shape == degraded.shape == (48, 72)
    small = np.asarray(Image.open(photo).resize((72, 48), Image.BICUBIC))
    assert np.array_equal(clean, rgb2ycbcr(small)[..., 0])
    assert np.array_equal(degraded, jpeg_roundtrip(clean, 10))


def test_social_fits_the_box_in_either_orientation_and_compresses_colour(photo, tmp_path):
    deg = Degradation(75, box=(600, 450))
    assert deg.fitted_size(481, 321) == (600, 400)
    assert deg.fitted_size(321, 481) == (400, 600)
    clean, degraded = deg.pair(photo)
    assert clean.shape == degraded.shape == (400, 600)
    rgb = np.asarray(Image.open(photo).resize((600, 400), Image.BICUBIC))
    assert np.array_equal(clean, rgb2ycbcr(rgb)[..., 0])
    colour_jpeg = rgb2ycbcr(jpeg_roundtrip(rgb, 75, "4:2:0"))[..., 0]
    assert np.array_equal(degraded, colour_jpeg)
    assert not np.array_equal(degraded, jpeg_roundtrip(clean, 75))  # not the grayscale protocol
    nearest = Degradation(75, box=(600, 450), resample="nearest").pair(photo)[0]
    assert not np.array_equal(nearest, clean)


@pytest.mark.parametrize(
    "kw,match",
    [({"quality": 0}, "quality"), ({"scale": 2.0}, "scale"), ({"box": (600,)}, "box"),
     ({"box": (600, 450), "resample": "cubic"}, "resample"), ({"subsampling": "4:1:1"}, "subsampling")],
)  # fmt: skip
def test_bad_degradations_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        Degradation(**{"quality": 10, **kw})


def test_pairs_are_cached_per_degradation(image_dir):
    files = sorted(image_dir.iterdir())
    plain, social = make_pairs(files, 30), make_pairs(files, Degradation(30, box=(120, 90)))
    assert plain.clean[0].shape == (72, 88) and social.clean[0].shape == (90, 110)
    again = make_pairs(files, Degradation(30, box=(120, 90)))
    assert all(np.array_equal(a, b) for a, b in zip(social.degraded, again.degraded))


def test_training_config_and_evaluate_take_the_degradation(image_dir):
    cfg = make_config("fast", quality=30, box=(120, 90))
    assert cfg.degradation == Degradation(30, box=(120, 90))
    with pytest.raises(ValueError, match="box"):
        make_config("fast", box=(1, 2, 3))
    res = evaluate(image_dir, 30, "jpeg", scale=0.5)
    assert res["images"][0]["psnr"] > 20 and len(res["images"]) == 4


def test_webp_codec_replaces_jpeg(photo):
    from arcnn.codec import webp_roundtrip

    clean, degraded = Degradation(20, codec="webp").pair(photo)
    assert np.array_equal(clean, load_luma(photo))
    assert np.array_equal(degraded, webp_roundtrip(clean, 20))
    assert not np.array_equal(degraded, jpeg_roundtrip(clean, 20))
    with pytest.raises(ValueError, match="codec"):
        Degradation(20, codec="avif")
    assert make_config("fast", codec="webp").degradation.codec == "webp"
