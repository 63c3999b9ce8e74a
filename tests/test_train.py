import copy
import csv
import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from arcnn.data import PairSet, grid_patches, list_images, make_pairs, sample_batch
from arcnn.models import ModelConfig, build_model, preset
from arcnn.train import (
    RunState,
    TrainConfig,
    build_training_model,
    load_checkpoint,
    load_training_data,
    make_config,
    make_optimizer,
    prepare_run,
    revive_if_due,
    run_metadata,
    save_checkpoint,
    set_learning_rates,
    train,
    train_step,
    training_batch,
    transfer_layers,
    validate_and_log,
)
from arcnn.weights import read_weights
from arcnn.zoo import load_model


def _cfg(image_dir, **kw):
    base = dict(model="srcnn", quality=10, steps=30, batch=4, patch=24, val_every=10, val_images=2, lr=3e-3,
                train_dirs=(str(image_dir),), val_dir=str(image_dir), warmup=0, bf16=False)  # fmt: skip
    base.update(kw)
    return make_config("fast", **base)


def _log(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_pairs_are_cached_and_batches_well_formed(image_dir):
    files = list_images(image_dir)
    pairs = make_pairs(files, 10)
    again = make_pairs(files, 10)
    assert all(np.array_equal(a, b) for a, b in zip(pairs.degraded, again.degraded))
    assert pairs.clean[0].shape == (72, 88) and pairs.clean[0].dtype == np.uint8
    rng = np.random.default_rng(0)
    x, y = sample_batch(pairs, rng, 5, 32, augment=True)
    assert x.shape == y.shape == (5, 1, 32, 32) and 0 <= float(x.min()) and float(x.max()) <= 1
    assert not torch.equal(x, y)
    gx, gy = grid_patches(pairs, 32, 10)
    per_image = len(range(0, 72 - 31, 10)) * len(range(0, 88 - 31, 10))
    assert gx.shape == gy.shape == (4 * per_image, 32, 32)


def test_augment_keeps_pairs_aligned():
    clean = np.arange(40 * 40, dtype=np.uint8).reshape(40, 40)
    pairs = PairSet([clean], [clean.copy()])
    x, y = sample_batch(pairs, np.random.default_rng(1), 16, 16, augment=True)
    assert torch.equal(x, y)


def test_tiny_training_lowers_loss(image_dir, tmp_path):
    out = train(_cfg(image_dir, steps=60, val_every=20), tmp_path / "run", log=lambda *_: None)
    rows = _log(tmp_path / "run" / "log.csv")
    losses = [float(r["train_loss"]) for r in rows]
    assert losses[-1] < losses[0]
    meta, _ = read_weights(out)
    assert "git_revision" in meta and "command" in meta and "train_config" in meta
    model = load_model(out)
    assert model.config.notation == "9-1-5" and model.config.residual


@pytest.mark.parametrize("model,loss", [("fast-arcnn", "mse"), ("srcnn", "psnr")])
def test_other_models_and_losses_train(image_dir, tmp_path, model, loss):
    out = train(_cfg(image_dir, model=model, loss=loss, steps=60, val_every=20, patch=40, lr=1e-3),
                tmp_path / "run", log=lambda *_: None)  # fmt: skip
    losses = [float(r["train_loss"]) for r in _log(tmp_path / "run" / "log.csv")]
    assert losses[-1] < losses[0]
    before = build_model(preset(model, residual=True)).state_dict()
    after = load_model(out).state_dict()
    # Every parameter, PReLU slopes included, is in the optimiser.
    assert all(not torch.equal(before[k], after[k]) for k in after if k.startswith("acts."))


def test_revive_dead_units_keeps_the_function():
    from arcnn.train import revive_dead_units

    torch.manual_seed(0)
    model = build_model(preset("arcnn", residual=True))
    with torch.no_grad():
        model.convs[1].bias[:5] = -100.0  # five units of the 7x7 layer never fire
    x = torch.rand(4, 1, 40, 40)
    before = model(x).detach()
    assert revive_dead_units(model, x) >= 5  # and any the default init left dead
    assert torch.allclose(model(x), before, atol=1e-6)
    with torch.no_grad():
        fires = (model.convs[1](torch.relu(model.convs[0](x))) > 0).float().mean(dim=(0, 2, 3))
    assert (fires[:5] > 0.2).all() and revive_dead_units(model, x) == 0


def test_flips_only_augmentation_never_transposes():
    clean = np.arange(32 * 32, dtype=np.uint8).reshape(32, 32)
    pairs = PairSet([clean], [clean.copy()])
    x, _ = sample_batch(pairs, np.random.default_rng(3), 64, 32, augment=True, transpose=False)
    variants = {clean.tobytes(), clean[::-1].tobytes(), clean[:, ::-1].tobytes(), clean[::-1, ::-1].tobytes()}
    got = {(p[0].numpy() * 255).round().astype(np.uint8).tobytes() for p in x}
    assert got == variants


def test_resume_after_kill_reproduces_the_curve(image_dir, tmp_path):
    cfg = _cfg(image_dir)
    train(cfg, tmp_path / "straight", log=lambda *_: None)
    assert train(cfg, tmp_path / "killed", log=lambda *_: None, stop_at=15) is None
    with pytest.raises(ValueError, match="--resume"):
        train(cfg, tmp_path / "killed", log=lambda *_: None)
    train(cfg, tmp_path / "killed", resume=True, log=lambda *_: None)
    a, b = _log(tmp_path / "straight" / "log.csv"), _log(tmp_path / "killed" / "log.csv")
    assert [r["step"] for r in a] == [r["step"] for r in b] == ["10", "20", "30"]
    for ra, rb in zip(a, b):
        assert float(ra["train_loss"]) == pytest.approx(float(rb["train_loss"]), rel=1e-5)
        assert float(ra["val_psnr"]) == pytest.approx(float(rb["val_psnr"]), abs=1e-3)


def test_transfer_initialisation_copies_and_freezes(image_dir, tmp_path):
    src = train(_cfg(image_dir, model="arcnn", steps=2, patch=32), tmp_path / "a", log=lambda *_: None)
    source = load_model(src)
    cfg = _cfg(image_dir, model="arcnn5", steps=3, patch=32, init_from=str(src), init_layers=2, freeze=1)
    dst = train(cfg, tmp_path / "b", log=lambda *_: None)
    target = load_model(dst)
    assert torch.equal(target.convs[0].weight, source.convs[0].weight)  # frozen: unchanged
    assert not torch.equal(target.convs[1].weight, source.convs[1].weight)  # trained on from the copy
    model = load_model(dst)
    with pytest.raises(ValueError, match="layer 2"):
        transfer_layers(model, str(src), 3, 0)  # arcnn's 3rd layer is 1x1, arcnn5's is 3x3


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="unknown training config keys"):
        TrainConfig.from_dict({"momentum": 0.5})
    with pytest.raises(ValueError, match="freeze"):
        make_config("fast", init_from="x", init_layers=1, freeze=2)
    with pytest.raises(ValueError, match="unknown recipe"):
        make_config("slow")
    with pytest.raises(ValueError, match="loss"):
        make_config("fast", loss="l1")
    paper = make_config("paper")
    assert (paper.optimizer, paper.lr, paper.last_lr_scale, paper.batch, paper.init) == (
        "sgd",
        1e-4,
        0.1,
        128,
        "gauss",
    )


