"""Run the fuzz targets: ``python -m fuzz.run TARGET --seconds N [--corpus DIR]``.

TARGET is one of ``fuzz.targets.TARGETS`` (image, codec, pixels, weights, restore), ``all`` (each
in turn in its own process, N split evenly) or ``mixed`` (all in one process, the first byte of
an input picks the target: one start-up, for CI). ``known`` replays the reproducers of the
findings already reported (``fuzz.targets.KNOWN``) and says which still reproduce.

Each run starts from the committed seeds (fuzz/corpus/), keeps what it learns in
``fuzz/work/<target>/`` (or ``--corpus DIR``), saves every distinct finding's first input under
``fuzz/findings/`` with its traceback next to it, and exits 1 when it found something new.
``--repro FILE ...`` replays saved inputs instead.

Engine: atheris (libFuzzer, coverage of the targets' Python code) when it is installed, else a
built-in mutational fuzzer guided by line coverage (``sys.settrace``); ``--engine`` forces one.
Each input gets a CPU-time limit (a SIGVTALRM alarm raises ``FuzzTimeout``; libFuzzer's
``-timeout`` or this supervisor's kill is the backstop for hangs in C code), and the fuzzing
process an address-space limit (``RLIMIT_AS``: a huge allocation raises ``MemoryError``).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from fuzz.targets import (
    KNOWN,
    TARGETS,
    FuzzTimeout,
    Verdict,
    classify,
    limit_address_space,
    rss_baseline,
    rss_now,
    rss_verdict,
    scratch_dir,
    seeds,
)

FUZZ_DIR = Path(__file__).resolve().parent
FINDINGS = FUZZ_DIR / "findings"
WORK = FUZZ_DIR / "work"
DICTS = FUZZ_DIR / "dicts"
MIXED = list(TARGETS)  # mixed: input[0] % len(MIXED) picks the target
STARTUP_S = 240  # the supervisor's allowance for a worker's imports (instrumenting Pillow is slow)


# ---------------------------------------------------------------------------------------------
# The worker: one process, one target (or mixed), one engine


class Harness:
    """Runs inputs through a target under the limits, classifies, records findings, keeps the summary."""

    def __init__(self, name: str, fns: dict[str, Callable[[bytes], None]], args: argparse.Namespace) -> None:
        self.name, self.fns, self.args = name, fns, args
        self.summary_path = Path(args.summary) if args.summary else None
        self.execs = 0
        self.per_target = {t: 0 for t in fns}
        self.findings: dict[str, dict] = {}  # signature -> record
        self.start = time.monotonic()
        self.deadline = self.start + args.seconds
        self.last_print = self.start
        self.armed = False
        self.timeout = {t: args.input_timeout or TARGETS[t].input_timeout for t in fns}
        signal.signal(signal.SIGVTALRM, self._alarm)
        self.current: Path | None = None

    def _alarm(self, signum, frame) -> None:
        if self.armed:
            self.armed = False
            raise FuzzTimeout("input ran past its CPU-time limit")

    def split(self, data: bytes) -> tuple[str, bytes]:
        if self.name != "mixed":
            return self.name, data
        if not data:
            return MIXED[0], data
        return MIXED[data[0] % len(MIXED)], data[1:]

    def run_one(self, data: bytes) -> None:
        target, payload = self.split(data)
        self.execs += 1
        self.per_target[target] += 1
        if self.current is not None:  # the built-in engine: what was running when the process died
            self.current.write_bytes(data)
        rss0 = rss_baseline()
        verdict: Verdict | None = None
        try:
            self.armed = True
            signal.setitimer(signal.ITIMER_VIRTUAL, self.timeout[target])
            self.fns[target](payload)
            self.armed = False
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        except BaseException as e:  # noqa: BLE001 - every exception is classified
            self.armed = False
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
            if isinstance(e, KeyboardInterrupt | SystemExit):
                raise
            verdict = classify(target, e, payload)
        if verdict is None:
            verdict = rss_verdict(target, rss0, payload)
        if verdict is not None:
            self.record(target, payload, verdict)
        if self.execs % 500 == 0:
            gc.collect()  # tracebacks of caught errors hold frames, frames the inputs' arrays: cycles
        now = time.monotonic()
        if now - self.last_print >= 15:
            self.last_print = now
            self.progress()

    def progress(self) -> None:
        self.write_summary(done=False)  # what a crash leaves behind
        el = time.monotonic() - self.start
        new = sum(1 for f in self.findings.values() if not f["known"])
        rss = rss_now() >> 10
        print(
            f"[fuzz {self.name}] {el:6.0f} s  {self.execs} execs ({self.execs / max(el, 1e-9):.1f}/s)  "
            f"RSS {rss} MiB  findings: {new} new, {len(self.findings) - new} known",
            flush=True,
        )

    def record(self, target: str, data: bytes, v: Verdict) -> None:
        key = f"known:{v.known}" if v.known else v.signature  # a known finding is saved once
        if key in self.findings:
            rec = self.findings[key]
            rec["count"] += 1
            if v.signature not in rec["variants"] and len(rec["variants"]) < 50:
                rec["variants"].append(v.signature)
            return
        FINDINGS.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha1(data).hexdigest()[:10]
        prefix = f"known-{v.known}" if v.known else "new"
        stem = f"{prefix}-{target}-{v.kind}-{type(v.exc).__name__}-{digest}"
        path = FINDINGS / f"{stem}.bin"
        path.write_bytes(data)
        (FINDINGS / f"{stem}.txt").write_text(
            f"target: {target}\nkind: {v.kind}\nsignature: {v.signature}\nknown: {v.known}\n"
            f"reproduce: python -m fuzz.run {target} --repro {path.relative_to(FUZZ_DIR.parent)}\n\n"
            + v.report()
        )
        self.findings[key] = {
            "target": target,
            "kind": v.kind,
            "signature": v.signature,
            "known": v.known,
            "path": str(path),
            "count": 1,
            "variants": [v.signature],
            "error": f"{type(v.exc).__name__}: {v.exc}"[:300],
        }
        tag = f"known finding ({v.known})" if v.known else "FINDING"
        print(f"[fuzz {self.name}] {tag} {v.signature} -> {path}", flush=True)
        if not v.known:
            print(v.report(), flush=True)
        self.write_summary(done=False)

    def write_summary(self, done: bool, engine: str = "") -> None:
        if self.summary_path is None:
            return
        el = time.monotonic() - self.start
        data = {
            "target": self.name,
            "engine": engine or self.args.engine,
            "execs": self.execs,
            "per_target": self.per_target,
            "seconds": round(el, 1),
            "done": done,
            "findings": list(self.findings.values()),
        }
        tmp = self.summary_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, self.summary_path)

    def finish(self, engine: str) -> int:
        if time.monotonic() - self.last_print > 1:
            self.progress()
        self.write_summary(done=True, engine=engine)
        new = [f for f in self.findings.values() if not f["known"] or self.args.strict]
        return 1 if new else 0


def _setup(names: list[str], engine: str) -> dict[str, Callable[[bytes], None]]:
    """Each target's function, its modules imported under coverage instrumentation (atheris)."""
    import torch  # uninstrumented, first: its import is large and not under test

    torch.set_num_threads(1)

    def make() -> dict[str, Callable[[bytes], None]]:
        fns = {}
        if any("PIL" in TARGETS[n].instrument for n in names):
            from PIL import Image

            Image.init()  # every plugin imported now, so that each is instrumented
        for n in names:
            fns[n] = TARGETS[n].setup()
        import arcnn.pipeline  # noqa: F401 - classify needs it

        return fns

    if engine != "atheris":
        return make()
    import atheris

    include = sorted({m for n in names for m in TARGETS[n].instrument})
    already = [m for m in include if m in sys.modules]
    if already:
        print(f"[fuzz] warning: {already} imported before instrumentation: no coverage from them", flush=True)
    with atheris.instrument_imports(include=include):
        return make()


