"""The experiment scripts' training settings are valid configs whose transfers fit their sources."""

import sys
from pathlib import Path

import pytest

from arcnn.cli import _build_parser, train_config
from arcnn.models import build_model
from arcnn.train import transfer_layers

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "experiments"), str(ROOT / "benchmarks")]
import transfer  # noqa: E402

ARMS = [(fig, arm, extra) for fig, (_, _, _, arms) in transfer.FIGURES.items() for arm, extra in arms.items()]


@pytest.mark.parametrize("fig,arm,extra", ARMS, ids=[f"fig{f}-{a}" for f, a, _ in ARMS])
def test_transfer_arms_make_configs_and_copy_their_layers(fig, arm, extra):
    cfg = train_config(_build_parser().parse_args(["train", "--out", "unused", "--steps", "3", *extra]))
    _, quality, box, _ = transfer.FIGURES[fig]
    assert cfg.degradation.quality == quality and cfg.degradation.box == box
    if cfg.init_layers:
        model = build_model(cfg.model)
        transfer_layers(model, cfg.init_from, cfg.init_layers, 0)  # shapes fit, or ValueError
    if arm == "a-gauss":
        assert cfg.init == "gauss"


@pytest.mark.parametrize("fig", sorted(transfer.FIGURES))
def test_each_figures_claims_read_its_own_arms(fig):
    arms = transfer.FIGURES[fig][3]
    ranked = {a: {"third": i, "final": i, "live1": i} for i, a in enumerate(arms)}  # later arms better
    assert all(isinstance(check(ranked), bool) for _, check in transfer.CLAIMS[fig])
    assert all(check(ranked) for _, check in transfer.CLAIMS[fig])  # the paper's ordering: a < b, c
    reverse = {a: {k: -v for k, v in r.items()} for a, r in ranked.items()}
    assert not any(check(reverse) for _, check in transfer.CLAIMS[fig])


def _jobs(path: Path) -> list[tuple[str, list[str]]]:
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return [(ln[0], ln[1:]) for ln in lines]


GPU_JOBS = [
    (f.name, name, args) for f in sorted(ROOT.glob("experiments/gpu-*.jobs")) for name, args in _jobs(f)
]


@pytest.mark.parametrize("jobfile,name,extra", GPU_JOBS, ids=[f"{f}-{n}" for f, n, _ in GPU_JOBS])
def test_gpu_jobs_make_configs_and_copy_their_layers(jobfile, name, extra):
    cfg = train_config(_build_parser().parse_args(["train", "--out", "unused", *extra]))
    if not cfg.init_from:
        return
    src = Path(cfg.init_from)
    if src.parts[0] == "runs":  # a run of an earlier stage: it must be one of its jobs
        earlier = {n for f in ROOT.glob("experiments/gpu-*.jobs") if f.name < jobfile for n, _ in _jobs(f)}
        assert src.parent.name in earlier
        return
    model = build_model(cfg.model_config)
    transfer_layers(model, str(ROOT / src), cfg.init_layers, 0)  # the file is there and its shapes fit


# The zoo's models of earlier days that experiments and GPU runs started from (docs/training.md):
# the 2-core ones (-cpu), arcnn-q10 after GPU stages 2 and 4 (-gpu2, -gpu4; the shipped one is -gpu4
# with its last layer refit, experiments/refit_last_layer.py), and the blind model after stage 4.
KEPT_WEIGHTS = {
    "arcnn-q10-cpu.safetensors": "212331e63b746a33c114a5226554a996c70b24eefa3bf5290b9c1bbf170d8167",
    "arcnn-q20-cpu.safetensors": "9a50b84dcb4779e04d68a20b1aee1afaacf463303283e6ca848ccdce435e9b06",
    "arcnn-q30-cpu.safetensors": "6ab0f367dd283560126b6289567d5544d45c1ea36ac4e3be9741ac65178f335f",
    "arcnn-webp-cpu.safetensors": "332c32c313442b4c59cdd14f5a41bc0878ee609340556bf198c4acd50caa1630",
    "arcnn-q10-gpu2.safetensors": "2c4e948e3268ff0552dc2aed7524d8ca66bf6b9ed7908e14d30e1a638052bd07",
    "arcnn-q10-gpu4.safetensors": "a7d26a7b674097214cc40b4d7f39a9e199f056581aa37f1d2f891e9a9c533f81",
    "arcnn-blind-cpu.safetensors": "ac5ad41950bdf834c6e29a4f1e1ae3c2035403567a6baf20afaf0713718cbb3d",
    "arcnn-blind-gpu4.safetensors": "5092fdddfe94ecdd7a3c4e327b57ddc577b5b15e1eedfe3e749114b042e93881",
}


def test_kept_weights_are_the_ones_recorded():
    from arcnn.zoo import sha256_file

    folder = ROOT / "experiments" / "weights"
    assert {p.name for p in folder.glob("*.safetensors")} == set(KEPT_WEIGHTS)
    for name, digest in KEPT_WEIGHTS.items():
        assert sha256_file(folder / name) == digest, name
