"""What each output format keeps of a restored image: 16-bit gray, alpha, frames, transparency, and the
output name's suffix. Whatever a format cannot hold is converted the documented way or refused with one
ValueError that names what works; nothing is silently lost."""

import io

import numpy as np
import pytest
from PIL import Image

from arcnn.files import FORMATS, encode_image, format_for, save_image
from arcnn.models import ConvStack, preset
from arcnn.pipeline import RestoreError, RestoreOptions, Restorer
from arcnn.weights import save_weights

from .conftest import ZLIB_FLEVEL, png_zlib_level, smooth_image

H, W = 24, 32


@pytest.fixture
def tiny(tmp_path):
    """A small residual network whose output visibly differs from its input."""
    path = tmp_path / "tiny.safetensors"
    save_weights(path, ConvStack(preset("srcnn", residual=True)))
    return str(path)


@pytest.fixture
def restorer(tiny):
    return Restorer(RestoreOptions(model=tiny))


def _alpha() -> np.ndarray:
    """An alpha plane with fully transparent, partly transparent and opaque pixels."""
    a = np.tile(np.linspace(0, 255, W).astype(np.uint8), (H, 1))
    a[:, : W // 4] = 0
    return a


def _input(mode: str, path) -> None:
    gray, rgb = smooth_image(H, W, seed=1), smooth_image(H, W, seed=2, colour=True)
    if mode == "I;16":  # every 16-bit value, not 8-bit ones scaled: the low byte varies
        Image.fromarray(gray.astype(np.uint16) * 257 + np.arange(W, dtype=np.uint16) * 7).save(path)
    elif mode == "CMYK":
        Image.fromarray(np.dstack([rgb, gray]), "CMYK").save(path)
    elif mode == "LA":
        Image.fromarray(np.dstack([gray, _alpha()]), "LA").save(path)
    elif mode == "RGBA":
        Image.fromarray(np.dstack([rgb, _alpha()]), "RGBA").save(path)
    else:
        Image.fromarray(gray if mode == "L" else rgb).save(path)


def _documented(image: Image.Image, fmt: str) -> Image.Image:
    """The image a format holds, as the docs say: 16 bits -> 8 (value / 257, rounded) for webp and
    jpeg, CMYK -> RGB for png and webp; everything else as restored."""
    if image.mode == "I;16" and fmt in ("webp", "jpeg"):
        return Image.fromarray(np.round(np.asarray(image) / 257).astype(np.uint8))
    if image.mode == "CMYK" and fmt in ("png", "webp"):
        return image.convert("RGB")
    return image


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("mode", ["L", "I;16", "RGB", "CMYK", "LA", "RGBA"])
def test_every_restored_mode_in_every_format(tmp_path, restorer, mode, fmt):
    src = tmp_path / ("in.tif" if mode == "CMYK" else "in.png")
    _input(mode, src)
    result = restorer.restore(src)
    assert result.image.mode == mode
    out = tmp_path / f"out{FORMATS[fmt][0]}"
    if fmt == "jpeg" and mode in ("LA", "RGBA"):
        with pytest.raises(ValueError, match="alpha channel: choose png, webp or tiff"):
            save_image(result.image, out, info=result.info)
        assert not out.exists()
        return
    save_image(result.image, out, info=result.info)  # as arcnn restore writes one image
    with Image.open(out) as im:
        got = np.asarray(im).astype(int)
        # WebP holds no gray: L is read back as RGB, LA as RGBA, the gray in each of R, G, B.
        want = np.asarray(_documented(result.image, fmt).convert(im.mode)).astype(int)
    assert got.shape == want.shape
    if fmt == "jpeg":  # lossy (4:4:4 at quality 95): close, not equal
        assert np.abs(got - want).mean() < 5 and np.abs(got - want).max() < 40
    else:
        assert np.array_equal(got, want)
    if mode == "I;16":
        assert got.max() > 255 if fmt in ("png", "tiff") else 0 < got.mean() < 250  # not clipped white


def test_sixteen_bit_to_eight_bit_rounds():
    values = np.array([[0, 128, 129, 385, 386, 32767, 65406, 65407, 65535]], np.uint16)
    im = Image.fromarray(values)
    assert im.mode == "I;16"
    with Image.open(io.BytesIO(encode_image(im, "webp"))) as back:
        assert np.asarray(back.convert("L"))[0].tolist() == [0, 0, 1, 1, 2, 127, 254, 255, 255]


def _frames(kind: str) -> list[Image.Image]:
    return [Image.fromarray(smooth_image(H, W, seed=10 + i, colour=kind != "gray")) for i in range(3)]


def _multi_frame(kind: str, path) -> None:
    """A 3-frame input: gif (palette, transparent index), tiff pages, webp or png (APNG) animations."""
    frames = _frames(kind)
    if kind == "gif":
        pal = [f.quantize(64) for f in frames]
        pal[0].save(path, save_all=True, append_images=pal[1:], duration=[40, 50, 60], loop=0, transparency=0)
    elif kind == "tiff":
        gray = [f.convert("L") for f in frames]
        gray[0].save(path, save_all=True, append_images=gray[1:])
    elif kind == "webp":
        frames[0].save(path, save_all=True, append_images=frames[1:], lossless=True, duration=[40, 50, 60],
                       loop=2)  # fmt: skip
    else:
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=[40, 50, 60], loop=2)


