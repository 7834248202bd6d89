"""`%onnx bench [NAME] [bench flags] [-o VAR] [--report PATH]`: benchmark latency."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from IPython.display import display

from workbench.bench.config import REPORT_FORMATS
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
    """The parser of `%onnx bench`, its defaults from the magics' traits (%config)."""
    parser = new_parser(
        "bench",
        "Benchmark latency; shows a progress bar, then the table and plot.",
        model=True,
        feeds=True,
    )
    flags.add_bench_options(
        parser,
        providers=list(magics.providers),
        batch_sizes=list(magics.batch_sizes),
        time_budget=magics.time_budget,
        executor=magics.executor,
    )
    flags.add_report_option(parser, REPORT_FORMATS)
    return parser


def command(magics: OnnxMagics, args: argparse.Namespace) -> None:
    """Benchmark; show the table and the median latency plot; write any reports."""
    model = magics.model(args.name)
    options = flags.bench_kwargs(args)
    paths = flags.report_paths(args.report, REPORT_FORMATS)
    if args.show_code:
        name = args.output or "result"
        then = "\n".join(f"{name}.report({path!r})" for path in paths) or None
        show_call(model, args, "workbench.benchmark", options, default_name=name, then=then)
        return
    from workbench import plots  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)
    from workbench.bench.engine import benchmark  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)

    result = benchmark(model, feeds=feeds(magics, args, model), **options)
    magics.last_bench = result
    magics.store(args.output, result)
    display(result)
    if result.measured:
        kind = "machines" if len({r.machine for r in result.measured}) > 1 else "p50"
        display(
            plots.picture(
                lambda ax: result.plot(kind, ax=ax), len(result.measured), "median latency plot"
            )
        )
    if args.compare_to:
        display(result.check_against(args.compare_to, max_slowdown=args.max_slowdown,
                                     model_key=args.model_key, store=args.history))  # fmt: skip
    for path in paths:
        for written in result.report(path):
            print(f"wrote {written}")


SUBCOMMAND = Subcommand(
    "bench",
    "[NAME]",
    "benchmark (--providers, --batch, --mode, --report PATH, -o VAR)",
    parser,
    command,
)
