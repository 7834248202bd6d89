"""`%onnx diff A B [-o VAR]`: what changed between two models (loaded names or paths)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from workbench.magics import codegen
from workbench.magics.parser import MagicParser, Subcommand, model_path, new_parser, show_code

if TYPE_CHECKING:
    from workbench.magics.router import OnnxMagics
    from workbench.model.diff import ModelDiff


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx diff`."""
    parser = new_parser("diff", "What changed between two models.")
    parser.add_argument("a", help="a loaded model's name, or a model file's path")
    parser.add_argument("b", help="the other one")
    parser.add_argument(
        "--read-external", action="store_true", help="compare external weights' contents"
    )
    parser.add_argument("-o", "--output", metavar="VAR", help="store the result in this variable")
    return parser


def command(magics: OnnxMagics, args: argparse.Namespace) -> ModelDiff | None:
    """The diff (it displays as the cell's result)."""
    first, second = magics.model(args.a), magics.model(args.b)
    if args.show_code:
        options = {"read_external": True} if args.read_external else {}
        call = codegen.call("workbench.diff_models", "a", "b", **options)
        show_code(
            f"a = workbench.load({model_path(first)!r})",
            f"b = workbench.load({model_path(second)!r})",
            f"{args.output or 'difference'} = {call}",
        )
        return None
    from workbench.model.diff import diff_models  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)

    result = diff_models(first, second, read_external=args.read_external)
    return magics.store(args.output, result)


SUBCOMMAND = Subcommand("diff", "A B", "what changed between two models", parser, command)
