"""Faster paths give the reference path's output: ONNX Runtime, bf16 autocast."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from arcnn.cli import main
from arcnn.engine import restore_luma
from arcnn.models import build_model, preset
from arcnn.weights import save_weights
from arcnn.zoo import load_model

from .conftest import smooth_image

pytest.importorskip("onnxruntime")


def _random_model(name, seed=0):
    torch.manual_seed(seed)
    model = build_model(preset(name, residual=True)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.03)
    return model


@pytest.mark.parametrize("name", ["arcnn", "fast-arcnn", "deep-arcnn"])
def test_onnx_export_gives_the_same_output(tmp_path, name):
    model = _random_model(name)
    weights = tmp_path / "m.safetensors"
    save_weights(weights, model)
    onnx_file = tmp_path / "m.onnx"
    assert main(["export", "--model", str(weights), "-o", str(onnx_file)]) == 0
    ort_model = load_model(onnx_file)
    assert ort_model.config == model.config
    img = smooth_image(75, 61)  # odd sizes: the strided model pads them
    ref, got = restore_luma(model, img, tile=32), restore_luma(ort_model, img, tile=32)
    # float32 in both, different kernels: at most a 1-level rounding difference on rare pixels.
    diff = np.abs(ref.astype(int) - got)
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01


def test_export_refuses_bad_model(tmp_path, capsys):
    assert (
        main(["export", "--model", str(tmp_path / "none.safetensors"), "-o", str(tmp_path / "x.onnx")]) == 2
    )
    assert "unknown model" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()


def test_bf16_restores_close_to_float32(tmp_path):
    model = load_model("arcnn-q10")
    img = smooth_image(64, 80)
    ref, fast = restore_luma(model, img), restore_luma(model, img, bf16=True)
    assert np.abs(ref.astype(int) - fast).max() <= 2
    src = tmp_path / "a.jpg"
    Image.fromarray(img).save(src, quality=10)
    assert main(["restore", str(src), "-o", str(tmp_path / "a.png"), "--bf16"]) == 0


def _restore_all_backends(src, tmp_path, *extra):
    outs = {}
    for backend in ("torch", "onnxruntime", "auto"):
        out = tmp_path / f"{backend}.png"
        assert main(["restore", str(src), "-o", str(out), "--backend", backend, "--overwrite", *extra]) == 0
        with Image.open(out) as im:
            outs[backend] = np.asarray(im).astype(int)
    return outs


def test_restore_backends_agree_and_shipped_onnx_is_used(tmp_path, capsys):
    src = tmp_path / "a.jpg"
    Image.fromarray(smooth_image(64, 80, colour=True)).save(src, quality=10)
    outs = _restore_all_backends(src, tmp_path)
    diff = np.abs(outs["torch"] - outs["onnxruntime"])
    assert diff.max() <= 2 and (diff > 0).mean() < 0.01  # 1-level Y differences, through YCbCr -> RGB
    assert np.array_equal(outs["auto"], outs["onnxruntime"])  # auto: ONNX Runtime
    # The shipped models run from their shipped ONNX files: nothing is exported.
    assert not any(Path(os.environ["ARCNN_CACHE"], "onnx").glob("*.onnx"))
    assert (
        main(["restore", str(src), "-o", str(tmp_path / "b.png"), "--backend", "onnxruntime", "--bf16"]) == 2
    )
    assert "bf16" in capsys.readouterr().err


def test_own_weights_are_exported_once_for_onnxruntime(tmp_path):
    weights = tmp_path / "m.safetensors"
    save_weights(weights, _random_model("arcnn", seed=1))
    src = tmp_path / "a.jpg"
    Image.fromarray(smooth_image(64, 80)).save(src, quality=10)
    outs = _restore_all_backends(src, tmp_path, "--model", str(weights))
    assert np.abs(outs["torch"] - outs["onnxruntime"]).max() <= 1
    assert np.array_equal(outs["auto"], outs["onnxruntime"])
    assert len(list(Path(os.environ["ARCNN_CACHE"], "onnx").glob("*.onnx"))) == 1  # exported once, reused


def test_without_the_onnx_extra_own_weights_run_on_pytorch(tmp_path, monkeypatch, capsys):
    weights = tmp_path / "m.safetensors"
    save_weights(weights, _random_model("arcnn", seed=1))
    src = tmp_path / "a.jpg"
    Image.fromarray(smooth_image(40, 48)).save(src, quality=10)
    monkeypatch.setitem(sys.modules, "onnx", None)  # the default install: onnxruntime, not onnx
    assert main(["restore", str(src), "-o", str(tmp_path / "a.png"), "--model", str(weights)]) == 0
    assert not any(Path(os.environ["ARCNN_CACHE"], "onnx").glob("*.onnx"))  # auto kept PyTorch
    ort = ["--backend", "onnxruntime"]
    assert main(["restore", str(src), "-o", str(tmp_path / "b.png"), "--model", str(weights), *ort]) == 2
    assert "onnx extra" in capsys.readouterr().err
    assert main(["restore", str(src), "-o", str(tmp_path / "c.png"), *ort]) == 0  # shipped: no export needed


def test_an_onnx_file_whose_graph_is_not_its_config_is_refused_at_load(tmp_path):
    import onnx

    from arcnn.export import OnnxModel, export_onnx
    from arcnn.unet import UNet, UNetConfig

    good = export_onnx(_random_model("arcnn"), tmp_path / "a.onnx")
    assert OnnxModel(good).config == preset("arcnn", residual=True)
    # the graph of a valid-convolution network under a size-keeping config, and a U-Net's graph
    # (size kept) under a valid-convolution config: both are refused by the probe at load
    small = UNetConfig(widths=(8, 12), blocks=(1, 1), conditioned=False)
    unet = export_onnx(UNet(small), tmp_path / "u.onnx")
    cases = [(good, small.to_json()), (unet, preset("arcnn").to_json())]
    for path, config in cases:
        proto = onnx.load(str(path))
        proto.metadata_props[0].value = config
        onnx.save(proto, str(tmp_path / "bad.onnx"))
        with pytest.raises(ValueError, match="the graph computes|the ONNX model failed"):
            OnnxModel(tmp_path / "bad.onnx")


def test_onnx_sessions_let_idle_threads_sleep():
    from arcnn.export import OnnxModel
    from arcnn.manifest import resolve

    model = OnnxModel(resolve("weights/onnx/fast-arcnn-relu-q10.onnx"))
    options = model.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_onnx_sessions_share_one_arena_registered_once():
    import numpy as np

    from arcnn import export
    from arcnn.manifest import resolve

    luma, chroma = (
        export.OnnxModel(resolve(f"weights/onnx/{n}.onnx"))
        for n in ("fast-arcnn-relu-q10", "arcnn-chroma-fast")
    )
    # registered by the first session only: the second found it in the cache
    assert export._share_cpu_arena.cache_info().currsize == 1
    for model in (luma, chroma):
        assert (
            model.session.get_session_options().get_session_config_entry("session.use_env_allocators") == "1"
        )
    assert luma(np.zeros((1, 1, 64, 64), np.float32)).shape == (1, 1, 40, 40)
    assert chroma(np.zeros((1, 4, 64, 64), np.float32)).shape == (1, 2, 64, 64)
    # an arena the process registered before arcnn's first session serves arcnn's sessions too
    first = (
        "import onnxruntime as ort, numpy as np\n"
        "t = ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR\n"
        "info = ort.OrtMemoryInfo('Cpu', t, 0, ort.OrtMemType.DEFAULT)\n"
        "ort.create_and_register_allocator(info, None)\n"
        "from arcnn.export import OnnxModel\nfrom arcnn.manifest import resolve\n"
        "model = OnnxModel(resolve('weights/onnx/fast-arcnn-relu-q10.onnx'))\n"
        "print(model(np.zeros((1, 1, 64, 64), np.float32)).shape)"
    )
    run = subprocess.run([sys.executable, "-c", first], capture_output=True, text=True)
    assert run.stdout.strip() == "(1, 1, 40, 40)", run.stderr[-500:]


def test_onnx_runtime_reports_nothing_and_keeps_no_device_id(tmp_path):
    from arcnn.sample import sample_path

    def restore_in(home, **env):
        # A fresh process: the setting is read once, when ONNX Runtime starts. CI markers, which
        # ONNX Runtime also reads as "report nothing", are left out so the control below can tell.
        base = {k: v for k, v in os.environ.items()
                if k not in ("ORT_DISABLE_TELEMETRY", "CI", "GITHUB_ACTIONS", "TF_BUILD")}  # fmt: skip
        home.mkdir()
        out = home / "out.png"
        sample = str(sample_path("astronaut-q10.jpg"))
        cmd = [sys.executable, "-m", "arcnn", "restore", sample, "-o", str(out), "--fast", "-q"]
        subprocess.run(cmd, check=True, env={**base, **env, "HOME": str(home), "XDG_CACHE_HOME": str(home)})
        return {p.name for p in home.rglob("*")} - {"out.png"}

    reporting = restore_in(tmp_path / "told-to-report", ORT_DISABLE_TELEMETRY="0")
    if not reporting:
        pytest.skip("this onnxruntime keeps no telemetry store")
    assert "deviceid" in reporting
    assert restore_in(tmp_path / "default") == set()
