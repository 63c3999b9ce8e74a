"""ONNX export, and an ONNX Runtime model that restores like a ConvStack.

Running an ONNX file needs onnxruntime alone (a core dependency) and never imports PyTorch;
writing one needs PyTorch and the ``onnx`` extra (``pip install 'arcnn[onnx]'``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from arcnn.files import atomic_write
from arcnn.netconfig import config_from_json

if TYPE_CHECKING:
    from arcnn.models import TorchNetwork

SPIN = "0"  # ONNX Runtime's "session.intra_op.allow_spinning"

__all__ = [
    "export_onnx", "OnnxModel", "import_onnxruntime", "onnxruntime_available", "onnx_export_available",
    "on_onnxruntime",
]  # fmt: skip


def export_onnx(model: TorchNetwork, path: str | Path) -> Path:
    """Write ``model`` (valid-convolution forward, any H and W) as ONNX, atomically.

    The graph maps (N, 1, H, W) float32 in [0, 1] to (N, 1, H - 2b, W - 2b); the
    model config is stored in the file's metadata under ``model_config``.
    """
    import onnx
    import torch

    path = Path(path)
    model = model.eval()
    x = torch.rand(1, model.config.inputs, 64, 64)
    axes = {0: "n", 2: "h", 3: "w"}
    with atomic_write(path) as tmp, warnings.catch_warnings():
        # The TorchScript exporter is deprecated, but it needs no onnxscript and handles these
        # plain convolutions exactly (tests/test_export.py).
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, (x,), str(tmp), input_names=["degraded"], output_names=["restored"],
                          dynamic_axes={"degraded": axes, "restored": axes}, dynamo=False)  # fmt: skip
        proto = onnx.load(str(tmp))
        entry = proto.metadata_props.add()
        entry.key, entry.value = "model_config", model.config.to_json()
        onnx.save(proto, str(tmp))
    return path


class OnnxModel:
    """An ONNX file with ``model_config`` metadata, run by ONNX Runtime: called on float32 numpy
    arrays as a ``ConvStack`` is on tensors. Never imports PyTorch.

    ``threads``: ONNX Runtime's intra-op threads; default ``OMP_NUM_THREADS`` when set (as PyTorch
    honours it), else ONNX Runtime's own default (one per physical core, as PyTorch's).
    ``probe``: run the graph once at load to check it against its metadata; only files already known
    to be good skip it (the shipped ones, whose sha256 the manifest vouches for).
    """

    def __init__(self, path: str | Path, threads: int | None = None, probe: bool = True) -> None:
        ort = import_onnxruntime()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or _env_threads()
        # Idle worker threads sleep instead of spinning: on a few cores, spinning takes the CPU from
        # the Python thread and the reading and writing threads between the graph's operators
        # (``python -m benchmarks.ort_threads``).
        opts.add_session_config_entry("session.intra_op.allow_spinning", SPIN)
        # One memory arena for every session of the process: a restore's chroma network then runs in
        # memory its luminance network already touched, rather than mapping fresh pages, and the
        # service's workers hold one arena between them (python -m benchmarks.startup).
        _share_cpu_arena(ort)
        opts.add_session_config_entry("session.use_env_allocators", "1")
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ValueError(f"{path}: not a readable ONNX model ({e})") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if "model_config" not in meta:
            raise ValueError(f"{path}: ONNX file carries no model_config metadata")
        try:
            self.config = config_from_json(meta["model_config"])
            if probe:
                self._probe()
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None

    def _probe(self) -> None:
        """Run the graph once on a small input of the config's shape: a graph that does not compute
        what its metadata says is refused at load, not halfway through a batch."""
        c = self.config
        # Size-keeping networks need no border around the probe: a large one costs a whole image.
        side = 8 * c.stride + (0 if c.keeps_size else 2 * c.border)
        want = (1, c.channels, side, side) if c.keeps_size else (1, c.channels, 8 * c.stride, 8 * c.stride)
        got = tuple(self(np.zeros((1, c.inputs, side, side), np.float32)).shape)
        if got != want:
            raise ValueError(f"the graph computes {got} from a {side}x{side} input, its config says {want}")

    def eval(self) -> OnnxModel:
        return self

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """float32 (N, C_in, H, W) -> float32 (N, C, H - 2b, W - 2b), or (N, C, H, W) when the
        config ``keeps_size``; values in [0, 1] as the network was trained."""
        try:
            out = self.session.run(None, {"degraded": np.ascontiguousarray(x, dtype=np.float32)})[0]
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ValueError(f"the ONNX model failed: {str(e)[:300]}") from None
        return np.asarray(out, dtype=np.float32)


@functools.cache
def _share_cpu_arena(ort: ModuleType) -> None:
    """Register ONNX Runtime's process-wide CPU arena allocator, once per process (cached), for the
    sessions that opt in with ``session.use_env_allocators``. One that other code of the process
    registered first serves them as well: the second registration's error is ignored."""
    info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
    try:
        ort.create_and_register_allocator(info, None)
    except Exception:  # noqa: BLE001, S110 - onnxruntime's own types: registered already
        pass


def _env_threads() -> int:
    """``OMP_NUM_THREADS`` as a positive integer, else 0 (ONNX Runtime's default)."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() else 0


def import_onnxruntime() -> ModuleType:
    """``onnxruntime``, imported with its usage telemetry off unless the environment already says
    otherwise (``ORT_DISABLE_TELEMETRY``, read once per process, when its first session starts).

    ONNX Runtime 1.29 and later report sessions, models and errors to Microsoft from Linux and macOS
    too, and keep a device identifier on disk. A tool that restores people's own photographs sends
    nothing anywhere, and the reporting costs each command's start and exit time.
    """
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime

    return onnxruntime


def onnxruntime_available() -> bool:
    """Whether ONNX files can be run here (onnxruntime imports)."""
    try:
        import_onnxruntime()
    except ImportError:
        return False
    return True


def onnx_export_available() -> bool:
    """Whether PyTorch networks can be exported to ONNX here (the ``onnx`` extra is installed)."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return onnxruntime_available()


def on_onnxruntime(model: TorchNetwork) -> OnnxModel:
    """``model`` run by ONNX Runtime: exported once into ``$ARCNN_CACHE/onnx``, keyed by its weights.

    ONNX Runtime's float32 convolutions are faster than PyTorch's on CPUs
    (``python -m benchmarks.inference_speed``), and give the same output (``tests/test_export.py``).
    """
    h = hashlib.sha256(model.config.to_json().encode())
    for k, v in model.state_dict().items():
        h.update(k.encode() + v.detach().float().contiguous().numpy().tobytes())
    from arcnn.data import cache_dir

    cache = cache_dir() / "onnx"
    path = cache / f"{h.hexdigest()[:20]}.onnx"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        export_onnx(model, path)
    return OnnxModel(path)
