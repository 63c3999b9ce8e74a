import hashlib

import pytest

from arcnn.models import preset
from arcnn.sample import SAMPLE_DIR, SAMPLES, sample_path
from arcnn.zoo import DEFAULT_MODEL, REGISTRY, WEIGHTS_DIR, load_model, nearest_model, sha256_file


def test_registry_files_exist_and_match_their_hashes():
    assert DEFAULT_MODEL in REGISTRY
    for name, card in REGISTRY.items():
        assert card.name == name
        assert card.path.is_file(), f"{name}: {card.file} missing"
        assert sha256_file(card.path) == card.sha256, f"{name}: sha256 differs from the registry"
    shipped = {p.name for p in WEIGHTS_DIR.glob("*.safetensors")}
    assert shipped == {c.file for c in REGISTRY.values()}, "every shipped weights file is registered"


def test_every_registered_model_loads_and_keeps_its_architecture():
    for name, card in REGISTRY.items():
        model = load_model(name)
        if card.colour == "y":
            assert model.config.channels == 1 and model.config.inputs == 1
        else:  # the chroma model reads Y, Cb, Cr and restores Cb, Cr
            assert card.colour == "cbcr" and (model.config.inputs, model.config.channels) == (3, 2)
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
    for name, digest in SAMPLES.items():
        assert hashlib.sha256(sample_path(name).read_bytes()).hexdigest() == digest
    with pytest.raises(ValueError, match="unknown sample"):
        sample_path("lena.png")


def test_auto_model_prefers_blind_away_from_per_quality_models(monkeypatch):
    import arcnn.zoo as zoo

    assert zoo.auto_model(10) == "arcnn-q10"
    monkeypatch.setitem(zoo.REGISTRY, zoo.BLIND_MODEL, zoo.REGISTRY["arcnn-q10"])
    monkeypatch.setitem(zoo.REGISTRY, "arcnn-q90", zoo.replace(zoo.REGISTRY["arcnn-q10"], quality=90))
    assert zoo.auto_model(11) == "arcnn-q10"  # standard tables, near a per-quality model
    assert zoo.auto_model(11, exact=False) == zoo.BLIND_MODEL  # another encoder's tables
    assert zoo.auto_model(10 + zoo.AUTO_TOLERANCE + 1) == zoo.BLIND_MODEL
    assert zoo.auto_model(None) == zoo.BLIND_MODEL  # no tables: PNG, BMP ...


def test_models_for_other_degradations_are_never_picked_by_quality(monkeypatch):
    import arcnn.zoo as zoo

    social = zoo.replace(zoo.REGISTRY["arcnn-q10"], name="arcnn-social", quality=75, box=(600, 450))
    monkeypatch.setitem(zoo.REGISTRY, "arcnn-social", social)
    assert not social.per_quality and zoo.REGISTRY["arcnn-q10"].per_quality
    assert zoo.nearest_model(75) != "arcnn-social"
    assert zoo.auto_model(75) != "arcnn-social"
