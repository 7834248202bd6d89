"""`%onnx explore [NAME]`: the widget explorer on a loaded model (or a model picker)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

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
    from workbench.widgets.explorer import Explorer


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx explore`."""
    return new_parser(
        "explore", "The widget explorer: overview, graph, run and benchmark tabs.", model=True
    )


def command(magics: OnnxMagics, args: argparse.Namespace) -> Explorer | None:
    """The explorer app (it displays as the cell's result)."""
    model = magics.model(args.name) if args.name or magics.current else None
    if args.show_code:
        show_code(
            codegen.model_line(model_path(model)) if model else None,
            "workbench.explore(model)" if model else "workbench.explore()",
        )
        return None
    from workbench.widgets.explorer import explore  # noqa: PLC0415  (needs ipywidgets; on use)

    return explore(model)


SUBCOMMAND = Subcommand(
    "explore",
    "[NAME]",
    "the widget explorer (overview, graph, run, benchmark tabs)",
    parser,
    command,
)
