"""`%onnx profile [NAME] --provider P [--runs N] [-o VAR]`: time per operator."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from IPython.display import display

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


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx profile`: the same session and feed flags as `run`, and --runs."""
    parser = new_parser(
        "profile", "Per-operator profile from onnxruntime's profiler.", model=True, feeds=True
    )
    flags.add_run_options(parser, provider=magics.default_provider)
    parser.add_argument("--runs", type=int, default=10, help="profiled runs (default 10)")
    return parser


def command(magics: OnnxMagics, args: argparse.Namespace) -> None:
    """Profile; show the table by op type and its plot."""
    model = magics.model(args.name)
    options = {**flags.run_kwargs(args), "runs": args.runs}
    if args.show_code:
        show_call(model, args, "workbench.profile", options, default_name="profile")
        return
    from workbench import plots  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)
    from workbench.run.profile import profile  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)

    result = profile(model, feeds=feeds(magics, args, model), **options)
    magics.store(args.output, result)
    display(result)
    display(plots.picture(lambda ax: result.plot(ax=ax), 15, "time by op type plot"))


SUBCOMMAND = Subcommand("profile", "[NAME]", "per-operator profile (--provider P)", parser, command)
