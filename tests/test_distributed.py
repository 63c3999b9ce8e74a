"""Data-parallel training: two torchrun processes with half the batch each follow one process."""

import csv
import os
import subprocess
import sys

import pytest
from PIL import Image

from arcnn.weights import read_weights

from .conftest import smooth_image


def _train(out, data, batch, procs=1, *extra):
    args = ["train", "--model", "srcnn", "--steps", "12", "--batch", str(batch), "--patch", "32",
            "--val-every", "4", "--val-images", "2", "--train-dir", str(data), "--val-dir", str(data),
            "--no-bf16", "--device", "cpu", "--out", str(out), *extra]  # fmt: skip
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}"]
    launcher = [sys.executable, "-m", "arcnn"] if procs == 1 else [*torchrun, "-m", "arcnn"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([*launcher, *args], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out / "log.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def data(tmp_path):
    d = tmp_path / "images"
    d.mkdir()
    for i in range(4):
        Image.fromarray(smooth_image(64, 72, seed=i)).save(d / f"{i}.png")
    return d


def test_two_processes_follow_one_with_the_same_global_batch(tmp_path, data):
    one = _train(tmp_path / "one", data, batch=8)
    two = _train(tmp_path / "two", data, batch=4, procs=2)
    assert [r["step"] for r in one] == [r["step"] for r in two] == ["4", "8", "12"]
    assert [r["samples"] for r in one] == [r["samples"] for r in two]  # 8 crops a step in all
    for a, b in zip(one, two):
        assert float(b["train_loss"]) == pytest.approx(float(a["train_loss"]), rel=1e-3)
        assert float(b["val_psnr"]) == pytest.approx(float(a["val_psnr"]), abs=0.01)
    meta, _ = read_weights(tmp_path / "two" / "model.safetensors")
    assert meta["world_size"] == "2" and meta["samples"] == "96"
    assert not list((tmp_path / "two").glob(".arcnn-*"))  # no temporary file left
    again = _train(tmp_path / "two", data, 4, 2, "--resume")  # every process loads the checkpoint
    assert again == two