@pytest.mark.parametrize(
    "kind,fmt",
    [("gif", "webp"), ("gif", "tiff"), ("tiff", "tiff"), ("tiff", "webp"), ("webp", "webp"), ("webp", "tiff"),
     ("apng", "webp")],
)  # fmt: skip
def test_every_frame_is_restored_and_written(tmp_path, restorer, kind, fmt):
    src = tmp_path / f"in.{ {'apng': 'png', 'tiff': 'tif'}.get(kind, kind) }"
    _multi_frame(kind, src)
    result = restorer.restore(src)
    assert len(result.frames) == 3 and result.frames[0] is result.image
    with Image.open(src) as im:  # each frame restored as if it were the only one
        for i, frame in enumerate(result.frames):
            im.seek(i)
            alone = restorer.restore(im.copy()).image
            assert frame.mode == alone.mode and np.array_equal(np.asarray(frame), np.asarray(alone)), i
        assert not np.array_equal(np.asarray(result.frames[0]), np.asarray(result.frames[1]))
    out = tmp_path / f"out{FORMATS[fmt][0]}"
    save_image(result, out)
    with Image.open(out) as im:
        assert im.n_frames == 3
        for i, frame in enumerate(result.frames):
            im.seek(i)
            got, want = np.asarray(im.convert(frame.mode)), np.asarray(frame)
            if frame.mode == "RGBA" and fmt == "webp":  # an animation keeps visible pixels and alpha
                visible = want[..., 3] > 0
                assert np.array_equal(got[..., 3], want[..., 3])
                assert np.array_equal(got[visible], want[visible])
            else:
                assert np.array_equal(got, want), i
            if fmt == "webp" and kind != "tiff":
                assert im.info["duration"] == [40, 50, 60][i]
        if fmt == "webp" and kind != "tiff":
            assert im.info["loop"] == (0 if kind == "gif" else 2)  # GIF's 0 and WebP's 0: forever


