"""The model zoo: the registry of shipped models (what each is, what it is for) and loading by name.

Loading files is ``arcnn.weights``; their hashes are ``arcnn.manifest``; which model restores which
image is ``arcnn.policy``. Every shipped model also ships as ONNX (``weights/onnx/NAME.onnx``,
exported from its safetensors by ``python tools/export_shipped.py``), which ONNX Runtime runs
without PyTorch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from arcnn.manifest import FILES, PACKAGE_DIR, resolve, verified_path
from arcnn.netconfig import Network
from arcnn.weights import load_weights_file

__all__ = ["ModelCard", "REGISTRY", "WEIGHTS_DIR", "ONNX_DIR", "SCORES_FILE", "load_model"]

WEIGHTS_DIR = PACKAGE_DIR / "weights"
ONNX_DIR = WEIGHTS_DIR / "onnx"
# Written by python -m benchmarks.zoo_table --write; never edited by hand.
SCORES_FILE = WEIGHTS_DIR / "scores.json"


@dataclass(frozen=True)
class ModelCard:
    """One shipped model: where its weights are and what it was measured to do.

    ``scores`` are means at ``quality`` under the evaluation protocol,
    ``{"live1": {psnr, ssim, ssim_gauss, psnrb, seconds}, "classic5": {...}}``,
    measured by ``python -m benchmarks.zoo_table`` (empty until it has run).
    """

    name: str
    file: str
    quality: int | None  # JPEG quality trained for; None for quality-blind models
    colour: str = "y"  # the channel(s) it restores: "y" = luminance
    architecture: str = "arcnn"  # models.PRESETS name, or "unet"; --quality auto picks among "arcnn" ones
    box: tuple[int, int] | None = None  # social-media degradation it was trained on (data.Degradation)
    tier: str = ""  # "fast": one of the models the fast tier (--fast) picks among
    training_data: str = "BSDS500 train+test (400 images), Y channel, Pillow grayscale JPEG"
    recipe: str = ""
    use: str = ""  # what a user would pick it for
    scores: dict = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return WEIGHTS_DIR / self.file

    @property
    def manifest_key(self) -> str:
        return f"weights/{self.file}"

    @property
    def onnx_path(self) -> Path:
        """The same network exported to ONNX (shipped when its manifest key is hashed)."""
        return ONNX_DIR / f"{self.name}.onnx"

    @property
    def onnx_key(self) -> str:
        return f"weights/onnx/{self.name}.onnx"

    @property
    def int8_key(self) -> str:
        """The network quantised to 8 bits (``experiments/quantize_int8.py``), shipped when hashed."""
        return f"weights/int8/{self.name}.onnx"

    @property
    def fast_per_quality(self) -> bool:
        """A fast-tier luminance model for plain JPEGs of one quality: the fast tier picks among them."""
        return self.tier == "fast" and self.quality is not None and self.colour == "y" and not self.box

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


_RELU_TUNE = "fast, 128px crops, all layers from fast-arcnn-relu-q10, 40 minutes on 2 cores shared by 3 runs"
# The fast tier's models: (quality, the JPEG qualities --fast gives them, recipe).
_FAST_RELU = [
    (10, "up to 15", "fast, 128px crops, fast-arcnn-q10's schedule (15,000 steps of 16) on 2 CPU cores"),
    (20, "16-25", f"{_RELU_TUNE}; then 85 and 75 more minutes at lr 1e-4 on one core each"),
    (30, "26-35", f"{_RELU_TUNE}; then 24 more minutes on 2 cores, 85 and 75 on one core, at lr 1e-4"),
    (
        40,
        "36-75",
        "fast, 128px crops, all layers from fast-arcnn-relu-q30, 24 minutes on 2 CPU cores; then 80 more "
        "minutes at lr 1e-4 from that",
    ),
]

_CARDS = [
    ModelCard(
        name="arcnn-q10",
        use="JPEGs of quality 8-12 (the default's pick for grayscale ones)",
        file="arcnn-q10.safetensors",
        quality=10,
        recipe="fast; on a GPU, four fine-tunes of the 2-core arcnn-q10, the last two with dead units "
        "revived (experiments/gpu-zoo*.jobs); then the last layer refit in closed form for the mean "
        "image PSNR on the training set (experiments/refit_last_layer.py)",
    ),
    ModelCard(
        name="arcnn-q20",
        use="JPEGs of quality 18-22",
        file="arcnn-q20.safetensors",
        quality=20,
        recipe="fast; on a GPU, two fine-tunes of the 2-core arcnn-q20 (experiments/gpu-zoo*.jobs)",
    ),
    ModelCard(
        name="arcnn-q30",
        use="JPEGs of quality 28-32",
        file="arcnn-q30.safetensors",
        quality=30,
        recipe="fast; on a GPU, two fine-tunes of the 2-core arcnn-q30 (experiments/gpu-zoo*.jobs)",
    ),
    ModelCard(
        name="arcnn-q40",
        use="JPEGs of quality 38-42",
        file="arcnn-q40.safetensors",
        quality=40,
        recipe="fast, all layers from arcnn-q30",
    ),
    ModelCard(
        name="fast-arcnn-q10",
        use="JPEGs of quality up to 15: Fast AR-CNN as published, a sixth of arcnn-q10's cost (--fast used "
        "it before fast-arcnn-relu-q10)",
        file="fast-arcnn-q10.safetensors",
        quality=10,
        architecture="fast-arcnn",
        recipe="fast, 128px crops",
    ),
    *(
        ModelCard(
            name=f"fast-arcnn-q{q}",
            use=f"JPEGs of quality {band}: Fast AR-CNN as published (--fast used it before "
            f"fast-arcnn-relu-q{q})",
            file=f"fast-arcnn-q{q}.safetensors",
            quality=q,
            architecture="fast-arcnn",
            recipe=f"fast, 128px crops, all layers from fast-arcnn-q{src}, {minutes} minutes on one CPU core",
        )
        for q, band, src, minutes in ((20, "16-25", 10, 45), (30, "26-35", 10, 45), (40, "36-75", 30, 35))
    ),
    *(
        ModelCard(
            name=f"fast-arcnn-relu-q{q}",
            use=f"the fast tier (--fast) for JPEGs of quality {band}: Fast AR-CNN with ReLU and a 5x5 "
            "middle layer, about twice as fast as fast-arcnn-qN",
            file=f"fast-arcnn-relu-q{q}.safetensors",
            quality=q,
            architecture="fast-arcnn-relu",
            tier="fast",
            recipe=recipe,
        )
        for q, band, recipe in _FAST_RELU
    ),
    ModelCard(
        name="srcnn-q10",
        use="research: the paper's Table 2 baseline (SRCNN)",
        file="srcnn-q10.safetensors",
        quality=10,
        architecture="srcnn",
        recipe="fast, the same budget as arcnn-q10 (paper's Table 2 baseline)",
    ),
    ModelCard(
        name="deeper-srcnn-q10",
        use="research: the paper's Table 2 baseline (deeper SRCNN)",
        file="deeper-srcnn-q10.safetensors",
        quality=10,
        architecture="deeper-srcnn",
        recipe="fast, the same budget as arcnn-q10 (paper's Table 2 baseline)",
    ),
    ModelCard(
        name="arcnn5-q10",
        use="research: the paper's deeper 9-7-3-1-5 net (Fig. 6)",
        file="arcnn5-q10.safetensors",
        quality=10,
        architecture="arcnn5",
        recipe="fast, first two layers from arcnn-q10, 48k samples (the best arm of Fig. 6)",
    ),
    ModelCard(
        name="arcnn-social",
        use="photos re-encoded by a photo-sharing site (600x450, q75)",
        file="arcnn-social.safetensors",
        quality=75,
        box=(600, 450),
        training_data="BSDS500 train+test (400 images) fitted into 600x450 (bicubic), colour 4:2:0 Pillow "
        "JPEG at q75; Y of both",
        recipe="fast, first layer from arcnn-q10, 48k samples (the best arm of Fig. 8)",
    ),
    ModelCard(
        name="arcnn-blind",
        use="any other or unknown JPEG quality, other encoders' tables",
        file="arcnn-blind.safetensors",
        quality=None,
        architecture="deep-arcnn",
        training_data="BSDS500 train+test (400 images), Y channel, Pillow grayscale JPEG at 14 qualities "
        "from 5 to 95 (q10 x3, q20-q40 x2; last stage q10 x5, q40 x1), images drawn by 1 / their JPEG MSE",
        recipe="fast, deep-arcnn (9-3-3-3-3-3-3-1-5) from scratch on an H100 for 11 minutes "
        "(experiments/gpu-zoo3.jobs, gpu-zoo4.jobs), then 50 minutes on one CPU core with q10 drawn more",
    ),
    ModelCard(
        name="arcnn-webp",
        use="lossy WebP images",
        file="arcnn-webp.safetensors",
        quality=None,
        training_data="BSDS500 train+test (400 images), Y channel, Pillow lossy WebP at q = 5, 10, 20, 30, "
        "40, 50, 60, 75, 90; images drawn by 1 / their WebP MSE",
        recipe="fast, all layers from arcnn-blind (sha256 ac5ad419...), 80k samples on 2 cores; then "
        "1.1 M more on a GPU (experiments/gpu-zoo2.jobs)",
    ),
    ModelCard(
        name="arcnn-chroma",
        use="the colour (Cb, Cr) of colour JPEGs: the 9-7-1-5 network --chroma auto used before "
        "arcnn-chroma-unet",
        file="arcnn-chroma.safetensors",
        quality=None,
        colour="cbcr",
        training_data="BSDS500 train+test (400 images), colour 4:2:0 Pillow JPEG at q = 5, 10, 15, 20, 30, "
        "40, 50, 75, 90; JFIF YCbCr as libjpeg decodes it",
        recipe="fast, 96px crops, 3 inputs (Y, Cb, Cr), 2 outputs (Cb, Cr), on a GPU "
        "(experiments/gpu-zoo.jobs)",
    ),
    ModelCard(
        name="arcnn-chroma-q10",
        use="the same for q10 colour JPEGs (--chroma auto used it up to q12 before arcnn-chroma-unet)",
        file="arcnn-chroma-q10.safetensors",
        quality=10,
        colour="cbcr",
        training_data="BSDS500 train+test (400 images), colour 4:2:0 Pillow JPEG at q10; JFIF YCbCr as "
        "libjpeg decodes it",
        recipe="fast, 96px crops, all layers from arcnn-chroma, on 2 CPU cores",
    ),
    ModelCard(
        name="arcnn-chroma-unet",
        use="the colour (Cb, Cr) of colour JPEGs up to q75, any subsampling (--chroma auto's pick), "
        "better than arcnn-chroma at a fifth of its cost",
        file="arcnn-chroma-unet.safetensors",
        quality=None,
        colour="cbcr",
        architecture="unet",
        training_data="BSDS500 train+test (400 images), colour Pillow JPEG: 4:2:0 at q = 5, 10, 15, 20, 25, "
        "30, 40, 50, 60, 75, 90, 95, 4:2:2 and 4:4:4 at q = 10, 40, 90, then (the decay) those up to q75; "
        "images drawn by 1 / their JPEG chroma MSE; the quality as an input plane (unknown for 10% of the "
        "crops)",
        recipe="experiments/train_large.py --target cbcr: a U-Net at half resolution (widths 24-48-96-96), "
        "43,584 steps of 16 crops of 64 px on 1-2 CPU cores, the last 12,000 a cosine decay from 1.5e-4 "
        "on the qualities up to q75 (state and logs: experiments/checkpoints/arcnn-chroma-half)",
    ),
    ModelCard(
        name="arcnn-chroma-fast",
        use="the colour (Cb, Cr) of colour JPEGs up to q75 in the fast tier (--fast): a smaller U-Net "
        "at a quarter of the resolution, a fifth of arcnn-chroma-unet's cost",
        file="arcnn-chroma-fast.safetensors",
        quality=None,
        colour="cbcr",
        architecture="unet",
        tier="fast",
        training_data="as arcnn-chroma-unet's",
        recipe="experiments/train_large.py --target cbcr: a 3-scale U-Net at a quarter of the resolution "
        "(widths 24-48-96, unshuffle 4), 65,576 steps of 16 crops of 64 px on 2 CPU cores, the last "
        "12,000 a cosine decay from 2e-4 on the qualities up to q75 (state and logs: "
        "experiments/checkpoints/arcnn-chroma-fast)",
    ),
    ModelCard(
        name="arcnn-large",
        use="the best luminance of JPEGs up to q75 (one model, reads the file's quality; above DnCNN-3 on "
        "LIVE1 at a quarter of its cost); better JPEGs get arcnn-blind",
        file="arcnn-large.safetensors",
        quality=None,
        architecture="unet",
        training_data="BSDS500 train+test (400 images), Y channel, Pillow grayscale JPEG at q = 10, 15, 20, "
        "25, 30, 35, 40; images drawn by 1 / their JPEG MSE; the quality as an input plane (unknown for "
        "10% of the crops)",
        recipe="experiments/train_large.py: a 4-scale U-Net (widths 32-64-128-128), 7,220 steps of 16 crops "
        "of 64 px on 2 CPU cores, then on one H200 (experiments/gpu_large.sh) 22,844 steps of 64 crops of "
        "128 px at a constant 4e-4 and 9,864 steps of cosine decay (state and logs: "
        "experiments/checkpoints/arcnn-large)",
    ),
]
_SCORES = _measured()
REGISTRY: dict[str, ModelCard] = {c.name: replace(c, scores=_SCORES.get(c.name, {})) for c in _CARDS}


def load_model(name: str | Path, verify: bool = True, backend: str = "torch", int8: bool = False) -> Network:
    """A shipped model by registry name (``arcnn-q10`` ...) or any weights file, for inference
    (``.safetensors``, ``.pt`` checkpoints, ``.onnx``: see :func:`arcnn.weights.load_weights_file`).

    ``backend``: for a shipped name, ``"torch"`` loads its safetensors as a PyTorch network;
    ``"onnxruntime"`` or ``"auto"`` its shipped ONNX file, run by ONNX Runtime without importing
    PyTorch (``"auto"`` falls back to PyTorch where onnxruntime is missing). ``int8``: the shipped
    8-bit version where there is one (ONNX Runtime), else as ``backend`` says. Files load as they are.
    Shipped files are checked against the manifest's sha256 first (``verify``)."""
    key = str(name)
    if key in REGISTRY:
        card = REGISTRY[key]
        onnx = backend in ("auto", "onnxruntime") and card.onnx_key in FILES and _can_run_onnx(backend)
        manifest_key = card.onnx_key if onnx else card.manifest_key
        if int8 and card.int8_key in FILES and _can_run_onnx("onnxruntime"):
            manifest_key = card.int8_key
        try:
            path = verified_path(manifest_key) if verify else resolve(manifest_key)
            return load_weights_file(path, verified=verify)
        except ValueError as e:
            raise ValueError(f"model {key}: {e}") from None
    path = Path(key)
    if not path.is_file():
        raise ValueError(f"unknown model {key!r}: not a shipped name ({', '.join(REGISTRY)}) nor a file")
    return load_weights_file(path)


def _can_run_onnx(backend: str) -> bool:
    """True where onnxruntime imports; ``ValueError`` for backend onnxruntime where it does not."""
    from arcnn.export import onnxruntime_available

    if onnxruntime_available():
        return True
    if backend == "onnxruntime":
        raise ValueError("backend onnxruntime needs onnxruntime: pip install onnxruntime")
    return False
