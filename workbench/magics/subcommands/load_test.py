"""`%onnx load-test [NAME] --scenario peak --p99 20ms [-o VAR]`: latency under load."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from IPython.display import display

from workbench.cli import flags
from workbench.magics.parser import MagicParser, Subcommand, feeds, new_parser, show_call

if TYPE_CHECKING:
    from workbench.loadtest.result import LoadResult
    from workbench.magics.router import OnnxMagics


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx load-test`: the CLI's flags, --feeds VAR, and -o VAR."""
    parser = new_parser(
        "load-test",
        "Serving scenarios: latency under load (from each request's scheduled arrival), "
        "throughput, and the peak rate within a latency bound.",
        model=True,
        feeds=True,
    )
    flags.add_load_test_options(parser)
    return parser


def command(magics: OnnxMagics, args: argparse.Namespace) -> LoadResult | None:
    """Run; show the table and, where requests completed, the latency-throughput curve."""
    model = magics.model(args.name)
    options = flags.load_test_kwargs(args)
    if args.show_code:
        show_call(model, args, "workbench.load_test", options, default_name="load")
        return None
    from workbench import plots  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)
    from workbench.loadtest.engine import load_test  # noqa: PLC0415  (as above)

    result = load_test(model, feeds=feeds(magics, args, model), **options)
    magics.store(args.output, result)
    display(result)
    if any(r.achieved_qps and r.percentile_ms for r in result.rows):
        display(plots.picture(lambda ax: result.plot(ax=ax), 1, "latency against throughput"))
    return None


SUBCOMMAND = Subcommand(
    "load-test", "[NAME]", "latency under load, peak QPS at a bound (--scenario, --p99)",
    parser, command,
)  # fmt: skip
