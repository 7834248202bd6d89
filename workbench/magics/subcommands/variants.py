"""`%onnx variants [NAME] --variants fp16,int8-dynamic [-o VAR]`: speed against accuracy."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from IPython.display import display

from workbench.cli import flags
from workbench.magics.parser import MagicParser, Subcommand, new_parser, show_call

if TYPE_CHECKING:
    from workbench.magics.router import OnnxMagics
    from workbench.variant.evaluate import Evaluation


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx variants`: the CLI's flags, and -o VAR."""
    parser = new_parser(
        "variants", "Variants (optimized, fp16, int8) against the model: speed and accuracy.",
        model=True,
    )  # fmt: skip
    flags.add_variants_options(parser)
    parser.add_argument("-o", "--output", metavar="VAR", help="store the result in this variable")
    return parser


def command(magics: OnnxMagics, args: argparse.Namespace) -> Evaluation | None:
    """Evaluate; show the table and, where rows were compared, the speed/accuracy plot."""
    model = magics.model(args.name)
    options = flags.variants_kwargs(args)
    if args.show_code:
        args.feeds = args.inputs = None  # (show_call's feed line: variants takes data=)
        show_call(model, args, "workbench.evaluate", options, default_name="evaluation")
        return None
    from workbench import plots  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)
    from workbench.variant.evaluate import evaluate  # noqa: PLC0415  (as above)

    result = evaluate(model, **options)
    magics.store(args.output, result)
    display(result)
    if any(r.status == "ok" and r.max_abs_error is not None for r in result.rows):
        display(plots.picture(lambda ax: result.plot(ax=ax), 4, "speed against accuracy"))
    return None


SUBCOMMAND = Subcommand(
    "variants", "[NAME]", "variants vs the model (--variants fp16,int8-dynamic)", parser, command
)
