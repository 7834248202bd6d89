"""`onnx-workbench doctor [--json]`: the installed ONNX Runtime and which providers really work."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from workbench.diagnose import doctor


def register(subparsers: Any) -> None:
    """Add the `doctor` subcommand."""
    parser = subparsers.add_parser(
        "doctor",
        help="check the ONNX Runtime install and probe every execution provider",
        description="Probe every compiled-in execution provider and explain the unusable ones.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the report."""
    report = doctor()
    if args.json:
        json.dump(report.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(report.text())
    return 0
