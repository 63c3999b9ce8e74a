"""experiments/train_large.py: the chroma target trains, logs and resumes; a luminance state keeps
the keys it had before the chroma target existed."""

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors import safe_open

from arcnn.data import PairSet
from experiments import train_large

from .conftest import smooth_image

LUMA_KEYS = {"step", "elapsed", "model_config", "qualities", "decay_start", "command", "git_revision"}
TINY = ["--widths", "4-8", "--blocks", "1-1", "--batch", "4", "--patch", "32", "--val-images", "1",
        "--threads", "1"]  # fmt: skip


@pytest.fixture
def data(tmp_path, monkeypatch):
    for split in ("train", "test", "val"):
        d = tmp_path / "data" / "bsds500" / split
        d.mkdir(parents=True)
        for i in range(2):
            Image.fromarray(smooth_image(48, 64, seed=i, colour=True)).save(d / f"{i}.png")
    monkeypatch.setenv("ARCNN_DATA", str(tmp_path / "data"))
    return tmp_path


def _info(run):
    with safe_open(str(run / "state.safetensors"), "pt") as f:
        return json.loads(f.metadata()["info"])


def test_chroma_run_trains_logs_and_resumes(data):
    run = data / "chroma"
    args = [str(run), "--target", "cbcr", "--minutes", "0.02", "--qualities", "10-50", *TINY]
    assert train_large.main(args) == 0
    info = _info(run)
    assert info["target"] == "cbcr" and info["qualities"] == [10, 50]
    cfg = train_large.UNetConfig.from_dict(info["model_config"])
    assert (cfg.inputs, cfg.channels, cfg.unshuffle) == (4, 2, 2)
    with open(run / "log.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0][2:6] == ["val_q10", "val_q20", "val_q30", "val_q40"] and "val_rgb_q40" in rows[0]
    assert rows[1][0] == "0" and float(rows[1][2]) > 20  # the JPEG itself, before any step
    assert train_large.main(args) == 0
    assert _info(run)["step"] >= info["step"]
    with pytest.raises(SystemExit, match="cbcr run"):
        train_large.main([str(run), "--minutes", "0", *TINY])


def test_a_decay_branch_keeps_the_command_of_its_source_and_its_own(data, monkeypatch):
    src, branch = data / "luma", data / "branch"
    monkeypatch.setattr("sys.argv", ["train_large.py", str(src)])
    assert train_large.main([str(src), "--minutes", "0", "--qualities", "10", *TINY]) == 0
    monkeypatch.setattr("sys.argv", ["train_large.py", str(branch), "--decay-from", str(src)])
    args = [str(branch), "--decay-from", str(src), "--decay-steps", "1", "--minutes", "0", *TINY]
    assert train_large.main(args) == 0
    command = _info(branch)["command"]
    assert command == f"train_large.py {src}, then train_large.py {branch} --decay-from {src}"
    assert _info(branch)["git_revision"].count(", then ") == 1
    assert train_large.main(args) == 0  # resuming the branch itself adds nothing
    assert _info(branch)["command"] == command
    train_large.main([str(branch), "--export", str(data / "w.safetensors")])
    with safe_open(str(data / "w.safetensors"), "pt") as f:
        assert f.metadata()["command"] == command


def test_a_new_run_records_the_revision_it_started_at(data, monkeypatch):
    """A commit made while a run trains does not rewrite the revision its state records."""
    revisions = iter(["aaaaaaa", "bbbbbbb"])
    monkeypatch.setattr(train_large, "git_revision", lambda: next(revisions))
    run = data / "luma"
    assert (
        train_large.main([str(run), "--minutes", "0.02", "--checkpoint-s", "0", "--qualities", "10", *TINY])
        == 0
    )
    assert _info(run)["git_revision"] == "aaaaaaa"


def test_luma_state_keeps_its_keys(data):
    run = data / "luma"
    assert train_large.main([str(run), "--minutes", "0", "--qualities", "10", *TINY]) == 0
    info = _info(run)
    assert set(info) == LUMA_KEYS
    assert set(info["model_config"]) == {"widths", "blocks", "conditioned", "arch"}


def test_chroma_batches_weigh_subsamplings_and_read_the_quality(monkeypatch):
    monkeypatch.setattr(train_large, "SUBSAMPLINGS", {"4:2:0": (0.75, None), "4:4:4": (0.25, (90,))})
    rng = np.random.default_rng(0)
    clean = [rng.integers(20, 236, (48, 48, 2), dtype=np.uint8)]
    noisy = [np.dstack([c[..., :1], np.clip(c.astype(int) + n, 0, 255).astype(np.uint8)])
             for c, n in ((clean[0], 1), (clean[0], 9), (clean[0], 3))]  # fmt: skip
    sets = [(10, "4:2:0", PairSet(clean, noisy[1:2])), (40, "4:2:0", PairSet(clean, noisy[2:])),
            (90, "4:4:4", PairSet(clean, noisy[:1]))]  # fmt: skip
    set_p, within = train_large.set_weights(sets)
    assert set_p[2] == pytest.approx(0.25) and set_p[0] / set_p[1] == pytest.approx(9 / 81)
    assert all(w.sum() == pytest.approx(1) for w in within)
    assert train_large.chroma_sets((10, 90)) == [(10, "4:2:0"), (90, "4:2:0"), (90, "4:4:4")]
    assert train_large.chroma_sets((10, 40)) == [(10, "4:2:0"), (40, "4:2:0")]  # none above the run's
    set_p, within = train_large.set_weights(sets[:2])  # no 4:4:4 set: 4:2:0 takes it all
    assert set_p.sum() == pytest.approx(1) and set_p[0] / set_p[1] == pytest.approx(9 / 81)
    x = torch.zeros(2, 3, 4, 4)
    planes = train_large.quality_plane(x, 40)
    assert train_large._forget(planes, rng, 1.0)[:, 0].abs().sum() == 0


def test_batches_from_loader_processes_are_the_trainers_own(data, monkeypatch):
    monkeypatch.setenv("ARCNN_CACHE", str(data / "cache"))
    train_large.prebuild("y", workers=2, val_images=1)  # builds the caches the run then loads
    assert len(list((data / "cache").glob("pairs-*.npz"))) == 7 + 4  # 7 training qualities, 4 val
    args = train_large.setup_args().parse_args(["run", *TINY, "--workers", "2"])
    draw, _, _ = train_large.luma_data((10, 20), args)
    inline = train_large.batches(draw, train_large.setup_args().parse_args(["run", *TINY]), 5, False)
    loaded = train_large.batches(draw, args, 5, False)
    for _ in range(3):
        (x, y), (x2, y2) = next(inline), next(loaded)
        assert torch.equal(x, x2) and torch.equal(y, y2)


def test_one_list_of_pair_sets_for_training_validation_and_prebuild(data, monkeypatch):
    monkeypatch.setattr(train_large, "SUBSAMPLINGS", {"4:2:0": (0.75, None), "4:4:4": (0.25, (90,))})
    train, val = train_large.pair_jobs("cbcr", (10, 90), val_images=1)
    assert [(d.quality, d.subsampling) for _, d in train] == [(10, "4:2:0"), (90, "4:2:0"), (90, "4:4:4")]
    assert all(d.chroma for _, d in train + val)
    assert [len(f) for f, _ in train] == [4] * 3 and [len(f) for f, _ in val] == [1] * 4
    train, val = train_large.pair_jobs("y", (10, 20), val_images=2)
    assert [d.quality for _, d in train + val] == [10, 20, *train_large.VAL_QUALITIES]
    assert not any(d.chroma for _, d in train + val)


def test_a_resumed_run_drops_the_log_rows_past_its_state(data):
    run = data / "chroma"
    args = [str(run), "--target", "cbcr", "--minutes", "0", "--qualities", "10", *TINY]
    assert train_large.main(args) == 0  # a state at step 0 and the JPEG's row
    with open(run / "log.csv", "a", newline="") as f:  # validated at step 7, stopped before saving
        csv.writer(f).writerow(["7", "1e-3", *["30.0"] * 8, "9"])
    assert train_large.main(args) == 0
    with open(run / "log.csv") as f:
        assert [r[0] for r in csv.reader(f)] == ["step", "0"]


def test_a_luminance_run_branches_into_colour_luminance(data, monkeypatch):
    src, branch = data / "luma", data / "colour"
    assert train_large.main([str(src), "--minutes", "0", "--qualities", "10", *TINY]) == 0
    args = [str(branch), "--target", "yfull", "--decay-from", str(src), "--decay-steps", "2",
            "--qualities", "10-50", "--minutes", "0.05", *TINY]  # fmt: skip
    assert train_large.main(args) == 0
    info = _info(branch)
    assert info["target"] == "yfull" and info["qualities"] == [10, 50] and info["decay_start"] == 0
    with open(branch / "log.csv") as f:
        rows = list(csv.reader(f))
    assert rows[1][:2] == ["0", ""] and float(rows[1][2]) > 20  # the source network, before the branch
    assert train_large.main(args) == 0  # resumes its own state: yfull
    with pytest.raises(SystemExit, match="yfull run"):
        train_large.main([str(branch), "--minutes", "0", *TINY])
    with pytest.raises(SystemExit, match="--target y run"):
        train_large.main(
            [str(data / "c"), "--target", "cbcr", "--decay-from", str(src), "--minutes", "0", *TINY]
        )


def test_colour_luminance_batches_are_what_restore_luma_reads(data):
    args = train_large.setup_args().parse_args(["run", *TINY, "--batch", "8", "--unknown", "0"])
    draw, val, n = train_large.colour_luma_data((10, 50), args)
    x, y = draw(np.random.default_rng(0))
    assert n == 8 and x.shape == (8, 2, 32, 32) and y.shape == (8, 1, 32, 32)
    assert set(x[:, 0, 0, 0].mul(100).round().tolist()) <= {12.0, 50.0}  # q10 is told 12, as in restore_luma
    lo, hi = 16 / 255, 235 / 255
    assert x[:, 1:].min() >= lo - 1e-6 and x[:, 1:].max() <= hi + 1e-6 and y.min() >= lo - 1e-6
    assert [q for q, _, _ in val] == list(train_large.VAL_QUALITIES) and val[0][1].ndim == 2


def test_a_weights_file_starts_a_branch_and_a_resume_with_other_flags_is_kept(data, monkeypatch):
    src, branch = data / "luma", data / "branch"
    monkeypatch.setattr("sys.argv", ["train_large.py", str(src)])
    assert train_large.main([str(src), "--minutes", "0", "--qualities", "10", *TINY]) == 0
    weights = data / "w.safetensors"
    train_large.main([str(src), "--export", str(weights)])
    args = [str(branch), "--decay-from", str(weights), "--decay-steps", "3", "--minutes", "0", *TINY]
    monkeypatch.setattr("sys.argv", ["train_large.py", str(branch), "--decay-from", str(weights)])
    assert train_large.main(args) == 0
    assert (
        _info(branch)["command"]
        == f"train_large.py {src}, then train_large.py {branch} --decay-from {weights}"
    )
    monkeypatch.setattr("sys.argv", ["train_large.py", str(branch), "--lr", "1e-4"])
    assert train_large.main([*args, "--lr", "1e-4"]) == 0
    assert _info(branch)["command"].endswith(
        f"--decay-from {weights}, then train_large.py {branch} --lr 1e-4"
    )
    assert train_large.main([*args, "--lr", "1e-4"]) == 0  # the same flags again: kept once
    assert _info(branch)["command"].count("--lr 1e-4") == 1


def test_a_branch_keeps_its_sources_qualities_unless_given(data):
    src = data / "chroma"
    common = ["--target", "cbcr", "--minutes", "0", *TINY]
    assert train_large.main([str(src), "--qualities", "10-50", *common]) == 0
    for branch, given, want in (("same", [], [10, 50]), ("low", ["--qualities", "10"], [10])):
        args = [str(data / branch), "--decay-from", str(src), "--decay-steps", "2", *given, *common]
        assert train_large.main(args) == 0
        assert _info(data / branch)["qualities"] == want
