"""The quality-tier network and its chroma variant: exact tiling, the quality plane, weights and ONNX
round trips, its cost, configs of earlier networks read as before."""

import numpy as np
import pytest
import torch

from arcnn.engine import MATCHED_MAX_QUALITY, restore_chroma, restore_luma
from arcnn.flops import macs_per_pixel
from arcnn.netconfig import config_from_json
from arcnn.unet import UNet, UNetConfig, quality_plane
from arcnn.weights import load_weights_file, save_weights

from .conftest import smooth_image

SMALL = UNetConfig(widths=(8, 12, 16), blocks=(1, 1, 1))
# (Y, Cb, Cr) -> (Cb, Cr) at half resolution
CHROMA = UNetConfig(widths=(8, 12, 16), blocks=(1, 1, 1), planes=3, channels=2, unshuffle=2)


def _seeded(config: UNetConfig) -> UNet:
    torch.manual_seed(0)
    model = UNet(config)
    with torch.no_grad():
        for p in model.parameters():  # past the identity start: every layer matters
            p.add_(0.05 * torch.randn_like(p))
    return model.eval()


@pytest.fixture
def net():
    return _seeded(SMALL)


@pytest.fixture
def chroma_net():
    return _seeded(CHROMA)


def _ycbcr(h, w):
    return smooth_image(h, w, colour=True)  # any three planes do for the network


@pytest.mark.parametrize("config", [SMALL, CHROMA])
def test_border_is_the_receptive_field_on_the_coarsest_grid(config):
    assert config.border % config.multiple == 0 and config.multiple == 4 * config.unshuffle
    model, side = UNet(config).double(), 2 * config.border + 4 * config.multiple
    with torch.no_grad():  # positive weights and inputs: every ReLU passes, so no path hides
        for p in model.parameters():
            p.uniform_(0.01, 0.02)
    radius = 0
    for phase in range(config.multiple):  # every position on the coarsest grid
        x = torch.ones(1, config.inputs, side, side, dtype=torch.double, requires_grad=True)
        c = side // 2 - (side // 2) % config.multiple + phase
        model(x)[0, :, c, c].sum().backward()
        reach = x.grad[0].abs().sum(0).nonzero()
        radius = max(radius, int((reach - c).abs().max()))
    # enough context for exact tiles, and not much more: each extra pixel is computed for nothing
    assert 3 * config.border // 4 < radius <= config.border


def test_networks_that_see_far_get_wider_tiles_by_default():
    from arcnn.engine import auto_tile
    from arcnn.models import ModelConfig
    from arcnn.options import TILE

    assert auto_tile(ModelConfig()) == TILE
    large = UNetConfig(widths=(32, 64, 128, 128), blocks=(1, 1, 2, 2))
    assert auto_tile(large) % 512 == 0 and auto_tile(large) >= 10 * large.border


def test_tiling_is_exact_at_any_size(net):
    plane = smooth_image(101, 133)
    whole = restore_luma(net, plane, tile=4096, quality=20)
    for tile in (16, 40, 64):
        # the same sums in another order (convolutions of other sizes): a float32 rounding may tip
        # a value at a half level, nothing more
        diff = restore_luma(net, plane, tile=tile, quality=20).astype(int) - whole
        assert np.abs(diff).max() <= 1 and np.mean(diff != 0) < 1e-3, tile


def test_a_plane_is_mirrored_by_the_edge_not_the_whole_border(net):
    """Size-keeping networks pad their convolutions with zeros, as in training: a plane that fits one
    tile is run once, mirrored by one coarsest cell, not by the receptive field's radius."""
    from arcnn.models import ModelConfig

    shapes = []

    class Recorded:
        config = net.config

        def eval(self):
            return self

        def __call__(self, x):
            shapes.append(x.shape)
            with torch.no_grad():
                return net(torch.from_numpy(x)).numpy()

    plane = smooth_image(101, 133)
    out = restore_luma(Recorded(), plane, quality=20)
    e = SMALL.edge
    assert e == SMALL.multiple < SMALL.border and ModelConfig().edge == ModelConfig().border
    assert shapes == [(1, 2, 101 + 2 * e, 133 + 2 * e)]
    padded = torch.from_numpy(np.pad(plane, e, mode="symmetric") / np.float32(255))[None, None]
    with torch.no_grad():
        direct = net(quality_plane(padded, 20))[0, 0, e:-e, e:-e].clamp(0, 1).mul(255).round().byte().numpy()
    assert np.abs(out.astype(int) - direct).max() <= 1


def test_chroma_tiling_is_exact_at_any_size(chroma_net):
    planes = _ycbcr(101, 133)
    whole = restore_chroma(chroma_net, planes, tile=4096, quality=20)
    assert whole.shape == (101, 133, 2)
    for tile in (16, 40, 64):
        # as for the luminance: tiles of other sizes sum in another order, which may tip a value
        # at a half level, nothing more
        diff = restore_chroma(chroma_net, planes, tile=tile, quality=20).astype(int) - whole
        assert np.abs(diff).max() <= 1 and np.mean(diff != 0) < 1e-3, tile


def test_chroma_starts_as_the_jpeg_and_reads_the_quality(chroma_net):
    planes = _ycbcr(48, 64)
    assert np.array_equal(restore_chroma(UNet(CHROMA), planes, quality=10), planes[..., 1:])
    q10, q40 = restore_chroma(chroma_net, planes, quality=10), restore_chroma(chroma_net, planes, quality=40)
    assert not np.array_equal(q10, q40) and not np.array_equal(restore_chroma(chroma_net, planes), q10)