def test_plot_command_writes_png(image_dir, tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    from arcnn.cli import main

    train(_cfg(image_dir, steps=20), tmp_path / "run", log=lambda *_: None)
    out = tmp_path / "curve.png"
    assert main(["plot", f"mine={tmp_path / 'run'}", "-o", str(out)]) == 0
    with Image.open(out) as im:
        assert im.format == "PNG" and im.width > 400
    assert main(["plot", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "x.png")]) == 2


def test_paper_recipe_runs_on_the_grid(image_dir, tmp_path):
    dirs = dict(train_dirs=(str(image_dir),), val_dir=str(image_dir), val_images=2)
    paper = make_config("paper", model="srcnn", steps=4, val_every=2, batch=8, **dirs)
    assert paper.sampling == "grid" and paper.patch == 32 and not paper.residual
    out = train(paper, tmp_path / "paper", log=lambda *_: None)
    model = load_model(out)
    std = float(model.convs[0].weight.std())
    assert std < 0.01  # Gaussian sigma=0.001 init, a few SGD steps at lr 1e-4 barely move it


def test_warmup_and_cosine_schedule():
    from arcnn.train import _lr_factor

    cfg = make_config("fast", steps=1000, warmup=100)
    assert _lr_factor(cfg, 0) == pytest.approx(0.01, abs=1e-3)
    assert _lr_factor(cfg, 99) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.099)))
    assert _lr_factor(cfg, 500) == pytest.approx(0.5, abs=1e-6)
    assert _lr_factor(cfg, 1000) == pytest.approx(0.0, abs=1e-9)


