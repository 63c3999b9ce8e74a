"""The model zoo: one registry of shipped weights, and loading of any weights file.

Weights are safetensors files whose metadata holds the model config as JSON
(key ``model_config``); nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from arcnn.models import ConvStack, ModelConfig

__all__ = ["ModelCard", "REGISTRY", "WEIGHTS_DIR", "SCORES_FILE", "load_model", "save_weights",
           "read_weights", "sha256_file", "DEFAULT_MODEL", "CHROMA_MODEL", "CHROMA_LOW_MODEL", "BLIND_MODEL",
           "WEBP_MODEL", "nearest_model", "auto_model", "auto_chroma_model"]  # fmt: skip

WEIGHTS_DIR = Path(__file__).parent / "weights"
# Written by benchmarks/zoo_table.py --write; never edited by hand.
SCORES_FILE = WEIGHTS_DIR / "scores.json"


@dataclass(frozen=True)
class ModelCard:
    """One shipped model: where its weights are and what it was measured to do.

    ``scores`` are means at ``quality`` under the evaluation protocol,
    ``{"live1": {psnr, ssim, ssim_gauss, psnrb, seconds}, "classic5": {...}}``,
    measured by ``benchmarks/zoo_table.py`` (empty until it has run).
    """

    name: str
    file: str
    sha256: str
    quality: int | None  # JPEG quality trained for; None for quality-blind models
    colour: str = "y"  # the channel(s) it restores: "y" = luminance
    architecture: str = "arcnn"  # models.PRESETS name; --quality auto picks among "arcnn" ones
    box: tuple[int, int] | None = None  # social-media degradation it was trained on (data.Degradation)
    training_data: str = "BSDS500 train+test (400 images), Y channel, Pillow grayscale JPEG"
    recipe: str = ""
    scores: dict = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return WEIGHTS_DIR / self.file

    @property
    def per_quality(self) -> bool:
        """A 9-7-1-5 luminance model for plain JPEGs of one quality: what ``--quality auto`` picks among."""
        return (
            self.quality is not None and self.colour == "y" and self.architecture == "arcnn" and not self.box
        )


def _measured() -> dict:
    try:
        return json.loads(SCORES_FILE.read_text())
    except (OSError, ValueError):
        return {}


_CARDS = [
    ModelCard(
        name="arcnn-q10",
        file="arcnn-q10.safetensors",
        sha256="1510c9d189bbb2565555fbbb5940fbcdc3c99f83c3dda9531fffbb5b2694d2b3",
        quality=10,
        recipe="fast; on a GPU, four fine-tunes of the 2-core arcnn-q10, the last two with dead units "
        "revived (experiments/gpu-zoo*.jobs); then the last layer refit in closed form for the mean "
        "image PSNR on the training set (experiments/refit_last_layer.py)",
    ),
    ModelCard(
        name="arcnn-q20",
        file="arcnn-q20.safetensors",
        sha256="44db18963e7ceb9c12acc8b626f44f2ee8a93c6f74bcea4a9d3096a685cdeb7a",
        quality=20,
        recipe="fast; on a GPU, two fine-tunes of the 2-core arcnn-q20 (experiments/gpu-zoo*.jobs)",
    ),
    ModelCard(
        name="arcnn-q30",
        file="arcnn-q30.safetensors",
        sha256="dc69a7b2e385d7aec2906583acd6e560ccd3ce32c899567d71d2bcdfa075bbe6",
        quality=30,
        recipe="fast; on a GPU, two fine-tunes of the 2-core arcnn-q30 (experiments/gpu-zoo*.jobs)",
    ),
    ModelCard(
        name="arcnn-q40",
        file="arcnn-q40.safetensors",
        sha256="ead82177e24cdc1656b1277567e4ce520faa47eb58fe67d57d33bd3e9b4e6174",
        quality=40,
        recipe="fast, all layers from arcnn-q30",
    ),
    ModelCard(
        name="fast-arcnn-q10",
        file="fast-arcnn-q10.safetensors",
        sha256="253c778bb18bc4377f752d94a79b8bd0522c537bb45c96b47a59da1e02d78327",
        quality=10,
        architecture="fast-arcnn",
        recipe="fast, 128px crops",
    ),
    ModelCard(
        name="srcnn-q10",
        file="srcnn-q10.safetensors",
        sha256="53f81ead24984e8948ccd0792f96dbf9f43126f4fd9c7fe346862668a784dcfa",
        quality=10,
        architecture="srcnn",
        recipe="fast, the same budget as arcnn-q10 (paper's Table 2 baseline)",
    ),
    ModelCard(
        name="deeper-srcnn-q10",
        file="deeper-srcnn-q10.safetensors",
        sha256="707baf7922c810325c3e12fb2e8719f9a0d734c07a0c205829f77cf800ac12ef",
        quality=10,
        architecture="deeper-srcnn",
        recipe="fast, the same budget as arcnn-q10 (paper's Table 2 baseline)",
    ),
    ModelCard(
        name="arcnn5-q10",
        file="arcnn5-q10.safetensors",
        sha256="1d1bb267adea542fb1c69d3fff8ad633a8e73c9e4983bf892e3ec798ae1733da",
        quality=10,
        architecture="arcnn5",
        recipe="fast, first two layers from arcnn-q10, 48k samples (the best arm of Fig. 6)",
    ),
    ModelCard(
        name="arcnn-social",
        file="arcnn-social.safetensors",
        sha256="ec0978e829a251da8ce2fc199c848c2a48d76a647a2742c98a57abab046a0104",
        quality=75,
        box=(600, 450),
        training_data="BSDS500 train+test (400 images) fitted into 600x450 (bicubic), colour 4:2:0 Pillow "
        "JPEG at q75; Y of both",
        recipe="fast, first layer from arcnn-q10, 48k samples (the best arm of Fig. 8)",
    ),
    ModelCard(
        name="arcnn-blind",
        file="arcnn-blind.safetensors",
        sha256="dca7fa11eaa33e6e826aff19425e56bcf1a6a3bc9f7caa291ab0a56adb11221e",
        quality=None,
        architecture="deep-arcnn",
        training_data="BSDS500 train+test (400 images), Y channel, Pillow grayscale JPEG at 14 qualities "
        "from 5 to 95 (q10 x3, q20-q40 x2; last stage q10 x5, q40 x1), images drawn by 1 / their JPEG MSE",
        recipe="fast, deep-arcnn (9-3-3-3-3-3-3-1-5) from scratch on an H100 for 11 minutes "
        "(experiments/gpu-zoo3.jobs, gpu-zoo4.jobs), then 50 minutes on one CPU core with q10 drawn more",
    ),
    ModelCard(
        name="arcnn-webp",
        file="arcnn-webp.safetensors",
        sha256="d1bbcdf64b8197b44de1124a55ddf9ad4bde6d2ba1e505bdcaa14fe15411e4ec",
        quality=None,
        training_data="BSDS500 train+test (400 images), Y channel, Pillow lossy WebP at q = 5, 10, 20, 30, "
        "40, 50, 60, 75, 90; images drawn by 1 / their WebP MSE",
        recipe="fast, all layers from arcnn-blind (sha256 ac5ad419...), 80k samples on 2 cores; then "
        "1.1 M more on a GPU (experiments/gpu-zoo2.jobs)",
    ),
    ModelCard(
        name="arcnn-chroma",
        file="arcnn-chroma.safetensors",
        sha256="e5a1dcc2e0be4c780bf160b2064a99a0f47f19056c22f1844a359224be5b1e47",
        quality=None,
        colour="cbcr",
        training_data="BSDS500 train+test (400 images), colour 4:2:0 Pillow JPEG at q = 5, 10, 15, 20, 30, "
        "40, 50, 75, 90; JFIF YCbCr as libjpeg decodes it",
        recipe="fast, 96px crops, 3 inputs (Y, Cb, Cr), 2 outputs (Cb, Cr), on a GPU "
        "(experiments/gpu-zoo.jobs)",
    ),
    ModelCard(
        name="arcnn-chroma-q10",
        file="arcnn-chroma-q10.safetensors",
        sha256="ded758d6923760d3f9a6e93e0e74bdb399ab51db94761eb82dc776355c4445b7",
        quality=10,
        colour="cbcr",
        training_data="BSDS500 train+test (400 images), colour 4:2:0 Pillow JPEG at q10; JFIF YCbCr as "
        "libjpeg decodes it",
        recipe="fast, 96px crops, all layers from arcnn-chroma, on 2 CPU cores",
    ),
]
_SCORES = _measured()
REGISTRY: dict[str, ModelCard] = {c.name: replace(c, scores=_SCORES.get(c.name, {})) for c in _CARDS}

DEFAULT_MODEL = "arcnn-q10"
CHROMA_MODEL = "arcnn-chroma"  # restores Cb and Cr of colour JPEGs, for every quality
CHROMA_LOW_MODEL = "arcnn-chroma-q10"  # the same for the lowest qualities, up to CHROMA_LOW_MAX_QUALITY
# benchmarks/colour.py: arcnn-chroma-q10 beats arcnn-chroma at q5-q12, not from q15.
CHROMA_LOW_MAX_QUALITY = 12
BLIND_MODEL = "arcnn-blind"  # one luminance model for every quality
WEBP_MODEL = "arcnn-webp"  # luminance of lossy WebP images, every quality
# --quality auto uses a per-quality model for an estimated quality within this many steps of the one it
# was trained for, and the blind model for every other (or unknown) quality. Measured on BSDS500 val
# (benchmarks/blind.py --data bsds500/val): the blind model beats the nearest per-quality model by
# 0.01-0.06 dB at q15, q25, q35, q45-q60 and 0.30 dB at q75; at q10-q30 the matching model is better
# (LIVE1, benchmarks/blind.py), at q40 they are within 0.03 dB (both), so near its own quality the
# per-quality model's 2x cheaper network is kept.
# Files with other encoders' tables get the blind model: with tables of another shape the per-quality
# model nearest the estimate lost 0.3-0.4 dB to it at q30-q40 (benchmarks/nonstandard_tables.py).
AUTO_TOLERANCE = 2


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_weights(path: str | Path, model: ConvStack, metadata: dict[str, str] | None = None) -> None:
    """Write ``model`` as safetensors (atomically) with its config in the metadata."""
    path = Path(path)
    meta = dict(metadata or {})
    meta["model_config"] = model.config.to_json()
    state = {k: v.detach().float().contiguous().cpu() for k, v in model.state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    save_file(state, str(tmp), metadata=meta)
    os.replace(tmp, path)


def read_weights(path: str | Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """(metadata, tensors) of a safetensors file; ``ValueError`` if it is not one."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        return meta, load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable safetensors weights file ({e})") from None


