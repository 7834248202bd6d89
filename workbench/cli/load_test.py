"""`onnx-workbench load-test MODEL`: how much traffic the model takes at a latency bound."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workbench.cli import flags
from workbench.feeds.files import load_feeds
from workbench.loadtest.engine import load_test
from workbench.loadtest.result import LoadResult
from workbench.model.model import load
from workbench.text import printable

EXIT_SKIPPED = 4


def register(subparsers: Any) -> None:
    """Add the `load-test` subcommand."""
    parser = subparsers.add_parser(
        "load-test",
        help="serving scenarios: latency under load, throughput, peak QPS at a p99 bound",
        description=(
            "Load the model as a server would be: single-stream, concurrency (closed loop), "
            "server (Poisson arrivals at --qps, latency from each scheduled arrival, so "
            "queueing counts), offline (throughput), or peak (the highest rate within the "
            "bound). Runs in a worker process; every request is kept."
        ),
        epilog="Exit status: 0 every run ok; 1 a run overloaded, unattainable or failed; "
        f"{EXIT_SKIPPED} nothing failed but a provider could not run here (skipped).",
    )
    parser.add_argument("model", help="path to an .onnx file")
    flags.add_load_test_options(parser)
    flags.add_inputs_option(parser)
    parser.add_argument("--plot", metavar="OUT.png", help="write the latency-throughput plot")
    flags.add_output_options(parser, LoadResult.report_formats)
    parser.set_defaults(handler=load_test_command)


def load_test_command(args: argparse.Namespace) -> int:
    """Run, print the table (or JSON), write the reports and the plot."""
    paths = flags.report_paths(args.report, LoadResult.report_formats)
    options = flags.load_test_kwargs(args)
    model = load(args.model)
    feeds = load_feeds(args.inputs, model) if args.inputs else None
    result = load_test(model, feeds=feeds, **options)
    flags.show(result, args)
    flags.write_reports(result, paths, args)
    if args.plot and any(r.achieved_qps for r in result.rows):
        from workbench import plots  # noqa: PLC0415  (matplotlib: only for --plot)

        plots.picture(
            lambda ax: plots.latency_throughput(result, ax), 1, "load test"
        ).figure.savefig(args.plot, dpi=100)
        print(printable(f"wrote {args.plot}"), file=sys.stderr if args.json else sys.stdout)
    verdicts = {r.verdict for r in result.rows}
    if verdicts - {"ok", "skipped"}:
        return 1
    return EXIT_SKIPPED if "skipped" in verdicts else 0
