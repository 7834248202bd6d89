"""`%onnx load PATH [--name NAME]`: load a model and make it the current one."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from workbench.magics import codegen
from workbench.magics.parser import MagicParser, Subcommand, new_parser, show_code

if TYPE_CHECKING:
    from workbench.magics.router import OnnxMagics
    from workbench.model.model import Model


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx load`."""
    parser = new_parser("load", "Load a model and make it the current one.")
    parser.add_argument("path", help="path to an .onnx file")
    parser.add_argument("--name", help="name to refer to it by (default: the file's stem)")
    return parser


def command(magics: OnnxMagics, args: argparse.Namespace) -> Model | None:
    """Load, remember under a name, and return the model (it displays as its card)."""
    if args.show_code:
        show_code(codegen.model_line(args.path), "model")
        return None
    from workbench.model.model import load  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)

    model = load(args.path)
    name = magics.remember(model, args.name)
    print(f"Loaded {name!r} (the current model). %onnx list shows every loaded model.")
    return model


SUBCOMMAND = Subcommand(
    "load", "PATH [--name NAME]", "load a model and make it current", parser, command
)
