"""``arcnn restore --engine ray``: the local engine's job on a Ray cluster.

The driver lists the inputs, plans the outputs with the local engine's rules
(:func:`arcnn.batch.output_plan`) and refuses clashing targets; Ray Data reads the files as
bytes with their paths (``read_binary_files``), and a pool of actors (:class:`RestoreActor`), each
holding the networks once, restores them with :class:`arcnn.pipeline.Restorer` and writes each
output atomically: local files through :func:`arcnn.files.save_image` (temp file and link, never
replacing unless ``--overwrite``), object-store outputs as one whole object. The driver only
counts: one line per failed file, the local engine's summary line, exit 1 if any failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from arcnn.batch import Progress, Tally, err, expand_inputs, options_from_args, output_plan, refuse_args
from arcnn.engines.storage import Store, is_url, list_images, split_url, store_for
from arcnn.files import DEFAULT_PNG_LEVEL, encode_image, remove_stale_temps, save_image
from arcnn.options import RestoreOptions

__all__ = ["run_ray", "RestoreActor", "Plan", "Rules"]

EXISTS_HINT = "--overwrite replaces it, --skip-existing keeps it"
BATCH = 4  # files per actor call: small, so progress is smooth and an actor holds few images


@dataclass(frozen=True)
class Rules:
    """How every output is named and written; the same for every file, so it travels to each actor."""

    output: str | None  # output_plan's ``output``: a folder ends with "/", None: beside each input
    fmt: str
    jpeg_quality: int
    overwrite: bool
    skip_existing: bool
    out_store: Store | None  # None: the local disk
    png_level: int = DEFAULT_PNG_LEVEL

    def output_for(self, source: str) -> str:
        """Where ``source`` (a path as Ray read it) is written: the local engine's rule, file by file."""
        outs, _ = output_plan([Path(source)], [source], self.output, self.fmt)
        return str(outs[0])


@dataclass
class Plan:
    """What the driver decided before any image: the files to hand to Ray, and failures already known."""

    sources: list[str]  # as Ray reads them: local paths, or bucket/key in ``in_store``
    in_store: Store | None
    rules: Rules
    errors: list[str]  # one line each (without "arcnn: error: ")


class RestoreActor:
    """One Ray worker: loads the networks once, then restores batches of (path, bytes) rows."""

    def __init__(self, options: RestoreOptions, rules: Rules, threads: int, in_scheme: str | None) -> None:
        import torch

        from arcnn.pipeline import Restorer

        torch.set_num_threads(max(1, threads))
        os.environ["OMP_NUM_THREADS"] = str(max(1, threads))  # ONNX Runtime's threads (export.OnnxModel)
        self.restorer = Restorer(options)
        self.rules = rules
        self.in_scheme = in_scheme

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        rows = [self.one(str(p), bytes(b)) for p, b in zip(batch["path"], batch["bytes"])]
        return {k: [r[k] for r in rows] for k in ("name", "status", "stage", "reason", "warnings", "pixels")}

    def one(self, source: str, data: bytes) -> dict[str, Any]:
        """Restore and write one file; whatever fails is this file's row, never the batch's."""
        name = f"{self.in_scheme}://{source}" if self.in_scheme else source
        row: dict[str, Any] = {"name": name, "status": "failed", "stage": "", "reason": "", "warnings": "[]",
                               "pixels": 0}  # fmt: skip
        try:
            out = self.rules.output_for(source)
            if self._exists(out) and not self.rules.overwrite:
                if self.rules.skip_existing:
                    return {**row, "status": "skipped"}
                return {**row, "reason": f"{self._name(out)} exists: {EXISTS_HINT}"}
            result = self.restorer.restore(data)
        except Exception as e:  # noqa: BLE001 - RestoreError, or anything a plugin raised: one line
            return {**row, "reason": _reason(e)}
        row["warnings"] = json.dumps(result.warnings)
        try:
            dropped = self._write(result.frames, out, result.info)
        except FileExistsError as e:
            return {**row, "stage": "write", "reason": f"{e}: {EXISTS_HINT}"}
        except Exception as e:  # noqa: BLE001 - an encoder's or the store's error costs this file only
            return {**row, "stage": "write", "reason": _reason(e)}
        if dropped:
            row["warnings"] = json.dumps([*result.warnings, f"metadata: {dropped}"])
        pixels = sum(im.width * im.height for im in result.frames)
        return {**row, "status": "restored", "pixels": pixels}

    def _name(self, out: str) -> str:
        store = self.rules.out_store
        return store.url(out) if store else out

    def _exists(self, out: str) -> bool:
        store = self.rules.out_store
        return store.exists(out) if store else Path(out).exists()

    def _write(self, frames: list, out: str, info: dict) -> str:
        """Write one output; metadata the format refuses (a broken EXIF block) is dropped and said,
        as the local engine does. Returns why it was dropped, or ""."""
        try:
            self._save(frames, out, info)
            return ""
        except FileExistsError:
            raise
        except Exception as e:  # noqa: BLE001 - retried once without the input's metadata
            if not any(info.get(k) for k in ("exif", "icc_profile")):
                raise
            kept = {k: v for k, v in info.items() if k not in ("exif", "icc_profile")}
            self._save(frames, out, kept)
            return _reason(e)

    def _save(self, frames: list, out: str, info: dict) -> None:
        r, store = self.rules, self.rules.out_store
        if store is None:
            save_image(frames, out, r.fmt, info, r.jpeg_quality, r.overwrite, r.png_level)
            return
        data = encode_image(frames, r.fmt, info, r.jpeg_quality, r.png_level)
        if not r.overwrite and store.exists(out):  # S3 has no create-if-absent: checked just before
            raise FileExistsError(f"{store.url(out)} exists")
        store.put(out, data)


