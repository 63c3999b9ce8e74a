"""Every hashed file of the project in one table: path -> sha256.

Paths inside the package are relative to it (``weights/...``, ``samples/...``); files kept in the
repository beside it (the weights experiments started from) begin with ``repo:``. Rewrite a line
only with the hash ``sha256_file`` prints for a file you mean to ship.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["FILES", "PACKAGE_DIR", "sha256_file", "resolve", "verified_path"]

PACKAGE_DIR = Path(__file__).parent

FILES: dict[str, str] = {
    # Shipped weights (zoo.REGISTRY names them).
    "weights/arcnn-q10.safetensors": "1510c9d189bbb2565555fbbb5940fbcdc3c99f83c3dda9531fffbb5b2694d2b3",
    "weights/arcnn-q20.safetensors": "44db18963e7ceb9c12acc8b626f44f2ee8a93c6f74bcea4a9d3096a685cdeb7a",
    "weights/arcnn-q30.safetensors": "dc69a7b2e385d7aec2906583acd6e560ccd3ce32c899567d71d2bcdfa075bbe6",
    "weights/arcnn-q40.safetensors": "ead82177e24cdc1656b1277567e4ce520faa47eb58fe67d57d33bd3e9b4e6174",
    "weights/fast-arcnn-q10.safetensors": "253c778bb18bc4377f752d94a79b8bd0522c537bb45c96b47a59da1e02d78327",
    "weights/fast-arcnn-q20.safetensors": "7699bd30015e7eff539c6127dbba412f458e4946f31e96805a903d8d356b0a77",
    "weights/fast-arcnn-q30.safetensors": "aba209cbb34c2d02c9e93a882755183fdf25cd4b6bd270969fbd79d14dfc913b",
    "weights/fast-arcnn-q40.safetensors": "1178be8ece73041ba08b68388fed5334f7830c942a540364847da9a8226f91be",
    "weights/fast-arcnn-relu-q10.safetensors": "a8ecc2743a3b3974942f5277ce293a6457b2c486dca993f78c76d32e96b00adf",
    "weights/fast-arcnn-relu-q20.safetensors": "e9ebec54c694e618118e3fd42d21a9bc6e4f57d622dc07ce20cafdaa8f0ea8aa",
    "weights/fast-arcnn-relu-q30.safetensors": "612a355743aba14bc408ca8e359ed3745d21eb3c94e83913f583385d37081590",
    "weights/fast-arcnn-relu-q40.safetensors": "f969df6fb8fb16799470576ed03018d7c5e9b14ddd8409f57d26332d9cd9cad1",
    "weights/srcnn-q10.safetensors": "53f81ead24984e8948ccd0792f96dbf9f43126f4fd9c7fe346862668a784dcfa",
    "weights/deeper-srcnn-q10.safetensors": "707baf7922c810325c3e12fb2e8719f9a0d734c07a0c205829f77cf800ac12ef",
    "weights/arcnn5-q10.safetensors": "1d1bb267adea542fb1c69d3fff8ad633a8e73c9e4983bf892e3ec798ae1733da",
    "weights/arcnn-social.safetensors": "ec0978e829a251da8ce2fc199c848c2a48d76a647a2742c98a57abab046a0104",
    "weights/arcnn-blind.safetensors": "dca7fa11eaa33e6e826aff19425e56bcf1a6a3bc9f7caa291ab0a56adb11221e",
    "weights/arcnn-webp.safetensors": "d1bbcdf64b8197b44de1124a55ddf9ad4bde6d2ba1e505bdcaa14fe15411e4ec",
    "weights/arcnn-chroma.safetensors": "e5a1dcc2e0be4c780bf160b2064a99a0f47f19056c22f1844a359224be5b1e47",
    "weights/arcnn-chroma-q10.safetensors": "ded758d6923760d3f9a6e93e0e74bdb399ab51db94761eb82dc776355c4445b7",
    "weights/arcnn-chroma-unet.safetensors": "2ea8669af40bcede322cc1f71f2cd05e17a832ca3c9dbd8f3bcccd26f8bb9ad6",
    "weights/arcnn-chroma-fast.safetensors": "df50e2840d9cb61de0e04e76ab018ccfc38e3349da1b97fc8b29cbd1729449c9",
    "weights/arcnn-large.safetensors": "e452530239e0773ea46312617d8020d0d078a7f4cfedc3e82f700762b5167230",
    # The same networks as ONNX, run by the default engine (tools/export_shipped.py writes them).
    "weights/onnx/arcnn-q10.onnx": "bf1f7a235acf4ec98121a42744fdd4f7ab79df3612b45300c8bad40cf8364c7d",
    "weights/onnx/arcnn-q20.onnx": "dd08389b33e3de6e6a09743edecb9942c44b9bdaef6bbeca71fb2f9d237b771a",
    "weights/onnx/arcnn-q30.onnx": "e1a62db80ffe37ea73c38ba9877e7a7515d603dd8025ebbd37e639d8f3dd4d1d",
    "weights/onnx/arcnn-q40.onnx": "19c1adc39ab9373cbe5b5d9d4b648403d2e19598654f75dbaaa46fe20efd5bd4",
    "weights/onnx/fast-arcnn-q10.onnx": "0ebe016e388ab4f7c223547d0c489d2d84ae495adac687b1d4fbf37a72e26caf",
    "weights/onnx/fast-arcnn-q20.onnx": "50e66181bc6bf99377b42253e9ed4cdfbce2746f7158cd4129e178c27538257f",
    "weights/onnx/fast-arcnn-q30.onnx": "27032995255728be5f8fde5b8636ae01d0ef7b82487ebb46925a48f233ce12c3",
    "weights/onnx/fast-arcnn-q40.onnx": "c9b0aefc0fa7aa850d245e5fcab1b6c95e70709903e59e243c2d857b4ebba109",
    "weights/onnx/fast-arcnn-relu-q10.onnx": "7bac8ac03d5ccdf1ebc03d2c38bc3deadc6c57c1e7f264ffc9506c55dbc99276",
    "weights/onnx/fast-arcnn-relu-q20.onnx": "768557e88b6d125f451d355894c71f8df2618434b33d86c4481a1d6c0cbd86cc",
    "weights/onnx/fast-arcnn-relu-q30.onnx": "8d07cebe7d56a1b6d88f255ae9a29e77e623c90ee6809b1f5b132796452c2356",
    "weights/onnx/fast-arcnn-relu-q40.onnx": "ff8866825bf166d374d9c9693676b712419bd5738a697de33d09b636a7b22552",
    "weights/onnx/srcnn-q10.onnx": "1d9ae86f01edd40900b75972e9953fce7c1e150708fb11d1ea656928fabb3a2c",
    "weights/onnx/deeper-srcnn-q10.onnx": "69a5bc13f4ecce57599c9255754a61acac41bb0c6bafc3e795a6d891a0f01a2d",
    "weights/onnx/arcnn5-q10.onnx": "a35fb00164b3f1781a3e9bef21d8cfcfd0e18d3e65a1f6f199a97b750d537f5d",
    "weights/onnx/arcnn-social.onnx": "fb1d04ab554a00249e2d8474569a47be999242ddd1ca8665610eea8186ba9053",
    "weights/onnx/arcnn-blind.onnx": "5b28b8a4c750f6eb9299a4e93a2edeeba79f344b6dc74813e5a34a22213a8776",
    "weights/onnx/arcnn-webp.onnx": "fbdb3edfd661e8669d41aae2bc21bbefbf72161a983df43068415340b0bf419c",
    "weights/onnx/arcnn-chroma.onnx": "f39a1c668d0a63a947f82620a69cc7f0c892f9f41371fcef13f4ccfdde24dc55",
    "weights/onnx/arcnn-chroma-q10.onnx": "6f65c3cab6f9b2fbd5e476bb0ebbaaf974885c0581836990febc6e9c5b998772",
    "weights/onnx/arcnn-chroma-unet.onnx": "53893ece743a4cf5eb79f998ac0e369b56a0251242d1dbb79946463f7da7cf49",
    "weights/onnx/arcnn-chroma-fast.onnx": "8546556741b09536dbf81b0583ff40c136fd9f17d03d07818988a89e4d3a8bc9",
    "weights/onnx/arcnn-large.onnx": "cd789367ccd55d0926c368a934bc33b6fd4add6beac1feecc36db5d9f04f25f1",
    # int8 versions (experiments/quantize_int8.py writes them; not used by arcnn restore).
    "weights/int8/arcnn-q10.onnx": "fc9246c081b9b789988f481299dc1148621c09445c1f454590255bd4c243951d",
    "weights/int8/arcnn-q20.onnx": "9a0bc0647715f8477a2105ef2c188059d8fe5adfd5daa2d6f19691e18b9f0489",
    "weights/int8/arcnn-q30.onnx": "133f68b0210ea5ceca2d4bbe4ad16ea7445c5b1f3d804f0b127d4d3cb88a0be4",
    "weights/int8/arcnn-q40.onnx": "81d89b48950dcee8a4221369bf8aa77ff51034e6e5b64c5457f2407a6ea1501e",
    "weights/int8/fast-arcnn-q10.onnx": "007c7426a503e7ca32f0f04d6c7ef7e75ab17cf56091864e7331d85649136118",
    # Shipped samples (arcnn.sample; tools/make_samples.py makes them).
    "samples/astronaut-q10.jpg": "c5b4b60a7f8ef44c8da6d27fdb47f0f629c5f350799cd302ce7adcdee1ae1a4d",
    "samples/astronaut-y128.png": "44338f33b5bc86b3941729890de9931574a207ba0ae6fda9e8f2a33225a94f21",
    # The zoo's models of earlier days that experiments and GPU runs started from (docs/training.md):
    # the 2-core ones (-cpu), arcnn-q10 after GPU stages 2 and 4 (the shipped one is -gpu4 with its
    # last layer refit, experiments/refit_last_layer.py), and the blind model after stage 4.
    "repo:experiments/weights/arcnn-q10-cpu.safetensors": "212331e63b746a33c114a5226554a996c70b24eefa3bf5290b9c1bbf170d8167",
    "repo:experiments/weights/arcnn-q20-cpu.safetensors": "9a50b84dcb4779e04d68a20b1aee1afaacf463303283e6ca848ccdce435e9b06",
    "repo:experiments/weights/arcnn-q30-cpu.safetensors": "6ab0f367dd283560126b6289567d5544d45c1ea36ac4e3be9741ac65178f335f",
    "repo:experiments/weights/arcnn-webp-cpu.safetensors": "332c32c313442b4c59cdd14f5a41bc0878ee609340556bf198c4acd50caa1630",
    "repo:experiments/weights/arcnn-q10-gpu2.safetensors": "2c4e948e3268ff0552dc2aed7524d8ca66bf6b9ed7908e14d30e1a638052bd07",
    "repo:experiments/weights/arcnn-q10-gpu4.safetensors": "a7d26a7b674097214cc40b4d7f39a9e199f056581aa37f1d2f891e9a9c533f81",
    "repo:experiments/weights/arcnn-blind-cpu.safetensors": "ac5ad41950bdf834c6e29a4f1e1ae3c2035403567a6baf20afaf0713718cbb3d",
    "repo:experiments/weights/arcnn-blind-gpu4.safetensors": "5092fdddfe94ecdd7a3c4e327b57ddc577b5b15e1eedfe3e749114b042e93881",
    # A try not shipped: a Fast AR-CNN blind model after 35 minutes on one core, which harms q90-q95
    # JPEGs (python -m benchmarks.fast_arcnn --limits).
    "repo:experiments/weights/fast-arcnn-blind-cpu.safetensors": "1b32302d6c8461e8211c473e261677576fa12eb79e01e949a2266c1f6c5afede",
}  # fmt: skip


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def resolve(key: str) -> Path:
    """The file a manifest key names (``repo:`` keys exist in a source checkout only)."""
    if key.startswith("repo:"):
        return PACKAGE_DIR.parents[1] / key[5:]
    return PACKAGE_DIR / key


def verified_path(key: str) -> Path:
    """The file of manifest key ``key`` after checking its hash; ``ValueError`` if missing or altered."""
    if key not in FILES:
        raise ValueError(f"{key}: not in the manifest of hashed files")
    path = resolve(key)
    if not path.is_file():
        raise ValueError(f"{key}: file is missing")
    if sha256_file(path) != FILES[key]:
        raise ValueError(f"{key}: does not match its registered sha256")
    return path
