"""Images in, training pairs out: loading luminance, JPEG degradation, patch sampling.

All images here are uint8 NumPy arrays (H, W) of luminance (Y of MATLAB's YCbCr);
training batches are float32 tensors (N, 1, P, P) in [0, 1].
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from arcnn.codec import jpeg_roundtrip, rgb2ycbcr, webp_roundtrip
from arcnn.files import IMAGE_SUFFIXES, atomic_write

__all__ = [
    "IMAGE_SUFFIXES",
    "shared_data_dir",
    "list_images",
    "load_luma",
    "PairSet",
    "Degradation",
    "jfif_ycbcr",
    "jfif_rgb",
    "make_pairs",
    "concat_pairs",
    "cache_dir",
    "image_weights",
    "sample_batch",
    "grid_patches",
    "to_tensor",
]


def shared_data_dir() -> Path:
    """``$ARCNN_DATA``, else ``../shared/data`` from the working folder or the source tree.

    The result may not exist (a fresh clone has no research data); callers say so.
    """
    env = os.environ.get("ARCNN_DATA")
    if env:
        return Path(env)
    candidates = [
        Path.cwd().parent / "shared" / "data",
        Path(__file__).resolve().parents[3] / "shared" / "data",
    ]
    return next((c for c in candidates if c.is_dir()), candidates[0])


def list_images(*dirs: str | Path) -> list[Path]:
    """Image files directly inside the given folders, sorted by name; ``ValueError`` if none."""
    files: list[Path] = []
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            raise ValueError(f"{d}: not a folder")
        files += sorted(p for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"no images found in {', '.join(str(d) for d in dirs)}")
    return files


def load_luma(path: str | Path) -> np.ndarray:
    """The (H, W) uint8 luminance of an image file: Y of MATLAB rgb2ycbcr, or the gray values."""
    with Image.open(path) as im:
        if im.mode in ("L", "I;16", "I", "F"):
            return np.asarray(im.convert("L"))
        return rgb2ycbcr(np.asarray(im.convert("RGB")))[..., 0]


_RESAMPLERS = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
               "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}  # fmt: skip


@dataclass(frozen=True)
class Degradation:
    """How a clean image becomes a (clean, degraded) pair of uint8 (H, W) luminance planes.

    Default, the evaluation protocol: the image's Y, compressed as a grayscale JPEG at ``quality``.
    ``scale``: resize the image by this factor first (the paper's Table 3 uses 0.5).
    ``box``: the "social media" case (the paper's Twitter experiment): resize the image to fit
    (width, height), turned to the image's orientation, then compress the *colour* image at
    ``quality`` with ``subsampling`` chroma, as a photo-sharing site re-encodes uploads; the pair
    is the Y of the resized image and the Y of the decoded JPEG.
    ``resample``: the resampler of both resizes (nearest, bilinear, bicubic, lanczos).
    ``codec``: "jpeg", or "webp" (Pillow's lossy WebP at ``quality``, instead of JPEG throughout).
    ``chroma``: colour pairs for the chroma model: (H, W, 3) uint8 JFIF (Y, Cb, Cr) of the
    (resized) RGB image, and of its colour JPEG at ``quality`` with ``subsampling`` chroma as
    libjpeg decodes it (its upsampling), which is what ``arcnn restore`` reads from a file.
    """

    quality: int = 10
    scale: float = 1.0
    box: tuple[int, int] | None = None
    resample: str = "bicubic"
    subsampling: str = "4:2:0"
    chroma: bool = False
    codec: str = "jpeg"

    def __post_init__(self) -> None:
        if not 1 <= self.quality <= 100:
            raise ValueError(f"JPEG quality must be in 1..100, got {self.quality}")
        if not 0 < self.scale <= 1:
            raise ValueError(f"scale must be in (0, 1], got {self.scale}")
        if self.box is not None:
            object.__setattr__(self, "box", tuple(int(v) for v in self.box))
            if len(self.box) != 2 or min(self.box) < 8:
                raise ValueError(f"box must be (width, height) of at least 8 px, got {self.box}")
        if self.resample not in _RESAMPLERS:
            raise ValueError(f"resample must be one of {', '.join(_RESAMPLERS)}, not {self.resample!r}")
        if self.codec not in ("jpeg", "webp"):
            raise ValueError(f"codec must be jpeg or webp, not {self.codec!r}")
        if self.chroma and self.codec != "jpeg":
            raise ValueError("the chroma pairs are JPEG's: chroma needs codec jpeg")
        if self.subsampling not in ("4:4:4", "4:2:2", "4:2:0"):
            raise ValueError(f"subsampling must be 4:4:4, 4:2:2 or 4:2:0, not {self.subsampling!r}")

    @property
    def is_protocol(self) -> bool:
        """True for the plain evaluation protocol (grayscale JPEG of the image's Y)."""
        return self.scale == 1 and self.box is None and not self.chroma and self.codec == "jpeg"

    def compress(self, image: np.ndarray) -> np.ndarray:
        """The decoded result of compressing a uint8 (H, W) or (H, W, 3) image at ``quality``."""
        if self.codec == "webp":
            return webp_roundtrip(image, self.quality)
        return jpeg_roundtrip(image, self.quality, self.subsampling)

    def fitted_size(self, width: int, height: int) -> tuple[int, int]:
        """The size an image of ``width`` x ``height`` gets, aspect kept, to fit ``box``."""
        assert self.box is not None
        bw, bh = self.box if (width >= height) == (self.box[0] >= self.box[1]) else self.box[::-1]
        f = min(bw / width, bh / height)
        return max(1, round(width * f)), max(1, round(height * f))

    def pair(self, path: str | Path) -> tuple[np.ndarray, np.ndarray]:
        """(clean, degraded) uint8 (H, W) luminance of the image file ``path``."""
        if self.scale == 1 and self.box is None and not self.chroma:
            clean = load_luma(path)
            return clean, self.compress(clean)
        with Image.open(path) as f:
            gray = f.mode in ("L", "I;16", "I", "F")
            im = f.convert("L" if gray else "RGB")
            resample = _RESAMPLERS[self.resample]
            if self.scale != 1:
                im = im.resize((max(1, round(im.width * self.scale)), max(1, round(im.height * self.scale))),
                               resample)  # fmt: skip
            if self.box is not None:
                im = im.resize(self.fitted_size(*im.size), resample)
            img = np.asarray(im)
        if self.chroma:
            if gray:
                raise ValueError(f"{path}: a grayscale image has no chroma to train on")
            return _jfif_ycbcr_pair(img, self.quality, self.subsampling)
        if gray:
            return img, self.compress(img)
        clean = rgb2ycbcr(img)[..., 0]
        if self.box is None:
            return clean, self.compress(clean)
        return clean, rgb2ycbcr(self.compress(img))[..., 0]


# JFIF's RGB -> YCbCr (full range, Cb and Cr centred on 128), and back.
_JFIF = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
_JFIF_OFFSET = np.array([0.0, 128.0, 128.0])


def jfif_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) RGB -> uint8 (H, W, 3) JFIF YCbCr, rounded as libjpeg's encoder rounds.

    Not Pillow's ``convert("YCbCr")``, which truncates: its planes sit about half a level below
    what a JPEG codes, a bias a network trained on them would learn to add.
    """
    return np.clip(np.rint(rgb.astype(np.float64) @ _JFIF.T + _JFIF_OFFSET), 0, 255).astype(np.uint8)


def jfif_rgb(ycbcr: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) JFIF YCbCr -> uint8 (H, W, 3) RGB, rounded (the inverse of :func:`jfif_ycbcr`)."""
    rgb = (ycbcr.astype(np.float64) - _JFIF_OFFSET) @ np.linalg.inv(_JFIF).T
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def _jfif_ycbcr_pair(rgb: np.ndarray, quality: int, subsampling: str) -> tuple[np.ndarray, np.ndarray]:
    """JFIF YCbCr of an RGB image and of its colour JPEG, as libjpeg decodes it."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality, subsampling=subsampling)
    buf.seek(0)
    with Image.open(buf) as im:
        im.draft("YCbCr", im.size)
        degraded = np.asarray(im.convert("YCbCr"))
    return jfif_ycbcr(rgb), degraded


@dataclass(frozen=True)
class PairSet:
    """Clean and degraded images, index-aligned lists of uint8 (H, W) luminance, or (H, W, 3)
    YCbCr for the chroma model."""

    clean: list[np.ndarray]
    degraded: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.clean)


def cache_dir() -> Path:
    """Where prepared data is cached: ``$ARCNN_CACHE``, default ``~/.cache/arcnn``."""
    return Path(os.environ.get("ARCNN_CACHE", Path.home() / ".cache" / "arcnn"))


def make_pairs(files: list[Path], degradation: int | Degradation, cache: bool = True) -> PairSet:
    """Clean and degraded luminance of each file; an int is the protocol's JPEG quality.

    With ``cache``, the result is stored under ``$ARCNN_CACHE`` (default
    ``~/.cache/arcnn``), keyed by the files' paths, sizes, mtimes and the degradation.
    """
    deg = degradation if isinstance(degradation, Degradation) else Degradation(int(degradation))
    if not files:  # a blind run's validation images are shared out over its qualities: some get none
        return PairSet([], [])
    # v3: chroma pairs whose clean planes are rounded as libjpeg rounds them (v2: Pillow's, truncated)
    version = "v3" if deg.chroma else "v2"
    key = hashlib.sha256((f"v1 q{deg.quality}" if deg.is_protocol else f"{version} {deg!r}").encode())
    for f in files:
        st = f.stat()
        key.update(f"{f.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    path = cache_dir() / f"pairs-{key.hexdigest()[:16]}.npz"
    if cache and path.exists():
        with np.load(path) as z:
            n = len(files)
            return PairSet([z[f"c{i}"] for i in range(n)], [z[f"d{i}"] for i in range(n)])
    clean, degraded = map(list, zip(*(deg.pair(f) for f in files)))
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"c{i}": c for i, c in enumerate(clean)} | {f"d{i}": d for i, d in enumerate(degraded)}
        with atomic_write(path) as tmp, open(tmp, "wb") as out:  # concurrent runs may build the cache
            np.savez(out, **arrays)
    return PairSet(clean, degraded)


def concat_pairs(sets: list[PairSet]) -> PairSet:
    """One PairSet holding the pairs of all ``sets`` (the arrays are shared, not copied)."""
    return PairSet([c for s in sets for c in s.clean], [d for s in sets for d in s.degraded])


def to_tensor(batch: np.ndarray) -> torch.Tensor:
    """uint8 (N, P, P) or (N, P, P, C) -> float32 (N, C, P, P) in [0, 1]."""
    t = torch.from_numpy(batch.astype(np.float32) / 255.0)
    return t.unsqueeze(1) if t.ndim == 3 else t.permute(0, 3, 1, 2).contiguous()


def image_weights(pairs: PairSet, mode: str = "area") -> np.ndarray:
    """Probability of drawing each image: ``"area"``, or ``"psnr"`` (uniform over images,
    times 1 / the image's degraded MSE), under which the expected MSE loss has the gradient
    of the mean per-image PSNR that benchmarks report, to first order."""
    if mode == "area":
        w = np.array([c.size for c in pairs.clean], dtype=np.float64)
    elif mode == "psnr":
        mse = [np.mean((c.astype(np.float64) - d) ** 2) for c, d in zip(pairs.clean, pairs.degraded)]
        w = 1.0 / np.maximum(mse, 1e-3)
    else:
        raise ValueError(f"image weighting must be area or psnr, not {mode!r}")
    return w / w.sum()


def sample_batch(
    pairs: PairSet, rng: np.random.Generator, batch: int, patch: int, augment: bool,
    weights: np.ndarray | None = None, transpose: bool = True, align: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """``batch`` random ``patch``x``patch`` crops (degraded, clean), each (N, C, P, P) in [0, 1].

    Images are picked with probabilities ``weights`` (default: proportional to area);
    with ``augment`` each crop gets one of the 8 flips/rotations, or with ``transpose=False``
    one of the 4 flips (identity, horizontal, vertical, both): a transposed JPEG is not a
    JPEG, since the quantisation tables are not symmetric. ``align``: crops start on this grid
    (16: a 4:2:0 JPEG's blocks and chroma samples fall where they fall in the whole image; a
    ``patch`` that is a multiple of it keeps them there through the flips).
    """
    p = image_weights(pairs) if weights is None else weights
    idx = rng.choice(len(pairs), size=batch, p=p)
    xs = np.empty((batch, patch, patch, *pairs.degraded[0].shape[2:]), np.uint8)
    ys = np.empty((batch, patch, patch, *pairs.clean[0].shape[2:]), np.uint8)
    for n, i in enumerate(idx):
        c, d = pairs.clean[i], pairs.degraded[i]
        h, w = c.shape[:2]
        if h < patch or w < patch:
            raise ValueError(f"training image {c.shape} is smaller than the {patch}px patch")
        r = align * rng.integers(0, (h - patch) // align + 1)
        s = align * rng.integers(0, (w - patch) // align + 1)
        x, y = d[r : r + patch, s : s + patch], c[r : r + patch, s : s + patch]
        if augment:
            turns, flip = int(rng.integers(0, 4 if transpose else 2)), rng.integers(0, 2)
            k = turns if transpose else 2 * turns
            x, y = np.rot90(x, k), np.rot90(y, k)
            if flip:
                x, y = x[:, ::-1], y[:, ::-1]
        xs[n], ys[n] = x, y
    return to_tensor(xs), to_tensor(ys)


def grid_patches(pairs: PairSet, patch: int = 32, stride: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Every ``patch``x``patch`` sub-image at ``stride`` (the paper's sampling): two uint8 (M, P, P)."""
    xs, ys = [], []
    for c, d in zip(pairs.clean, pairs.degraded):
        h, w = c.shape[:2]
        for r in range(0, h - patch + 1, stride):
            for s in range(0, w - patch + 1, stride):
                xs.append(d[r : r + patch, s : s + patch])
                ys.append(c[r : r + patch, s : s + patch])
    return np.stack(xs), np.stack(ys)
