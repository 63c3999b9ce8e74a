import numpy as np
import pytest
import torch
from PIL import Image


@pytest.fixture(autouse=True)
def _seed(monkeypatch, tmp_path_factory):
    torch.manual_seed(0)
    np.random.seed(0)
    monkeypatch.setenv("ARCNN_CACHE", str(tmp_path_factory.mktemp("cache")))


def smooth_image(h: int, w: int, seed: int = 0, colour: bool = False) -> np.ndarray:
    """A natural-ish uint8 test image: smooth gradients, a few edges and mild texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    planes = []
    for c in range(3 if colour else 1):
        a, b, f = rng.uniform(0.5, 1.5, 3)
        p = 120 + 60 * np.sin(6 * a * xx + c) * np.cos(5 * b * yy) + 40 * ((xx * f + yy) % 0.5 > 0.25)
        p += rng.normal(0, 4, (h, w))
        planes.append(p)
    img = np.clip(np.stack(planes, -1) if colour else planes[0], 0, 255).astype(np.uint8)
    return img


def png_zlib_level(data: bytes) -> int:
    """The compression level a PNG's zlib stream says it was written with (FLEVEL, RFC 1950): 0 for
    levels 0-1, 1 for 2-5, 2 for 6, 3 for 7-9."""
    i = data.index(b"IDAT") + 4
    return data[i + 1] >> 6


# What png_zlib_level reads for each of PNG's zlib levels 0..9.
ZLIB_FLEVEL = [0, 0, 1, 1, 1, 1, 2, 3, 3, 3]


@pytest.fixture
def image_dir(tmp_path):
    """A folder of four small colour PNGs."""
    d = tmp_path / "images"
    d.mkdir()
    for i in range(4):
        Image.fromarray(smooth_image(72, 88, seed=i, colour=True)).save(d / f"img{i}.png")
    return d
