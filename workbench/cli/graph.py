"""`onnx-workbench graph MODEL [--html OUT.html]`: the graph as one HTML file that opens offline."""

from __future__ import annotations

import argparse
import json
import webbrowser
from pathlib import Path
from typing import Any

from workbench.graphview.view import save_graph
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
            "a browser (Chromium, Firefox) and can be shared as is."
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
    parser.add_argument("--provider", default="cpu", help="for --optimized (default cpu)")
    parser.add_argument(
        "--opt-level", default="all", help="for --optimized: basic, extended, layout, all"
    )
    parser.add_argument("--open", action="store_true", help="open it in the default browser")
    parser.add_argument(
        "--json", action="store_true", help="print what was written as one JSON object"
    )
    parser.set_defaults(handler=graph_command)


def graph_command(args: argparse.Namespace) -> int:
    """Write the file and say where it is."""
    model = load(args.model)
    suffix = ".optimized.html" if args.optimized else ".html"
    target = save_graph(
        model,
        args.html or f"{Path(args.model).stem}{suffix}",
        optimized=args.optimized,
        provider=args.provider,
        opt_level=args.opt_level,
    )
    if args.json:
        written = {
            "path": str(target),
            "bytes": target.stat().st_size,
            "model": str(args.model),
            "graph": "optimized" if args.optimized else "original",
        }
        print(json.dumps(written))
    else:
        print(
            printable(
                f"Wrote {target} ({human_bytes(target.stat().st_size)}): the graph of "
                f"{model.label}, drawn by Netron inside the file; it opens offline in a browser."
            )
        )
    if args.open:
        webbrowser.open(target.resolve().as_uri())
    return 0
