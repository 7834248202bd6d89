"""`onnx-workbench bench MODEL`: latency across providers, batch sizes, threads, levels, modes."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workbench.bench.config import MODES
from workbench.bench.engine import EXECUTORS, benchmark
from workbench.cli._options import add_shape_options, names
from workbench.feed_files import load_feeds
from workbench.model import load


def _batches(text: str) -> list[int]:
    try:
        return [int(part) for part in names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers like 1,8,32, got {text!r}"
        ) from None


def _threads(text: str) -> list[int | None]:
    return [None if part == "default" else _batches(part)[0] for part in names(text)]


def register(subparsers: Any) -> None:
    """Add the `bench` subcommand."""
    parser = subparsers.add_parser(
        "bench",
        help="measure latency across providers, batch sizes, threads and modes",
        description="Benchmark a model; unusable providers are reported as skipped rows.",
    )
    parser.add_argument("model", help="path to an .onnx file")
    parser.add_argument("--providers", type=names, default=["cpu"], help="e.g. cpu,cuda")
    parser.add_argument("--batch", type=_batches, help="batch sizes, e.g. 1,8,32")
    add_shape_options(parser)
    parser.add_argument("--inputs", metavar="FILE", help="feeds from .npz/.npy/.pb or a folder")
    parser.add_argument("--threads", type=_threads, help="intra-op thread counts, e.g. 1,4,default")
    parser.add_argument(
        "--opt-level",
        type=names,
        default=None,
        help="graph optimization levels, e.g. all,disabled (or 'sweep')",
    )
    parser.add_argument(
        "--mode",
        type=names,
        default=["host"],
        help=f"timing modes: {', '.join(MODES)} (default host)",
    )
    parser.add_argument("--warmup", default="auto", help="warmup runs, or 'auto' (default)")
    parser.add_argument("--runs", type=int, help="stop after this many runs per configuration")
    parser.add_argument(
        "--time-budget",
        type=float,
        default=3.0,
        help="seconds of measuring per configuration (default 3)",
    )
    parser.add_argument(
        "--target-ci",
        type=float,
        default=0.01,
        help="stop once the median's 95%% CI is within +-this (default 0.01)",
    )
    parser.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="inprocess",
        help="'worker' isolates onnxruntime in a child process",
    )
    parser.add_argument(
        "--run-timeout",
        type=float,
        default=60.0,
        help="kill a worker silent for this many seconds (default 60)",
    )
    parser.add_argument("--profile", action="store_true", help="add a per-operator profile")
    parser.add_argument(
        "--json", metavar="FILE", help="write the JSON report (raw samples included)"
    )
    parser.add_argument("--csv", metavar="FILE", help="write the table as CSV")
    parser.add_argument("--md", metavar="FILE", help="write a Markdown summary")
    parser.add_argument("--report", metavar="FILE.html", help="write the HTML report")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Benchmark, print the table, write the requested files. Exit 1 if nothing ran."""
    model = load(args.model)
    opt_levels: Any = args.opt_level
    if opt_levels == ["sweep"]:
        opt_levels = "sweep"
    result = benchmark(
        model,
        providers=args.providers,
        batch_sizes=args.batch,
        dims=args.dims,
        shapes=args.shapes,
        feeds=load_feeds(args.inputs, model) if args.inputs else None,
        intra_op_threads=args.threads,
        opt_levels=opt_levels,
        modes=args.mode,
        warmup=args.warmup if args.warmup == "auto" else int(args.warmup),
        runs=args.runs,
        time_budget=args.time_budget,
        target_ci=args.target_ci or None,
        executor=args.executor,
        run_timeout=args.run_timeout,
        seed=args.seed,
        progress=sys.stderr.isatty(),
        profile=args.profile,
    )
    print(result.text())
    for path in (args.json, args.csv, args.md, args.report):
        if path:
            for written in result.report(path):
                print(f"wrote {written}")
    return 0 if result.measured else 1
