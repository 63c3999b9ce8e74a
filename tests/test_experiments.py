"""The benchmarks and experiments import and parse their arguments without the research data, and
the experiment scripts' training settings are valid configs whose transfers fit their sources."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import experiments.transfer as transfer
from arcnn.cli import build_parser
from arcnn.cli.train import train_config
from arcnn.models import build_model
from arcnn.train import transfer_layers

ROOT = Path(__file__).resolve().parents[1]
MODULES = [f"{d}.{p.stem}" for d in ("benchmarks", "experiments") for p in sorted((ROOT / d).glob("*.py"))
           if p.stem != "__init__"]  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_module_imports_and_prints_its_help(name, monkeypatch, tmp_path, capsys):
    """``python -m NAME --help`` exits 0, with no research data (ARCNN_DATA names an empty folder)."""
    monkeypatch.setenv("ARCNN_DATA", str(tmp_path))
    module = importlib.import_module(name)
    if hasattr(module, "main"):
        with pytest.raises(SystemExit) as e:
            module.main(["--help"])
        assert e.value.code == 0
        assert capsys.readouterr().out.startswith("usage:")
    else:
        assert module.__name__.endswith("_common") or hasattr(module, "setup_args"), name
    if hasattr(module, "setup_args"):
        with pytest.raises(SystemExit) as e:
            module.setup_args().parse_args(["--help"])
        assert e.value.code == 0


def test_benchmarks_run_as_modules_from_the_project_root():
    """``python -m benchmarks.headline`` (no data needed) prints the README's headline table."""
    cmd = [sys.executable, "-m", "benchmarks.headline"]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[2].startswith("| q | JPEG | AR-CNN (paper) |")


def test_a_benchmark_without_its_data_exits_2_with_one_line(monkeypatch, tmp_path, capsys):
    from benchmarks import jpeg_baseline

    monkeypatch.setenv("ARCNN_DATA", str(tmp_path))
    with pytest.raises(SystemExit) as e:
        jpeg_baseline.main([])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("research data missing") and err.count("\n") == 1


def test_plane_rates_times_each_run_on_the_whole_plane_and_best_rate_counts_its_work():
    import time

    from benchmarks._common import best_rate, plane_rates

    seen: dict[str, list] = {"fast": [], "slow": []}

    def run(name: str, pause: float):
        return lambda plane: (seen[name].append(plane.shape), time.sleep(pause))

    rates = plane_rates({"fast": run("fast", 0.001), "slow": run("slow", 0.02)}, side=200, repeats=2)
    assert seen["fast"] == seen["slow"] == [(128, 128), (200, 200), (200, 200)]  # warm-up, then timed
    assert 200 * 200 / 0.02 / 1e6 * 0.5 < rates["slow"] < rates["fast"] < 200 * 200 / 0.001 / 1e6
    calls = []
    gflops = best_rate(lambda: (calls.append(1), time.sleep(0.01)), work=1e7, seconds=0.1)
    assert 3 < len(calls) < 12 and 0.2 < gflops <= 1.0


ARMS = [(fig, arm, extra) for fig, (_, _, _, arms) in transfer.FIGURES.items() for arm, extra in arms.items()]


@pytest.mark.parametrize("fig,arm,extra", ARMS, ids=[f"fig{f}-{a}" for f, a, _ in ARMS])
def test_transfer_arms_make_configs_and_copy_their_layers(fig, arm, extra):
    cfg = train_config(build_parser().parse_args(["train", "--out", "unused", "--steps", "3", *extra]))
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
    cfg = train_config(build_parser().parse_args(["train", "--out", "unused", *extra]))
    if not cfg.init_from:
        return
    src = Path(cfg.init_from)
    if src.parts[0] == "runs":  # a run of an earlier stage: it must be one of its jobs
        earlier = {n for f in ROOT.glob("experiments/gpu-*.jobs") if f.name < jobfile for n, _ in _jobs(f)}
        assert src.parent.name in earlier
        return
    model = build_model(cfg.model_config)
    transfer_layers(model, str(ROOT / src), cfg.init_layers, 0)  # the file is there and its shapes fit