def _patch_trace_cmp(atheris) -> Callable:
    """atheris' comparison hook (3.0) keeps a reference to the result of every comparison of
    objects it does not trace (numpy arrays: ~4 MB per estimate_quality_from_pixels call, until
    the process dies): give it the comparisons of ints, floats, strings and bytes alone, compare
    the rest here. Returns the new hook, now ``atheris._trace_cmp`` (which instrumented code calls)."""
    import dis
    import operator

    try:
        from atheris.version_dependent import CMP_OP_SHIFT_AMOUNT as shift
    except ImportError:
        shift = 0
    native = atheris._trace_cmp
    ops = {"<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne, ">": operator.gt,
           ">=": operator.ge}  # fmt: skip
    by_index = [ops[name] for name in dis.cmp_op]
    traced = (int, float, str, bytes, bytearray, bool, type(None))

    def trace_cmp(a, b, op, counter, is_const):
        if type(a) in traced and type(b) in traced:
            return native(a, b, op, counter, is_const)
        return by_index[op >> shift](a, b)

    atheris._trace_cmp = trace_cmp
    return trace_cmp


def _seed_inputs(name: str) -> list[tuple[str, bytes]]:
    if name != "mixed":
        return [(p.name, p.read_bytes()) for p in seeds(name)]
    return [(f"{i}-{p.name}", bytes([i]) + p.read_bytes()) for i, t in enumerate(MIXED) for p in seeds(t)]


