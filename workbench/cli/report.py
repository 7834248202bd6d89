"""`onnx-workbench report diff A B`: what changed between two benchmark reports."""

from __future__ import annotations

import argparse
from typing import Any

from workbench.cli import flags
from workbench.report.diff import ReportDiff, diff_reports


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
    diff.add_argument(
        "--machines",
        type=flags.machine_pairs,
        metavar="A=B",
        help="compare A's rows on machine A with B's on machine B, e.g. t4=h200 (A and B may "
        "be one report spanning machines)",
    )
    flags.add_output_options(diff, ReportDiff.report_formats)
    diff.set_defaults(handler=report_diff_command)


def report_diff_command(args: argparse.Namespace) -> int:
    """Print the per-configuration changes; exit 1 when something got significantly slower."""
    paths = flags.report_paths(args.report, ReportDiff.report_formats)
    result = diff_reports(args.a, args.b, machines=args.machines)
    flags.show(result, args)
    flags.write_reports(result, paths, args)
    return 1 if result.regressions else 0
