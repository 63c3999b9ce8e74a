import hashlib

import numpy as np
import pytest
import torch

from arcnn.export import OnnxModel
from arcnn.manifest import FILES, resolve, sha256_file, verified_path
from arcnn.models import preset
from arcnn.policy import DEFAULT_MODEL, nearest_model
from arcnn.sample import SAMPLE_DIR, SAMPLES, sample_path
from arcnn.unet import UNetConfig
from arcnn.zoo import ONNX_DIR, REGISTRY, WEIGHTS_DIR, load_model


@pytest.fixture(autouse=True, scope="module")
def _registry_order():
    """Tests here take cards out and monkeypatch puts them back at the end: restore the registry's
    order once they are done, which tables made from it (the README's models table) follow."""
    order = list(REGISTRY)
    yield
    cards = dict(REGISTRY)
    REGISTRY.clear()
    REGISTRY.update({n: cards[n] for n in order if n in cards} | cards)


def test_every_hashed_file_matches_the_manifest():
    for key, digest in FILES.items():
        path = resolve(key)
        assert path.is_file(), f"{key} missing"
        assert sha256_file(path) == digest, f"{key}: sha256 differs from the manifest"
    assert verified_path("weights/arcnn-q10.safetensors") == REGISTRY["arcnn-q10"].path
    with pytest.raises(ValueError, match="not in the manifest"):
        verified_path("weights/other.safetensors")


def test_registry_files_are_in_the_manifest():
    assert DEFAULT_MODEL in REGISTRY
    for name, card in REGISTRY.items():
        assert card.name == name and card.manifest_key in FILES and card.use
    shipped = {p.name for p in WEIGHTS_DIR.glob("*.safetensors")}
    assert shipped == {c.file for c in REGISTRY.values()}, "every shipped weights file is registered"
    kept = {p.name for p in resolve("repo:experiments/weights").glob("*.safetensors")}
    assert {f"repo:experiments/weights/{n}" for n in kept} <= set(FILES), "every kept weights file is hashed"


def test_every_shipped_model_also_ships_as_onnx():
    shipped = {p.name for p in ONNX_DIR.glob("*.onnx")}
    assert shipped == {f"{name}.onnx" for name in REGISTRY}, "one ONNX file per registered model"
    assert all(card.onnx_key in FILES for card in REGISTRY.values())


@pytest.mark.parametrize("name", list(REGISTRY))
def test_shipped_onnx_computes_what_its_safetensors_do(name):
    """The ONNX file and the safetensors are one network: the same config, the same output up to
    float32 rounding (tools/export_shipped.py rewrites the ONNX files after a change of weights)."""
    torch_net, onnx_net = load_model(name, backend="torch"), load_model(name, backend="onnxruntime")
    assert isinstance(onnx_net, OnnxModel) and not isinstance(torch_net, OnnxModel)
    assert onnx_net.config == torch_net.config
    side = 2 * torch_net.config.border + 24
    x = np.random.default_rng(0).random((1, torch_net.config.inputs, side, side), dtype=np.float32)
    with torch.no_grad():
        want = torch_net(torch.from_numpy(x)).numpy()
    got = onnx_net(x)
    assert got.shape == want.shape and np.abs(got - want).max() < 1e-4


def test_shipped_onnx_files_pass_the_load_probe_they_skip(monkeypatch):
    """Loading a shipped name skips the probe, since the sha256 vouches for the file; here each
    shipped ONNX file (float32 and int8) is probed, and a file loaded by path still is."""
    keys = [k for k in FILES if k.startswith(("weights/onnx/", "weights/int8/"))]
    assert len(keys) > len(REGISTRY)
    for key in keys:
        assert OnnxModel(resolve(key)).config.channels in (1, 2)

    def refuse(self):
        raise ValueError("probed")

    monkeypatch.setattr(OnnxModel, "_probe", refuse)
    assert isinstance(load_model("fast-arcnn-relu-q10", backend="onnxruntime"), OnnxModel)
    with pytest.raises(ValueError, match="probed"):
        load_model(str(resolve(REGISTRY["fast-arcnn-relu-q10"].onnx_key)))
    with pytest.raises(ValueError, match="probed"):
        load_model("fast-arcnn-relu-q10", backend="onnxruntime", verify=False)


