"""Nothing lost, nothing crashes: careless and hostile input, one test per case of docs/reliability.md."""

import os
import signal
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from arcnn.cli import main
from arcnn.files import TEMP_PREFIX
from arcnn.models import ConvStack, preset
from arcnn.weights import load_weights_file, read_checkpoint, save_weights

from .conftest import smooth_image


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.safetensors"
    save_weights(path, ConvStack(preset("srcnn", residual=True)))
    return str(path)


def _jpeg(path, seed=0, colour=False, **kw):
    Image.fromarray(smooth_image(40, 56, seed=seed, colour=colour)).save(path, quality=20, **kw)
    return path


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert len(lines) == 1 and lines[0].startswith("arcnn: error:") and "Traceback" not in err, err
    return lines[0]


# -- overwrite policy -------------------------------------------------------------------------------


def test_an_existing_output_is_never_replaced_unless_asked(tmp_path, tiny, capsys):
    src = _jpeg(tmp_path / "photo.jpg")
    unrelated = tmp_path / "photo.png"
    unrelated.write_bytes(b"my own file")
    assert main(["restore", str(src), "--model", tiny]) == 1
    assert "--overwrite" in _one_error_line(capsys.readouterr().err)
    assert unrelated.read_bytes() == b"my own file"
    assert main(["restore", str(src), "-o", str(unrelated), "--model", tiny]) == 1  # -o likewise
    assert unrelated.read_bytes() == b"my own file"
    assert main(["restore", str(src), "--model", tiny, "--overwrite"]) == 0
    assert Image.open(unrelated).size == (56, 40)


def test_skip_existing_resumes_a_folder(tmp_path, tiny, capsys):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(3):
        _jpeg(src / f"{i}.jpg", seed=i)
    assert main(["restore", str(src), "-o", str(out), "--model", tiny, "-q"]) == 0
    first = (out / "1.png").stat().st_mtime_ns
    (out / "2.png").unlink()  # as if the first run had been killed before it
    capsys.readouterr()
    assert main(["restore", str(src), "-o", str(out), "--model", tiny, "--skip-existing", "-q"]) == 0
    assert "restored 1, skipped 2, failed 0" in capsys.readouterr().out
    assert (out / "2.png").exists() and (out / "1.png").stat().st_mtime_ns == first
    assert main(["restore", str(src), "-o", str(out), "--overwrite", "--skip-existing"]) == 2


# -- one bad file costs only itself -----------------------------------------------------------------


def test_garbage_exif_costs_its_file_only(tmp_path, tiny, capsys):
    rng = np.random.default_rng(0)
    bad = _jpeg(tmp_path / "bad.jpg", exif=b"Exif\0\0" + rng.integers(0, 256, 200, dtype=np.uint8).tobytes())
    good = [_jpeg(tmp_path / f"good{i}.jpg", seed=i) for i in range(2)]
    out = tmp_path / "out"
    code = main(["restore", str(bad), *map(str, good), "-o", str(out), "--format", "tiff", "--model", tiny])
    err = capsys.readouterr().err
    assert code == 0 and sorted(p.name for p in out.iterdir()) == ["bad.tif", "good0.tif", "good1.tif"]
    assert "Traceback" not in err and err.count("\n") == 1 and "bad.jpg: written without its EXIF" in err


def test_a_chroma_model_is_refused_for_the_luminance(tmp_path, capsys):
    src = _jpeg(tmp_path / "a.jpg")
    assert main(["restore", str(src), "--model", "arcnn-chroma"]) == 2
    assert "not a luminance model" in _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "a.png").exists()
    data = tmp_path / "data"
    data.mkdir()
    Image.fromarray(smooth_image(40, 48)).save(data / "a.png")
    assert main(["evaluate", "--data", str(data), "--quality", "10", "--method", "arcnn-chroma"]) == 2
    assert "not a luminance model" in _one_error_line(capsys.readouterr().err)