def _reason(e: BaseException) -> str:
    return str(e) if isinstance(e, ValueError) else f"{e.__class__.__name__}: {e}"


def _gather(inputs: list[str]) -> tuple[list[str], Store | None, bool, list[str]]:
    """The files named by ``inputs`` (local paths, or paths in one object store), the store, whether
    any input was a folder, and one error line per unusable input."""
    remote = [s for s in inputs if is_url(s)]
    if not remote:
        paths, problems = expand_inputs(inputs)
        return [str(f) for f in paths], None, any(Path(s).is_dir() for s in inputs), problems
    if len(remote) < len(inputs) or len({split_url(s)[1].split("/")[0] for s in remote}) > 1:
        raise ValueError("--engine ray reads all inputs from one place: local paths, or one bucket")
    store, files, errors, folder = store_for(remote[0]), list[str](), list[str](), False
    for s in remote:
        path = split_url(s)[1]
        found = list_images(store, path)
        folder = folder or store.is_dir(path.rstrip("/"))
        if found is None:
            errors.append(f"{s}: no such object or prefix")
        elif not found:
            errors.append(f"{s}: folder holds no images")
        files += found or []
    return files, store, folder, errors


def plan(args: argparse.Namespace) -> Plan:
    """Inputs, output rules and known failures for ``args``; ValueError for a job that cannot start."""
    sources, in_store, any_folder, errors = _gather(args.inputs)
    out_store, output = in_store, args.output
    if output is not None and is_url(output):
        out_store, output = store_for(output), split_url(output)[1]
        if out_store.is_dir(output.rstrip("/")):
            output = output.rstrip("/") + "/"
    elif output is not None:
        out_store = None
    if output is not None and any_folder and not output.endswith(("/", os.sep)):
        output += "/"
    outputs, fmt = output_plan([Path(s) for s in sources], args.inputs, output, args.format)
    if output is not None and not (len(sources) == 1 and outputs[0] == Path(output)):
        output = output.rstrip("/" + os.sep) + "/"  # several outputs: the actors place each in the folder
    rules = Rules(output, fmt, args.jpeg_quality, args.overwrite, args.skip_existing, out_store,
                  options_from_args(args).output_png_level)  # fmt: skip
    kept, clashes = _without_clashes(sources, outputs, in_store, out_store)
    return Plan(kept, in_store, rules, errors + clashes)


def _without_clashes(sources: list[str], outputs: list[Path], in_store: Store | None,
                     out_store: Store | None) -> tuple[list[str], list[str]]:  # fmt: skip
    """The sources whose output neither overwrites an input nor another source's output."""

    def key(p: str, store: Store | None) -> str:
        return store.url(p) if store else str(Path(p).resolve())

    inputs, seen, kept, errors = {key(s, in_store) for s in sources}, set[str](), [], []
    for s, out in zip(sources, outputs):
        target = key(str(out), out_store)
        name = in_store.url(s) if in_store else s
        if target in inputs:
            errors.append(f"{name}: output {out} would overwrite an input")
        elif target in seen:
            errors.append(f"{name}: output {out} is also the output of another input (same name)")
        else:
            seen.add(target)
            kept.append(s)
    return kept, errors