def test_gif_loop_count_becomes_webp_plays(tmp_path, restorer):
    """A GIF without a loop count plays once; with count n it plays n + 1 times: WebP counts plays."""
    frames = [f.quantize(16) for f in _frames("colour")]
    for loop, plays in ((None, 1), (3, 4)):
        src = tmp_path / f"loop{loop}.gif"
        frames[0].save(src, save_all=True, append_images=frames[1:], duration=50,
                       **({} if loop is None else {"loop": loop}))  # fmt: skip
        out = tmp_path / f"loop{loop}.webp"
        save_image(restorer.restore(src), out)
        with Image.open(out) as im:
            assert im.n_frames == 3 and im.info["loop"] == plays


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_several_frames_to_png_or_jpeg_are_refused(tmp_path, restorer, fmt):
    src = tmp_path / "in.gif"
    _multi_frame("gif", src)
    result = restorer.restore(src)
    out = tmp_path / f"out{FORMATS[fmt][0]}"
    refusal = f"has 3 frames; {FORMATS[fmt][1]} would keep only the first: use --format tiff or --format webp"
    with pytest.raises(ValueError, match=refusal):
        save_image(result, out)
    assert not out.exists()
    with pytest.raises(ValueError, match="has 3 frames"):
        encode_image(result.frames, fmt)