def test_the_quality_plane_is_read(net):
    plane = smooth_image(48, 64)
    q10, q40 = restore_luma(net, plane, quality=10), restore_luma(net, plane, quality=40)
    unknown = restore_luma(net, plane)
    assert not np.array_equal(q10, q40) and not np.array_equal(unknown, q10)
    x = torch.rand(3, 1, 8, 8)
    planes = quality_plane(x, torch.tensor([0.0, 10.0, 50.0]))
    assert planes.shape == (3, 2, 8, 8) and torch.equal(planes[:, 1:], x)
    assert planes[:, 0].amax(dim=(1, 2)).tolist() == pytest.approx([0.0, 0.1, 0.5])


def test_full_range_luma_is_told_the_quality_whose_steps_it_sees(net):
    """JFIF Y mapped to the studio range has steps 219/255 as large: a q10 file is read as q12."""
    from arcnn.codec import scaled_quality

    plane = smooth_image(48, 64)
    told = restore_luma(net, plane, full_range=True, quality=10)
    assert scaled_quality(10, 219 / 255) == 12

    def as_given(quality, full_range=True):
        return restore_luma(net, plane, full_range=full_range, quality=quality, match_quality=False)

    assert np.array_equal(told, as_given(12)) and not np.array_equal(told, as_given(10))
    above = MATCHED_MAX_QUALITY + 10  # past the qualities it learned: told the file's own
    assert np.array_equal(restore_luma(net, plane, full_range=True, quality=above), as_given(above))
    assert np.array_equal(restore_luma(net, plane, quality=10), as_given(10, full_range=False))


def test_unrounded_planes_round_to_the_rounded_ones(net, chroma_net):
    from arcnn.codec import ijg_table, jpeg_roundtrip

    plane, planes = jpeg_roundtrip(smooth_image(48, 64), 20), _ycbcr(40, 56)
    table = ijg_table(20).astype(np.float64)
    for kw in ({}, {"full_range": True, "quality": 20}, {"ensemble": 4}, {"qtable": table, "quality": 20}):
        y = restore_luma(net, plane, rounded=False, **kw)
        assert y.dtype == np.float32 and np.array_equal(y.round(), restore_luma(net, plane, **kw))
        assert not np.array_equal(y, y.round())
    from arcnn.engine import _restore_float

    def post(z, r, c):  # float64 values that round apart from their float32 selves
        return np.full(z.shape, 100.50000001)

    once = [_restore_float(net, plane, 64, False, dtype, post=post) for dtype in (np.uint8, np.float32)]
    assert np.array_equal(once[0], once[1].round())
    c = restore_chroma(chroma_net, planes, quality=30, rounded=False)
    assert c.dtype == np.float32 and np.array_equal(c.round(), restore_chroma(chroma_net, planes, quality=30))


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


def test_chroma_weights_and_onnx_round_trips(chroma_net, tmp_path):
    path = tmp_path / "chroma.safetensors"
    save_weights(path, chroma_net)
    loaded = load_weights_file(path)
    assert loaded.config == CHROMA
    planes = _ycbcr(40, 56)
    ref = restore_chroma(chroma_net, planes, quality=30)
    assert np.array_equal(restore_chroma(loaded, planes, quality=30), ref)
    pytest.importorskip("onnxruntime")
    from arcnn.engine import on_backend
    from arcnn.export import OnnxModel, export_onnx

    onnx = OnnxModel(export_onnx(chroma_net, tmp_path / "chroma.onnx"))
    assert onnx.config == CHROMA
    assert isinstance(on_backend(chroma_net, "onnxruntime"), OnnxModel)
    odd = _ycbcr(75, 61)  # sides off every grid: padded inside the graph
    for p, tile in ((planes, 512), (odd, 32)):
        ref = restore_chroma(chroma_net, p, tile=tile, quality=30)
        assert np.abs(restore_chroma(onnx, p, tile=tile, quality=30).astype(int) - ref).max() <= 1


def test_configs_of_earlier_networks_read_and_write_as_before():
    earlier = '{"arch": "unet", "blocks": [1, 1, 2, 2], "conditioned": true, "widths": [32, 64, 128, 128]}'
    config = config_from_json(earlier)
    assert (config.planes, config.channels, config.unshuffle, config.inputs) == (1, 1, 1, 2)
    assert config.to_json() == earlier and config.border == 96
    assert config_from_json(CHROMA.to_json()) == CHROMA and CHROMA.inputs == 4
    for bad in ({"planes": 0}, {"planes": 5}, {"channels": 2}, {"unshuffle": 0}, {"unshuffle": 5}):
        with pytest.raises(ValueError):
            UNetConfig(**bad)


@pytest.mark.parametrize("config", [SMALL, CHROMA])
def test_cost_is_counted_per_pixel(config):
    # Hand count: each 3x3 conv at scale s costs 9 * w_s^2 / 4^s per pixel it works on, and with
    # unshuffle u it works on one pixel in u^2 of the image's.
    w, cells = config.widths, config.unshuffle**2
    convs = 9 * (4 * w[0] ** 2 + 4 * w[1] ** 2 / 4 + 2 * w[2] ** 2 / 16)
    ends = 9 * config.inputs * cells * w[0] + 9 * w[0] * config.channels * cells
    updown = 2 * (4 * w[0] * w[1] / 4 + 4 * w[1] * w[2] / 16)
    assert macs_per_pixel(UNet(config)) == pytest.approx((convs + ends + updown) / cells)
