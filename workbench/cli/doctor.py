"""`onnx-workbench doctor`: the installed ONNX Runtime and which providers really work."""

from __future__ import annotations

import argparse
from typing import Any

from workbench.cli import flags
from workbench.ort.doctor import DoctorReport, doctor


def register(subparsers: Any) -> None:
    """Add the `doctor` subcommand."""
    parser = subparsers.add_parser(
        "doctor",
        help="check the ONNX Runtime install and probe every execution provider",
        description="Probe every compiled-in execution provider and explain the unusable ones.",
    )
    flags.add_output_options(parser, DoctorReport.report_formats)
    parser.set_defaults(handler=doctor_command)


def doctor_command(args: argparse.Namespace) -> int:
    """Print the report and write any report files."""
    paths = flags.report_paths(args.report, DoctorReport.report_formats)
    report = doctor()
    flags.show(report, args)
    flags.write_reports(report, paths, args)
    return 0
