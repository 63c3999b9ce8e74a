"""Training: recipes, the loop, checkpoints that survive a kill, and the log.

One run writes into its output folder::

    config.json         TrainConfig of the run (unknown keys rejected on resume)
    checkpoint.pt       model + optimiser + step, every ``checkpoint_s`` seconds (atomic)
    log.csv             samples seen, train loss, validation PSNR, wall time
    model.safetensors   final weights with the model config, command and git revision

``train`` ties the steps of a run together, each a function of its own: ``prepare_run`` (the
folder, and resuming), ``set_up_device`` (seed), ``load_training_data``, ``build_training_model``
(init, transfer), ``make_optimizer``; then per step ``training_batch`` (a function of seed and
step), ``train_step``, and now and then ``validate_and_log``, ``revive_if_due`` and
``save_checkpoint`` (``load_checkpoint`` reads it back into a ``RunState``); ``run_metadata``
goes into the final weights.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from arcnn.data import (
    Degradation,
    PairSet,
    concat_pairs,
    grid_patches,
    image_weights,
    list_images,
    make_pairs,
    sample_batch,
    shared_data_dir,
    to_tensor,
)
from arcnn.distributed import Processes
from arcnn.files import atomic_write
from arcnn.metrics import psnr
from arcnn.models import ConvStack, ModelConfig, bias, build_model, pad_symmetric, preset
from arcnn.netconfig import refuse_unknown_keys
from arcnn.weights import read_state, save_weights

__all__ = ["TrainConfig", "RECIPES", "make_config", "train", "last_layer_stats", "last_layer_weights",
           "git_revision", "dead_channels", "dead_units", "revive_dead_units",
           "refit_last_layer", "RunPaths", "prepare_run", "set_up_device", "TrainingData",
           "load_training_data", "build_training_model", "make_optimizer", "RunState", "save_checkpoint",
           "load_checkpoint", "training_batch", "set_learning_rates", "train_step", "validate_and_log",
           "revive_if_due", "run_metadata"]  # fmt: skip


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run. Saved as ``config.json`` beside its checkpoints."""

    model: str = "arcnn"
    quality: int = 10
    qualities: tuple[int, ...] = ()  # several: a quality-blind model, each image at every one of them
    scale: float = 1.0  # resize factor of every image before compression (Table 3: 0.5)
    box: tuple[int, ...] = ()  # (width, height): the social-media degradation (see data.Degradation)
    codec: str = "jpeg"  # or "webp": train for Pillow's lossy WebP (see data.Degradation)
    target: str = "y"  # "y": luminance; "cbcr": chroma, (Y, Cb, Cr) of a colour JPEG in, (Cb, Cr) out
    recipe: str = "fast"
    residual: bool = True
    init: str = "he"  # "gauss" (sigma init_std), "he", or "torch" (PyTorch's default)
    init_std: float = 0.001
    optimizer: str = "adam"  # "adam" or "sgd" (momentum 0.9)
    lr: float = 3e-4
    last_lr_scale: float = 1.0  # the paper uses 0.1 on the reconstruction layer
    schedule: str = "cosine"  # "cosine" to zero over ``steps``, or "constant"
    warmup: int = 500  # steps of linear learning-rate warm-up from 0
    loss: str = "mse"  # "mse", or "psnr": the mean over the batch of each patch's -PSNR
    weighting: str = "area"  # how images are drawn: "area", or "psnr" (see data.image_weights)
    batch: int = 16
    patch: int = 64
    sampling: str = "random"  # "random" crops, or "grid" (the paper's 32x32 stride-10 sub-images)
    augment: bool = True
    transpose: bool = True  # augment with the 8 flips/rotations; False: the 4 flips only
    revive: bool = False  # re-initialise dead ReLU channels at the start and each validation
    steps: int = 36000
    minutes: float = 0.0  # > 0: stop after this much training time, the cosine spread over it; steps caps it
    bf16: bool = True  # autocast on CPUs with bf16 instructions, and on CUDA
    seed: int = 0
    val_every: int = 3000
    val_images: int = 100
    checkpoint_s: float = 180.0
    train_dirs: tuple[str, ...] = ()
    val_dir: str = ""
    init_from: str = ""  # checkpoint or weights file to copy the first layers from
    init_layers: int = 0
    freeze: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "train_dirs", tuple(self.train_dirs))
        object.__setattr__(self, "box", tuple(self.box))
        object.__setattr__(self, "qualities", tuple(int(q) for q in self.qualities))
        _ = self.degradations  # validates qualities, scale and box
        if self.init not in ("gauss", "he", "torch"):
            raise ValueError(f"init must be gauss, he or torch, not {self.init!r}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be adam or sgd, not {self.optimizer!r}")
        if self.schedule not in ("cosine", "constant"):
            raise ValueError(f"schedule must be cosine or constant, not {self.schedule!r}")
        if self.target not in ("y", "cbcr"):
            raise ValueError(f"target must be y or cbcr, not {self.target!r}")
        if self.loss not in ("mse", "psnr"):
            raise ValueError(f"loss must be mse or psnr, not {self.loss!r}")
        if self.weighting not in ("area", "psnr"):
            raise ValueError(f"weighting must be area or psnr, not {self.weighting!r}")
        if self.sampling not in ("random", "grid"):
            raise ValueError(f"sampling must be random or grid, not {self.sampling!r}")
        if self.minutes < 0:
            raise ValueError("minutes must be >= 0")
        if self.freeze > self.init_layers:
            raise ValueError("can only freeze transferred layers: --freeze must be <= --init-layers")
        if self.init_layers and not self.init_from:
            raise ValueError("--init-layers needs --init CKPT")
        preset(self.model)  # validates the name

    @property
    def degradation(self) -> Degradation:
        box = (self.box[0], self.box[1]) if self.box else None
        return Degradation(self.quality, self.scale, box, chroma=self.target == "cbcr", codec=self.codec)

    @property
    def degradations(self) -> list[Degradation]:
        """One per training quality: ``quality``, or each of ``qualities`` for a blind model."""
        return [replace(self.degradation, quality=q) for q in self.qualities or (self.quality,)]

    @property
    def model_config(self) -> ModelConfig:
        if self.target == "cbcr":
            widths = preset(self.model).widths[:-1] + (2,)
            return preset(self.model, residual=self.residual, widths=widths, channels=2, in_channels=3)
        return preset(self.model, residual=self.residual)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        refuse_unknown_keys(cls, d, "training config keys")
        return cls(**d)