def test_an_altered_shipped_onnx_file_is_refused(monkeypatch):
    import arcnn.manifest as manifest

    monkeypatch.setitem(manifest.FILES, REGISTRY["arcnn-q10"].onnx_key, "0" * 64)
    with pytest.raises(ValueError, match="arcnn-q10: .*does not match its registered sha256"):
        load_model("arcnn-q10", backend="auto")
    assert load_model("arcnn-q10", backend="torch").config.kernels == (9, 7, 1, 5)


def test_an_altered_shipped_file_is_refused(monkeypatch):
    import arcnn.manifest as manifest

    monkeypatch.setitem(manifest.FILES, "weights/arcnn-q10.safetensors", "0" * 64)
    with pytest.raises(ValueError, match="arcnn-q10: .*does not match its registered sha256"):
        load_model("arcnn-q10")


def test_every_registered_model_loads_and_keeps_its_architecture():
    for name, card in REGISTRY.items():
        model = load_model(name)
        if card.colour == "y":  # a U-Net reads the quality plane too
            assert model.config.channels == 1 and model.config.inputs == 1 + (card.architecture == "unet")
        else:  # the chroma model reads Y, Cb, Cr (a U-Net the quality plane too) and restores Cb, Cr
            assert card.colour == "cbcr" and (model.config.inputs, model.config.channels) in ((3, 2), (4, 2))
        if card.architecture == "unet":
            assert isinstance(model.config, UNetConfig)
        else:
            assert model.config.kernels == preset(card.architecture).kernels
        assert not model.training


def test_nearest_model():
    qs = {c.quality: n for n, c in REGISTRY.items() if c.per_quality}
    for q in range(1, 101):
        name = nearest_model(q)
        assert REGISTRY[name].architecture == "arcnn"
        assert abs(REGISTRY[name].quality - q) == min(abs(k - q) for k in qs)
    assert nearest_model(None) == DEFAULT_MODEL


def test_samples_match_registry():
    assert {p.name for p in SAMPLE_DIR.iterdir() if not p.name.startswith(".")} == set(SAMPLES)
    for name in SAMPLES:
        assert hashlib.sha256(sample_path(name).read_bytes()).hexdigest() == FILES[f"samples/{name}"]
    with pytest.raises(ValueError, match="unknown sample"):
        sample_path("lena.png")


def test_auto_model_uses_per_quality_models_near_their_quality_else_large_or_blind(monkeypatch):
    import arcnn.policy as policy
    import arcnn.zoo as zoo

    monkeypatch.delitem(zoo.REGISTRY, policy.BLIND_MODEL, raising=False)
    monkeypatch.delitem(zoo.REGISTRY, policy.LARGE_MODEL, raising=False)
    assert policy.auto_model(15) == "arcnn-q10"  # neither shipped: the nearest per-quality one
    monkeypatch.setitem(zoo.REGISTRY, policy.BLIND_MODEL, zoo.REGISTRY["arcnn-q10"])
    assert policy.auto_model(15) == policy.BLIND_MODEL  # no large model: the blind one
    monkeypatch.setitem(zoo.REGISTRY, policy.LARGE_MODEL, zoo.REGISTRY["arcnn-q20"])
    tol, top = policy.AUTO_TOLERANCE, policy.LARGE_MAX_QUALITY
    assert policy.auto_model(10) == "arcnn-q10"
    assert policy.auto_model(10 + tol) == "arcnn-q10" and policy.auto_model(40 - tol) == "arcnn-q40"
    assert policy.auto_model(10 - tol - 1) == policy.LARGE_MODEL  # below the lowest per-quality model
    assert policy.auto_model(10 + tol + 1) == policy.LARGE_MODEL  # between two per-quality models
    assert policy.auto_model(40 + tol + 1) == policy.LARGE_MODEL  # above them, up to its limit
    assert policy.auto_model(top) == policy.LARGE_MODEL and policy.auto_model(top + 1) == policy.BLIND_MODEL
    assert policy.auto_model(None) == policy.BLIND_MODEL  # no tables, no quality: PNG, BMP ...
    assert policy.auto_model(10, standard=False) == policy.LARGE_MODEL  # another encoder's tables
    # Colour images: the large model wherever it suits, also near the per-quality models' qualities.
    assert policy.auto_model(10, colour=True) == policy.auto_model(40, colour=True) == policy.LARGE_MODEL
    assert policy.auto_model(top + 1, colour=True) == policy.BLIND_MODEL
    assert policy.auto_model(None, colour=True) == policy.BLIND_MODEL
    assert policy.auto_model(10, fast=True, colour=True) == policy.auto_model(10, fast=True)  # the fast tier
    monkeypatch.delitem(zoo.REGISTRY, policy.LARGE_MODEL)
    assert policy.auto_model(10, colour=True) == "arcnn-q10"  # no large model: as for grayscale


