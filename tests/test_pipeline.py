"""One pipeline behind every surface: the API and ``arcnn restore`` give the same pixels."""

import dataclasses
import doctest
import io

import numpy as np
import pytest
from PIL import Image

import arcnn
from arcnn import policy
from arcnn.batch import options_from_args
from arcnn.cli import build_parser, main
from arcnn.codec import jpeg_roundtrip
from arcnn.files import encode_image, save_image
from arcnn.pipeline import RestoreOptions, Restorer
from arcnn.sample import sample_path

from .conftest import ZLIB_FLEVEL, png_zlib_level


def _inputs(tmp_path):
    colour = sample_path("astronaut-q10.jpg")  # Pillow colour JPEG, q10, 4:2:0
    gray = tmp_path / "gray.jpg"
    luma = np.asarray(Image.open(sample_path("astronaut-y128.png")))
    Image.fromarray(luma).save(gray, quality=20)
    was_jpeg = tmp_path / "was-jpeg.png"
    Image.fromarray(jpeg_roundtrip(luma, 30)).save(was_jpeg)
    return [colour, gray, was_jpeg]


def test_api_and_cli_give_identical_pixels(tmp_path):
    for src in _inputs(tmp_path):
        out = tmp_path / f"{src.stem}-cli.png"
        assert main(["restore", str(src), "-o", str(out), "-q"]) == 0
        with Image.open(out) as im:
            cli = np.asarray(im)
        from_path = np.asarray(arcnn.restore(src))
        with Image.open(src) as im:
            from_image = np.asarray(arcnn.restore(im))
        from_bytes = np.asarray(arcnn.restore(src.read_bytes()))
        for api in (from_path, from_image, from_bytes):
            assert api.shape == cli.shape and np.array_equal(api, cli), src.name


def test_a_folder_read_ahead_gives_the_pixels_of_one_file_at_a_time(tmp_path, capsys):
    # arcnn restore decodes the next file in a reader thread while it restores this one: the same
    # pixels as the API's one file at a time, and a file that cannot be read costs only itself.
    folder = tmp_path / "in"
    folder.mkdir()
    for i, src in enumerate(_inputs(tmp_path)):
        (folder / f"{i}{src.suffix}").write_bytes(src.read_bytes())
    (folder / "1a.jpg").write_bytes((folder / "0.jpg").read_bytes()[:300])  # truncated: decode fails
    assert main(["restore", str(folder), "-o", str(tmp_path / "out") + "/", "-q"]) == 1
    assert "1a.jpg" in capsys.readouterr().err
    restorer = Restorer()
    for i in range(3):
        src = next(folder.glob(f"{i}.*"))
        opened = restorer.open(src)
        api = np.asarray(restorer.restore_opened(opened).image)
        with Image.open(tmp_path / "out" / f"{i}.png") as im:
            assert np.array_equal(np.asarray(im), api), src.name
    assert not (tmp_path / "out" / "1a.png").exists()


def test_every_cli_option_has_the_api_default():
    args = build_parser().parse_args(["restore", "x.jpg"])
    assert options_from_args(args) == RestoreOptions()
    cli_names = {a.dest for a in build_parser()._subparsers._group_actions[0].choices["restore"]._actions}
    api_only = {"tile"}  # memory bound, not a result: the CLI keeps the default
    assert {f.name for f in dataclasses.fields(RestoreOptions)} - api_only <= cli_names


def test_result_says_how_it_was_made():
    result = Restorer().restore(sample_path("astronaut-q10.jpg"))
    assert result.model == policy.LARGE_MODEL and result.quality.quality == 10 and result.quality.exact
    assert result.chroma_model is not None and result.image.mode == "RGB"
    png = io.BytesIO()
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(png, format="PNG")
    result = Restorer(RestoreOptions(model="arcnn-q20")).restore(png.getvalue())
    assert result.model == "arcnn-q20" and result.chroma_model is None
    fast = Restorer(RestoreOptions(fast=True, chroma="off")).restore(sample_path("astronaut-q10.jpg"))
    assert fast.model == "fast-arcnn-relu-q10" and fast.chroma_model is None  # the fast tier's q10 model


BAD_OPTIONS = [
    {"quality": 0}, {"quality": -5}, {"quality": 101}, {"quality": 10.5}, {"quality": "high"},
    {"chroma": "yes"}, {"ensemble": 3}, {"backend": "tpu"}, {"max_pixels": float("nan")},
    {"max_pixels": float("inf")}, {"max_pixels": -1}, {"method": "magic"}, {"tile": 0},
    {"consistency": "yes"}, {"colour": "on"}, {"method": "sadct", "model": "arcnn-q10"},
    {"backend": "onnxruntime", "bf16": True}, {"png_level": -1}, {"png_level": 10}, {"png_level": 6.0},
    {"png_level": "6"}, {"png_level": True}, {"fast": 1}, {"fast": True, "model": "arcnn-q10"},
    {"fast": True, "method": "sadct"},
]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_OPTIONS)
def test_bad_options_are_refused_before_anything_is_loaded(bad):
    with pytest.raises(ValueError):
        RestoreOptions.from_dict(bad)