def _bomb(path: Path) -> Path:
    Image.new("1", (16000, 16000)).save(path)  # 256 M pixels in a few kB: over the 200 M default guard
    return path


def test_bombs_are_one_line_in_quality_and_evaluate(tmp_path, capsys):
    bomb, good = _bomb(tmp_path / "bomb.png"), _jpeg(tmp_path / "good.jpg")
    assert main(["quality", str(bomb), str(good)]) == 1
    captured = capsys.readouterr()
    assert "pixel limit" in _one_error_line(captured.err) and "good.jpg: q20" in captured.out
    data = tmp_path / "data"
    data.mkdir()
    _bomb(data / "a-bomb.png")
    Image.fromarray(smooth_image(40, 48)).save(data / "b.png")
    assert main(["evaluate", "--data", str(data), "--quality", "10"]) == 1
    captured = capsys.readouterr()
    assert "a-bomb.png" in _one_error_line(captured.err) and "b.png" in captured.out


# -- model files ------------------------------------------------------------------------------------


def test_bad_model_files_are_one_line(tmp_path, capsys, monkeypatch):
    src = _jpeg(tmp_path / "a.jpg")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07garbage" * 10)
    no_model = tmp_path / "nomodel.pt"
    torch.save({"weights": {}}, no_model)
    wrong = tmp_path / "wrong.pt"
    torch.save(
        {"model": {"convs.0.weight": torch.zeros(3)}, "model_config": preset("arcnn").to_json()}, wrong
    )
    for f in (garbage, no_model, wrong):
        assert main(["restore", str(src), "--model", str(f)]) == 2, f
        assert f.name in _one_error_line(capsys.readouterr().err)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if the onnx extra were not installed
    assert main(["restore", str(src), "--model", str(garbage), "--backend", "torch"]) == 2
    assert "onnxruntime" in _one_error_line(capsys.readouterr().err)


def test_train_init_and_resume_with_bad_checkpoints_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for i in range(2):
        Image.fromarray(smooth_image(64, 64, seed=i)).save(imgs / f"{i}.png")
    run = tmp_path / "run"
    args = ["train", "--out", str(run), "--steps", "2", "--train-dir", str(imgs), "--val-dir", str(imgs),
            "--patch", "32", "--batch", "2", "--model", "srcnn"]  # fmt: skip
    assert main([*args, "--init", str(bad), "--init-layers", "1"]) == 2
    assert "bad.pt" in _one_error_line(capsys.readouterr().err)
    assert main(args) == 0
    capsys.readouterr()
    (run / "checkpoint.pt").write_bytes(b"truncated by a crash")
    assert main([*args, "--resume"]) == 2
    assert "checkpoint.pt" in _one_error_line(capsys.readouterr().err)


def _huge_string_checkpoint(tmp_path: Path) -> Path:
    """A zip-format ``.pt`` (as torch.save writes it) whose pickle claims a 2 GiB string."""
    good, bad = tmp_path / "good.pt", tmp_path / "huge-string.pt"
    torch.save({"model": {"w": torch.zeros(2)}}, good)
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w", zipfile.ZIP_STORED) as dst:
        for m in src.infolist():
            data = src.read(m)
            if m.filename.endswith("/data.pkl"):  # protocol 2, then BINUNICODE claiming 2**31 bytes
                data = b"\x80\x02X" + struct.pack("<I", 1 << 31) + b"abc."
            dst.writestr(m.filename, data)
    return bad


def test_a_checkpoint_whose_pickle_claims_a_huge_string_is_refused_before_torch_load(tmp_path, monkeypatch):
    bad = _huge_string_checkpoint(tmp_path)
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load reached"))
    with pytest.raises(ValueError, match="huge-string.pt: not a readable checkpoint"):
        read_checkpoint(bad)
    known = Path(__file__).parents[1] / "fuzz" / "corpus" / "weights" / "regress-pt-zip-pickle-allocation.bin"
    copy = tmp_path / "found-by-fuzzing.pt"
    copy.write_bytes(known.read_bytes())
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        read_checkpoint(copy)