RECIPES: dict[str, dict] = {
    # Dong et al. 2015, section 4: Gaussian init, SGD, batch 128, lr 1e-4 (1e-5 last layer),
    # 32x32 sub-images at stride 10, image output, float32.
    "paper": dict(
        residual=False, init="gauss", init_std=0.001, optimizer="sgd", lr=1e-4, last_lr_scale=0.1,
        schedule="constant", batch=128, patch=32, sampling="grid", augment=False, bf16=False,
        steps=200_000,
    ),
    # Residual Adam recipe for a few CPU hours; docs/training.md says why and how far it gets.
    "fast": dict(
        residual=True, init="he", optimizer="adam", lr=3e-4, warmup=500, last_lr_scale=1.0,
        schedule="cosine", batch=16, patch=64, sampling="random", augment=True, bf16=True, steps=36000,
    ),
}  # fmt: skip


def make_config(recipe: str = "fast", **overrides) -> TrainConfig:
    """The recipe's settings with ``overrides`` on top (``None`` values ignored)."""
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; choose from {', '.join(RECIPES)}")
    d = dict(RECIPES[recipe], recipe=recipe)
    d.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig.from_dict(d)


def _init_weights(model: ConvStack, cfg: TrainConfig, start: int) -> None:
    """Initialise layers ``start..`` (the ones not transferred)."""
    for conv in model.layers[start:]:
        if isinstance(conv, nn.ConvTranspose2d):
            # Transposed weights are (in, out, k, k): torch's fan-in rule would read them backwards.
            nn.init.normal_(conv.weight, 0.0, cfg.init_std if cfg.init == "gauss" else 1e-3)
            nn.init.zeros_(bias(conv))
        elif cfg.init == "gauss":
            nn.init.normal_(conv.weight, 0.0, cfg.init_std)
            nn.init.zeros_(bias(conv))
        elif cfg.init == "he":
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(bias(conv))
    if cfg.residual and cfg.init == "he" and start < len(model.convs):
        # A residual net starts as the identity: the JPEG itself, not noise.
        nn.init.zeros_(model.layers[-1].weight)