def _dict_tokens(name: str) -> list[bytes]:
    """Tokens of the libFuzzer dictionaries (fuzz/dicts/*.dict) for the built-in engine."""
    tokens = []
    for path in _dicts(name):
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and '"' in line:
                body = line[line.index('"') + 1 : line.rindex('"')]
                tokens.append(body.encode("latin-1").decode("unicode_escape").encode("latin-1"))
    return tokens


def _dicts(name: str) -> list[Path]:
    """The dictionaries of a target's seed corpora (fuzz/dicts/CORPUS.dict), each once."""
    corpora = dict.fromkeys(c for n in (MIXED if name == "mixed" else [name]) for c in TARGETS[n].corpora)
    return [DICTS / f"{c}.dict" for c in corpora if (DICTS / f"{c}.dict").is_file()]


def _dict_file(name: str, folder: Path) -> Path | None:
    parts = _dicts(name)
    if not parts:
        return None
    path = folder / f"{name}.dict"
    path.write_text("\n".join(p.read_text() for p in parts))
    return path


def worker(args: argparse.Namespace) -> int:
    name = args.target
    names = MIXED if name == "mixed" else [name]
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "builtin"
    t0 = time.monotonic()
    warnings.simplefilter("ignore")  # Pillow warns on odd files: noise, not findings
    fns = _setup(names, engine)
    limit_address_space(args.memory_mb)
    work = Path(args.corpus) if args.corpus else WORK / name
    work.mkdir(parents=True, exist_ok=True)
    args.engine = engine
    h = Harness(name, fns, args)
    print(
        f"[fuzz {name}] engine {engine}, set up in {time.monotonic() - t0:.1f} s, "
        f"{args.seconds} s of fuzzing, corpus {work}",
        flush=True,
    )
    if engine == "atheris":
        return _run_atheris(h, name, work, args)
    from fuzz.mutate import BuiltinFuzzer

    h.current = work / ".current"
    instrumented = sorted({m for n in names for m in TARGETS[n].instrument})
    roots = [str(Path(sys.modules[m].__file__).parent) for m in instrumented if m in sys.modules]
    fuzzer = BuiltinFuzzer(
        h.run_one, _seed_inputs(name), _dict_tokens(name), roots, work, random.Random(args.seed)
    )
    fuzzer.run(h.deadline)
    h.current.unlink(missing_ok=True)
    return h.finish(engine)


