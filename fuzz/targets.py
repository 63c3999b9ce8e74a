"""The fuzz targets, the contract they check, and the findings already known.

A target takes the fuzzer's bytes and drives one of arcnn's untrusted-input surfaces as arcnn
uses it. The contract (issue "data safety under careless and hostile input"): every input
either succeeds or raises ``ValueError`` (``arcnn.pipeline.RestoreError`` is one). Anything else
is a finding, of one of these kinds:

- ``escape``: an exception other than ``ValueError`` left the API (``IndexError``, ``struct.error``,
  ``OSError`` ...);
- ``masked``: the restore pipeline wrapped a bug of its own: a ``RestoreError`` of stage
  ``restore`` whose cause is not a ``ValueError`` (the image decoded; arcnn then failed);
- ``memory``: a ``MemoryError`` anywhere in the exception chain, even one caught and re-raised
  as ``ValueError`` (under the fuzzer's address-space limit, a huge allocation was attempted), or
  an input that grew the process by more than ``RSS_GROWTH_LIMIT``;
- ``hang``: one input ran longer than the per-input CPU-time limit;
- ``tripwire``: an input made arcnn unpickle something with plain ``pickle`` or start a process.

Targets import arcnn lazily (``Target.setup``), so that the runner can instrument the imports
for coverage first. Nothing here depends on the fuzzing engine.
"""

from __future__ import annotations

import atexit
import io
import os
import shutil
import struct
import tempfile
import traceback
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "TARGETS",
    "KNOWN",
    "Target",
    "Verdict",
    "Known",
    "classify",
    "FuzzTimeout",
    "Tripwire",
    "WEIGHT_SUFFIXES",
    "CORPUS_ROOT",
    "KNOWN_DIR",
    "IMAGE_MAX_PIXELS",
    "RESTORE_MAX_PIXELS",
]

CORPUS_ROOT = Path(__file__).resolve().parent / "corpus"
KNOWN_DIR = Path(__file__).resolve().parent / "known"  # reproducers of the KNOWN findings
IMAGE_MAX_PIXELS = 1 << 22  # the readers' bomb guard in the image and codec targets: 4 MP
RESTORE_MAX_PIXELS = 1 << 16  # the restore target's: 64 K pixels keep a run of the tiny network short
RSS_GROWTH_LIMIT = 1 << 30  # bytes one input may add to the process's peak resident size
WEIGHT_SUFFIXES = (".safetensors", ".pt", ".onnx")  # the weights target's first byte picks one


class FuzzTimeout(BaseException):
    """Raised by the runner's CPU-time alarm: a BaseException, so that no ``except Exception`` in
    the library can swallow it."""


class Tripwire(BaseException):
    """Raised by the traps on ``pickle`` and process creation the weights and image targets set."""


# ---------------------------------------------------------------------------------------------
# Verdicts


@dataclass(frozen=True)
class Verdict:
    """Why an input broke the contract: ``kind`` (see the module doc), the exception that shows
    it, and a signature (kind, type, innermost frame) that tells distinct bugs apart."""

    kind: str
    exc: BaseException = field(compare=False)
    signature: str
    known: str | None = None  # the id of the KNOWN entry it matches

    def report(self) -> str:
        return "".join(traceback.format_exception(self.exc))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [c for c in (e.__cause__, e.__context__) if c is not None]