def test_time_budget_spreads_the_schedule_and_stops(image_dir, tmp_path):
    from arcnn.train import _lr_factor

    cfg = make_config("fast", steps=10_000, warmup=0, minutes=2.0)
    assert _lr_factor(cfg, 10, elapsed=60.0) == pytest.approx(0.5, abs=1e-6)  # half the time: half way
    assert _lr_factor(cfg, 5_000, elapsed=1.0) == pytest.approx(0.5, abs=1e-2)  # or half the steps
    with pytest.raises(ValueError):
        make_config("fast", minutes=-1)
    out = train(
        _cfg(image_dir, steps=10**6, minutes=0.02, val_every=10**6), tmp_path / "t", log=lambda *_: None
    )
    meta, _ = read_weights(out)
    samples = int(meta["samples"])
    assert 0 < samples < 10**6 * 4 and 1.0 <= float(meta["train_seconds"]) <= 3.0
    rows = _log(tmp_path / "t" / "log.csv")
    assert len(rows) == 1 and int(rows[0]["samples"]) == samples  # validated once, at the end


def test_blind_training_mixes_qualities(image_dir, tmp_path):
    cfg = _cfg(image_dir, qualities=(10, 50), steps=20, val_every=10)
    assert [d.quality for d in cfg.degradations] == [10, 50]
    logs = []
    train(cfg, tmp_path / "run", log=logs.append)
    assert "q10/50" in logs[0] and "on 8 pairs" in logs[0]  # 4 images, each at both qualities
    fewer = _cfg(image_dir, qualities=(10, 30, 50), steps=2, val_every=1, val_images=2)  # q50 validates none
    assert train(fewer, tmp_path / "few", log=lambda *_: None) is not None
    with pytest.raises(ValueError, match="quality"):
        make_config("fast", qualities=(10, 0))


def test_train_cli_parses_quality_lists():
    from arcnn.cli._common import qualities_arg as _qualities_arg

    assert _qualities_arg("5-20/5") == (5, 10, 15, 20)
    assert _qualities_arg("10,30") == (10, 30)
    with pytest.raises(Exception, match="qualities"):
        _qualities_arg("5-x")


def _restored_mse(model, pairs):
    """Per-image MSE on [0, 1] of the model's unrounded restorations (float64)."""
    model64, out = copy.deepcopy(model).double(), []
    with torch.no_grad():
        for c, d in zip(pairs.clean, pairs.degraded):
            y = model64.restore_tensor(torch.from_numpy(d / 255.0)[None, None])
            out.append(float(((y[0, 0] - torch.from_numpy(c / 255.0)) ** 2).mean()))
    return np.array(out)


@pytest.mark.parametrize("objective", ["mse", "psnr"])
def test_refit_last_layer_is_the_optimum_of_its_objective(image_dir, objective):
    from arcnn.train import last_layer_stats, last_layer_weights, refit_last_layer

    torch.manual_seed(0)
    model = build_model(preset("arcnn", widths=(8, 6, 4, 1), residual=True)).eval().requires_grad_(False)
    pairs = make_pairs(list_images(image_dir), 10)
    stats = last_layer_stats(model, pairs)
    w0 = last_layer_weights(model)
    before = _restored_mse(model, pairs)
    assert np.allclose(stats.mse(w0).numpy(), before, rtol=1e-4)  # the equations describe the network
    refit_last_layer(model, stats, objective)
    after = _restored_mse(model, pairs)
    w = last_layer_weights(model)
    assert np.allclose(stats.mse(w).numpy(), after, rtol=1e-4)
    n = stats.N.numpy()
    if objective == "mse":
        assert (after * n).sum() < (before * n).sum()
    else:
        assert np.mean(-10 * np.log10(after)) > np.mean(-10 * np.log10(before))
    # an optimum: nudging the refit weights either way makes the objective worse
    for sign in (1, -1):
        nudged = w + sign * 1e-3 * torch.randn_like(w)
        if objective == "mse":
            assert float((stats.mse(nudged) * stats.N).sum()) > float((stats.mse(w) * stats.N).sum())
        else:
            assert stats.mean_psnr(nudged) < stats.mean_psnr(w)


def test_refit_last_layer_refuses_other_networks(image_dir):
    from arcnn.train import last_layer_stats

    pairs = make_pairs(list_images(image_dir), 10)
    for name in ("fast-arcnn", "srcnn"):  # stride 2; not residual
        cfg = preset(name, residual=False) if name == "srcnn" else preset(name)
        with pytest.raises(ValueError, match="refitting"):
            last_layer_stats(build_model(cfg), pairs)


