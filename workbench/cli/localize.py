"""`onnx-workbench localize REFERENCE [CANDIDATE]`: where the numbers start to drift."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workbench.cli import flags
from workbench.run.localize import Localization, localize
from workbench.text import printable


def register(subparsers: Any) -> None:
    """Add the `localize` subcommand."""
    parser = subparsers.add_parser(
        "localize",
        help="compare every intermediate tensor of two models (or two providers) over samples",
        description=(
            "Run a reference and a candidate (a re-export, an fp16 or int8 variant) on the "
            "same samples with every node output exposed, or one model on two providers, "
            "and compare each tensor they share over all samples: max and mean abs error, "
            "SQNR, elements beyond tolerance. Prints the first tensor beyond tolerance and "
            "the worst ten. QDQ models are matched as onnxruntime's qdq_loss_debug does; "
            "both run unoptimized."
        ),
        epilog="Exit status: 0 every tensor within tolerance; 1 a tensor beyond it.",
    )
    flags.add_localize_options(parser)
    parser.add_argument(
        "--graph", metavar="OUT.html", help="write the candidate's graph with the errors drawn"
    )
    flags.add_output_options(parser, Localization.report_formats)
    parser.set_defaults(handler=localize_command)


def localize_command(args: argparse.Namespace) -> int:
    """Print the localization (or its JSON); write the repro, the graph, the fix, reports."""
    paths = flags.report_paths(args.report, Localization.report_formats)
    result = localize(args.reference, args.candidate, **flags.localize_kwargs(args))
    extra: dict[str, Any] = {}
    said = sys.stderr if args.json else sys.stdout
    if args.requantize is not None:
        from workbench.variant.requantize import requantize  # noqa: PLC0415  (only on demand)

        fixed = requantize(result, worst=args.requantize)
        extra["requantized"] = fixed.as_dict()
    flags.show(result, args, extra=extra)
    if args.requantize is not None and not args.json:
        print(printable(fixed.text()))
    if args.repro:
        print(printable(f"Wrote the repro to {result.repro(args.repro)}"), file=said)
    if args.graph:
        from workbench.graphview.show import save_graph  # noqa: PLC0415  (only on demand)

        assert result.models is not None
        target, _ = save_graph(result.models[1], args.graph, overlay=result)
        print(printable(f"Wrote the graph with the errors drawn to {target}"), file=said)
    flags.write_reports(result, paths, args)
    return 0 if result.passed else 1