def _where(exc: BaseException) -> str:
    """The innermost frame of ``exc``'s traceback: file name, function, line."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    f = frames[-1]
    return f"{Path(f.filename).name}:{f.name}:{f.lineno}"


def classify(target: str, exc: BaseException, data: bytes = b"") -> Verdict | None:
    """None when ``exc`` (raised by ``target`` on ``data``) keeps the contract, else the verdict,
    matched against ``KNOWN``."""
    from arcnn.pipeline import RestoreError

    kind, shown = None, exc
    if isinstance(exc, FuzzTimeout):
        kind = "hang"
    elif isinstance(exc, Tripwire):
        kind = "tripwire"
    elif mem := next((e for e in _chain(exc) if isinstance(e, MemoryError)), None):
        kind, shown = "memory", mem
    elif isinstance(exc, RestoreError):
        cause = exc.__cause__
        if exc.stage == "restore" and cause is not None and not isinstance(cause, ValueError):
            kind, shown = "masked", cause
    elif not isinstance(exc, ValueError):
        kind = "escape"
    if kind is None:
        return None
    signature = f"{kind}:{type(shown).__name__}:{_where(shown)}"
    return Verdict(kind, shown, signature, _known(target, kind, shown, data))


def _known(target: str, kind: str, exc: BaseException, data: bytes) -> str | None:
    return next((k.id for k in KNOWN if target in k.targets and k.kind == kind and k.match(exc, data)), None)


@dataclass(frozen=True)
class Known:
    """A finding already reported: recorded and passed over (the run goes on, and does not fail
    unless ``--strict``). Remove the entry once the library is fixed; tests/test_fuzz.py replays
    ``reproducer`` and fails (strict xfail) as soon as it no longer reproduces."""

    id: str
    targets: tuple[str, ...]
    kind: str
    match: Callable[[BaseException, bytes], bool]  # (the exception shown, the target's input)
    reproducer: str  # a committed input of targets[0], in fuzz/known/
    summary: str


def _in(exc: BaseException, *places: str) -> bool:
    """Whether a frame of ``exc``'s traceback is in one of ``places`` ("file.py" or "file.py:function")."""
    frames = traceback.extract_tb(exc.__traceback__)
    names = {Path(f.filename).name for f in frames} | {f"{Path(f.filename).name}:{f.name}" for f in frames}
    return any(p in names for p in places)


KNOWN: list[Known] = []


# ---------------------------------------------------------------------------------------------
# The targets


@dataclass(frozen=True)
class Target:
    """One fuzz target: ``setup()`` imports what it needs and returns the function of bytes."""

    name: str
    doc: str
    setup: Callable[[], Callable[[bytes], None]]
    corpora: tuple[str, ...]  # seed folders under fuzz/corpus/
    instrument: tuple[str, ...]  # packages whose Python code gives coverage feedback
    input_timeout: float = 10.0  # CPU seconds one input may take


def _ok(fn: Callable, *args, **kw):
    """``fn(*args)``, its ValueError turned into None (the contract allows it; the next call still runs)."""
    try:
        return fn(*args, **kw)
    except ValueError:
        return None


def _setup_image() -> Callable[[bytes], None]:
    import numpy as np

    from arcnn.files import read_image

    def image(data: bytes) -> None:
        """read_image(bytes, max_pixels): opened and decoded as ``Restorer.restore`` does; the pixels."""
        with read_image(data, IMAGE_MAX_PIXELS) as im:
            np.asarray(im)

    return image


def _setup_codec() -> Callable[[bytes], None]:
    from arcnn.codec import estimate_quality, read_qtables
    from arcnn.files import open_image
    from arcnn.pipeline import luma_qtable
    from arcnn.policy import chroma_model, pick_model, pixel_quality

    def codec(data: bytes) -> None:
        """read_qtables / estimate_quality on the opened file (as ``arcnn quality`` does), then, once
        it is decoded, the model choice of ``--quality auto`` and ``--chroma auto|on``.

        Failures to open or decode are the image target's business: they end the input quietly.
        """
        try:
            im = open_image(data, IMAGE_MAX_PIXELS)
        except Exception:  # noqa: BLE001 - see the docstring
            return
        with im:
            tables = _ok(read_qtables, im)
            _ok(estimate_quality, im)
            if tables is not None:
                _ok(estimate_quality, tables)
            try:
                im.load()
            except Exception:  # noqa: BLE001 - see the docstring
                return
            _ok(pick_model, "auto", im)
            _ok(chroma_model, im, "auto")
            _ok(chroma_model, im, "on")
            _ok(luma_qtable, im)
            _ok(pixel_quality, im)

    return codec


_PIXEL_DTYPES = ("uint8", "uint16", "int8", "float32", "bool")


