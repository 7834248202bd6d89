"""`onnx-workbench bench MODEL`: latency across providers, batch sizes, threads, levels, modes."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workbench.arguments import add_bench_options, bench_kwargs
from workbench.bench.engine import benchmark
from workbench.errors import WorkbenchError
from workbench.feed_files import load_feeds
from workbench.model import load
from workbench.report import report_target


def register(subparsers: Any) -> None:
    """Add the `bench` subcommand."""
    parser = subparsers.add_parser(
        "bench",
        help="measure latency across providers, batch sizes, threads and modes",
        description="Benchmark a model; unusable providers are reported as skipped rows.",
    )
    parser.add_argument("model", help="path to an .onnx file")
    add_bench_options(
        parser, providers=["cpu"], batch_sizes=None, time_budget=3.0, executor="inprocess"
    )
    parser.add_argument("--inputs", metavar="FILE", help="feeds from .npz/.npy/.pb or a folder")
    parser.add_argument(
        "--json", metavar="FILE", help="write the JSON report (raw samples included)"
    )
    parser.add_argument("--csv", metavar="FILE", help="write the table as CSV")
    parser.add_argument("--md", metavar="FILE", help="write a Markdown summary")
    parser.add_argument("--report", metavar="FILE.html", help="write the HTML report")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Benchmark, print the table, write the requested files. Exit 1 if nothing ran."""
    paths = _report_paths(args)  # checked first: a bad path must not cost the whole run
    model = load(args.model)
    feeds = load_feeds(args.inputs, model) if args.inputs else None
    result = benchmark(model, feeds=feeds, progress=sys.stderr.isatty(), **bench_kwargs(args))
    print(result.text())
    for path in paths:
        for written in result.report(path):
            print(f"wrote {written}")
    return 0 if result.measured else 1


_REPORT_FLAGS = {"json": "json", "csv": "csv", "md": "md", "report": "html"}


def _report_paths(args: argparse.Namespace) -> list[str]:
    """The report files asked for; each flag's path must name its own format."""
    paths = []
    for flag, kind in _REPORT_FLAGS.items():
        path = getattr(args, flag)
        if not path:
            continue
        _, (named,) = report_target(path)
        if named != kind:
            raise WorkbenchError(
                f"--{flag} writes {kind.upper()}, but {path!r} names a .{named} file.",
                f"End the path with .{kind}.",
            )
        paths.append(path)
    return paths
