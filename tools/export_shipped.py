"""Export every shipped PyTorch model to ONNX beside its weights: src/arcnn/weights/onnx/NAME.onnx.

    python tools/export_shipped.py

The default engine (ONNX Runtime) runs these files without importing PyTorch. Prints the manifest
lines to put in src/arcnn/manifest.py (``FILES``); tests/test_zoo.py checks each file against its
safetensors run by PyTorch, so rerun this whenever a shipped model's weights change.
"""

from arcnn.export import export_onnx
from arcnn.manifest import sha256_file
from arcnn.models import ConvStack
from arcnn.unet import UNet
from arcnn.zoo import ONNX_DIR, REGISTRY, load_model

ONNX_DIR.mkdir(exist_ok=True)
for name, card in REGISTRY.items():
    model = load_model(name, backend="torch")
    if isinstance(model, ConvStack | UNet):
        export_onnx(model, card.onnx_path)
        print(f'    "{card.onnx_key}": "{sha256_file(card.onnx_path)}",')
