"""`%onnx localize REFERENCE [CANDIDATE]`: where two models' numbers start to drift."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from workbench.cli import flags
from workbench.magics import codegen
from workbench.magics.parser import MagicParser, Subcommand, model_path, new_parser, show_code

if TYPE_CHECKING:
    from workbench.magics.router import OnnxMagics
    from workbench.run.localize import Localization


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx localize`."""
    parser = new_parser(
        "localize",
        "Compare every intermediate tensor of two models (or one model on two providers) over "
        "every sample: the first tensor beyond tolerance and the worst ten.",
    )
    flags.add_localize_options(parser)
    parser.add_argument("-o", "--output", metavar="VAR", help="store the result in this variable")
    return parser


def command(magics: OnnxMagics, args: argparse.Namespace) -> Any:
    """The localization (it displays as the cell's result), or the re-quantized evaluation."""
    reference = magics.model(args.reference)
    candidate = magics.model(args.candidate) if args.candidate else None
    options = flags.localize_kwargs(args)
    if args.show_code:
        _show_code(reference, candidate, args, options)
        return None
    from workbench.run.localize import localize  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)

    result: Localization = localize(reference, candidate, **options)
    magics.store(args.output, result)
    if args.repro:
        print(f"Wrote the repro to {result.repro(args.repro)}")
    if args.requantize is not None:
        from workbench.variant.requantize import requantize  # noqa: PLC0415  (as above)

        return requantize(result, worst=args.requantize)
    return result


def _show_code(
    reference: Any, candidate: Any, args: argparse.Namespace, options: dict[str, Any]
) -> None:
    lines = [f"reference = workbench.load({model_path(reference)!r})"]
    positional = ["reference"]
    if candidate is not None:
        lines.append(f"candidate = workbench.load({model_path(candidate)!r})")
        positional.append("candidate")
    name = args.output or "localization"
    lines.append(f"{name} = {codegen.call('workbench.localize', *positional, **options)}")
    if args.repro:
        lines.append(f"{name}.repro({args.repro!r})")
    if args.requantize is not None:
        lines.append(codegen.call("workbench.requantize", name, worst=args.requantize))
    show_code(*lines)


SUBCOMMAND = Subcommand(
    "localize",
    "REFERENCE [CANDIDATE]",
    "where two models' numbers start to drift (every tensor, every sample)",
    parser,
    command,
)
