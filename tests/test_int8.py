"""int8 networks (``arcnn.quantize``, as ``experiments.quantize_int8`` makes them): loadable like any
exported network, and close to float32."""

import numpy as np
import pytest
import torch

from arcnn.codec import jpeg_roundtrip
from arcnn.engine import restore_luma
from arcnn.metrics import psnr
from arcnn.models import ModelConfig, build_model
from arcnn.quantize import Recipe

from .conftest import smooth_image

pytest.importorskip("onnxruntime")

from arcnn.export import OnnxModel, export_onnx  # noqa: E402
from experiments.quantize_int8 import CANDIDATES, calibration_batches, quantize_network, speedup  # noqa: E402

TINY = {
    "relu": ModelConfig((5, 3, 1, 3), (16, 8, 8, 1), residual=True),
    "strided-prelu": ModelConfig(
        (5, 1, 3, 1, 5), (16, 8, 8, 16, 1), residual=True, stride=2, activation="prelu"
    ),
}


def _tiny(config: ModelConfig, seed: int = 0):
    torch.manual_seed(seed)
    model = build_model(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "conv" in name:
                p.normal_(0, 0.15 if p.ndim > 1 else 0.02)
    return model


def _quantized(tmp_path, model, recipe):
    """(clean, float32 restoration, int8 restoration, int8 model) of a q10 test image."""
    planes = [jpeg_roundtrip(smooth_image(64, 64, seed=s), 10) for s in range(2, 6)]
    batches = calibration_batches(planes, model.config.border, crops=32, side=32)
    int8 = OnnxModel(quantize_network(model, tmp_path / "int8.onnx", batches, recipe))  # probed at load
    f32 = OnnxModel(export_onnx(model, tmp_path / "float32.onnx"))
    clean = smooth_image(96, 80, seed=1)
    degraded = jpeg_roundtrip(clean, 10)
    ref, got = restore_luma(f32, degraded, tile=48), restore_luma(int8, degraded, tile=48)
    assert not np.array_equal(ref, degraded)  # the network changes the image: there is something to match
    return clean, ref, got, int8


@pytest.mark.parametrize("kind", list(TINY))
def test_exact_int8_restores_within_a_few_levels_of_float32(tmp_path, kind):
    """u8 x u8: onnxruntime's kernels that cannot saturate on CPUs without VNNI."""
    model = _tiny(TINY[kind])
    clean, ref, got, int8 = _quantized(tmp_path, model, Recipe(weights="uint8"))
    assert int8.config == model.config
    assert [i.name for i in int8.session.get_inputs()] == ["degraded"]
    assert [o.name for o in int8.session.get_outputs()] == ["restored"]
    assert got.shape == ref.shape and got.dtype == np.uint8
    diff = np.abs(ref.astype(int) - got)
    assert diff.max() <= 4 and diff.mean() < 0.5
    assert psnr(clean, ref) - psnr(clean, got) < 0.1


@pytest.mark.parametrize("recipe", CANDIDATES, ids=[r.label() for r in CANDIDATES])
def test_every_candidate_recipe_gives_a_loadable_model_near_float32(tmp_path, recipe):
    """The experiment's candidates, on a network with random weights whose large products the fast
    kernels may saturate (a trained one is measured on LIVE1 by benchmarks.int8): close on average."""
    clean, ref, got, _ = _quantized(tmp_path, _tiny(TINY["relu"]), recipe)
    assert np.abs(ref.astype(int) - got).mean() < 2
    assert psnr(clean, ref) - psnr(clean, got) < 0.5


def test_the_experiment_times_int8_against_float32(tmp_path):
    """The speed-up the experiment ranks recipes by: a positive ratio of two timed restorations."""
    model = _tiny(TINY["relu"])
    f32 = OnnxModel(export_onnx(model, tmp_path / "float32.onnx"))
    assert 0.3 < speedup(f32, f32, 64) < 3.0  # one network against itself: near 1


def test_recipe_refuses_unknown_choices():
    with pytest.raises(ValueError, match="format"):
        Recipe(format="qint4")
    with pytest.raises(ValueError, match="reduce_range"):
        Recipe(reduce_range="yes")


def _q10_jpeg(path):
    from PIL import Image

    Image.fromarray(smooth_image(96, 128, seed=3)).save(path, quality=10)
    return path


def test_the_int8_option_runs_the_shipped_int8_network_close_to_float32(tmp_path):
    from arcnn.pipeline import RestoreOptions, Restorer

    src = _q10_jpeg(tmp_path / "a.jpg")
    f32 = Restorer(RestoreOptions(model="arcnn-q10")).restore(src)
    i8 = Restorer(RestoreOptions(model="arcnn-q10", int8=True))
    a, b = np.asarray(f32.image, np.int16), np.asarray(i8.restore(src).image, np.int16)
    assert np.any(a != b), "the int8 network did not run"
    assert np.abs(a - b).max() <= 8 and np.mean(a != b) < 0.5


@pytest.mark.parametrize("bad", [{"int8": True, "bf16": True}, {"int8": True, "backend": "torch"},
                                 {"int8": "yes"}])  # fmt: skip
def test_int8_with_another_engine_is_refused_in_the_api_and_the_cli(tmp_path, capsys, bad):
    from arcnn.cli import main
    from arcnn.options import RestoreOptions

    with pytest.raises(ValueError):
        RestoreOptions(**bad)
    if bad["int8"] is True:
        src = _q10_jpeg(tmp_path / "a.jpg")
        flags = ["--bf16"] if "bf16" in bad else ["--backend", "torch"]
        assert main(["restore", str(src), "--int8", *flags]) == 2
        assert "int8" in capsys.readouterr().err