def start_ray(address: str | None, workers: int | None) -> bool:
    """Join the cluster at ``address``, or start a local Ray with this machine's CPUs; quiet, no
    dashboard. Returns whether this call started it (and so should shut it down)."""
    import ray

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.enable_auto_log_stats = False
    ctx.max_errored_blocks = -1  # a file Ray cannot read costs its block's files, not the run
    logging.getLogger("ray").setLevel(logging.ERROR)
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    if ray.is_initialized():
        return False
    quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    if address:
        ray.init(address=address, **quiet)
    else:
        ray.init(num_cpus=max(os.cpu_count() or 1, workers or 1), include_dashboard=False, **quiet)
    return True


def cpus_per_worker(workers: int) -> float:
    """The CPUs each of ``workers`` actors asks Ray for: the cluster's CPUs shared out (whole CPUs
    where there are enough, so each actor runs that many torch threads)."""
    import ray

    total = float(ray.cluster_resources().get("CPU", 1.0))
    share = total / workers
    return float(int(share)) if share >= 1 else share


def execute(job: Plan, options: RestoreOptions, workers: int | None, tally: Tally, bar: Progress) -> None:
    """Run the restorations on Ray, reporting each file's outcome as it arrives."""
    import ray

    n = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    cpus = cpus_per_worker(n)
    fs = job.in_store.fs if job.in_store else None
    ds = ray.data.read_binary_files(job.sources, include_paths=True, filesystem=fs, num_cpus=0)
    kwargs = {"options": options, "rules": job.rules, "threads": max(1, int(cpus)),
              "in_scheme": job.in_store.scheme if job.in_store else None}  # fmt: skip
    pool = ray.data.ActorPoolStrategy(size=n)  # ``concurrency=n``, as Ray 2.51+ spells it
    out = ds.map_batches(RestoreActor, fn_constructor_kwargs=kwargs, compute=pool, num_cpus=cpus,
                         batch_size=BATCH, batch_format="numpy")  # fmt: skip
    seen = set[str]()
    for row in out.iter_rows():
        seen.add(str(row["name"]))
        _count(row, tally, bar)
    for source in job.sources:  # in a block Ray could not read (each logged above by Ray)
        name = job.in_store.url(source) if job.in_store else source
        if name not in seen:
            tally.fail(Path(name), "read", ValueError("Ray could not read it (or its block)"))


def _count(row: dict[str, Any], tally: Tally, bar: Progress) -> None:
    name = str(row["name"])
    bar.step(Path(name).name)
    for w in json.loads(row["warnings"]):
        if w.startswith("metadata: "):
            print(f"arcnn: warning: {name}: written without its EXIF/ICC metadata, which "
                  f"{Path(name).suffix or 'the format'} refused ({w[10:]})", file=sys.stderr)  # fmt: skip
        else:
            print(f"arcnn: warning: {name}: the decoder found damage ({w}); restored as decoded",
                  file=sys.stderr)  # fmt: skip
    if row["status"] == "restored":
        tally.restored += 1
        tally.pixels += int(row["pixels"])
    elif row["status"] == "skipped":
        tally.skipped += 1
    else:
        tally.fail(Path(name), str(row["stage"]), ValueError(str(row["reason"])))


def run_ray(args: argparse.Namespace) -> int:
    """``arcnn restore ... --engine ray``: exit 0, 1 if any file failed, 2 if the job cannot start."""
    if (reason := refuse_args(args)) is not None:
        err(reason)
        return 2
    try:
        import ray  # noqa: F401 - the extra's presence, checked before any work
    except ImportError:
        err("--engine ray needs the ray extra: pip install 'arcnn[ray]'")
        return 2
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from arcnn.pipeline import Restorer

    try:
        job = plan(args)
        options = options_from_args(args)
        Restorer(options)  # an unknown model or bad weights file is refused here, before Ray starts
    except (ValueError, OSError) as e:
        err(str(e))
        return 2
    if not job.sources and not job.errors:
        err("no input files")
        return 2
    tally = Tally(failed=len(job.errors))
    for line in job.errors:
        err(line)
    if job.rules.out_store is None and job.rules.output and Path(job.rules.output).is_dir():
        remove_stale_temps(job.rules.output)
    seconds = _on_ray(job, options, args, tally) if job.sources else 0.0
    if len(job.sources) + len(job.errors) > 1 or tally.skipped or tally.failed:
        print(tally.summary(seconds))
    return 1 if tally.failed else 0


def _on_ray(job: Plan, options: RestoreOptions, args: argparse.Namespace, tally: Tally) -> float:
    """Start or join Ray, then restore; the seconds the job took once Ray was up (the local engine
    likewise times the job, not its start-up)."""
    import ray

    started = start_ray(args.ray_address, args.workers)
    try:
        t0 = time.perf_counter()
        execute(job, options, args.workers, tally, Progress(len(job.sources), not args.quiet))
        return time.perf_counter() - t0
    finally:
        if started:
            ray.shutdown()
