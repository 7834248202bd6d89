"""`%onnx info [NAME]`: the model card, and the providers that cannot run here."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from IPython.display import display

from workbench.magics import codegen
from workbench.magics.parser import (
    MagicParser,
    Subcommand,
    model_path,
    new_parser,
    show_code,
)

if TYPE_CHECKING:
    from workbench.magics.router import OnnxMagics


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx info`."""
    return new_parser(
        "info", "Metadata, inputs/outputs, op histogram, compatibility, providers.", model=True
    )


def command(magics: OnnxMagics, args: argparse.Namespace) -> None:
    """Display the model card, then notes on providers not usable here."""
    model = magics.model(args.name)
    if args.show_code:
        show_code(codegen.model_line(model_path(model)), "model", "workbench.doctor()")
        return
    from workbench.ort.doctor import ProviderNotes  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)

    display(model)
    notes = ProviderNotes()
    if notes.unusable:
        display(notes)


SUBCOMMAND = Subcommand(
    "info", "[NAME]", "metadata, inputs/outputs, ops, compatibility, providers", parser, command
)
