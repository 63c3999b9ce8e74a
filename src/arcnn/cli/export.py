"""``arcnn export``: a model as ONNX (needs the onnx extra)."""

from __future__ import annotations

import argparse

from arcnn.cli._common import err

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    x = sub.add_parser("export", help="export a model to ONNX (needs the onnx extra)")
    x.add_argument("--model", default="arcnn-q10", help="shipped model name or weights file")
    x.add_argument("-o", "--output", required=True, help="file to write, e.g. arcnn-q10.onnx")
    x.add_argument("--format", choices=["onnx"], default="onnx")


def run(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    from arcnn.models import ConvStack
    from arcnn.unet import UNet
    from arcnn.zoo import load_model

    try:
        from arcnn.export import export_onnx

        model = load_model(args.model)
        if not isinstance(model, ConvStack | UNet):
            raise ValueError(f"{args.model}: already an exported model")
        export_onnx(model, args.output)
    except ImportError as e:
        err(f"ONNX export needs the onnx extra: pip install 'arcnn[onnx]' ({e})")
        return 2
    except (ValueError, OSError) as e:
        err(str(e))
        return 2
    print(f"wrote {args.output}")
    return 0
