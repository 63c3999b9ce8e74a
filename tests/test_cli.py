import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from arcnn.cli import main
from arcnn.models import ConvStack, preset
from arcnn.weights import save_weights
from benchmarks.startup import TORCH_PROBE

from .conftest import ZLIB_FLEVEL, png_zlib_level, smooth_image


@pytest.fixture
def tiny_weights(tmp_path):
    """A small residual network whose output visibly differs from its input."""
    model = ConvStack(preset("srcnn", residual=True))
    path = tmp_path / "tiny.safetensors"
    save_weights(path, model)
    return str(path)


def _write_jpeg(path, colour=False, quality=10, seed=0, **kw):
    Image.fromarray(smooth_image(40, 56, seed=seed, colour=colour)).save(path, quality=quality, **kw)
    return path


def test_help_and_the_default_restore_never_import_torch(tmp_path):
    src = _write_jpeg(tmp_path / "a.jpg", colour=True)  # q10 colour: a shipped luminance and chroma model
    for argv in (["--help"], ["restore", str(src), "-o", str(tmp_path / "b.png")]):
        r = subprocess.run([sys.executable, "-c", TORCH_PROBE, *argv], capture_output=True, text=True)
        assert r.returncode == 0, f"arcnn {argv}: exit {r.returncode} (99: torch imported) {r.stderr}"
    with Image.open(tmp_path / "b.png") as im:
        assert im.size == (56, 40) and im.mode == "RGB"


# A process that ends through arcnn.__main__.finish: atexit callbacks and buffered output are kept,
# the teardown of modules (a module global's __del__ here) is skipped; with a thread still running,
# finish returns and the process exits the usual way.
FINISH = """
import atexit, sys, threading
atexit.register(lambda: print("atexit ran"))
class Late:
    def __del__(self):
        print("teardown ran")
late = Late()
print("buffered", end=" ")
if sys.argv[1] == "thread":
    threading.Thread(target=threading.Event().wait, args=(0.5,)).start()
from arcnn.__main__ import finish
finish(3)
print("returned", end=" ")
sys.exit(4)
"""


def test_finish_keeps_atexit_and_output_and_skips_the_teardown():
    quick = subprocess.run([sys.executable, "-c", FINISH, "alone"], capture_output=True, text=True)
    assert (quick.returncode, quick.stdout) == (3, "buffered atexit ran\n")
    usual = subprocess.run([sys.executable, "-c", FINISH, "thread"], capture_output=True, text=True)
    assert (usual.returncode, usual.stdout) == (4, "buffered returned atexit ran\nteardown ran\n")


def test_restore_gray_jpeg_to_gray_png(tmp_path, tiny_weights):
    src = _write_jpeg(tmp_path / "a.jpg")
    out = tmp_path / "out.png"
    assert main(["restore", str(src), "-o", str(out), "--model", tiny_weights]) == 0
    with Image.open(out) as im:
        assert im.format == "PNG" and im.mode == "L" and im.size == (56, 40)


def test_restore_colour_keeps_colour_and_icc(tmp_path, tiny_weights):
    icc = b"\x00" * 128  # Pillow passes the profile bytes through untouched
    src = _write_jpeg(tmp_path / "c.jpg", colour=True, icc_profile=icc)
    out_dir = tmp_path / "restored"
    assert main(["restore", str(src), "-o", f"{out_dir}/", "--model", tiny_weights]) == 0
    with Image.open(out_dir / "c.png") as im, Image.open(src) as orig:
        assert im.mode == "RGB" and im.size == orig.size
        assert im.info.get("icc_profile") == icc
        diff = np.abs(np.asarray(im).astype(int) - np.asarray(orig.convert("RGB"))).mean()
        assert diff < 30