def _run_atheris(h: Harness, name: str, work: Path, args: argparse.Namespace) -> int:
    import atheris

    seed_dir = WORK / f"{name}-seeds"  # the seeds as libFuzzer reads them (mixed: with their prefix byte)
    seed_dir.mkdir(parents=True, exist_ok=True)
    for old in seed_dir.iterdir():
        old.unlink()
    for fname, data in _seed_inputs(name):
        (seed_dir / fname).write_bytes(data)
    FINDINGS.mkdir(parents=True, exist_ok=True)

    def one(data: bytes) -> None:
        if atheris._trace_cmp is not patched[0]:  # atheris.Fuzz() binds its own when it starts
            patched[0] = _patch_trace_cmp(atheris)
        h.run_one(data)
        if time.monotonic() > h.deadline:
            rc = h.finish("atheris")
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(rc)

    patched: list[Callable | None] = [None]
    hard = int(max(h.timeout.values()) * 3 + 10)
    argv = [
        sys.argv[0],
        str(work),
        str(seed_dir),
        f"-max_total_time={int(args.seconds) + 120}",
        f"-timeout={hard}",
        f"-rss_limit_mb={args.rss_limit_mb}",
        f"-seed={args.seed or 0}",
        f"-artifact_prefix={FINDINGS}/libfuzzer-{name}-",
        "-print_final_stats=1",
        "-reload=0",
        "-close_fd_mask=2",
    ]
    d = _dict_file(name, WORK)
    if d is not None:
        argv.append(f"-dict={d}")
    atheris.Setup(argv, one)
    atheris.Fuzz()
    return h.finish("atheris")  # not reached: libFuzzer exits


# ---------------------------------------------------------------------------------------------
# The supervisor: runs workers, reports crashes they could not report themselves


def _artifacts(since: float) -> list[Path]:
    if not FINDINGS.is_dir():
        return []
    return sorted(p for p in FINDINGS.glob("libfuzzer-*") if p.stat().st_mtime >= since)


