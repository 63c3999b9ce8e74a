"""The experiment scripts' training settings are valid configs whose transfers fit their sources."""

import sys
from pathlib import Path

import pytest

from arcnn.cli import _build_parser
from arcnn.models import build_model
from arcnn.train import make_config, transfer_layers

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "experiments"), str(ROOT / "benchmarks")]
import transfer  # noqa: E402

ARMS = [(fig, arm, extra) for fig, (_, _, _, arms) in transfer.FIGURES.items() for arm, extra in arms.items()]


@pytest.mark.parametrize("fig,arm,extra", ARMS, ids=[f"fig{f}-{a}" for f, a, _ in ARMS])
def test_transfer_arms_make_configs_and_copy_their_layers(fig, arm, extra):
    args = _build_parser().parse_args(
        ["train", "--out", "unused", "--recipe", "fast", "--steps", "3", *extra]
    )
    keys = ("quality", "box", "init_from", "init_layers", "steps")
    cfg = make_config(args.recipe, model=args.model, init=args.init, **{k: getattr(args, k) for k in keys})
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