def test_the_fast_tier_picks_the_nearest_fast_arcnn_model_up_to_its_limit_else_its_blind_one(monkeypatch):
    import arcnn.policy as policy
    import arcnn.zoo as zoo

    for name in [n for n, c in zoo.REGISTRY.items() if c.fast_per_quality] + [policy.FAST_BLIND_MODEL]:
        monkeypatch.delitem(zoo.REGISTRY, name, raising=False)
    assert policy.auto_model(10, fast=True) == policy.auto_model(10)  # no fast model: the default's pick
    fast10 = zoo.replace(zoo.REGISTRY["arcnn-q10"], name="fast-arcnn-q10", architecture="fast-arcnn")
    fast10 = zoo.replace(fast10, tier="fast")
    monkeypatch.setitem(zoo.REGISTRY, "fast-arcnn-q10", fast10)
    fast30 = zoo.replace(fast10, name="fast-arcnn-q30", quality=30)
    monkeypatch.setitem(zoo.REGISTRY, "fast-arcnn-q30", fast30)
    assert fast10.fast_per_quality and not fast10.per_quality
    assert not zoo.replace(fast10, tier="").fast_per_quality  # the tier, not the layout, decides
    top = policy.FAST_MAX_QUALITY
    assert policy.auto_model(31, fast=True) == "fast-arcnn-q30" == policy.auto_model(top, fast=True)
    assert policy.pick_model(5, fast=True) == "fast-arcnn-q10" == policy.auto_model(20, fast=True)  # a tie
    assert policy.auto_model(10, standard=False, fast=True) == "fast-arcnn-q10"  # another encoder's tables
    assert policy.auto_model(top + 1, fast=True) == policy.auto_model(top + 1)  # no fast blind model
    assert policy.auto_model(None, fast=True) == policy.auto_model(None)
    monkeypatch.setitem(zoo.REGISTRY, policy.FAST_BLIND_MODEL, zoo.replace(fast10, quality=None))
    for q in (top + 1, 95, None):
        assert policy.auto_model(q, fast=True) == policy.pick_model(q, fast=True) == policy.FAST_BLIND_MODEL
    assert policy.auto_model(30) == policy.pick_model(30) == "arcnn-q30"  # the default tier is untouched


def test_models_for_other_degradations_are_never_picked_by_quality(monkeypatch):
    import arcnn.policy as policy
    import arcnn.zoo as zoo

    social = zoo.replace(zoo.REGISTRY["arcnn-q10"], name="arcnn-social", quality=75, box=(600, 450))
    monkeypatch.setitem(zoo.REGISTRY, "arcnn-social", social)
    assert not social.per_quality and zoo.REGISTRY["arcnn-q10"].per_quality
    assert policy.nearest_model(75) != "arcnn-social"
    assert policy.auto_model(75) != "arcnn-social"


def test_auto_picks_the_webp_model_for_lossy_webp_only(monkeypatch, tmp_path):
    import numpy as np
    from PIL import Image

    import arcnn.policy as policy
    import arcnn.zoo as zoo
    from arcnn.codec import webp_kind
    from arcnn.policy import pick_model

    monkeypatch.setitem(zoo.REGISTRY, policy.WEBP_MODEL, zoo.REGISTRY["arcnn-q10"])
    rgb = Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8))
    rgb.save(tmp_path / "lossy.webp", quality=30)
    rgb.save(tmp_path / "lossless.webp", lossless=True)
    rgb.convert("RGBA").save(tmp_path / "alpha.webp", quality=30)  # VP8X, ALPH, then VP8
    rgb.save(tmp_path / "a.png")
    assert [webp_kind(tmp_path / f) for f in ("lossy.webp", "lossless.webp", "alpha.webp", "a.png")] == [
        "lossy", "lossless", "lossy", None]  # fmt: skip
    assert webp_kind(tmp_path / "missing.webp") is None
    with Image.open(tmp_path / "lossy.webp") as im:
        assert pick_model("auto", im) == policy.WEBP_MODEL
        assert pick_model(20, im) == "arcnn-q20"  # an explicit quality wins
    with Image.open(tmp_path / "lossless.webp") as im:
        assert pick_model("auto", im) == policy.auto_model(None)
