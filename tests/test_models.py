import pytest
import torch

from arcnn.models import PRESETS, ConvStack, ModelConfig, build_model, parse_notation, preset
from arcnn.weights import save_weights
from arcnn.zoo import load_model


@pytest.mark.parametrize(
    "name,notation,widths,border",
    [
        ("arcnn", "9-7-1-5", (64, 32, 16, 1), 9),
        ("srcnn", "9-1-5", (64, 32, 1), 6),
        ("deeper-srcnn", "9-1-1-5", (64, 32, 16, 1), 6),
        ("arcnn5", "9-7-3-1-5", (64, 32, 16, 16, 1), 10),
        ("fast-arcnn", "9-1-7-1-9", (64, 32, 32, 64, 1), 14),
        ("deep-arcnn", "9-3-3-3-3-3-3-1-5", (64,) * 7 + (16, 1), 12),
        ("deep-arcnn-thin", "9-3-3-3-3-3-3-3-3-1-5", (48,) * 9 + (16, 1), 14),
    ],
)
def test_presets(name, notation, widths, border):
    cfg = PRESETS[name]
    assert cfg.notation == notation and cfg.widths == widths and cfg.border == border
    model = build_model(name)
    convs = list(model.convs)
    assert [c.kernel_size[0] for c in convs] == [int(k) for k in notation.split("-")]
    assert [c.out_channels for c in convs] == list(widths)
    x = torch.rand(2, 1, 40, 50)
    assert model(x).shape == (2, 1, 40 - 2 * border, 50 - 2 * border)
    assert model.restore_tensor(x).shape == x.shape


def test_parse_notation_and_validation():
    assert parse_notation("9-7-1-5", "64-32-16-1") == PRESETS["arcnn"]
    with pytest.raises(ValueError, match="one width per kernel"):
        ModelConfig((9, 5), (64, 32, 1))
    with pytest.raises(ValueError, match="odd"):
        ModelConfig((8, 5), (64, 1))
    with pytest.raises(ValueError, match="last width"):
        ModelConfig((9, 5), (64, 3))
    with pytest.raises(ValueError, match="bad notation"):
        parse_notation("9-x-5", "64-32-1")
    with pytest.raises(ValueError, match="unknown model preset"):
        preset("vgg")


def test_config_json_round_trip_rejects_unknown_keys():
    cfg = preset("arcnn", residual=True)
    assert ModelConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ValueError, match="unknown model config keys"):
        ModelConfig.from_dict({"kernels": [9, 5], "widths": [8, 1], "dropout": 0.1})


def test_residual_adds_centre_crop():
    model = ConvStack(preset("srcnn", residual=True))
    for conv in model.convs:
        torch.nn.init.zeros_(conv.weight)
        torch.nn.init.zeros_(conv.bias)
    x = torch.rand(1, 1, 30, 30)
    b = model.config.border
    assert torch.equal(model(x), x[..., b:-b, b:-b])
    assert torch.allclose(model.restore_tensor(x), x)


def test_border_is_symmetric_padding():
    """Inference output equals the valid network applied to the symmetric-padded input."""
    import numpy as np

    model = build_model("srcnn")
    x = torch.rand(1, 1, 20, 24)
    padded = torch.from_numpy(np.pad(x.numpy(), ((0, 0), (0, 0), (6, 6), (6, 6)), mode="symmetric"))
    assert torch.allclose(model.restore_tensor(x), model(padded))
    tiny = torch.rand(1, 1, 5, 5)  # smaller than the border: replicate instead
    assert model.restore_tensor(tiny).shape == tiny.shape


def test_weight_round_trip(tmp_path):
    model = build_model(preset("arcnn5", residual=True))
    path = tmp_path / "w.safetensors"
    save_weights(path, model, {"note": "test"})
    loaded = load_model(path)
    assert loaded.config == model.config
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)
    assert not list(tmp_path.glob("*.tmp"))


def test_load_model_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not weights at all")
    with pytest.raises(ValueError, match="not a readable safetensors"):
        load_model(bad)
    with pytest.raises(ValueError, match="unknown model"):
        load_model(tmp_path / "missing.safetensors")


def test_tiling_does_not_change_the_result():
    import numpy as np

    from arcnn.engine import restore_luma

    from .conftest import smooth_image

    model = build_model(preset("arcnn", residual=True)).eval()
    img = smooth_image(45, 70)
    whole = restore_luma(model, img, tile=4096)
    assert np.array_equal(restore_luma(model, img, tile=16), whole)
    assert np.array_equal(restore_luma(model, img, tile=7), whole)


def test_fast_arcnn_layers_and_receptive_field():
    model = build_model("fast-arcnn").eval()
    first, last = model.convs[0], model.convs[-1]
    assert first.stride == (2, 2) and isinstance(last, torch.nn.ConvTranspose2d) and last.stride == (2, 2)
    assert all(isinstance(a, torch.nn.PReLU) for a in model.acts)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.1)
        # One changed input pixel reaches exactly the border's radius in the output.
        x = torch.rand(1, 1, 81, 80)
        x2 = x.clone()
        x2[..., 40, 40] += 1
        changed = (model(x2) - model(x)).abs()[0, 0].nonzero()
    b = model.config.border
    assert changed.min(0).values.tolist() == [40 - 2 * b] * 2
    assert changed.max(0).values.tolist() == [40] * 2


@pytest.mark.parametrize("tile", [512, 64, 33])
def test_fast_arcnn_tiling_is_exact(tile):
    import numpy as np

    from arcnn.engine import restore_luma

    torch.manual_seed(0)
    model = build_model(preset("fast-arcnn", residual=True)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.05)
    img = np.random.default_rng(0).integers(0, 256, (131, 97), dtype=np.uint8)
    assert np.array_equal(restore_luma(model, img, tile=tile), restore_luma(model, img, tile=4096))


@pytest.mark.parametrize("shape", [(45, 70), (5, 7)])
def test_tiled_restoration_equals_whole_image_forward(shape):
    """restore_luma pads in uint8 and converts per tile; the reference pads the float tensor."""
    import numpy as np

    from arcnn.engine import restore_luma

    model = build_model(preset("arcnn", residual=True)).eval()
    img = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    with torch.no_grad():
        ref = model.restore_tensor(torch.from_numpy(img / 255.0).float()[None, None])
    ref = (ref.clamp(0, 1) * 255).round()[0, 0].numpy()
    assert np.array_equal(restore_luma(model, img, tile=16), ref)