def transfer_layers(model: ConvStack, source: str, layers: int, freeze: int) -> None:
    """Copy the first ``layers`` convolutions from ``source``; freeze the first ``freeze``."""
    state = read_state(source)
    for i in range(layers):
        conv = model.layers[i]
        w, b = state.get(f"convs.{i}.weight"), state.get(f"convs.{i}.bias")
        if w is None or b is None or w.shape != conv.weight.shape or b.shape != bias(conv).shape:
            got = None if w is None or b is None else tuple(w.shape)
            raise ValueError(f"{source}: layer {i} has shape {got}, need {tuple(conv.weight.shape)}")
        with torch.no_grad():
            conv.weight.copy_(w)
            bias(conv).copy_(b)
        if i < freeze:
            conv.requires_grad_(False)


def dead_channels(pre: torch.Tensor) -> torch.Tensor:
    """Indices of the channels of pre-activations ``pre`` (N, C, H, W) that are <= 0 on every pixel:
    ReLU units that pass nothing and get no gradient."""
    return (pre.amax(dim=(0, 2, 3)) <= 0).nonzero().flatten()


@torch.no_grad()
def dead_units(model: ConvStack, x: torch.Tensor) -> list[tuple[int, int]]:
    """(dead, total) channels of each hidden layer of a ReLU stack on the batch ``x`` (N, C, H, W)."""
    if model.config.activation != "relu":
        raise ValueError(f"{model.config.activation} units do not die as ReLUs do: nothing to count")
    h, out = x.float(), []
    for conv in model.layers[:-1]:
        pre = conv(h)
        out.append((len(dead_channels(pre)), pre.shape[1]))
        h = torch.relu(pre)
    return out


@torch.no_grad()
def revive_dead_units(model: ConvStack, x: torch.Tensor) -> int:
    """Re-initialise hidden ReLU channels that are negative on every pixel of the batch ``x``.

    A dead channel gets fresh He-initialised weights and a bias that makes it fire on
    about half of ``x``'s pixels; its outgoing weights are zeroed, so the network computes
    the same function as before and the channel re-enters training through its outgoing
    weights. Returns the number of channels revived. Only for stride-1 ReLU stacks.
    """
    if model.config.activation != "relu" or model.config.stride != 1:
        return 0
    h, revived = x.float(), 0
    for i, conv in enumerate(model.layers[:-1]):
        pre = conv(h)
        dead = dead_channels(pre)
        if len(dead):
            w = torch.randn_like(conv.weight[dead]) * math.sqrt(2.0 / conv.weight[0].numel())
            fresh = torch.nn.functional.conv2d(h, w)
            conv.weight[dead] = w
            bias(conv)[dead] = -fresh.transpose(0, 1).flatten(1).median(dim=1).values
            model.layers[i + 1].weight[:, dead] = 0
            revived += len(dead)
            pre = conv(h)
        h = torch.relu(pre)
    return revived


@dataclass(frozen=True)
class LastLayerStats:
    """Per-image normal equations of a network's last (linear) layer, float64.

    With X the last layer's input columns (its k*k*C taps and a row of ones) and t the
    residual target (clean - degraded, on [0, 1]) of image i: ``A[i] = X X^T``, ``B[i] = X t``,
    ``C[i] = t.t``, ``N[i]`` its pixels; so the image's MSE under weights w is
    ``(w A[i] w - 2 B[i] w + C[i]) / N[i]``.
    """

    A: torch.Tensor  # (images, n, n)
    B: torch.Tensor  # (images, n)
    C: torch.Tensor  # (images,)
    N: torch.Tensor  # (images,)

    def mse(self, w: torch.Tensor) -> torch.Tensor:
        """(n,) weights -> (images,) MSE before rounding."""
        return (torch.einsum("i,nij,j->n", w, self.A, w) - 2 * self.B @ w + self.C) / self.N

    def mean_psnr(self, w: torch.Tensor) -> float:
        return float((-10 * torch.log10(self.mse(w))).mean())


def last_layer_weights(model: ConvStack) -> torch.Tensor:
    """The last layer's weights and bias as one float64 vector, in ``LastLayerStats``' order."""
    last = model.layers[-1]
    return torch.cat([last.weight.detach().reshape(-1), bias(last).detach()]).double()


