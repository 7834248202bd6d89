"""`%onnx compare [NAME] --providers cpu,cuda [-o VAR]`: whether the providers agree."""

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
    from workbench.run.compare import Comparison


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx compare` (no default providers: the command picks them)."""
    parser = new_parser(
        "compare", "Compare outputs across providers (first = baseline).", model=True, feeds=True
    )
    flags.add_compare_options(parser, providers=None)
    return parser


def command(magics: OnnxMagics, args: argparse.Namespace) -> Comparison | None:
    """Compare OnnxMagics.providers when it names several, else cpu with cuda."""
    model = magics.model(args.name)
    if not args.providers:
        args.providers = list(magics.providers) if len(magics.providers) > 1 else ["cpu", "cuda"]
    options = flags.compare_kwargs(args)
    if args.show_code:
        show_call(model, args, "workbench.compare", options, default_name="comparison")
        return None
    from workbench.run.compare import compare  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)

    result = compare(model, feeds=feeds(magics, args, model), **options)
    return magics.store(args.output, result)


SUBCOMMAND = Subcommand(
    "compare", "[NAME]", "compare providers (--providers cpu,cuda)", parser, command
)