def _model_from_file(path: Path) -> ConvStack:
    meta, state = read_weights(path)
    if "model_config" not in meta:
        raise ValueError(f"{path}: weights carry no model_config metadata")
    try:
        model = ConvStack(ModelConfig.from_dict(json.loads(meta["model_config"])))
        model.load_state_dict(state)
    except (ValueError, TypeError, RuntimeError) as e:
        raise ValueError(f"{path}: weights do not match their model config ({e})") from None
    return model.eval().requires_grad_(False)


def load_model(name: str | Path = DEFAULT_MODEL, verify: bool = True) -> ConvStack:
    """A shipped model by registry name (``arcnn-q10`` ...) or any weights file, for inference.

    Weights files are safetensors with a ``model_config`` entry; training checkpoints
    (``.pt``) are read with ``torch.load(weights_only=True)``; ``.onnx`` files exported by
    ``arcnn export`` run on ONNX Runtime.
    """
    key = str(name)
    if key in REGISTRY:
        card = REGISTRY[key]
        if not card.path.exists():
            raise ValueError(f"model {key}: weights file {card.file} is missing from the package")
        if verify and card.sha256 and sha256_file(card.path) != card.sha256:
            raise ValueError(f"model {key}: {card.file} does not match its registered sha256")
        return _model_from_file(card.path)
    path = Path(key)
    if not path.is_file():
        raise ValueError(f"unknown model {key!r}: not a shipped name ({', '.join(REGISTRY)}) nor a file")
    if path.suffix == ".onnx":
        try:
            from arcnn.export import OnnxModel
        except ImportError:
            raise ValueError(
                f"{path}: running ONNX models needs onnxruntime (pip install 'arcnn[onnx]')"
            ) from None
        return OnnxModel(path)
    if path.suffix == ".pt":
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            cfg = json.loads((path.parent / "config.json").read_text())
        except Exception as e:  # noqa: BLE001 - any failure here means "not a usable checkpoint"
            raise ValueError(f"{path}: not a readable arcnn checkpoint ({e})") from None
        from arcnn.train import TrainConfig

        model = ConvStack(TrainConfig.from_dict(cfg).model_config)
        model.load_state_dict(state["model"])
        return model.eval().requires_grad_(False)
    return _model_from_file(path)


