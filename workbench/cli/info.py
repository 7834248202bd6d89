"""`onnx-workbench info MODEL`: what is in a model file."""

from __future__ import annotations

import argparse
from typing import Any

from workbench.cli import flags
from workbench.model.model import Model, load
from workbench.text import printable


def register(subparsers: Any) -> None:
    """Add the `info` subcommand."""
    parser = subparsers.add_parser(
        "info",
        help="summarize a model: metadata, inputs/outputs, ops, parameters, compatibility",
        description="Summarize an ONNX model without reading its external weights.",
    )
    parser.add_argument("model", help="path to an .onnx file")
    parser.add_argument(
        "--check",
        action="store_true",
        help="also run onnx.checker (and onnxruntime where the checker complains)",
    )
    parser.add_argument(
        "--full", action="store_true", help="show long metadata values and descriptions whole"
    )
    flags.add_output_options(parser, Model.report_formats)
    parser.set_defaults(handler=info_command)


def info_command(args: argparse.Namespace) -> int:
    """Print the summary (text or JSON) and write any reports."""
    paths = flags.report_paths(args.report, Model.report_formats)
    model = load(args.model)
    check = model.check().as_dict() if args.check else None
    if args.full and not args.json:
        print(printable(model.text(full=True)))
    else:
        flags.show(model, args, extra={"check": check} if check else None)
    if check is not None and not args.json:
        print("\n" + _check_text(check))
    flags.write_reports(model, paths, args)
    return 0


def _check_text(check: dict[str, Any]) -> str:
    if check["checker_ok"]:
        return "Check: onnx.checker passes."
    return (
        f"Check: onnx.checker complains ({check['checker_message']}), "
        "but onnxruntime runs the model."
    )