def _refittable(model: ConvStack) -> None:
    cfg = model.config
    if cfg.stride != 1 or cfg.inputs != 1 or not cfg.residual or len(cfg.widths) < 2 or cfg.widths[-1] != 1:
        raise ValueError("refitting the last layer needs a stride-1, one-channel residual network")


@torch.no_grad()
def last_layer_stats(model: ConvStack, pairs: PairSet) -> LastLayerStats:
    """The normal equations of ``model``'s last layer on every pixel of ``pairs`` (whole images,
    symmetric-padded as in ``restore_tensor``, no flips)."""
    _refittable(model)
    last = model.layers[-1]
    n = last.weight.numel() + 1
    m = len(pairs)
    A, B = torch.zeros(m, n, n, dtype=torch.float64), torch.zeros(m, n, dtype=torch.float64)
    C, N = torch.zeros(m, dtype=torch.float64), torch.zeros(m, dtype=torch.float64)
    for i, (c, d) in enumerate(zip(pairs.clean, pairs.degraded)):
        x, ref = to_tensor(d[None]), to_tensor(c[None])
        h = model.hidden(pad_symmetric(x, model.config.border))
        cols = torch.nn.functional.unfold(h, last.kernel_size)[0].double()  # ordered as the weight
        cols = torch.cat([cols, torch.ones(1, cols.shape[1], dtype=torch.float64)])
        t = (ref - x).reshape(-1).double()
        A[i], B[i], C[i], N[i] = cols @ cols.T, cols @ t, t @ t, t.numel()
    return LastLayerStats(A, B, C, N)


@torch.no_grad()
def refit_last_layer(
    model: ConvStack, stats: LastLayerStats, objective: str = "psnr", rounds: int = 10
) -> None:
    """Replace the last layer's weights and bias by their optimum on ``stats``, in place.

    ``objective="mse"``: least squares over all pixels pooled. ``"psnr"``: the mean per-image
    PSNR, what the benchmarks average, maximised by least squares with each image weighted by
    1 / its MSE under the previous round's weights (``rounds`` rounds; it settles in one or two).
    The layers before it are left as they are.
    """
    _refittable(model)
    if objective not in ("mse", "psnr"):
        raise ValueError(f"objective must be mse or psnr, not {objective!r}")
    last = model.layers[-1]
    w0 = w = last_layer_weights(model)
    for _ in range(1 if objective == "mse" else rounds):
        weight = torch.ones_like(stats.N) if objective == "mse" else 1 / (stats.mse(w) * stats.N)
        a = torch.einsum("n,nij->ij", weight, stats.A)
        # A vanishing ridge towards the old weights keeps those of inputs that are zero on every
        # pixel (dead channels) as they were, where the equations alone would be singular.
        lam = 1e-9 * float(a.diagonal().mean())
        w = torch.linalg.solve(a + lam * torch.eye(len(w), dtype=a.dtype), weight @ stats.B + lam * w0)
    last.weight.copy_(w[:-1].reshape(last.weight.shape))
    bias(last).copy_(w[-1:])


def git_revision() -> str:
    """The short git revision of this source tree (with "-dirty" for uncommitted changes), or
    "unknown" outside a checkout; recorded in every run's weights."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).parent,
        )  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
            timeout=5, cwd=Path(__file__).parent,
        ).stdout.strip()  # fmt: skip
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def bf16_supported(device: torch.device) -> bool:
    """bf16 autocast pays off on CUDA and on CPUs with native bf16 (AVX-512 BF16 / AMX)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@torch.no_grad()
def validate(model: ConvStack, pairs: PairSet, device: torch.device, bf16: bool) -> float:
    """Mean PSNR (dB) of the restored, rounded images against the clean ones."""
    model.eval()
    scores = []
    for c, d in zip(pairs.clean, pairs.degraded):
        x = to_tensor(d[None]).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            y = model.restore_tensor(x)
        out = (y.float().clamp(0, 1) * 255.0).round()[0].cpu().numpy()
        ref = c.reshape(*c.shape[:2], -1).transpose(2, 0, 1)[-len(out) :]  # the channels restored
        scores.append(psnr(ref.reshape(-1, ref.shape[-1]), out.reshape(-1, out.shape[-1])))
    model.train()
    return float(np.mean(scores))


