"""`onnx-workbench localize REFERENCE [CANDIDATE]`: where the numbers start to drift."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workbench.cli import flags
from workbench.run.localize import TOP, Localization, localize
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
    parser.add_argument("reference", help="the reference model (.onnx)")
    parser.add_argument(
        "candidate", nargs="?", help="the model to check (default: the reference, on two providers)"
    )
    parser.add_argument(
        "--providers",
        type=flags.names,
        default=["cpu"],
        help="one provider for both, or the reference's and the candidate's (default cpu)",
    )
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="the samples: .npz, a test_data_set folder or a folder of them (default: "
        "--samples synthetic ones)",
    )
    parser.add_argument("--samples", type=int, default=16, help="synthetic samples (default 16)")
    parser.add_argument("--rtol", type=float, help="relative tolerance (default: by dtype)")
    parser.add_argument("--atol", type=float, help="absolute tolerance, scaled by each range")
    parser.add_argument("--top", type=int, default=TOP, help=f"worst tensors listed ({TOP})")
    parser.add_argument(
        "--repro", metavar="DIR", help="write the first bad tensor's node as a model to share"
    )
    parser.add_argument(
        "--requantize",
        type=int,
        nargs="?",
        const=3,
        metavar="N",
        help="quantize the int8 candidate again without its N worst nodes (default 3) and "
        "show both rows",
    )
    parser.add_argument(
        "--graph", metavar="OUT.html", help="write the candidate's graph with the errors drawn"
    )
    flags.add_output_options(parser, Localization.report_formats)
    parser.set_defaults(handler=localize_command)


def localize_command(args: argparse.Namespace) -> int:
    """Print the localization (or its JSON); write the repro, the graph, the fix, reports."""
    paths = flags.report_paths(args.report, Localization.report_formats)
    result = localize(args.reference, args.candidate, args.data, args.providers,
                      samples=args.samples, rtol=args.rtol, atol=args.atol,
                      top=args.top)  # fmt: skip
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
