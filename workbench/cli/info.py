"""`onnx-workbench info MODEL [--json]`: what is in a model file."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from workbench.display import model_text
from workbench.model import load


def register(subparsers: Any) -> None:
    """Add the `info` subcommand."""
    parser = subparsers.add_parser(
        "info",
        help="summarize a model: metadata, inputs/outputs, ops, parameters, compatibility",
        description="Summarize an ONNX model without reading its external weights.",
    )
    parser.add_argument("model", help="path to an .onnx file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--check",
        action="store_true",
        help="also run onnx.checker (and onnxruntime where the checker complains)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the summary; exit 1 if --check finds the model invalid."""
    model = load(args.model)
    summary = model.summary()
    if args.check:
        summary["check"] = model.check().as_dict()
    if args.json:
        json.dump(summary, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(model_text(model))
        if args.check:
            print("\n" + _check_text(summary["check"]))
    return 0


def _check_text(check: dict[str, Any]) -> str:
    if check["checker_ok"]:
        return "Check: onnx.checker passes."
    return (
        f"Check: onnx.checker complains ({check['checker_message']}), "
        "but onnxruntime runs the model."
    )