def _setup_pixels() -> Callable[[bytes], None]:
    import numpy as np

    from arcnn.codec import estimate_quality, estimate_quality_from_pixels

    def pixels(data: bytes) -> None:
        """estimate_quality_from_pixels on a fuzzed array; estimate_quality on fuzzed tables.

        Header: kind, h - 1, w - 1, max_blocks (int16 little-endian); then the payload. kind % 4:
        0 a uint8 (h, w) plane (payload repeated to fill it); 1 tables for estimate_quality
        (id, count, count uint16 values, repeated); 2 other dtypes and shapes; 3 as 0 with the
        header's max_blocks.
        """
        head, body = data[:5].ljust(5, b"\0"), data[5:]
        kind, h, w = head[0] % 4, head[1] + 1, head[2] + 1
        max_blocks = struct.unpack("<h", head[3:5])[0]
        if kind == 1:
            tables, i = {}, 0
            while i + 2 <= len(body):
                tid, n = body[i], body[i + 1]
                values = body[i + 2 : i + 2 + 2 * n]
                tables[tid] = np.frombuffer(values[: len(values) // 2 * 2], "<u2").astype(np.int64)
                i += 2 + 2 * n
            _ok(estimate_quality, tables)
            return
        raw = np.frombuffer(body, np.uint8) if body else np.zeros(1, np.uint8)
        if kind == 2:
            dtype = _PIXEL_DTYPES[head[3] % len(_PIXEL_DTYPES)]
            shape = [(h, w), (h, w, 3), (h * w,), (h, w, 1)][head[4] % 4]
            arr = np.resize(raw, int(np.prod(shape))).astype(dtype).reshape(shape)
            _ok(estimate_quality_from_pixels, arr)
            return
        plane = np.resize(raw, h * w).reshape(h, w)
        if kind == 3:
            _ok(estimate_quality_from_pixels, plane, max_blocks=max_blocks)
        else:
            _ok(estimate_quality_from_pixels, plane)

    return pixels


@contextmanager
def _traps() -> Iterator[None]:
    """Plain pickle and process creation raise Tripwire while the block runs."""
    import pickle
    import subprocess

    def trap(*args, **kw):
        raise Tripwire("unrestricted unpickling or a new process")

    class TrapUnpickler(pickle.Unpickler):
        def __init__(self, *args, **kw) -> None:
            trap()

    saved = [
        (pickle, "Unpickler", TrapUnpickler),
        (pickle, "load", trap),
        (pickle, "loads", trap),
        (subprocess.Popen, "__init__", trap),
        (os, "system", trap),
        (os, "posix_spawn", trap),
        (os, "execv", trap),
        (os, "execve", trap),
    ]
    old = [(obj, name, getattr(obj, name)) for obj, name, _ in saved]
    for obj, name, new in saved:
        setattr(obj, name, new)
    try:
        yield
    finally:
        for obj, name, value in old:
            setattr(obj, name, value)


def scratch_dir(pid: int) -> Path:
    """Where the weights target of process ``pid`` writes its files (memory-backed when it can)."""
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()
    return Path(base) / f"arcnn-fuzz-{pid}"


def _setup_weights() -> Callable[[bytes], None]:
    import numpy as np

    from arcnn.engine import restore_luma
    from arcnn.weights import load_weights_file

    try:
        import onnxruntime

        onnxruntime.set_default_logger_severity(4)  # its log of every broken graph is noise here
    except ImportError:
        pass

    folder = scratch_dir(os.getpid())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # the runner removes it after os._exit
    plane = (np.arange(24 * 24) % 251).astype(np.uint8).reshape(24, 24)

    def weights(data: bytes) -> None:
        """load_weights_file on the bytes written as .safetensors / .pt / .onnx (the first byte picks);
        a network that loads must then restore a 24 x 24 plane (or refuse it with ValueError)."""
        suffix = WEIGHT_SUFFIXES[data[0] % len(WEIGHT_SUFFIXES)] if data else ".safetensors"
        path = folder / f"w{suffix}"
        path.write_bytes(data[1:])
        try:
            with _traps(), redirect_stdout(io.StringIO()):  # onnxruntime prints its retries
                net = load_weights_file(path)
                restore_luma(net, plane, tile=16)
        finally:
            path.unlink(missing_ok=True)

    return weights


_FORMATS = ("png", "webp", "tiff", "jpeg")


def _setup_restore() -> Callable[[bytes], None]:
    import torch

    from arcnn.files import encode_image
    from arcnn.models import ConvStack, preset
    from arcnn.pipeline import RestoreOptions, Restorer

    torch.manual_seed(0)
    net = ConvStack(preset("srcnn", residual=True)).eval().requires_grad_(False)
    restorers: dict[tuple, Restorer] = {}

    def restore(data: bytes) -> None:
        """Restorer(model=<tiny srcnn>, chroma="off").restore(bytes), then encode_image of the result.

        The options (tile 16/64/512, consistency, output format) come from the input's CRC, so an
        input always runs the same way."""
        crc = zlib.crc32(data)
        key = ((16, 64, 512)[crc % 3], bool(crc >> 2 & 1))
        if key not in restorers:
            restorers[key] = Restorer(
                RestoreOptions(
                    model=net, chroma="off", tile=key[0], consistency=key[1], max_pixels=RESTORE_MAX_PIXELS
                )
            )
        result = restorers[key].restore(data)
        fmt = _FORMATS[crc >> 3 & 3]
        if fmt == "jpeg" and result.image.mode in ("RGBA", "LA"):
            fmt = "png"  # encode_image refuses alpha in JPEG with a ValueError; test the writer instead
        if hasattr(result, "frames"):  # every frame of an animation or multi-page file, and its info
            encode_image(result, fmt)
        else:
            encode_image(result.image, fmt, result.info)

    return restore


TARGETS: dict[str, Target] = {
    t.name: t
    for t in [
        Target(
            "image",
            "arcnn.files.open_image(bytes, max_pixels) + load()",
            _setup_image,
            ("image", "restore"),
            ("PIL", "arcnn"),
        ),
        Target(
            "codec",
            "read_qtables, estimate_quality, pick_model('auto'), chroma_model on opened bytes",
            _setup_codec,
            ("image", "restore"),
            ("PIL", "arcnn"),
        ),
        Target(
            "pixels",
            "estimate_quality_from_pixels on arrays, estimate_quality on tables",
            _setup_pixels,
            ("pixels",),
            ("arcnn",),
        ),
        Target(
            "weights",
            "load_weights_file on .safetensors / .pt / .onnx bytes, then one restore",
            _setup_weights,
            ("weights",),
            ("arcnn", "safetensors"),
            input_timeout=20.0,
        ),
        Target(
            "restore",
            "Restorer(tiny srcnn, chroma off).restore(bytes) + encode_image",
            _setup_restore,
            ("restore", "image"),
            ("PIL", "arcnn"),
            input_timeout=20.0,
        ),
    ]
}


def seeds(target: str) -> list[Path]:
    """The committed seed files of ``target``, in a stable order."""
    files: list[Path] = []
    for corpus in TARGETS[target].corpora:
        folder = CORPUS_ROOT / corpus
        files += sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    return files


def limit_address_space(extra_mb: int) -> None:
    """``RLIMIT_AS``: what the process maps now plus ``extra_mb`` (a larger allocation: MemoryError)."""
    import resource

    with open("/proc/self/status") as f:
        vm = next(int(line.split()[1]) for line in f if line.startswith("VmSize:")) * 1024
    limit = vm + extra_mb * (1 << 20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


_SET_UP: dict[str, Callable[[bytes], None]] = {}


def reproduce(target: str, data: bytes, memory_mb: int | None = None) -> Verdict | None:
    """Run one input through a target in this process, under the runner's address-space limit when
    ``memory_mb`` is given (set once, after the first set-up), without its CPU-time alarm."""
    import resource

    if target not in _SET_UP:
        _SET_UP[target] = TARGETS[target].setup()
        if memory_mb is not None and resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY:
            limit_address_space(memory_mb)
    fn = _SET_UP[target]
    rss0 = rss_baseline()
    try:
        fn(data)
    except BaseException as e:  # noqa: BLE001 - classified below
        if isinstance(e, KeyboardInterrupt | SystemExit):
            raise
        if (v := classify(target, e, data)) is not None:
            return v
    return rss_verdict(target, rss0, data)


_RESET_PEAK = [os.access("/proc/self/clear_refs", os.W_OK)]  # Linux: the peak RSS can be reset


def _proc_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def rss_now() -> int:
    """The resident size now, KiB (0 where /proc is missing)."""
    try:
        return _proc_kib("VmRSS")
    except (OSError, StopIteration):
        return 0


def rss_baseline() -> int:
    """Before an input: reset the peak resident size to the current one (``/proc/self/clear_refs``),
    and return it, KiB; where that is impossible, the peak so far (``ru_maxrss``)."""
    import resource

    if _RESET_PEAK[0]:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            return _proc_kib("VmRSS")
        except (OSError, StopIteration):
            _RESET_PEAK[0] = False
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _peak() -> int:
    import resource

    if _RESET_PEAK[0]:
        try:
            return _proc_kib("VmHWM")
        except (OSError, StopIteration):
            pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rss_verdict(target: str, rss0: int, data: bytes) -> Verdict | None:
    """A ``memory`` verdict when the peak resident size while the input ran exceeded ``rss0`` (from
    :func:`rss_baseline`) by more than ``RSS_GROWTH_LIMIT``."""
    grown = (_peak() - rss0) * 1024
    if grown <= RSS_GROWTH_LIMIT:
        return None
    exc = MemoryError(f"one input took the resident size {grown >> 20} MiB up (rss-growth)")
    return Verdict("memory", exc, f"memory:rss-growth:{target}", _known(target, "memory", exc, data))
