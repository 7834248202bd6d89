"""`%onnx doctor`: the installed ONNX Runtime and which providers really work here."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from workbench.magics.parser import MagicParser, Subcommand, new_parser, show_code

if TYPE_CHECKING:
    from workbench.magics.router import OnnxMagics
    from workbench.ort.doctor import DoctorReport


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx doctor`."""
    return new_parser("doctor", "The installed ONNX Runtime and which providers really work.")


def command(magics: OnnxMagics, args: argparse.Namespace) -> DoctorReport | None:
    """The doctor's report (it displays as the cell's result)."""
    if args.show_code:
        show_code("workbench.doctor()")
        return None
    from workbench.ort.doctor import doctor  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)

    return doctor()


SUBCOMMAND = Subcommand("doctor", "", "which execution providers really work here", parser, command)