def test_frames_of_different_sizes_are_refused_for_webp(tmp_path, restorer):
    src = tmp_path / "pages.tif"
    small = Image.fromarray(smooth_image(H // 2, W // 2))
    Image.fromarray(smooth_image(H, W)).save(src, save_all=True, append_images=[small])
    result = restorer.restore(src)
    assert [f.size for f in result.frames] == [(W, H), (W // 2, H // 2)]
    with pytest.raises(ValueError, match="differ in size.*--format tiff"):
        save_image(result, tmp_path / "out.webp")
    save_image(result, tmp_path / "out.tif")
    with Image.open(tmp_path / "out.tif") as im:
        assert im.n_frames == 2


def test_one_frame_results_are_unchanged(tmp_path, restorer):
    src = tmp_path / "one.png"
    _input("RGB", src)
    result = restorer.restore(src)
    assert result.frames == [result.image]
    with Image.open(src) as im:
        assert np.array_equal(np.asarray(restorer.restore(im).image), np.asarray(result.image))
    assert encode_image(result) == encode_image(result.image)


def test_pixel_limit_counts_every_frame(tmp_path, tiny):
    src = tmp_path / "in.gif"
    _multi_frame("gif", src)  # 3 frames of 32x24 = 768 pixels
    with pytest.raises(RestoreError, match="read failed: 32x24 x 3 frames exceeds the pixel limit 2000"):
        Restorer(RestoreOptions(model=tiny, max_pixels=2000)).restore(src)
    assert len(Restorer(RestoreOptions(model=tiny, max_pixels=2304)).restore(src).frames) == 3
    pages = tmp_path / "pages.tif"  # a small first page does not hide a large second one
    Image.fromarray(smooth_image(8, 8)).save(
        pages, save_all=True, append_images=[Image.fromarray(smooth_image(H, W))]
    )
    with pytest.raises(
        RestoreError, match="read failed: frames 1 to 2 of 2 hold 832 pixels, over the pixel limit 500"
    ):
        Restorer(RestoreOptions(model=tiny, max_pixels=500)).restore(pages)


def test_a_broken_later_frame_is_a_decode_error(tmp_path, restorer):
    src = tmp_path / "in.gif"
    _multi_frame("gif", src)
    data = src.read_bytes()
    cut = tmp_path / "cut.gif"
    cut.write_bytes(data[: len(data) * 3 // 4])
    with pytest.raises(RestoreError) as e:
        restorer.restore(cut)
    assert e.value.stage == "decode" and str(e.value).startswith("decode failed: ")


@pytest.mark.parametrize("kind", ["palette-index", "palette-alphas", "rgb-key", "gray-key"])
def test_transparent_colour_is_kept_as_alpha(tmp_path, restorer, kind):
    rgb, gray = smooth_image(H, W, colour=True), smooth_image(H, W)
    src = tmp_path / "in.png"
    if kind == "palette-index":
        Image.fromarray(rgb).quantize(32).save(src, transparency=3)
    elif kind == "palette-alphas":
        Image.fromarray(rgb).quantize(32).save(src, transparency=bytes(range(0, 256, 8)))
    elif kind == "rgb-key":
        Image.fromarray(rgb).save(src, transparency=tuple(int(v) for v in rgb[0, 0]))
    else:
        Image.fromarray(gray).save(src, transparency=int(gray[0, 0]))
    with_alpha = "LA" if kind == "gray-key" else "RGBA"
    with Image.open(src) as im:
        alpha = np.asarray(im.convert(with_alpha).getchannel("A"))
    assert 0 < (alpha == 0).sum() < alpha.size
    result = restorer.restore(src)
    assert result.image.mode == with_alpha
    assert np.array_equal(np.asarray(result.image.getchannel("A")), alpha)
    for fmt in ("png", "webp", "tiff"):
        out = tmp_path / f"out{FORMATS[fmt][0]}"
        save_image(result, out)
        with Image.open(out) as im:
            assert np.array_equal(np.asarray(im.getchannel("A")), alpha), fmt


def test_sixteen_bit_gray_with_a_transparent_value_is_refused(tmp_path, restorer):
    src = tmp_path / "in.png"
    Image.fromarray(smooth_image(H, W).astype(np.uint16) * 257).save(src, transparency=0)
    with pytest.raises(RestoreError, match="restore failed: 16-bit grayscale with a transparent value"):
        restorer.restore(src)


@pytest.mark.parametrize(
    "name,fmt,want",
    [("x.png", None, "png"), ("x.JPG", None, "jpeg"), ("x.jpeg", None, "jpeg"), ("x.tiff", None, "tiff"),
     ("x.webp", None, "webp"), ("x", None, "png"), ("x.bmp", "png", "png"), ("x.out", "webp", "webp"),
     ("x.tif", "tiff", "tiff")],
)  # fmt: skip
def test_output_format_from_name_and_option(name, fmt, want):
    assert format_for(name, fmt) == want


@pytest.mark.parametrize(
    "name,fmt,match",
    [("x.bmp", None, r"does not write \.bmp files \(x\.bmp\).*--format"),
     ("x.gif", None, r"does not write \.gif"),
     ("x.png", "jpeg", r"x\.png names a png file but the format asked for is jpeg: name it x\.jpg"),
     ("x.tif", "webp", r"x\.tif names a tiff file.*webp"),
     ("x.png", "bmp", "format must be one of png, webp, tiff, jpeg")],
)  # fmt: skip
def test_output_name_that_lies_about_the_format_is_refused(tmp_path, name, fmt, match):
    with pytest.raises(ValueError, match=match):
        format_for(name, fmt)
    with pytest.raises(ValueError, match=match):
        save_image(Image.new("L", (8, 8)), tmp_path / name, fmt)
    assert not (tmp_path / name).exists()


def test_every_png_level_writes_the_same_pixels_at_the_level_asked_for(tmp_path):
    pixels = smooth_image(H, W, colour=True)
    sizes = []
    for level in range(10):
        data = encode_image(Image.fromarray(pixels), "png", png_level=level)
        save_image(Image.fromarray(pixels), tmp_path / f"{level}.png", png_level=level)
        assert (tmp_path / f"{level}.png").read_bytes() == data
        assert png_zlib_level(data) == ZLIB_FLEVEL[level], level
        with Image.open(io.BytesIO(data)) as im:
            assert np.array_equal(np.asarray(im), pixels), level  # lossless at any level
        sizes.append(len(data))
    assert sizes[0] > sizes[1] >= sizes[9]
    assert png_zlib_level(encode_image(Image.fromarray(pixels))) == ZLIB_FLEVEL[6]  # Pillow's default


@pytest.mark.parametrize("bad", [-1, 10, 3.0, True, "3"])
def test_a_bad_png_level_is_refused_and_nothing_is_written(tmp_path, bad):
    image = Image.fromarray(smooth_image(H, W))
    with pytest.raises(ValueError, match="png_level"):
        save_image(image, tmp_path / "x.png", png_level=bad)
    with pytest.raises(ValueError, match="png_level"):
        encode_image(image, "webp", png_level=bad)  # refused whatever the format
    assert not list(tmp_path.iterdir())