def _tiny_model(seed=0):
    torch.manual_seed(seed)
    return build_model(preset("arcnn", widths=(8, 6, 4, 1), residual=True))


def test_prepare_run_writes_a_new_run_and_guards_the_folder(tmp_path):
    cfg = make_config("fast", steps=5)
    got, paths = prepare_run(cfg, tmp_path / "run", resume=False, log=lambda *_: None)
    assert got == cfg and paths.out == tmp_path / "run"
    assert TrainConfig.from_dict(json.loads(paths.config.read_text())) == cfg
    assert paths.log.read_text().splitlines() == ["step,samples,train_loss,val_psnr,elapsed_s"]
    with pytest.raises(ValueError, match="nothing to resume"):
        prepare_run(cfg, tmp_path / "run", resume=True)
    paths.checkpoint.touch()
    with pytest.raises(ValueError, match="already holds a run"):
        prepare_run(cfg, tmp_path / "run", resume=False)
    logs = []
    got, _ = prepare_run(make_config("fast", steps=9), tmp_path / "run", resume=True, log=logs.append)
    assert got == cfg and logs == [f"resuming with the saved config of {tmp_path / 'run'}"]


def test_make_optimizer_scales_the_last_layer_and_skips_frozen_ones():
    model = _tiny_model()
    model.convs[0].requires_grad_(False)
    opt, base = make_optimizer(make_config("paper", lr=1e-3, last_lr_scale=0.1), model)
    assert isinstance(opt, torch.optim.SGD) and opt.defaults["momentum"] == 0.9
    assert base == pytest.approx([1e-3, 1e-4])
    body, last = ({id(p) for p in g["params"]} for g in opt.param_groups)
    assert last == {id(p) for p in model.convs[-1].parameters()}
    assert body == {id(p) for c in model.convs[1:-1] for p in c.parameters()}  # the frozen one left out
    set_learning_rates(opt, base, 0.5)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([5e-4, 5e-5])
    for conv in model.convs[:-1]:
        conv.requires_grad_(False)
    opt, base = make_optimizer(make_config("fast", lr=2e-3, last_lr_scale=0.5), model)
    assert isinstance(opt, torch.optim.Adam) and base == pytest.approx([1e-3])  # the last layer alone


def test_checkpoint_round_trip_keeps_the_run(tmp_path):
    cfg = make_config("fast", lr=1e-3)
    model = _tiny_model()
    opt, _ = make_optimizer(cfg, model)
    x = torch.rand(2, 1, 20, 20)
    loss = train_step(model, opt, x, x.clone())
    state = RunState(7, 12.5, losses=[0.25, 0.5], pending=[loss], command="arcnn train", revision="abc")
    save_checkpoint(tmp_path / "c.pt", model, opt, state)
    assert state.pending == [] and state.losses == [0.25, 0.5, pytest.approx(float(loss))]  # flushed first
    raw = torch.load(tmp_path / "c.pt", weights_only=True)
    keys = {"model", "optimizer", "step", "elapsed", "losses", "command", "git_revision", "model_config"}
    assert set(raw) == keys
    assert ModelConfig.from_dict(json.loads(raw["model_config"])) == model.config

    fresh = _tiny_model(seed=1)
    fresh_opt, _ = make_optimizer(cfg, fresh)
    back = load_checkpoint(tmp_path / "c.pt", fresh, fresh_opt, torch.device("cpu"))
    assert (back.step, back.elapsed, back.losses) == (7, 12.5, state.losses)
    assert (back.command, back.revision, back.pending) == ("arcnn train", "abc", [])
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), fresh.state_dict().values()))
    moments, loaded = (list(o.state_dict()["state"].values()) for o in (opt, fresh_opt))
    assert len(moments) == len(loaded) == len(list(model.parameters()))
    assert all(torch.equal(m["exp_avg_sq"], n["exp_avg_sq"]) for m, n in zip(moments, loaded))

    del raw["command"], raw["git_revision"]  # a checkpoint from before provenance was recorded
    torch.save(raw, tmp_path / "old.pt")
    back = load_checkpoint(tmp_path / "old.pt", fresh, fresh_opt, torch.device("cpu"), "now", "def")
    assert (back.command, back.revision) == ("now", "def")


