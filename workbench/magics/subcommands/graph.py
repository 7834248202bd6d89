"""`%onnx graph [NAME] [--optimized | --both] [--overlay KIND|VAR] [--html OUT.html]`: the graph.

With --overlay, measurements are drawn on it: profile, placement, compare, localize or diff
(measured here), or a variable holding a ProfileResult, a Comparison, a Localization, a
ModelDiff or your own data. --around NODE [--depth N] or --block I draw only that part
(--save PART.onnx keeps it). With --html, the graph is written as one offline HTML file
instead of shown.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from workbench.cli import flags
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
    from workbench.model.model import Model


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx graph`."""
    parser = new_parser("graph", "The model's graph in Netron, embedded in the output.", model=True)
    parser.add_argument("--height", type=int, default=600, help="pixels (default 600)")
    parser.add_argument(
        "--optimized", action="store_true", help="show the graph after onnxruntime's optimizations"
    )
    parser.add_argument("--both", action="store_true", help="original and optimized side by side")
    flags.add_overlay_options(
        parser,
        help_extra=", or a variable holding a profile, a comparison, a localization, a diff "
        "or your data",
    )
    flags.add_part_options(parser)
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
    options: dict[str, Any] = {"height": args.height}
    if optimized:
        options["optimized"] = optimized
    if args.provider != "cpu":
        options["provider"] = args.provider
    if args.opt_level:
        options["opt_level"] = args.opt_level
    if args.top != 10:
        options["top"] = args.top
    part = flags.part_kwargs(args)
    if args.show_code:
        _show_code(model, args, {**options, **part})
        return None
    if part:
        from workbench.graphview.show import part_of  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)

        model = part_of(model, around=part.get("around"), depth=part.get("depth", 1),
                        block=part.get("block"))  # fmt: skip
        if args.save:
            print(f"Saved the part ({model.node_count} nodes) to {model.save(args.save)}")
    if args.overlay:
        options["overlay"] = (
            flags.overlay_value(model, args)
            if args.overlay in flags.OVERLAYS
            else magics.variable(args.overlay)
        )
    from workbench.graphview.show import save_graph, show_graph  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)

    if args.html:
        from workbench.text import human_bytes, printable  # noqa: PLC0415  (as above)

        options.pop("height")
        target, drawn = save_graph(model, args.html, **options)
        print(
            printable(
                f"Wrote {target} ({human_bytes(target.stat().st_size)}): the graph of "
                f"{model.label}, drawn by Netron inside the file. It opens offline in a "
                "browser; in JupyterLab, once trusted (Trust HTML)."
            )
        )
        if drawn:
            print(printable(drawn.text()))
        return None
    return show_graph(model, **options)


def _show_code(model: Model, args: argparse.Namespace, options: dict[str, Any]) -> None:
    """The script: the measurement the overlay draws, then show_graph(...)."""
    measure = flags.overlay_call(args) if args.overlay in flags.OVERLAYS else None
    lines = [codegen.model_line(model_path(model))]
    overlay = ""
    if args.save:
        part = {k: options.pop(k) for k in ("around", "depth", "block") if k in options}
        lines.append(f"model = {codegen.call('model.subgraph', **part)}")
        lines.append(f"model.save({args.save!r})")
    if measure is not None:
        function, keywords = measure
        reference = [repr(keywords.pop(k)) for k in ("reference", "a") if k in keywords]
        lines.append(f"overlay = {codegen.call(function, *reference, 'model', **keywords)}")
        overlay = "overlay"
    elif args.overlay == "placement":
        overlay = repr("placement")
    elif args.overlay:
        overlay = args.overlay  # a variable of the notebook
    call = codegen.call("workbench.show_graph", "model", **options)
    if overlay:
        call = f"{call[:-1]}, overlay={overlay})"
    if args.html:
        call = f"{call}.save({args.html!r})"
    show_code(*lines, call)


SUBCOMMAND = Subcommand(
    "graph",
    "[NAME]",
    "the graph in Netron (--optimized, --both, --overlay KIND, --html FILE)",
    parser,
    command,
)
