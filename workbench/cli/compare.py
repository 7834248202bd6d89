"""`onnx-workbench compare MODEL --providers cpu,cuda`: whether the providers agree."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from workbench.cli._options import add_shape_options, names
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
    parser.add_argument(
        "--providers",
        type=names,
        default=["cpu", "cuda"],
        help="comma-separated providers; the first is the baseline (default cpu,cuda)",
    )
    add_shape_options(parser)
    parser.add_argument("--inputs", metavar="FILE", help="feeds from .npz/.npy/.pb or a folder")
    parser.add_argument(
        "--expected",
        metavar="FILE",
        help="expected outputs (.npz or test_data_set folder) as the baseline",
    )
    parser.add_argument("--rtol", type=float, help="relative tolerance (default: by dtype)")
    parser.add_argument(
        "--atol", type=float, help="absolute tolerance, scaled by the output's range"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every compared output agrees, 1 otherwise."""
    model = load(args.model)
    feeds = load_feeds(args.inputs, model) if args.inputs else None
    result = compare(
        model,
        args.providers,
        feeds,
        rtol=args.rtol,
        atol=args.atol,
        expected=args.expected,
        dims=args.dims,
        shapes=args.shapes,
        seed=args.seed,
    )
    if args.json:
        json.dump(result.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(printable(result.text()))
    if any(r.status in ("fail", "failed") for r in result.rows):
        return 1
    return EXIT_SKIPPED if result.skipped else 0