def supervise(name: str, seconds: float, args: argparse.Namespace) -> tuple[int, dict]:
    """Run one worker; returns (exit status, its summary, with crashes added)."""
    corpus = (
        (Path(args.corpus) / name if args.target == "all" else Path(args.corpus))
        if args.corpus
        else WORK / name
    )
    corpus.mkdir(parents=True, exist_ok=True)
    summary = corpus / ".summary.json"
    summary.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "fuzz.run",
        name,
        "--worker",
        "--seconds",
        str(seconds),
        "--summary",
        str(summary),
        "--engine",
        args.engine,
        "--memory-mb",
        str(args.memory_mb),
        "--rss-limit-mb",
        str(args.rss_limit_mb),
        "--seed",
        str(args.seed),
    ]
    cmd += ["--corpus", str(corpus)]
    if args.input_timeout:
        cmd += ["--input-timeout", str(args.input_timeout)]
    if args.strict:
        cmd.append("--strict")
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    started = time.time()
    proc = subprocess.Popen(cmd, cwd=FUZZ_DIR.parent, env=env, start_new_session=True)
    try:
        rc = proc.wait(timeout=seconds + STARTUP_S + 60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker's own process group: stuck in C code
        rc = proc.wait()
        print(f"[fuzz {name}] worker killed: no end {seconds + STARTUP_S + 60:.0f} s after it started")
    shutil.rmtree(scratch_dir(proc.pid), ignore_errors=True)
    result = (
        json.loads(summary.read_text())
        if summary.is_file()
        else {"target": name, "execs": 0, "findings": [], "done": False}
    )
    if not result.get("done"):
        crashes = [str(p) for p in _artifacts(started)]
        current = corpus / ".current"
        if current.is_file():  # the built-in engine's input in flight
            FINDINGS.mkdir(parents=True, exist_ok=True)
            data = current.read_bytes()
            dest = FINDINGS / f"new-{name}-crash-{hashlib.sha1(data).hexdigest()[:10]}.bin"
            dest.write_bytes(data)
            current.unlink()
            crashes.append(str(dest))
        for c in crashes or ["(no input saved)"]:
            result["findings"].append(
                {
                    "target": name,
                    "kind": "crash",
                    "signature": f"crash:rc={rc}",
                    "known": None,
                    "path": c,
                    "count": 1,
                    "error": f"worker ended with status {rc}",
                }
            )
    return rc, result


def _print_result(r: dict) -> None:
    new = [f for f in r["findings"] if not f["known"]]
    per = ", ".join(f"{k} {v}" for k, v in r.get("per_target", {}).items()) if r["target"] == "mixed" else ""
    print(
        f"== {r['target']}: {r.get('engine', '?')}, {r['execs']} execs in {r.get('seconds', 0)} s"
        f"{f' ({per})' if per else ''}; findings: {len(new)} new, {len(r['findings']) - len(new)} known"
    )
    for f in r["findings"]:
        tag = f"known {f['known']}" if f["known"] else "NEW"
        variants = len(f.get("variants", [])) - 1
        more = f" (+{variants} more signatures)" if variants > 0 else ""
        print(f"   {tag:<28} {f['signature']}{more}  x{f['count']}  {f['path']}\n      {f['error']}")


def repro(args: argparse.Namespace) -> int:
    from fuzz.targets import reproduce

    bad = 0
    for f in args.repro:
        data = Path(f).read_bytes()
        target, payload = args.target, data
        if target == "mixed":
            target, payload = MIXED[data[0] % len(MIXED)], data[1:]
        v = reproduce(target, payload, args.memory_mb)
        if v is None:
            print(f"{f}: {target}: keeps the contract")
            continue
        bad += v.known is None or args.strict
        print(f"{f}: {target}: {v.kind} {v.signature} (known: {v.known})\n{v.report()}")
    return 1 if bad else 0


def check_known(args: argparse.Namespace) -> int:
    """Replay every KNOWN reproducer; one JSON line each: still reproduces, or fixed (drop the entry)."""
    from fuzz.targets import KNOWN_DIR, reproduce

    fixed = 0
    for k in KNOWN:
        v = reproduce(k.targets[0], (KNOWN_DIR / k.reproducer).read_bytes(), args.memory_mb)
        still = v is not None and v.known == k.id
        fixed += not still
        got = None if v is None else f"{v.kind} {v.signature} (known: {v.known})"
        print(json.dumps({"id": k.id, "reproduces": still, "got": got}), flush=True)
    return 1 if fixed else 0


def main(argv: list[str] | None = None) -> int:
    choices = [*TARGETS, "all", "mixed", "known"]
    p = argparse.ArgumentParser(prog="python -m fuzz.run", description=__doc__.splitlines()[0])
    p.add_argument("target", choices=choices)
    p.add_argument("--seconds", type=float, default=60.0, help="fuzzing time (all: in total, split evenly)")
    p.add_argument("--corpus", help="where new inputs are kept (default fuzz/work/TARGET; all: DIR/TARGET)")
    p.add_argument("--engine", choices=("auto", "atheris", "builtin"), default="auto")
    p.add_argument("--strict", action="store_true", help="known findings fail the run too")
    p.add_argument("--input-timeout", type=float, default=0.0, help="CPU seconds per input (0: per target)")
    p.add_argument("--memory-mb", type=int, default=2048, help="address space allowed past the start-up's")
    p.add_argument("--rss-limit-mb", type=int, default=4096, help="libFuzzer's RSS limit (atheris)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0: libFuzzer picks one)")
    p.add_argument("--repro", nargs="+", metavar="FILE", help="replay saved inputs, print their verdicts")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--summary", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.target == "known":
        return check_known(args)
    if args.repro:
        return repro(args)
    if args.worker:
        return worker(args)
    names = list(TARGETS) if args.target == "all" else [args.target]
    per = args.seconds / len(names)
    t0, results = time.monotonic(), []
    known_ids = {k.id for k in KNOWN}
    for n in names:
        rc, r = supervise(n, per, args)
        results.append(r)
        _print_result(r)
    failed = [f for r in results for f in r["findings"] if not f["known"] or args.strict]
    total = sum(r["execs"] for r in results)
    seen_known = sorted({f["known"] for r in results for f in r["findings"] if f["known"]} & known_ids)
    print(
        f"== total: {total} execs in {time.monotonic() - t0:.0f} s; {len(failed)} failing findings"
        f"{f'; known: {seen_known}' if seen_known else ''}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