def _progress(cfg: TrainConfig, step: int, elapsed: float) -> float:
    """How far through the run, 0 to 1: by steps, or by wall time under a ``minutes`` budget."""
    done = step / cfg.steps
    return min(1.0, max(done, elapsed / (60.0 * cfg.minutes)) if cfg.minutes else done)


def _lr_factor(cfg: TrainConfig, step: int, elapsed: float = 0.0) -> float:
    warm = min(1.0, (step + 1) / cfg.warmup) if cfg.warmup else 1.0
    if cfg.schedule == "constant":
        return warm
    return warm * 0.5 * (1.0 + math.cos(math.pi * _progress(cfg, step, elapsed)))


def _save_atomic(obj: dict, path: Path) -> None:
    with atomic_write(path) as tmp:
        torch.save(obj, tmp)


def _default_dirs(cfg: TrainConfig) -> tuple[list[Path], Path]:
    root = shared_data_dir() / "bsds500"
    train_dirs = [Path(d) for d in cfg.train_dirs] or [root / "train", root / "test"]
    val_dir = Path(cfg.val_dir) if cfg.val_dir else root / "val"
    return train_dirs, val_dir


@dataclass(frozen=True)
class RunPaths:
    """The files of one run in its output folder ``out`` (see the module docstring)."""

    out: Path

    @property
    def config(self) -> Path:
        return self.out / "config.json"

    @property
    def checkpoint(self) -> Path:
        return self.out / "checkpoint.pt"

    @property
    def log(self) -> Path:
        return self.out / "log.csv"

    @property
    def weights(self) -> Path:
        return self.out / "model.safetensors"


_LOG_COLUMNS = ["step", "samples", "train_loss", "val_psnr", "elapsed_s"]


def prepare_run(
    cfg: TrainConfig, out: str | Path, resume: bool, log: Callable[[str], object] = print
) -> tuple[TrainConfig, RunPaths]:
    """Create ``out`` and return the config to train with and the run's files.

    A new run writes ``config.json`` and the log's header, and refuses a folder that already
    holds a checkpoint. A resumed run needs the checkpoint and takes the saved config, which
    wins over ``cfg`` (``log`` says so when they differ).
    """
    paths = RunPaths(Path(out))
    paths.out.mkdir(parents=True, exist_ok=True)
    if resume:
        if not paths.checkpoint.exists():
            raise ValueError(f"{paths.checkpoint}: nothing to resume")
        saved = TrainConfig.from_dict(json.loads(paths.config.read_text()))
        if saved != cfg:
            log(f"resuming with the saved config of {paths.out}")
        return saved, paths
    if paths.checkpoint.exists():
        raise ValueError(f"{paths.out} already holds a run: pass --resume or choose another --out")
    paths.config.write_text(json.dumps(asdict(cfg), indent=2) + "\n")
    with open(paths.log, "w", newline="") as f:
        csv.writer(f).writerow(_LOG_COLUMNS)
    return cfg, paths


def set_up_device(cfg: TrainConfig, device: str) -> tuple[torch.device, bool]:
    """Seed torch for the run and tune ``device``; returns it and whether to autocast to bf16."""
    dev = torch.device(device)
    torch.manual_seed(cfg.seed)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed training shapes: let cuDNN pick its fastest kernels
    return dev, cfg.bf16 and bf16_supported(dev)


class TrainingData(NamedTuple):
    """What training draws from; built once per run by ``load_training_data``."""

    pairs: PairSet  # every training image at every training degradation
    val_pairs: PairSet
    grid: tuple[np.ndarray, np.ndarray] | None  # (degraded, clean) uint8 (M, P, P) for grid sampling
    weights: np.ndarray  # (len(pairs),) probability of drawing each image, summing to 1


def load_training_data(cfg: TrainConfig) -> TrainingData:
    """The training and validation pairs of ``cfg``'s folders (default: BSDS500) and degradations."""
    train_dirs, val_dir = _default_dirs(cfg)
    train_files, degs = list_images(*train_dirs), cfg.degradations
    pairs = concat_pairs([make_pairs(train_files, d) for d in degs])
    val_files = list_images(val_dir)[: cfg.val_images]
    # A blind model validates each image at one of its qualities, in turn: the same cost as one.
    val_pairs = concat_pairs([make_pairs(val_files[i :: len(degs)], d) for i, d in enumerate(degs)])
    grid = grid_patches(pairs, cfg.patch, 10) if cfg.sampling == "grid" else None
    return TrainingData(pairs, val_pairs, grid, image_weights(pairs, cfg.weighting))


