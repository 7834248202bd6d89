"""`onnx-workbench diff A.onnx B.onnx`: what changed between two models."""

from __future__ import annotations

import argparse
from typing import Any

from workbench.cli import flags
from workbench.model.diff import ModelDiff, diff_models


def register(subparsers: Any) -> None:
    """Add the `diff` subcommand."""
    parser = subparsers.add_parser(
        "diff",
        help="what changed between two models: IO, ops, nodes, initializers, properties",
        description=(
            "Compare two models: their inputs and outputs, op histogram, nodes (matched by "
            "name, then by structure, so a re-export that renamed everything still "
            "matches), attributes, initializers (renamed but equal ones found by content), "
            "opsets, IR version, producer, metadata and size."
        ),
    )
    parser.add_argument("a", help="the first model (.onnx)")
    parser.add_argument("b", help="the second model (.onnx)")
    parser.add_argument(
        "--read-external",
        action="store_true",
        help="read external weights to compare their contents (default: by shape and type)",
    )
    flags.add_output_options(parser, ModelDiff.report_formats)
    parser.set_defaults(handler=diff_command)


def diff_command(args: argparse.Namespace) -> int:
    """Print the diff (or its JSON), write the reports. Exit 0 either way: a diff is no error."""
    paths = flags.report_paths(args.report, ModelDiff.report_formats)
    result = diff_models(args.a, args.b, read_external=args.read_external)
    flags.show(result, args)
    flags.write_reports(result, paths, args)
    return 0
