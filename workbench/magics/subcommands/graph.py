"""`%onnx graph [NAME] [--optimized | --both] [--height N] [--html OUT.html]`: the graph in Netron.

With --html, the graph is written as one offline HTML file instead of shown.
"""

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
    from workbench.graphview.view import GraphView
    from workbench.magics.router import OnnxMagics


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx graph`."""
    parser = new_parser("graph", "The model's graph in Netron, embedded in the output.", model=True)
    parser.add_argument("--height", type=int, default=600, help="pixels (default 600)")
    parser.add_argument(
        "--optimized", action="store_true", help="show the graph after onnxruntime's optimizations"
    )
    parser.add_argument("--both", action="store_true", help="original and optimized side by side")
    parser.add_argument(
        "--html",
        metavar="OUT.html",
        help="write the graph as one HTML file that opens offline, instead of showing it",
    )
    return parser


def command(magics: OnnxMagics, args: argparse.Namespace) -> GraphView | None:
    """The viewer (it displays as the cell's result), or the offline file written."""
    model = magics.model(args.name)
    optimized: bool | str = "both" if args.both else bool(args.optimized)
    options = {"height": args.height, **({"optimized": optimized} if optimized else {})}
    if args.show_code:
        call = codegen.call("workbench.show_graph", "model", **options)
        show_code(
            codegen.model_line(model_path(model)),
            f"{call}.save({args.html!r})" if args.html else call,
        )
        return None
    from workbench.graphview.show import show_graph  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)

    if args.html:
        from workbench.graphview.view import save_graph  # noqa: PLC0415  (as above)
        from workbench.text import human_bytes, printable  # noqa: PLC0415  (as above)

        target = save_graph(model, args.html, optimized=optimized)
        print(
            printable(
                f"Wrote {target} ({human_bytes(target.stat().st_size)}): the graph of "
                f"{model.label}, drawn by Netron inside the file. It opens offline in a "
                "browser; in JupyterLab, once trusted (Trust HTML)."
            )
        )
        return None
    return show_graph(model, height=args.height, optimized=optimized)


SUBCOMMAND = Subcommand(
    "graph", "[NAME]", "the graph in Netron (--optimized, --both, --html FILE)", parser, command
)