def test_a_checkpoint_torch_save_wrote_passes_the_screen(tmp_path):
    path = tmp_path / "ok.pt"
    torch.save({"model": {"w": torch.arange(6.0)}, "step": 3, "note": "x" * 1000}, path)
    assert read_checkpoint(path)["model"]["w"].tolist() == list(range(6))


def test_an_oversized_config_is_refused_before_allocating(tmp_path):
    import json

    from safetensors.torch import save_file

    path = tmp_path / "big.safetensors"
    config = {"kernels": [9, 9, 5], "widths": [64, 32, 1], "channels": 1}
    save_file({"convs.0.weight": torch.zeros(1)}, str(path), metadata={"model_config": json.dumps(config)})
    with pytest.raises(ValueError, match="do not fit"):
        load_weights_file(path)
    config = {"kernels": [15] * 30, "widths": [1024] * 29 + [1], "channels": 1}
    save_file({"convs.0.weight": torch.zeros(1)}, str(path), metadata={"model_config": json.dumps(config)})
    with pytest.raises(ValueError, match="parameters"):
        load_weights_file(path)  # 6.6 G parameters: sized on the meta device, never allocated
    config = {"kernels": [99, 1], "widths": [20000, 1], "channels": 1}
    save_file({"convs.0.weight": torch.zeros(1)}, str(path), metadata={"model_config": json.dumps(config)})
    with pytest.raises(ValueError, match="kernel sizes|widths"):
        load_weights_file(path)


# -- leftovers, limits, signals ---------------------------------------------------------------------


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "arcnn", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def test_sigterm_leaves_no_temporary_files_and_exits_143(tmp_path, tiny):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(40):
        Image.fromarray(smooth_image(256, 256, seed=i)).save(src / f"{i:02d}.jpg", quality=20)
    proc = _cli("restore", str(src), "-o", str(out), "--model", tiny, "-q")
    deadline = time.monotonic() + 60
    while not (out.is_dir() and any(out.glob("*.png"))) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "terminated" in _one_error_line(err)
    assert not list(out.glob(f"{TEMP_PREFIX}*")), "temporary files left behind"
    for png in out.glob("*.png"):
        with Image.open(png) as im:
            im.load()  # every output that has its name is complete


def test_sigint_at_start_up_is_one_line(tmp_path, tiny):
    src = _jpeg(tmp_path / "a.jpg")
    proc = _cli("restore", str(src), "--model", tiny)
    time.sleep(0.3)  # during start-up: imports, model loading
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, 130, -signal.SIGINT), err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 1


def test_an_error_an_interrupt_causes_at_start_up_is_one_line(monkeypatch, capsys):
    """Ctrl-C or SIGTERM inside an extension's import can surface as another error (numpy:
    ImportError); after such a signal that error is reported as the signal, in one line; without
    one it is not hidden."""
    import arcnn.cli as cli

    def import_hit_by(handler, signum):
        def main():
            try:
                handler(signum, None)
            except KeyboardInterrupt as e:
                raise ImportError('PyCapsule_Import could not import module "datetime"') from e

        return main

    def broken_import():
        raise ImportError("a real one")

    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for handler, signum, code, line in ((cli._interrupt, signal.SIGINT, 130, "interrupted"),
                                            (cli._terminate, signal.SIGTERM, 143, "terminated")):  # fmt: skip
            monkeypatch.setattr(cli, "_SIGNALLED", [])
            monkeypatch.setattr(cli, "main", import_hit_by(handler, signum))
            with pytest.raises(SystemExit) as e:
                cli.entry()
            assert e.value.code == code and capsys.readouterr().err == f"arcnn: error: {line}\n"
        monkeypatch.setattr(cli, "_SIGNALLED", [])
        monkeypatch.setattr(cli, "main", broken_import)
        with pytest.raises(ImportError, match="a real one"):
            cli.entry()
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def test_stale_temporary_files_of_killed_runs_are_removed(tmp_path, tiny):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = out / f"{TEMP_PREFIX}{int(dead.stdout)}-0123abcd.tmp"
    stale.write_bytes(b"half a PNG")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    live = out / f"{TEMP_PREFIX}{os.getpid()}-0123abcd.tmp"  # a running process's: kept
    live.write_bytes(b"being written")
    assert main(["restore", str(_jpeg(tmp_path / "a.jpg")), "-o", str(out) + "/", "--model", tiny]) == 0
    assert not stale.exists() and live.exists()