def nearest_model(quality: int | None) -> str:
    """The shipped per-quality model whose training quality is nearest ``quality``."""
    per_q = [c for c in REGISTRY.values() if c.per_quality]
    if quality is None or not per_q:
        return DEFAULT_MODEL
    return min(per_q, key=lambda c: (abs(c.quality - quality), c.quality)).name


def auto_chroma_model(quality: int | None) -> str:
    """The chroma model for a colour JPEG whose quality was estimated as ``quality`` (None: unknown)."""
    if quality is not None and quality <= CHROMA_LOW_MAX_QUALITY and CHROMA_LOW_MODEL in REGISTRY:
        return CHROMA_LOW_MODEL
    return CHROMA_MODEL


def auto_model(quality: int | None, standard: bool = True) -> str:
    """The model ``--quality auto`` uses for an image whose quality was estimated as ``quality``.

    The per-quality model trained within ``AUTO_TOLERANCE`` of ``quality``; for every other quality,
    for other encoders' tables (``standard=False``: the per-quality models know IJG's alone), and for
    inputs without tables (``quality=None``: PNG, BMP), the quality-blind model, when it is shipped.
    """
    near = nearest_model(quality)
    if BLIND_MODEL not in REGISTRY:
        return near
    if quality is not None and standard and abs(REGISTRY[near].quality - quality) <= AUTO_TOLERANCE:
        return near
    return BLIND_MODEL
