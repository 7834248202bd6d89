"""`onnx-workbench report diff A B`: what changed between two benchmark reports."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from workbench.display import printable
from workbench.report.diff import diff_reports


def register(subparsers: Any) -> None:
    """Add the `report` subcommand and its `diff` action."""
    parser = subparsers.add_parser("report", help="work with benchmark reports")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    diff = actions.add_parser(
        "diff",
        help="compare two reports configuration by configuration",
        description="A change is significant when the medians' 95%% CIs do not overlap.",
        epilog="Exit status: 0 no significant slowdown; 1 a configuration got slower.",
    )
    diff.add_argument("a", help="the earlier report (.json or .html)")
    diff.add_argument("b", help="the later report (.json or .html)")
    diff.add_argument("--json", action="store_true", help="print one JSON object")
    diff.set_defaults(handler=run_diff)


def run_diff(args: argparse.Namespace) -> int:
    """Print the per-configuration changes; exit 1 when something got significantly slower."""
    result = diff_reports(args.a, args.b)
    if args.json:
        json.dump(result.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(printable(result.text()))
    return 1 if result.regressions else 0
