"""The fuzzing harness (fuzz/, docs/fuzzing.md): a short coverage-guided run of every target, the
reproducers of the findings already known, and the harness's own verdicts.

The short run uses atheris when it is installed and the built-in engine otherwise (it says
which); a run that finds anything new fails here with the input's path under fuzz/findings/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fuzz package lives next to src/, not inside it

from fuzz import targets  # noqa: E402
from fuzz.targets import KNOWN, TARGETS, FuzzTimeout, Tripwire, classify  # noqa: E402

SHORT_RUN_S = int(os.environ.get("ARCNN_FUZZ_SECONDS", "20"))  # fuzzing time of the short run, all targets


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fuzz.run", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def test_short_run_of_every_target(tmp_path):
    """All targets in one process (one start-up), the first input byte picking the target."""
    r = _run("mixed", "--seconds", str(SHORT_RUN_S), "--corpus", str(tmp_path), timeout=SHORT_RUN_S + 240)
    report = "\n".join(
        line for line in (r.stdout + r.stderr).splitlines() if not line.startswith(("INFO:", "#"))
    )
    assert r.returncode == 0, f"new fuzz findings (inputs under fuzz/findings/):\n{report[-6000:]}"
    summary = json.loads((tmp_path / ".summary.json").read_text())
    assert summary["done"], report[-3000:]
    assert summary["engine"] in ("atheris", "builtin")
    missing = [t for t in TARGETS if summary["per_target"].get(t, 0) == 0]
    assert not missing, f"targets that never ran: {missing}"
    print(f"fuzz: {summary['engine']}, {summary['execs']} execs in {summary['seconds']} s: "
          f"{summary['per_target']}")  # fmt: skip


@pytest.fixture(scope="module")
def known_results() -> dict[str, dict]:
    r = _run("known", timeout=180)
    results = {}
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            results[d["id"]] = d
    assert set(results) == {k.id for k in KNOWN}, r.stdout + r.stderr
    return results


@pytest.mark.parametrize("known", KNOWN, ids=lambda k: k.id)
def test_known_finding_still_reproduces(known, known_results):
    """A reported library bug: expected to fail (xfail) until src/ is fixed; then this test fails,
    asking for the KNOWN entry to go (and its reproducer to join the seed corpus)."""
    d = known_results[known.id]
    if d["reproduces"]:
        pytest.xfail(f"known finding {known.id}: {known.summary}")
    pytest.fail(f"{known.id} no longer reproduces (got {d['got']}): the library was fixed; remove it from "
                f"fuzz.targets.KNOWN and move fuzz/known/{known.reproducer} into a seed corpus")  # fmt: skip


def _raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as e:  # noqa: BLE001 - the point: a live traceback
        return e


def test_verdicts():
    from arcnn.pipeline import RestoreError

    assert classify("image", _raised(ValueError("bad"))) is None
    assert classify("codec", _raised(IndexError("x"))).kind == "escape"
    assert classify("image", _raised(FuzzTimeout())).kind == "hang"
    assert classify("weights", _raised(Tripwire())).kind == "tripwire"
    wrapped = _raised(ValueError("wrapped"))
    wrapped.__context__ = MemoryError()
    assert classify("weights", wrapped).kind == "memory"
    read = RestoreError("read", OSError("truncated"))
    read.__cause__ = OSError("truncated")
    assert classify("restore", _raised(read)) is None
    bug = RestoreError("restore", IndexError("x"))
    bug.__cause__ = IndexError("x")
    assert classify("restore", _raised(bug)).kind == "masked"
    v = classify("codec", _raised(OSError("truncated")))
    assert v.kind == "escape" and v.known is None  # known findings are matched per target


def test_seed_corpus_is_small_and_complete():
    for t in TARGETS:
        assert targets.seeds(t), f"no seeds for {t}"
    total = sum(p.stat().st_size for p in (ROOT / "fuzz" / "corpus").rglob("*") if p.is_file())
    assert total < 200_000
    for k in KNOWN:
        assert (targets.KNOWN_DIR / k.reproducer).is_file(), k.reproducer