def test_colour_readme_table_is_read_back_from_the_results_table():
    """benchmarks.colour makes the README's table from the text of the results block: every quality
    of the 4:2:0 table, its JPEG and default cells as rounded there."""
    import numpy as np

    from benchmarks.colour import SETTINGS, parse_block, readme_lines, results_lines

    def m(base: float) -> dict:
        return {
            k: np.array([base + i, base + i + 2.5, 6.0 - i])
            for i, k in enumerate(("jpeg", "yonly", "colour", "auto"))
        }

    results = {s: {q: m(20 + q / 10 + j) for q in (5, 40, 95)} for j, s in enumerate(SETTINGS)}
    chroma = "arcnn-chroma-unet"
    names = {
        s: {q: ("arcnn-q40", chroma, "None" if q == 95 else chroma) for q in (5, 40, 95)} for s in SETTINGS
    }
    label, n, by_q = parse_block("\n".join(results_lines("LIVE1", 29, results, names)))
    assert (label, n, list(by_q)) == ("LIVE1", 29, [5, 40, 95])
    assert by_q[40] == {"jpeg": (24.0, 26.5, 6.0), "auto": (27.0, 29.5, 3.0)}
    lines = readme_lines(label, n, by_q)
    assert lines[:2] == ["| LIVE1, 4:2:0 | q5 | q40 | q95 |", "|---|---|---|---|"]
    assert lines[3] == "| `arcnn restore`: RGB PSNR dB | 23.50 | 27.00 | 32.50 |"
    assert lines[5] == "| `arcnn restore`: ΔE | 3.00 | 3.00 | 3.00 |"
    with pytest.raises(SystemExit):
        parse_block("Not measured yet.")


def test_colour_heldout_block_sets_its_gains_beside_live1s_and_claims_no_live1_target():
    """The held-out colour block compares the default's change over the JPEG with LIVE1's, quality by
    quality, and leaves the issue's LIVE1 targets to the LIVE1 block."""
    import numpy as np

    from benchmarks.colour import gains_lines, results_lines

    here = {10: {"jpeg": np.array([26.0, 29.0, 5.0]), "auto": np.array([27.5, 30.0, 4.0])},
            20: {"jpeg": np.array([28.0, 31.0, 4.0]), "auto": np.array([29.0, 32.0, 3.5])}}  # fmt: skip
    live1 = {
        10: {"jpeg": (25.69, 28.36, 6.136), "auto": (27.36, 29.9, 4.93)},
        40: {"jpeg": (0, 0, 0), "auto": (0, 0, 0)},
    }
    assert gains_lines(live1, here)[2:] == ["| 10 | +1.50 | +1.67 | -1.000 | -1.206 |"]
    results = {"4:2:0": {q: {**m, "yonly": m["jpeg"], "colour": m["auto"]} for q, m in here.items()}}
    names = {"4:2:0": {q: ("arcnn-large", "c", "c") for q in here}}
    assert "targets" in results_lines("LIVE1", 29, results, names)[-1]
    assert "targets" not in results_lines("held-out photos", 5, results, names)[-1]


def test_fast_variants_describes_both_architectures():
    """benchmarks.fast_variants' rows name a Fast AR-CNN layout by its kernels and a U-Net by its
    resolution and blocks, and every variant builds."""
    from arcnn.models import build_network, preset
    from arcnn.netconfig import UNetConfig
    from benchmarks.fast_variants import VARIANTS, _layout

    assert _layout(preset("fast-arcnn-relu")) == ("9-1-5-1-9", "64-32-32-64-1", "relu")
    unet = UNetConfig((32, 64, 128), (1, 1, 2), unshuffle=4)
    assert _layout(unet) == ("3x3, unshuffle 4, blocks 1-1-2", "32-64-128", "relu")
    assert all(build_network(c) is not None for c in VARIANTS.values())


