"""`onnx-workbench compare MODEL --providers cpu,cuda`: whether the providers agree."""

from __future__ import annotations

import argparse
from typing import Any

from workbench.cli import flags
from workbench.feeds.files import load_feeds
from workbench.model.model import load
from workbench.run.compare import FAILED, MISMATCH, Comparison, compare

EXIT_SKIPPED = 4


def register(subparsers: Any) -> None:
    """Add the `compare` subcommand."""
    parser = subparsers.add_parser(
        "compare",
        help="compare outputs across providers (or with expected outputs)",
        description="Run the same feeds on several providers and compare every output.",
        epilog="Exit status: 0 all outputs agree; 1 a difference or a failed run; "
        f"{EXIT_SKIPPED} nothing differs but a provider could not run here (skipped).",
    )
    parser.add_argument("model", help="path to an .onnx file")
    flags.add_compare_options(parser, providers=["cpu", "cuda"])
    flags.add_inputs_option(parser)
    flags.add_output_options(parser, Comparison.report_formats)
    parser.set_defaults(handler=compare_command)


def compare_command(args: argparse.Namespace) -> int:
    """Exit 0 when every compared output agrees, 1 otherwise (4: a provider was skipped)."""
    paths = flags.report_paths(args.report, Comparison.report_formats)
    model = load(args.model)
    feeds = load_feeds(args.inputs, model) if args.inputs else None
    result = compare(model, feeds=feeds, **flags.compare_kwargs(args))
    flags.show(result, args)
    flags.write_reports(result, paths, args)
    if any(r.status in (MISMATCH, FAILED) for r in result.rows):
        return 1
    return EXIT_SKIPPED if result.skipped else 0