def test_a_long_file_name_can_be_restored(tmp_path, tiny):
    src = _jpeg(tmp_path / ("n" * 249 + ".jpg"))  # the longest stem whose .png still fits in 255 bytes
    assert main(["restore", str(src), "--model", tiny]) == 0
    assert (tmp_path / ("n" * 249 + ".png")).exists()


# -- wording and arguments --------------------------------------------------------------------------


def test_write_failures_say_write(tmp_path, tiny, capsys):
    src = _jpeg(tmp_path / "a.jpg")
    blocker = tmp_path / "file"
    blocker.write_text("a file where the output folder should be")
    assert main(["restore", str(src), "-o", str(blocker / "sub" / "a.png"), "--model", tiny]) == 1
    assert "write failed" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "lots"])
def test_max_pixels_must_be_a_finite_number(tmp_path, value, capsys):
    assert main(["restore", str(tmp_path / "a.jpg"), "--max-pixels", value]) == 2
    assert "max-pixels" in _one_error_line(capsys.readouterr().err)


# -- content: frames and output names ---------------------------------------------------------------


def test_every_frame_of_an_animation_is_restored_or_refused(tmp_path, tiny, capsys):
    frames = [Image.fromarray(smooth_image(32, 40, seed=i)).convert("P") for i in range(3)]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert main(["restore", str(gif), "-o", str(tmp_path / "anim.webp"), "--model", tiny]) == 0
    with Image.open(tmp_path / "anim.webp") as im:
        assert im.n_frames == 3
    assert main(["restore", str(gif), "-o", str(tmp_path / "anim.png"), "--model", tiny]) == 1
    assert "has 3 frames" in _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "anim.png").exists()


@pytest.mark.parametrize("args", [["-o", "x.bmp"], ["-o", "x.png", "--format", "jpeg"]])
def test_an_output_name_that_lies_about_its_format_is_refused(tmp_path, tiny, capsys, args):
    src = _jpeg(tmp_path / "a.jpg")
    out = [str(tmp_path / a) if a.startswith("x.") else a for a in args]
    assert main(["restore", str(src), *out, "--model", tiny]) == 2
    _one_error_line(capsys.readouterr().err)
    assert not list(tmp_path.glob("x.*"))


def test_damaged_scan_data_is_reported(tmp_path, tiny, capsys):
    src = _jpeg(tmp_path / "a.jpg", colour=True)
    data = bytearray(src.read_bytes())
    start = data.find(b"\xff\xda") + 20
    data[start : start + 40] = np.random.default_rng(0).integers(0, 256, 40, dtype=np.uint8).tobytes()
    src.write_bytes(bytes(data))
    assert main(["restore", str(src), "--model", tiny]) == 0
    err = capsys.readouterr().err
    assert "arcnn: warning:" in err and "Corrupt JPEG data" in err and len(err.strip().splitlines()) == 1
    with pytest.warns(UserWarning, match="damage"):
        import arcnn

        arcnn.restore(src, model=tiny)
    clean = _jpeg(tmp_path / "b.jpg")
    assert main(["restore", str(clean), "--model", tiny]) == 0 and capsys.readouterr().err == ""
