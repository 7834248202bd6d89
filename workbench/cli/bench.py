"""`onnx-workbench bench MODEL`: latency across providers, batch sizes, threads, levels, modes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from workbench.bench.engine import benchmark
from workbench.bench.results import BenchmarkResult
from workbench.cli import flags
from workbench.errors import WorkbenchError
from workbench.feeds.files import load_feeds
from workbench.model.model import load
from workbench.render.files import report_target
from workbench.report.load import load_report

FORMATS = BenchmarkResult.report_formats
# Until 0.2 each format had its own flag naming a file; --report PATH now covers them all.
_DEPRECATED_FILE_FLAGS = ("json", "csv", "md")


def register(subparsers: Any) -> None:
    """Add the `bench` subcommand."""
    parser = subparsers.add_parser(
        "bench",
        help="measure latency across providers, batch sizes, threads and modes",
        description="Benchmark a model; unusable providers are reported as skipped rows. The "
        "result is added to the history (see `onnx-workbench history`).",
        epilog="Exit status: 0 measured; 1 nothing measured. With --compare-to: 0 nothing got "
        "slower, 1 a configuration got slower (or stopped working), 2 nothing was compared "
        "(no baseline, or nothing matched it).",
    )
    # Optional to argparse only: `bench --json MODEL` must not take MODEL for --json's FILE.
    parser.add_argument("model", nargs="?", help="path to an .onnx file")
    flags.add_bench_options(
        parser, providers=["cpu"], batch_sizes=None, time_budget=3.0, executor="inprocess"
    )
    flags.add_inputs_option(parser)
    parser.add_argument(
        "--json",
        nargs="?",
        const=True,
        default=False,
        metavar="FILE",
        help="print the report's JSON to stdout (raw samples included); "
        "--json FILE is deprecated: use --report FILE.json",
    )
    flags.add_report_option(parser, FORMATS)
    parser.add_argument("--csv", metavar="FILE", help="deprecated: use --report FILE.csv")
    parser.add_argument("--md", metavar="FILE", help="deprecated: use --report FILE.md")
    parser.set_defaults(handler=bench_command, usage_error=parser.error)


def bench_command(args: argparse.Namespace) -> int:
    """Benchmark, print the table (or JSON), write the reports. Exit 1 if nothing ran."""
    if args.model is None:  # `bench --json MODEL`: argparse gave MODEL to --json
        if not isinstance(args.json, str) or args.json.lower().endswith(".json"):
            args.usage_error("the following arguments are required: model")
        args.model, args.json = args.json, True
    paths = _report_paths(args)  # checked first: a bad path must not cost the whole run
    model = load(args.model)
    feeds = load_feeds(args.inputs, model) if args.inputs else None
    result = benchmark(model, feeds=feeds, progress=sys.stderr.isatty(), **flags.bench_kwargs(args))
    if result.settings.get("history_error"):  # the CLI hides warnings: say this one
        print(f"note: {result.settings['history_error']}", file=sys.stderr)
    gate = None
    if args.compare_to:
        try:
            baseline: Any = args.compare_to
            if baseline.lower().endswith((".html", ".htm")):
                baseline = load_report(baseline)
            gate = result.check_against(baseline, max_slowdown=args.max_slowdown,
                                        model_key=args.model_key, store=args.history)  # fmt: skip
        except WorkbenchError as error:  # no baseline to compare with: nothing was compared
            print(f"error: {error.message}\nhint: {error.hint}", file=sys.stderr)
            flags.write_reports(result, paths, args)
            return 2
    flags.show(result, args, extra={"gate": gate.as_dict()} if gate else None)
    if gate is not None:
        if not args.json:
            print("\n" + gate.markdown())
        if args.summary:
            Path(args.summary).write_text(gate.markdown(), encoding="utf-8")
    flags.write_reports(result, paths, args)
    if gate is not None:
        return gate.exit_code
    return 0 if result.measured else 1


def _report_paths(args: argparse.Namespace) -> list[str]:
    """--report paths, plus those of the deprecated per-format flags.

    Each deprecated flag's path must name its own format; `args.json` becomes the plain flag
    it now is.
    """
    paths = flags.report_paths(args.report, FORMATS)
    for flag in _DEPRECATED_FILE_FLAGS:
        path = getattr(args, flag)
        if not isinstance(path, str):
            continue
        _, (named,) = report_target(path, FORMATS)
        if named != flag:
            raise WorkbenchError(
                f"--{flag} writes {flag.upper()}, but {path!r} names a .{named} file.",
                f"Use --report {path}: the extension picks the format.",
            )
        print(
            f"note: --{flag} FILE is deprecated and goes in 0.3; use --report {path} "
            "(the extension picks the format).",
            file=sys.stderr,
        )
        paths.append(path)
    args.json = args.json is True
    return paths