def test_inference_speed_times_the_networks_alone_on_the_folders_own_planes(monkeypatch, tmp_path):
    """The pure-model time runs the networks on each decoded file (colour: both), after a warm-up."""
    from PIL import Image

    from arcnn.engine import restore_chroma, restore_luma
    from benchmarks import inference_speed

    monkeypatch.setenv("ARCNN_DATA", str(tmp_path / "none"))  # no research data: synthetic images
    assert inference_speed.write_folder(tmp_path, 2) == "synthetic"
    files = sorted(tmp_path.glob("*.jpg"))
    assert len(files) == 2 and all(Image.open(f).size == (768, 512) for f in files)
    calls = []

    def counted(tag, fn):
        return lambda *a, **k: (calls.append(tag), fn(*a, **k))[1]

    monkeypatch.setattr("arcnn.engine.restore_luma", counted("Y", restore_luma))
    monkeypatch.setattr("arcnn.engine.restore_chroma", counted("C", restore_chroma))
    seconds = inference_speed.networks_seconds(tmp_path, "fast-arcnn-relu-q10", "onnxruntime", chroma=True)
    assert seconds > 0 and calls == ["Y", "C"] * 3
    calls.clear()
    inference_speed.networks_seconds(tmp_path, "fast-arcnn-relu-q10", "onnxruntime", chroma=False)
    assert calls == ["Y"] * 3
    gray = tmp_path / "gray"
    gray.mkdir()
    inference_speed.write_folder(gray, 1, (96, 64), "L")
    assert Image.open(gray / "000.jpg").mode == "L"
    calls.clear()
    inference_speed.networks_seconds(gray, "fast-arcnn-relu-q10", "onnxruntime", chroma=False)
    assert calls == ["Y"] * 2


def test_startup_rows_give_each_restores_networks_and_mark_the_targets():
    from arcnn.policy import CHROMA_ENSEMBLE, COLOUR_LUMA_ENSEMBLE, LARGE_MODEL
    from benchmarks import startup

    names, gmacs = startup.networks()
    assert names.startswith(f"{LARGE_MODEL} × {COLOUR_LUMA_ENSEMBLE}, ") and names.endswith(
        f" × {CHROMA_ENSEMBLE}"
    )
    one, one_gmacs = startup.networks(ensemble=1)
    assert one.count("× 1") == 2 and one_gmacs < gmacs
    fast, fast_gmacs = startup.networks(fast=True)
    assert fast.startswith("fast-arcnn-relu-q10 × 1, ") and fast_gmacs < one_gmacs / 3
    row = startup.row("`arcnn restore`", "e", 0.59, 1.0, "no", (True, None), 100.0)
    assert f"| **0.59** | yes | 1.00 | no | {fast}: {fast_gmacs:.1f}, {2 * fast_gmacs / 100:.2f} s |" in row
    assert "| **0.61** | **no** |" in startup.row("r", "e", 0.61, 1.0, "no", (False, None), 100.0)
    assert row_help_met(startup.row("`arcnn --help`", "", 0.29, 0.3, "no", None, 100.0))
    assert not row_help_met(startup.row("`arcnn --help`", "", 0.31, 0.3, "no", None, 100.0))


def test_startup_floors_are_python_alone_then_with_a_restores_imports():
    import subprocess

    from benchmarks import startup

    (_, _, bare), (_, _, imports) = startup.FLOORS
    assert bare == ["-c", "pass"]
    for argv in (bare, imports):
        assert startup.timed(argv)[0] > 0  # each runs, exit 0
    with pytest.raises(subprocess.CalledProcessError):
        startup.timed(["-c", "import arcnn.no_such_module"])


def test_ort_threads_flips_only_the_spinning_setting(tmp_path, monkeypatch):
    from PIL import Image

    from arcnn import export
    from arcnn.manifest import resolve
    from benchmarks import ort_threads

    monkeypatch.setattr(export, "SPIN", "1")  # what the benchmark's child process sets
    model = export.OnnxModel(resolve("weights/onnx/fast-arcnn-relu-q10.onnx"))
    options = model.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    live1 = tmp_path / "live1"
    live1.mkdir()
    for i in range(2):
        Image.new("RGB", (48, 40), (40 * i, 90, 200)).save(live1 / f"im{i}.png")
    cases = ort_threads.cases(live1, tmp_path, 2)
    assert [len(list((tmp_path / k).glob("*.jpg"))) for k in ("colour", "gray")] == [2, 2]
    assert [c[1].count("--fast") for c in cases] == [1, 0, 1]
    for spin in ort_threads.SETTINGS:
        assert ort_threads.timed(spin, cases[0][1])[0] > 0  # arcnn restore ran in the child, exit 0
    assert len(list((tmp_path / "out").glob("*.png"))) == 2


def row_help_met(row: str) -> bool:
    return row.endswith("| no |  |") and "| yes |" in row