def test_restore_folder_and_several_inputs(tmp_path, tiny_weights):
    d = tmp_path / "in"
    d.mkdir()
    for i in range(3):
        _write_jpeg(d / f"f{i}.jpg", seed=i)
    extra = _write_jpeg(tmp_path / "extra.jpeg", seed=9)
    out = tmp_path / "out"
    assert main(["restore", str(d), str(extra), "-o", str(out), "--model", tiny_weights, "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["extra.png", "f0.png", "f1.png", "f2.png"]


def test_restore_shipped_default_improves_the_sample(tmp_path):
    """The shipped default model, chosen by --quality auto, lowers the error of a q10 JPEG."""
    from arcnn.metrics import psnr
    from arcnn.sample import sample_path

    clean = np.asarray(Image.open(sample_path("astronaut-y128.png")))
    src = tmp_path / "crop.jpg"
    Image.fromarray(clean).save(src, quality=10)
    out = tmp_path / "crop.png"
    assert main(["restore", str(src), "-o", str(out)]) == 0
    jpeg = np.asarray(Image.open(src))
    restored = np.asarray(Image.open(out))
    assert psnr(clean, restored) > psnr(clean, jpeg) + 0.5
    plain = tmp_path / "plain.png"
    assert main(["restore", str(src), "-o", str(plain), "--consistency", "off"]) == 0
    plain = np.asarray(Image.open(plain))
    assert not np.array_equal(plain, restored) and psnr(clean, restored) >= psnr(clean, plain)


@pytest.mark.parametrize("kind", ["truncated", "not_image", "missing", "overwrite"])
def test_bad_inputs_one_line_error_others_processed(tmp_path, tiny_weights, capsys, kind):
    good = _write_jpeg(tmp_path / "good.jpg")
    out = tmp_path / "out"
    out.mkdir()
    if kind == "truncated":
        full = (tmp_path / "good.jpg").read_bytes()
        bad = tmp_path / "bad.jpg"
        bad.write_bytes(full[: len(full) // 2])
    elif kind == "not_image":
        bad = tmp_path / "bad.jpg"
        bad.write_text("hello, I am not a JPEG\n")
    elif kind == "missing":
        bad = tmp_path / "nope.jpg"
    else:
        bad = _write_jpeg(out / "bad.png", seed=3)  # restoring it into out/ would replace it
    before = bad.read_bytes() if bad.exists() else None
    code = main(["restore", str(bad), str(good), "-o", str(out), "--model", tiny_weights])
    err = capsys.readouterr().err
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("arcnn: error:")
    assert bad.name in lines[0]
    assert "Traceback" not in err
    assert (out / "good.png").exists()
    if before is not None:
        assert bad.read_bytes() == before
    written = sorted(p.name for p in out.iterdir())
    assert written == (["bad.png", "good.png"] if kind == "overwrite" else ["good.png"])


def test_unreadable_path_is_reported(tmp_path, tiny_weights, capsys):
    d = tmp_path / "sub"
    d.mkdir()
    src = _write_jpeg(d / "x.jpg")
    src.chmod(0)
    try:
        readable = False
        try:
            src.read_bytes()
            readable = True  # running as root: permissions do not apply
        except PermissionError:
            pass
        code = main(["restore", str(src), "-o", str(tmp_path / "o.png"), "--model", tiny_weights])
        if not readable:
            assert code != 0 and "x.jpg" in capsys.readouterr().err
    finally:
        src.chmod(0o644)


def test_bad_model_and_quality_arguments(tmp_path, capsys):
    src = _write_jpeg(tmp_path / "a.jpg")
    assert main(["restore", str(src), "-o", str(tmp_path / "o.png"), "--model", "no-such-model"]) == 2
    assert main(["restore", str(src), "-o", str(tmp_path / "o.png"), "--quality", "500"]) == 2
    err = capsys.readouterr().err
    assert "unknown model" in err and "quality" in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


def test_png_level_is_written_and_a_bad_one_refused_in_one_line(tmp_path, tiny_weights, capsys):
    src = _write_jpeg(tmp_path / "a.jpg", colour=True)
    args = ["restore", str(src), "--model", tiny_weights, "-q"]
    for level in (0, 6, 9):
        assert main([*args, "-o", str(tmp_path / f"{level}.png"), "--png-level", str(level)]) == 0
        assert png_zlib_level((tmp_path / f"{level}.png").read_bytes()) == ZLIB_FLEVEL[level]
    assert main([*args, "-o", str(tmp_path / "default.png")]) == 0
    assert (tmp_path / "default.png").read_bytes() == (tmp_path / "6.png").read_bytes()
    with Image.open(tmp_path / "0.png") as a, Image.open(tmp_path / "9.png") as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))
    capsys.readouterr()
    for bad in ("10", "-1", "fast", "6.5"):
        assert main([*args, "-o", str(tmp_path / "bad.png"), "--png-level", bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("arcnn: error:") and err.count("\n") == 1 and "png-level" in err, err
    assert not (tmp_path / "bad.png").exists()
    for extra, level in (([], 3), (["--png-level", "9"], 9)):  # the fast tier writes at its own level
        out = tmp_path / f"fast-{level}.png"
        assert main(["restore", str(src), "--fast", "-q", "-o", str(out), *extra]) == 0
        assert png_zlib_level(out.read_bytes()) == ZLIB_FLEVEL[level]


def test_evaluate_json(image_dir, capsys, tiny_weights):
    assert main(["evaluate", "--data", str(image_dir), "--quality", "10", "--method", "jpeg", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert set(res["mean"]) >= {"psnr", "ssim", "ssim_gauss", "psnrb"}
    assert len(res["images"]) == 4 and 20 < res["mean"]["psnr"] < 50
    assert main(["evaluate", "--data", str(image_dir), "--quality", "10", "--method", tiny_weights]) == 0
    assert "mean" in capsys.readouterr().out
    args = ["evaluate", "--data", str(image_dir), "--quality", "10", "--method", "arcnn-q10", "--json"]
    assert main(args) == 0
    plain = json.loads(capsys.readouterr().out)["mean"]
    assert main([*args, "--consistency"]) == 0
    consistent = json.loads(capsys.readouterr().out)["mean"]
    assert consistent["psnr"] != plain["psnr"] and consistent["psnr"] > plain["psnr"] - 0.01
    assert main([*args, "--consistency", "--codec", "webp"]) == 2
    assert "consistency needs" in capsys.readouterr().err


def test_evaluate_missing_folder(tmp_path, capsys):
    assert main(["evaluate", "--data", str(tmp_path / "none"), "--quality", "10"]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_quality_command(tmp_path, capsys):
    src = _write_jpeg(tmp_path / "a.jpg", quality=37)
    once = tmp_path / "once.png"  # a decoded q20 JPEG, saved losslessly
    with Image.open(_write_jpeg(tmp_path / "c.jpg", quality=20, colour=True)) as im:
        im.crop((0, 0, 40, 56)).resize((40 * 3, 56 * 3), Image.NEAREST).save(tmp_path / "big.jpg", quality=20)
    with Image.open(tmp_path / "big.jpg") as im:
        im.save(once)
    png = tmp_path / "b.png"
    Image.fromarray(smooth_image(64, 64)).save(png)
    assert main(["quality", str(src), str(once), str(png)]) == 0
    out = capsys.readouterr().out
    assert "a.jpg: q37" in out and "once.png: ~q20 (from the pixels" in out and "b.png: not a JPEG" in out
    (tmp_path / "bad.png").write_bytes(b"not an image")
    assert main(["quality", str(src), str(tmp_path / "bad.png")]) == 1
    assert "bad.png" in capsys.readouterr().err


def test_jpeg_y_is_decoded_directly(tmp_path):
    """The colour path restores the JPEG's own Y plane: an identity model changes nothing."""
    from arcnn.pipeline import restore

    model = ConvStack(preset("srcnn", residual=True))
    for conv in model.convs:
        conv.weight.data.zero_()
        conv.bias.data.zero_()
    buf = io.BytesIO()
    Image.fromarray(smooth_image(40, 40, colour=True)).save(buf, format="JPEG", quality=20)
    buf.seek(0)
    with Image.open(buf) as im:
        decoded = np.asarray(im.convert("RGB"))
    buf.seek(0)
    with Image.open(buf) as im:
        out = np.asarray(restore(im, model, chroma="off"))
    assert np.abs(out.astype(int) - decoded).max() <= 1


def test_default_output_beside_input(tmp_path, tiny_weights, capsys):
    src = _write_jpeg(tmp_path / "pic.jpg")
    assert main(["restore", str(src), "--model", tiny_weights]) == 0
    assert (tmp_path / "pic.png").exists()
    png_in = tmp_path / "pic.png"
    before = png_in.read_bytes()
    assert main(["restore", str(png_in), "--model", tiny_weights]) == 1  # would replace itself
    assert "overwrite an input" in capsys.readouterr().err
    assert png_in.read_bytes() == before


@pytest.mark.parametrize(
    "fmt,suffix", [("webp", ".webp"), ("tiff", ".tif"), ("jpeg", ".jpg"), ("png", ".png")]
)
def test_output_formats(tmp_path, tiny_weights, fmt, suffix):
    src = _write_jpeg(tmp_path / "a.jpg", colour=True, dpi=(300, 300))
    out = tmp_path / "out"
    assert main(["restore", str(src), "-o", f"{out}/", "--format", fmt, "--model", tiny_weights]) == 0
    path = out / f"a{suffix}"
    with Image.open(path) as im, Image.open(src) as orig:
        assert im.size == orig.size and im.mode == "RGB"
        if fmt in ("webp", "tiff", "png"):  # lossless: reading back gives exactly what restore made
            ref = tmp_path / "ref.png"
            assert main(["restore", str(src), "-o", str(ref), "--model", tiny_weights]) == 0
            assert np.array_equal(np.asarray(im), np.asarray(Image.open(ref)))
        if fmt != "webp":
            assert tuple(round(v) for v in im.info["dpi"]) == (300, 300)


def test_format_from_output_suffix(tmp_path, tiny_weights):
    src = _write_jpeg(tmp_path / "a.jpg")
    assert main(["restore", str(src), "-o", str(tmp_path / "b.webp"), "--model", tiny_weights]) == 0
    with Image.open(tmp_path / "b.webp") as im:
        assert im.format == "WEBP"


def test_max_pixels_refuses_large_images(tmp_path, tiny_weights, capsys):
    src = _write_jpeg(tmp_path / "a.jpg")  # 56x40 = 2240 pixels
    code = main(
        ["restore", str(src), "-o", str(tmp_path / "a.png"), "--model", tiny_weights, "--max-pixels", "2000"]
    )
    assert code == 1 and "--max-pixels" in capsys.readouterr().err
    assert not (tmp_path / "a.png").exists()
    assert (
        main(
            ["restore", str(src), "-o", str(tmp_path / "a.png"), "--model", tiny_weights, "--max-pixels", "0"]
        )
        == 0
    )


def test_restore_and_evaluate_with_sadct(tmp_path, image_dir, capsys):
    from arcnn.metrics import psnr

    clean = smooth_image(40, 56, seed=5)
    src = tmp_path / "s.jpg"
    Image.fromarray(clean).save(src, quality=10)
    out = tmp_path / "s.png"
    assert main(["restore", str(src), "-o", str(out), "--method", "sadct"]) == 0
    jpeg, restored = np.asarray(Image.open(src)), np.asarray(Image.open(out))
    assert psnr(clean, restored) > psnr(clean, jpeg)
    png = tmp_path / "p.png"
    Image.fromarray(clean).save(png)
    assert main(["restore", str(png), "-o", str(tmp_path / "p2.png"), "--method", "sadct"]) == 1
    assert "needs a JPEG" in capsys.readouterr().err
    assert (
        main(["restore", str(png), "-o", str(tmp_path / "p2.png"), "--method", "sadct", "--quality", "10"])
        == 0
    )
    assert main(["restore", str(src), "-o", str(out), "--method", "sadct", "--model", "arcnn-q10"]) == 2
    capsys.readouterr()
    args = [
        "evaluate",
        "--data",
        str(image_dir),
        "--quality",
        "10",
        "--method",
        "sadct",
        "--json",
        "--workers",
        "1",
    ]
    assert main(args) == 0
    res = json.loads(capsys.readouterr().out)
    assert len(res["images"]) == 4


def test_write_failures_are_reported_per_file(tmp_path, tiny_weights, capsys):
    """Outputs are written by a second thread; its failures still give one line per file."""
    d = tmp_path / "in"
    d.mkdir()
    rgba = np.dstack([smooth_image(40, 56, colour=True), np.full((40, 56), 200, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(d / "a.png")
    _write_jpeg(d / "b.jpg", seed=1)
    out = tmp_path / "out"
    assert main(["restore", str(d), "-o", f"{out}/", "--format", "jpeg", "--model", tiny_weights, "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "a.png" in err[0] and "alpha" in err[0]
    assert sorted(p.name for p in out.iterdir()) == ["b.jpg"]  # no half-written file for a.png


def test_sixteen_bit_gray_stays_sixteen_bit(tmp_path, tiny_weights):
    a = (smooth_image(40, 56).astype(np.uint16) * 257 + 100).astype(np.uint16)
    src = tmp_path / "deep.png"
    Image.fromarray(a).save(src)
    out = tmp_path / "out.png"
    assert main(["restore", str(src), "-o", str(out), "--model", tiny_weights]) == 0
    with Image.open(out) as im:
        assert im.mode == "I;16" and im.size == (56, 40)
        got = np.asarray(im).astype(int)
    assert np.abs(got - a).mean() < 30 * 257 and len(np.unique(got % 257)) > 1  # not 8-bit in disguise


def test_cmyk_jpeg_restored_per_plane(tmp_path, tiny_weights):
    cmyk = np.dstack([smooth_image(40, 56, seed=s) for s in range(4)])
    src = tmp_path / "print.jpg"
    Image.fromarray(cmyk, "CMYK").save(src, quality=20)
    assert main(["restore", str(src), "-o", str(tmp_path / "o.tif"), "--model", tiny_weights]) == 0
    with Image.open(tmp_path / "o.tif") as im, Image.open(src) as orig:
        assert im.mode == "CMYK"
        assert np.abs(np.asarray(im).astype(int) - np.asarray(orig)).mean() < 30
    assert main(["restore", str(src), "-o", str(tmp_path / "o.png"), "--model", tiny_weights]) == 0
    with Image.open(tmp_path / "o.png") as im:
        assert im.mode == "RGB"  # PNG has no CMYK


def test_progressive_jpeg(tmp_path, tiny_weights):
    src = _write_jpeg(tmp_path / "p.jpg", colour=True, progressive=True)
    assert main(["restore", str(src), "-o", str(tmp_path / "p.png"), "--model", tiny_weights]) == 0
    with Image.open(tmp_path / "p.png") as im:
        assert im.mode == "RGB" and im.size == (56, 40)


def test_exif_orientation_and_dpi_are_kept(tmp_path, tiny_weights):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    src = _write_jpeg(tmp_path / "phone.jpg", colour=True, exif=exif.tobytes(), dpi=(300, 300))
    out = tmp_path / "phone.png"
    assert main(["restore", str(src), "-o", str(out), "--model", tiny_weights]) == 0
    with Image.open(out) as im:
        assert im.size == (56, 40)  # pixels in their stored orientation ...
        assert im.getexif().get(0x0112) == 6  # ... with the tag that tells viewers how to turn them
        assert tuple(round(v) for v in im.info["dpi"]) == (300, 300)
