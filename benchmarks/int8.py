"""The shipped int8 networks against float32, and both against the machine's matrix-product ceilings.

    python -m benchmarks.int8 [--models arcnn-q10 ...] [--side 2048] [--write]

In one run: (1) the ceilings, the best rate of a 2048 x 2048 matrix product in float32 (PyTorch,
and onnxruntime's MatMul) and in 8 bits (onnxruntime's MatMulInteger with u8 x s8 and u8 x u8
operands, the kernels its int8 convolutions use); (2) for each model of
``experiments.quantize_int8``: the LIVE1 PSNR at the model's quality under the evaluation protocol
(``arcnn.evaluate``) of the float32 network on onnxruntime and of its shipped int8 file
(``weights/int8/<name>.onnx``, checked against ``arcnn.manifest``), and the rate of each on a
side x side plane through ``arcnn.engine.restore_luma`` (best of two, alternated), with the
share of its ceiling that its multiply-adds reach. ``--write`` puts the table into its block
(docs/speed.md).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch

from arcnn.export import import_onnxruntime
from arcnn.netconfig import Network
from benchmarks._common import best_rate, matmul_ceiling, plane_rates, publish, require_data

MODELS = ("arcnn-q10", "arcnn-q20", "arcnn-q30", "arcnn-q40", "fast-arcnn-q10")
TARGET_DB, TARGET_SPEEDUP = 0.02, 2.5  # issue 22: within 0.02 dB of float32, at least 2.5x its rate


def setup_args() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--side", type=int, default=2048, help="side of the timed plane")
    p.add_argument("--write", action="store_true", help="update the int8 block (docs/speed.md)")
    return p


def ort_matmul_ceiling(kind: str, n: int = 2048) -> float:
    """Best GOP/s of onnxruntime on an n x n matrix product: ``kind`` "float32", "u8s8" or "u8u8"
    (MatMulInteger, int32 sums), with torch's thread count."""
    from onnx import TensorProto, helper, numpy_helper

    ort = import_onnxruntime()
    rng = np.random.default_rng(0)
    if kind == "float32":
        op, a_type, out_type = "MatMul", TensorProto.FLOAT, TensorProto.FLOAT
        a, b = rng.random((n, n), np.float32), rng.random((n, n), np.float32)
    else:
        op, a_type, out_type = "MatMulInteger", TensorProto.UINT8, TensorProto.INT32
        a = rng.integers(0, 256, (n, n)).astype(np.uint8)
        b = (
            rng.integers(0, 256, (n, n)).astype(np.uint8)
            if kind == "u8u8"
            else rng.integers(-128, 128, (n, n)).astype(np.int8)
        )
    inputs = [helper.make_tensor_value_info("a", a_type, [n, n])]
    outputs = [helper.make_tensor_value_info("c", out_type, [n, n])]
    node = helper.make_node(op, ["a", "b"], ["c"])
    graph = helper.make_graph([node], "ceiling", inputs, outputs, [numpy_helper.from_array(b, "b")])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    session = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return best_rate(lambda: session.run(None, {"a": a}), 2 * n**3)


def pair_rates(f32: Network, int8: Network, side: int, repeats: int = 3) -> list[float]:
    """[float32, int8] MP/s of two networks restoring one random side x side plane
    (``engine.restore_luma``), timed in turn so that a busy moment of a shared machine falls on both."""
    from arcnn.engine import restore_luma

    runs = {"f32": lambda p: restore_luma(f32, p), "int8": lambda p: restore_luma(int8, p)}
    return list(plane_rates(runs, side, repeats).values())


def measure(name: str, side: int) -> dict:
    """LIVE1 PSNR and plane rate of model ``name``: its shipped float32 ONNX file (the default
    engine) and its int8 file, both on onnxruntime."""
    from arcnn.evaluate import evaluate
    from arcnn.export import OnnxModel
    from arcnn.flops import macs_per_pixel
    from arcnn.manifest import verified_path
    from arcnn.zoo import REGISTRY, load_model

    quality = REGISTRY[name].quality
    assert quality is not None
    try:
        path = verified_path(f"weights/int8/{name}.onnx")
    except ValueError as e:
        msg = f"{e}: run python -m experiments.quantize_int8 and hash the file in arcnn.manifest"
        raise SystemExit(msg) from None
    live1 = require_data("live1")
    f32, int8 = load_model(name, backend="onnxruntime"), OnnxModel(path)
    scores = [
        float(evaluate(live1, quality, m, backend="onnxruntime")["mean"]["psnr"]) for m in (name, str(path))
    ]
    rates = pair_rates(f32, int8, side, repeats=2)
    recipe = json.loads(int8.session.get_modelmeta().custom_metadata_map.get("quantization", "{}"))
    macs = macs_per_pixel(load_model(name))
    return {"quality": quality, "macs": macs, "psnr": scores, "mps": rates, "recipe": recipe}


def _recipe_label(recipe: dict) -> str:
    from arcnn.quantize import Recipe

    return (
        Recipe(**{**recipe, "float_layers": tuple(recipe.get("float_layers", ()))}).label() if recipe else "?"
    )


def main(argv: list[str] | None = None) -> int:
    args = setup_args().parse_args(argv)
    require_data("live1")
    from arcnn.export import onnxruntime_available

    if not onnxruntime_available():
        print("onnxruntime not installed (pip install 'arcnn[onnx]'): nothing was measured", file=sys.stderr)
        return 2
    ceil = {"float32 (torch)": matmul_ceiling(torch.float32)}
    for kind in ("float32", "u8s8", "u8u8"):
        ceil[f"{kind} (onnxruntime)"] = ort_matmul_ceiling(kind)
    f32_ceiling = max(v for k, v in ceil.items() if k.startswith("float32"))
    int8_ceiling = max(v for k, v in ceil.items() if not k.startswith("float32"))
    cells = ", ".join(f"{k} {v:.0f}" for k, v in ceil.items())
    lines = [
        f"torch {torch.__version__}, {torch.get_num_threads()} threads. Ceiling, 2048×2048 matrix product "
        f"(G(FL)OP/s): {cells}; float32 **{f32_ceiling:.0f}**, 8-bit **{int8_ceiling:.0f}** "
        f"({int8_ceiling / f32_ceiling:.2f}× float32).",
        "",
        f"Per model: LIVE1 PSNR at its quality (dB), float32 and int8 on onnxruntime; MP/s on a "
        f"{args.side}×{args.side} plane (`restore_luma`), and each as a share of its ceiling:",
        "",
        "| model | float32 | int8 | change | ≤ 0.02 dB | float32 MP/s | int8 MP/s | speed-up | ≥ 2.5× "
        "| float32 of ceiling | int8 of ceiling | recipe |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in args.models:
        r = measure(name, args.side)
        (p32, p8), (m32, m8) = r["psnr"], r["mps"]
        g32, g8 = (2 * r["macs"] * m * 1e6 / 1e9 for m in (m32, m8))
        ok_db = "yes" if p8 - p32 >= -TARGET_DB else "**no**"
        ok_speed = "yes" if m8 >= TARGET_SPEEDUP * m32 else "**no**"
        lines.append(
            f"| {name} (q{r['quality']}) | {p32:.3f} | {p8:.3f} | {p8 - p32:+.3f} | {ok_db} | {m32:.2f} "
            f"| {m8:.2f} | {m8 / m32:.2f}× | {ok_speed} | {g32 / f32_ceiling:.0%} | {g8 / int8_ceiling:.0%} "
            f"| {_recipe_label(r['recipe'])} |"
        )
        print(lines[-1], flush=True)
    publish("int8", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
