"""`%onnx run [NAME] [--provider P] [--feeds VAR | --inputs FILE] [--value NAME=V] [-o VAR]`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from workbench.cli import flags
from workbench.magics.parser import (
    MagicParser,
    Subcommand,
    feeds,
    new_parser,
    show_call,
)

if TYPE_CHECKING:
    from workbench.magics.router import OnnxMagics
    from workbench.run.result import RunResult


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx run` (the default provider is the first of OnnxMagics.providers)."""
    parser = new_parser(
        "run", "Run the model once and summarize its outputs.", model=True, feeds=True
    )
    flags.add_run_options(parser, provider=magics.default_provider)
    return parser


def command(magics: OnnxMagics, args: argparse.Namespace) -> RunResult | None:
    """Run once; the result displays as the cell's output."""
    model = magics.model(args.name)
    options = flags.run_kwargs(args)
    if args.show_code:
        show_call(model, args, "model.run", options, default_name="result")
        return None
    result = model.run(feeds(magics, args, model), **options)
    return magics.store(args.output, result)


SUBCOMMAND = Subcommand(
    "run",
    "[NAME]",
    "run once (--provider, --dims, --value NAME=V, --feeds VAR, --inputs FILE, -o VAR)",
    parser,
    command,
)