def test_png_level_goes_from_the_options_to_the_written_file(tmp_path):
    options = RestoreOptions.from_dict({"png_level": 1, "chroma": "off"})
    assert options.png_level == options.output_png_level == 1 and RestoreOptions().output_png_level == 6
    assert RestoreOptions(fast=True).output_png_level == 3  # the fast tier's own, unless asked
    assert RestoreOptions(fast=True, png_level=6).output_png_level == 6
    result = Restorer(options).restore(sample_path("astronaut-q10.jpg"))
    assert result.png_level == 1
    save_image(result, tmp_path / "one.png")  # the result's level
    assert png_zlib_level((tmp_path / "one.png").read_bytes()) == ZLIB_FLEVEL[1]
    save_image(result, tmp_path / "nine.png", png_level=9)  # a level given wins
    assert png_zlib_level((tmp_path / "nine.png").read_bytes()) == ZLIB_FLEVEL[9]
    assert png_zlib_level(encode_image(result)) == ZLIB_FLEVEL[1]
    for name in ("one.png", "nine.png"):
        with Image.open(tmp_path / name) as im:
            assert np.array_equal(np.asarray(im), np.asarray(result.image))


def test_bad_inputs_are_refused_with_a_value_error():
    for bad in (None, 42, 3.5, [1, 2]):
        with pytest.raises(ValueError, match="expected"):
            arcnn.restore(bad)
    with pytest.raises(ValueError, match="unknown model"):
        arcnn.restore(np.zeros((8, 8), np.uint8), model="no-such-model")


def test_docstring_examples_run():
    import arcnn.codec
    import arcnn.engine
    import arcnn.flops
    import arcnn.options
    import arcnn.pipeline

    for module in (arcnn.codec, arcnn.engine, arcnn.flops, arcnn.options, arcnn.pipeline, arcnn.policy):
        failed, tried = doctest.testmod(module)
        assert tried and not failed, module.__name__


def test_colour_images_get_the_default_self_ensembles_and_grayscale_ones_one_pass(tmp_path):
    """By default a colour JPEG's luminance is the mean of 2 restorations and its chroma of 4
    (policy.ensembles); grayscale images and --fast get one pass; --ensemble N sets all three."""
    from arcnn.engine import restore_chroma, restore_luma

    rgb = np.asarray(Image.open(sample_path("astronaut-q10.jpg")).convert("RGB"))[:72, :88]
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=10)
    calls: list[tuple[str, int]] = []

    def spy(fn, kind):
        return lambda *a, **k: calls.append((kind, k.get("ensemble", 1))) or fn(*a, **k)

    restorer = Restorer(RestoreOptions())
    for given, fast, n_luma, n_chroma in ((None, False, 2, 4), (None, True, 1, 1), (8, False, 8, 8)):
        calls.clear()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("arcnn.pipeline.restore_luma", spy(restore_luma, "luma"))
            mp.setattr("arcnn.pipeline.restore_chroma", spy(restore_chroma, "chroma"))
            Restorer(RestoreOptions(ensemble=given, fast=fast)).restore(buf.getvalue())
        assert calls == [("luma", n_luma), ("chroma", n_chroma)], (given, fast)
    single = np.asarray(Restorer(RestoreOptions(ensemble=1)).restore(buf.getvalue()).image)
    assert not np.array_equal(np.asarray(restorer.restore(buf.getvalue()).image), single)
    gray = jpeg_roundtrip(np.asarray(Image.open(sample_path("astronaut-y128.png")))[:40, :48], 20)
    assert np.array_equal(arcnn.restore(gray), arcnn.restore(gray, ensemble=1))


def test_colour_planes_left_as_decoded_give_the_jpeg_as_libjpeg_decodes_it():
    """Back to RGB as libjpeg converts: restoring adds no colour shift of its own (Pillow's
    convert("RGB") of the same planes is about half a level low, python -m benchmarks.colour)."""
    from arcnn.pipeline import map_luma

    from .conftest import smooth_image

    rgb = smooth_image(40, 56, colour=True)
    for subsampling in ("4:2:0", "4:2:2", "4:4:4"):
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "JPEG", quality=50, subsampling=subsampling)
        with Image.open(buf) as im:
            decoded = np.asarray(im.convert("RGB"))
        with Image.open(buf) as im:
            im.draft("YCbCr", im.size)
            assert np.array_equal(np.asarray(map_luma(im, lambda y: y, lambda ycc: ycc[..., 1:])), decoded)
    back = np.asarray(map_luma(Image.fromarray(rgb), lambda y: y)).astype(int) - rgb  # a PNG's RGB
    assert np.abs(back).max() <= 1 and np.abs(back.mean(axis=(0, 1))).max() < 0.05
