"""`onnx-workbench graph MODEL [--overlay KIND] [--html OUT.html]`: the graph as an offline file."""

from __future__ import annotations

import argparse
import json
import sys
import webbrowser
from pathlib import Path
from typing import Any

from workbench.cli import flags
from workbench.graphview.show import part_of, save_graph
from workbench.model.model import load
from workbench.text import human_bytes, printable


def register(subparsers: Any) -> None:
    """Add the `graph` subcommand."""
    parser = subparsers.add_parser(
        "graph",
        help="write the model's graph as one HTML file (Netron inside) that opens offline",
        description=(
            "Write the model's graph as one self-contained HTML file: Netron's viewer and "
            "the model inside, nothing fetched from anywhere. It opens from disk in "
            "a browser (Chromium, Firefox) and can be shared as is. --overlay draws "
            "measurements on it: the profile and the placement on the graph onnxruntime "
            "runs, a comparison on the original graph."
        ),
    )
    parser.add_argument("model", help="path to an .onnx file")
    parser.add_argument(
        "--html",
        metavar="OUT.html",
        help="the file to write (default: the model's name with .html, in this folder)",
    )
    parser.add_argument(
        "--optimized",
        action="store_true",
        help="the graph after onnxruntime's optimizations (what it fused)",
    )
    flags.add_overlay_options(parser)
    flags.add_part_options(parser)
    parser.add_argument("--open", action="store_true", help="open it in the default browser")
    parser.add_argument(
        "--json", action="store_true", help="print what was written as one JSON object"
    )
    parser.set_defaults(handler=graph_command)


def graph_command(args: argparse.Namespace) -> int:
    """Write the file and say where it is (and what the overlay matched)."""
    part = flags.part_kwargs(args)
    model = load(args.model)
    if part:
        model = part_of(model, around=part.get("around"), depth=part.get("depth", 1),
                        block=part.get("block"))  # fmt: skip
        if args.save:
            saved = model.save(args.save)
            print(printable(f"Saved the part ({model.node_count} nodes) to {saved}"),
                  file=sys.stderr if args.json else sys.stdout)  # fmt: skip
    overlay = flags.overlay_value(model, args)
    suffix = f".{args.overlay}" if args.overlay else ".optimized" if args.optimized else ""
    suffix = (".part" if part else "") + suffix
    target, drawn = save_graph(
        model,
        args.html or f"{Path(args.model).stem}{suffix}.html",
        optimized=args.optimized,
        provider=args.provider,
        opt_level=args.opt_level,
        overlay=overlay,
        top=args.top,
    )
    if args.json:
        written = {
            "path": str(target),
            "bytes": target.stat().st_size,
            "model": str(args.model),
            "graph": drawn.graph if drawn else "optimized" if args.optimized else "original",
            "overlay": drawn.as_dict() if drawn else None,
        }
        print(json.dumps(written))
    else:
        print(
            printable(
                f"Wrote {target} ({human_bytes(target.stat().st_size)}): the graph of "
                f"{model.label}, drawn by Netron inside the file; it opens offline in a browser."
            )
        )
        if drawn:
            print(printable(drawn.text()))
    if args.open:
        webbrowser.open(target.resolve().as_uri())
    return 0
