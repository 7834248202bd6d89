"""`%onnx list`: the loaded models."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from workbench.magics.parser import MagicParser, Subcommand, new_parser

if TYPE_CHECKING:
    from workbench.magics.router import OnnxMagics


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx list`."""
    return new_parser("list", "List the loaded models.")


def command(magics: OnnxMagics, args: argparse.Namespace) -> None:
    """Print each loaded model, the current one marked with `*`."""
    if not magics.models:
        print("No model loaded yet: %onnx load PATH")
        return
    for name, model in magics.models.items():
        mark = "*" if name == magics.current else " "
        print(f"{mark} {name}: {model.path or '(in memory)'}  ({model.node_count} nodes)")


SUBCOMMAND = Subcommand("list", "", "the loaded models", parser, command)
