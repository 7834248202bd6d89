"""`%onnx history [MODEL]`: what the results history holds, its trends and changes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from workbench.cli import flags
from workbench.magics import codegen
from workbench.magics.parser import MagicParser, Subcommand, new_parser, show_code

if TYPE_CHECKING:
    from workbench.magics.router import OnnxMagics


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx history`."""
    parser = new_parser(
        "history",
        "Stored results (every benchmark, evaluation and load test), p50 over time per "
        "configuration, and the sustained changes detected.",
    )
    flags.add_history_query_options(parser)  # MODEL may also be a loaded model's name
    parser.add_argument("-o", "--output", metavar="VAR", help="store the History in this variable")
    return parser


def command(magics: OnnxMagics, args: argparse.Namespace) -> Any:
    """The History (it displays as the cell's result: changes, plot, latest results)."""
    model: Any = args.model
    if model is not None and model in magics.models:
        model = magics.models[model].name  # a loaded model: its key is its name
    options = {"label": args.label, "since": args.since, "provider": args.provider,
               "store": args.store}  # fmt: skip
    options = {k: v for k, v in options.items() if v is not None}
    if args.show_code:
        call = codegen.call("workbench.history", *([repr(model)] if model else []), **options)
        show_code(f"{args.output or 'history'} = {call}")
        return None
    from workbench.tracking.query import history  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)

    return magics.store(args.output, history(model, **options))


SUBCOMMAND = Subcommand(
    "history", "[MODEL]", "stored results over time, and where they changed", parser, command
)
