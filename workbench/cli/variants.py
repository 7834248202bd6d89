"""`onnx-workbench variants MODEL`: optimized, fp16 and int8 variants, speed against accuracy."""

from __future__ import annotations

import argparse
from typing import Any

from workbench.cli import flags
from workbench.model.model import load
from workbench.variant.evaluate import Evaluation, evaluate


def register(subparsers: Any) -> None:
    """Add the `variants` subcommand."""
    parser = subparsers.add_parser(
        "variants",
        help="make optimized, fp16 and int8 variants and measure speed against accuracy",
        description=(
            "Make the model's variants with onnxruntime's own tools and evaluate each on "
            "each provider against the model as given: p50 latency and speed-up (with "
            "CIs), accuracy on every sample (max abs error, cosine, top-1), file size. A "
            "recipe that does not apply is a skipped row with its reason."
        ),
    )
    parser.add_argument("model", help="path to an .onnx file")
    flags.add_variants_options(parser)
    flags.add_output_options(parser, Evaluation.report_formats)
    parser.set_defaults(handler=variants_command)


def variants_command(args: argparse.Namespace) -> int:
    """Evaluate, print the table (or JSON), write the reports. Exit 1 if no variant ran."""
    paths = flags.report_paths(args.report, Evaluation.report_formats)
    result = evaluate(load(args.model), **flags.variants_kwargs(args))
    flags.show(result, args)
    flags.write_reports(result, paths, args)
    return 0 if any(r.status == "ok" and r.variant != "reference" for r in result.rows) else 1