def build_training_model(cfg: TrainConfig, device: torch.device) -> ConvStack:
    """``cfg``'s network on ``device``: initialised, then its first layers transferred if asked."""
    # channels_last: measured faster for these convolutions on AVX-512 CPUs (docs/training.md).
    model = build_model(cfg.model_config).to(device, memory_format=torch.channels_last)  # type: ignore[call-overload]
    _init_weights(model, cfg, cfg.init_layers)
    if cfg.init_layers:
        transfer_layers(model, cfg.init_from, cfg.init_layers, cfg.freeze)
    return model


def make_optimizer(cfg: TrainConfig, model: ConvStack) -> tuple[torch.optim.Optimizer, list[float]]:
    """The optimiser over the trainable parameters, and each group's base learning rate.

    Groups: the body at ``lr``, then the last layer at ``lr * last_lr_scale`` (a group with no
    trainable parameters is left out). The schedule scales the base rates step by step.
    """
    last = len(model.convs) - 1
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith(f"convs.{last}.")]
    groups = [
        {"params": body, "lr": cfg.lr},
        {"params": list(model.layers[last].parameters()), "lr": cfg.lr * cfg.last_lr_scale},
    ]
    groups = [g for g in groups if g["params"]]
    opt = torch.optim.Adam(groups) if cfg.optimizer == "adam" else torch.optim.SGD(groups, momentum=0.9)
    return opt, [g["lr"] for g in opt.param_groups]


@dataclass
class RunState:
    """Where a run stands: what a checkpoint holds besides the model and the optimiser."""

    step: int = 0  # optimisation steps done
    elapsed: float = 0.0  # training seconds, over all the sessions of the run
    losses: list[float] = field(default_factory=list)  # each step's mean patch MSE since the last validation
    # Losses of the steps since the last flush, still on the device: a per-step .item() stalls a GPU.
    pending: list[torch.Tensor] = field(default_factory=list)
    command: str = ""  # provenance: the command that started the run...
    revision: str = ""  # ...and the git revision it started at

    def flush(self) -> None:
        """Move the pending losses into ``losses`` (waits for the device)."""
        if self.pending:
            self.losses.extend(torch.stack(self.pending).tolist())
            self.pending.clear()


def save_checkpoint(path: Path, model: ConvStack, opt: torch.optim.Optimizer, state: RunState) -> None:
    """Write the run to ``path`` atomically, flushing ``state``'s pending losses first."""
    state.flush()
    ckpt = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "step": state.step,
        "elapsed": state.elapsed,
        "losses": torch.tensor(state.losses, dtype=torch.float64),
        "command": state.command,
        "git_revision": state.revision,
        "model_config": model.config.to_json(),  # the architecture, for weights loaders
    }
    _save_atomic(ckpt, path)


def load_checkpoint(
    path: Path,
    model: ConvStack,
    opt: torch.optim.Optimizer,
    device: torch.device,
    command: str = "",
    revision: str = "",
) -> RunState:
    """Load ``path`` into ``model`` and ``opt`` and return the run's state.

    ``command`` and ``revision`` stand in for the provenance of a checkpoint that lacks it.
    """
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        return RunState(
            step=int(ckpt["step"]),
            elapsed=float(ckpt["elapsed"]),
            losses=ckpt["losses"].tolist(),
            command=ckpt.get("command", command),
            revision=ckpt.get("git_revision", revision),
        )
    except Exception as e:  # noqa: BLE001 - unreadable, foreign or mismatched: one line, not a traceback
        raise ValueError(f"{path}: cannot resume from it ({e.__class__.__name__}: {str(e)[:200]})") from None


