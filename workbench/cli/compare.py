"""`onnx-workbench compare MODEL --providers cpu,cuda`: whether the providers agree."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from workbench.arguments import add_compare_options, compare_kwargs
from workbench.comparison import compare
from workbench.display import printable
from workbench.feed_files import load_feeds
from workbench.model import load

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
    add_compare_options(parser, providers=["cpu", "cuda"])
    parser.add_argument("--inputs", metavar="FILE", help="feeds from .npz/.npy/.pb or a folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every compared output agrees, 1 otherwise."""
    model = load(args.model)
    feeds = load_feeds(args.inputs, model) if args.inputs else None
    result = compare(model, feeds=feeds, **compare_kwargs(args))
    if args.json:
        json.dump(result.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(printable(result.text()))
    if any(r.status in ("fail", "failed") for r in result.rows):
        return 1
    return EXIT_SKIPPED if result.skipped else 0