def test_training_batches_depend_only_on_seed_and_step(image_dir):
    cfg = _cfg(image_dir, qualities=(10, 50))
    data = load_training_data(cfg)
    assert len(data.pairs) == 8 and len(data.val_pairs) == 2 and data.grid is None
    assert data.weights.shape == (8,) and data.weights.sum() == pytest.approx(1.0)
    x, y = training_batch(cfg, data, 3)
    assert x.shape == y.shape == (4, 1, 24, 24) and x.dtype == torch.float32
    again = training_batch(cfg, data, 3)
    assert torch.equal(x, again[0]) and torch.equal(y, again[1])
    assert not torch.equal(x, training_batch(cfg, data, 4)[0])
    assert not torch.equal(x, training_batch(replace(cfg, seed=1), data, 3)[0])
    paper = make_config("paper", batch=8, train_dirs=(str(image_dir),), val_dir=str(image_dir), val_images=2)
    grid_data = load_training_data(paper)
    gx, gy = training_batch(paper, grid_data, 0)
    assert gx.shape == gy.shape == (8, 1, 32, 32)
    assert any(np.array_equal((gx[0, 0].numpy() * 255).round(), p) for p in grid_data.grid[0])


def test_train_step_returns_the_mse_before_it_on_the_cropped_target():
    model = build_model(preset("srcnn", residual=True))  # 9-1-5, border 6: a 24px patch gives 12px out
    opt, _ = make_optimizer(make_config("fast", lr=1e-3), model)
    x, y = torch.rand(3, 1, 24, 24), torch.rand(3, 1, 24, 24)
    with torch.no_grad():
        before = float(((model(x) - y[:, :, 6:18, 6:18]) ** 2).mean())
    first = train_step(model, opt, x, y)
    assert first.ndim == 0 and float(first) == pytest.approx(before, rel=1e-5)
    for _ in range(20):
        last = train_step(model, opt, x, y)
    assert float(last) < float(first)


def test_validate_and_log_appends_a_row_and_starts_a_new_window(image_dir, tmp_path):
    cfg = _cfg(image_dir)
    _, paths = prepare_run(cfg, tmp_path / "run", resume=False)
    model = build_training_model(cfg, torch.device("cpu"))
    state = RunState(step=10, elapsed=3.04, losses=[0.5], pending=[torch.tensor(1.5)])
    logs = []
    val = validate_and_log(
        cfg, model, load_training_data(cfg).val_pairs, state, paths.log, False, logs.append
    )
    assert _log(paths.log) == [
        {"step": "10", "samples": "40", "train_loss": "1", "val_psnr": f"{val:.4f}", "elapsed_s": "3.0"}
    ]
    assert 20 < val < 60 and state.losses == [] and state.pending == []
    assert logs == [f"step 10/30  loss 1.000e+00  val PSNR {val:.3f} dB  0.1 min"]


def test_revive_if_due_only_early_in_a_reviving_run(image_dir):
    cfg = _cfg(image_dir, model="arcnn", patch=32, revive=True, steps=100)
    pairs = load_training_data(cfg).pairs
    model = build_training_model(cfg, torch.device("cpu"))
    with torch.no_grad():
        model.convs[1].bias[:5] = -100.0
    assert revive_if_due(replace(cfg, revive=False), model, pairs, 0, 0.0) == 0
    assert revive_if_due(cfg, model, pairs, 80, 0.0) == 0  # past 3/4 of the steps
    logs = []
    n = revive_if_due(cfg, model, pairs, 10, 0.0, logs.append)
    assert n >= 5 and logs == [f"revived {n} dead units"]


def test_stopped_run_checkpoints_its_state_and_keeps_its_provenance(image_dir, tmp_path):
    cfg = _cfg(image_dir, steps=8, val_every=4)
    run = tmp_path / "run"
    assert train(cfg, run, command="first", log=lambda *_: None, stop_at=6) is None
    raw = torch.load(run / "checkpoint.pt", weights_only=True)
    assert (raw["step"], raw["command"], len(raw["losses"])) == (6, "first", 2)  # steps 5 and 6
    assert raw["model_config"] == cfg.model_config.to_json()
    assert [r["step"] for r in _log(run / "log.csv")] == ["4"]
    out = train(cfg, run, resume=True, command="second", log=lambda *_: None)
    meta, _ = read_weights(out)
    assert meta["command"] == "first" and meta["samples"] == "32"
    state = RunState(8, float(meta["train_seconds"]), command="first", revision=meta["git_revision"])
    assert meta == {
        **run_metadata(cfg, state, torch.device("cpu")),
        "model_config": cfg.model_config.to_json(),
    }
    assert [r["step"] for r in _log(run / "log.csv")] == ["4", "8"]