def training_batch(
    cfg: TrainConfig, data: TrainingData, step: int, batch: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Step ``step``'s batch (degraded, clean), each float32 (batch, C, patch, patch) in [0, 1];
    ``batch`` crops (default ``cfg.batch``).

    It depends only on (seed, step): a resumed run draws the same data as an unbroken one.
    """
    batch = batch or cfg.batch
    rng = np.random.default_rng([cfg.seed, step])
    if data.grid is None:
        return sample_batch(data.pairs, rng, batch, cfg.patch, cfg.augment, data.weights, cfg.transpose)
    idx = rng.integers(0, len(data.grid[0]), batch)
    return to_tensor(data.grid[0][idx]), to_tensor(data.grid[1][idx])


def set_learning_rates(opt: torch.optim.Optimizer, base_lrs: list[float], factor: float) -> None:
    """Set each parameter group's rate to its base rate times ``factor`` (the schedule, 0 to 1)."""
    for g, lr0 in zip(opt.param_groups, base_lrs):
        g["lr"] = lr0 * factor


def train_step(
    model: ConvStack,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    loss: str = "mse",
    bf16: bool = False,
    net: torch.nn.Module | None = None,
) -> torch.Tensor:
    """One optimisation step on the batch ``x`` (degraded) -> ``y`` (clean), CPU tensors from
    ``training_batch``; returns the batch's mean patch MSE before the step, a 0-d tensor still on
    the model's device. ``loss``: "mse", or "psnr" (the mean of each patch's -PSNR). ``net``: what
    runs the forward pass, when it is a wrapper of ``model`` (data-parallel training)."""
    dev = model.layers[0].weight.device
    b, channels, p = model.config.border, model.config.channels, y.shape[-1]
    x = x.to(dev, memory_format=torch.channels_last)
    y = y[:, y.shape[1] - channels :, b : p - b, b : p - b].to(dev)  # what the model outputs
    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
        pred = (net or model)(x)
    mse = torch.mean((pred.float() - y) ** 2, dim=(1, 2, 3))
    # PSNR loss weighs each patch by 1/its MSE, as the per-image mean PSNR of the benchmarks does.
    objective = mse.mean() if loss == "mse" else torch.mean(10.0 * torch.log10(mse + 1e-10))
    opt.zero_grad(set_to_none=True)
    objective.backward()
    opt.step()
    return mse.detach().mean()


def validate_and_log(
    cfg: TrainConfig,
    model: ConvStack,
    val_pairs: PairSet,
    state: RunState,
    log_path: Path,
    bf16: bool,
    log: Callable[[str], object] = print,
    world: int = 1,
) -> float:
    """Validate, append the row to ``log_path``, report it, and start a new loss window.

    The row holds the samples seen by all ``world`` processes, the mean training loss since the
    last validation and ``state.elapsed``. Returns the validation PSNR (dB).
    """
    state.flush()
    val = validate(model, val_pairs, model.layers[0].weight.device, bf16)
    loss = np.mean(state.losses)
    row = [state.step, state.step * cfg.batch * world, f"{loss:.6g}", f"{val:.4f}", f"{state.elapsed:.1f}"]
    with open(log_path, "a", newline="") as f:
        csv.writer(f).writerow(row)
    log(
        f"step {state.step}/{cfg.steps}  loss {loss:.3e}  val PSNR {val:.3f} dB  {state.elapsed / 60:.1f} min"
    )
    state.losses = []
    return val


def revive_if_due(
    cfg: TrainConfig,
    model: ConvStack,
    pairs: PairSet,
    step: int,
    elapsed: float,
    log: Callable[[str], object] = print,
) -> int:
    """With ``cfg.revive``, and in the first 3/4 of the run, revive the model's dead units on a
    probe batch that depends only on (seed, step); returns how many."""
    if not cfg.revive or _progress(cfg, step, elapsed) > 0.75:
        return 0
    probe, _ = sample_batch(pairs, np.random.default_rng([cfg.seed, step, 1]), 32, cfg.patch, False)
    if n := revive_dead_units(model, probe.to(model.layers[0].weight.device)):
        log(f"revived {n} dead units")
    return n


def run_metadata(cfg: TrainConfig, state: RunState, device: torch.device, world: int = 1) -> dict[str, str]:
    """The metadata of the final weights file, besides the model config ``save_weights`` adds;
    ``world``: the number of data-parallel processes (each trained on ``cfg.batch`` crops a step)."""
    return {
        "train_config": json.dumps(asdict(cfg), sort_keys=True),
        "command": state.command,
        "git_revision": state.revision,
        "train_seconds": f"{state.elapsed:.0f}",
        "samples": str(state.step * cfg.batch * world),
        "world_size": str(world),
        "device": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"CPU, {torch.get_num_threads()} threads",
    }


class _Clock:
    """Training seconds of a run: this session's wall time on top of ``elapsed`` from earlier ones."""

    def __init__(self, elapsed: float) -> None:
        self.t0 = time.monotonic() - elapsed

    def __call__(self) -> float:
        return time.monotonic() - self.t0


def train(
    cfg: TrainConfig,
    out: str | Path,
    resume: bool = False,
    device: str = "cpu",
    command: str = "",
    log: Callable[[str], object] = print,
    stop_at: int | None = None,
) -> Path | None:
    """Run (or resume) training into ``out``; returns the final weights file.

    ``stop_at``: checkpoint and return ``None`` after that step, as if killed there.
    """
    dev, bf16 = set_up_device(cfg, device)
    procs = Processes.start(dev)
    cfg, paths = _join_run(cfg, out, resume, log, procs)
    data = load_training_data(cfg)
    model = build_training_model(cfg, dev)  # seeded alike in every process: the same start
    net = procs.wrap(model)
    opt, base_lrs = make_optimizer(cfg, model)
    state = RunState(command=command or " ".join(sys.argv), revision=git_revision())
    if resume:
        # Provenance is the command that started the run, and the revision it started at.
        state = load_checkpoint(paths.checkpoint, model, opt, dev, state.command, state.revision)
        if procs.main:
            _truncate_log(paths.log, state.step)
    clock, last_save = _Clock(state.elapsed), time.monotonic()
    if not resume:
        revive_if_due(cfg, model, data.pairs, state.step, clock(), log)
    qs = "/".join(str(d.quality) for d in cfg.degradations)
    if procs.main:
        where = f"{procs.world} processes, " if procs.world > 1 else ""
        log(f"training {cfg.model} q{qs} ({cfg.recipe}) on {len(data.pairs)} pairs, "
            f"bf16={'on' if bf16 else 'off'}, {where}from step {state.step} of {cfg.steps}")  # fmt: skip
    stopped, done = False, _progress(cfg, state.step, clock()) >= 1.0
    while not stopped and not done:
        x, y = procs.share(*training_batch(cfg, data, state.step, cfg.batch * procs.world))
        set_learning_rates(opt, base_lrs, _lr_factor(cfg, state.step, clock()))
        mse = train_step(model, opt, x, y, cfg.loss, bf16, net)
        state.step += 1
        done = _progress(cfg, state.step, clock()) >= 1.0
        validating, saving = (
            state.step % cfg.val_every == 0 or done,
            time.monotonic() - last_save > cfg.checkpoint_s,
        )
        mse, (validating, saving, done) = procs.agree(mse, validating, saving, done)
        state.pending.append(mse)
        if validating or saving:
            state.flush()
            state.elapsed = clock()
            if validating:
                if procs.main:
                    validate_and_log(cfg, model, data.val_pairs, state, paths.log, bf16, log, procs.world)
                state.losses = []
                revive_if_due(cfg, model, data.pairs, state.step, clock(), log)
            if procs.main:
                save_checkpoint(paths.checkpoint, model, opt, state)
            last_save = time.monotonic()
        stopped = stop_at is not None and stop_at <= state.step < cfg.steps
    state.elapsed = clock()
    if procs.main:
        save_checkpoint(paths.checkpoint, model, opt, state)
    procs.barrier()
    procs.stop()
    if stopped or not procs.main:
        return None
    save_weights(paths.weights, model, run_metadata(cfg, state, dev, procs.world))
    return paths.weights


def _join_run(
    cfg: TrainConfig, out: str | Path, resume: bool, log: Callable[[str], object], procs: Processes
) -> tuple[TrainConfig, RunPaths]:
    """``prepare_run`` in the main process; the others then take the config it settled on."""
    if procs.main:
        cfg, paths = prepare_run(cfg, out, resume, log)
    procs.barrier()
    if procs.main:
        return cfg, paths
    paths = RunPaths(Path(out))
    return TrainConfig.from_dict(json.loads(paths.config.read_text())), paths


def _truncate_log(log_path: Path, step: int) -> None:
    """Drop log rows written after the checkpoint a run resumes from."""
    if not log_path.exists():
        return
    with open(log_path, newline="") as f:
        rows = list(csv.reader(f))
    kept = [rows[0]] + [r for r in rows[1:] if int(r[0]) <= step]
    with open(log_path, "w", newline="") as f:
        csv.writer(f).writerows(kept)
