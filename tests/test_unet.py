"""The quality-tier network: exact tiling, the quality plane, weights and ONNX round trips, its cost."""

import numpy as np
import pytest
import torch

from arcnn.engine import restore_luma
from arcnn.flops import macs_per_pixel
from arcnn.unet import UNet, UNetConfig, quality_plane
from arcnn.weights import load_weights_file, save_weights

from .conftest import smooth_image

SMALL = UNetConfig(widths=(8, 12, 16), blocks=(1, 1, 1))


@pytest.fixture
def net():
    torch.manual_seed(0)
    model = UNet(SMALL)
    with torch.no_grad():
        for p in model.parameters():  # past the identity start: every layer matters
            p.add_(0.05 * torch.randn_like(p))
    return model.eval()


def test_border_is_the_receptive_field_on_the_coarsest_grid(net):
    assert SMALL.border % SMALL.multiple == 0
    x = torch.zeros(1, 2, 96, 96)
    x.requires_grad_(True)
    net(x)[0, 0, 48, 48].backward()
    reach = x.grad[0].abs().sum(0).nonzero()
    radius = int((reach - 48).abs().max())
    assert 0 < radius <= SMALL.border


def test_tiling_is_exact_at_any_size(net):
    plane = smooth_image(101, 133)
    whole = restore_luma(net, plane, tile=4096, quality=20)
    for tile in (16, 40, 64):
        assert np.array_equal(restore_luma(net, plane, tile=tile, quality=20), whole), tile


def test_the_quality_plane_is_read(net):
    plane = smooth_image(48, 64)
    q10, q40 = restore_luma(net, plane, quality=10), restore_luma(net, plane, quality=40)
    unknown = restore_luma(net, plane)
    assert not np.array_equal(q10, q40) and not np.array_equal(unknown, q10)
    x = torch.rand(3, 1, 8, 8)
    planes = quality_plane(x, torch.tensor([0.0, 10.0, 50.0]))
    assert planes.shape == (3, 2, 8, 8) and torch.equal(planes[:, 1:], x)
    assert planes[:, 0].amax(dim=(1, 2)).tolist() == pytest.approx([0.0, 0.1, 0.5])


def test_weights_and_onnx_round_trips(net, tmp_path):
    path = tmp_path / "unet.safetensors"
    save_weights(path, net)
    loaded = load_weights_file(path)
    assert loaded.config == SMALL
    plane = smooth_image(40, 56)
    ref = restore_luma(net, plane, quality=30)
    assert np.array_equal(restore_luma(loaded, plane, quality=30), ref)
    pytest.importorskip("onnxruntime")
    from arcnn.export import OnnxModel, export_onnx

    onnx = OnnxModel(export_onnx(net, tmp_path / "unet.onnx"))
    assert onnx.config == SMALL
    assert np.abs(restore_luma(onnx, plane, quality=30).astype(int) - ref).max() <= 1


def test_cost_is_counted_per_pixel():
    # Hand count for SMALL: each 3x3 conv at scale s costs 9 * w_s^2 / 4^s per full-resolution pixel.
    w = SMALL.widths
    convs = 9 * (4 * w[0] ** 2 + 4 * w[1] ** 2 / 4 + 2 * w[2] ** 2 / 16) + 9 * 2 * w[0] + 9 * w[0]
    updown = 2 * (4 * w[0] * w[1] / 4 + 4 * w[1] * w[2] / 16)
    assert macs_per_pixel(UNet(SMALL)) == pytest.approx(convs + updown)
