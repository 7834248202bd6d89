"""`onnx-workbench run MODEL`: one inference, with synthetic feeds or the user's."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

import numpy as np

from workbench.cli import flags
from workbench.errors import WorkbenchError
from workbench.feeds.files import load_feeds
from workbench.model.model import load
from workbench.run.result import RunResult
from workbench.text import describe_node, printable


def register(subparsers: Any) -> None:
    """Add the `run` subcommand."""
    parser = subparsers.add_parser(
        "run",
        help="run a model once and summarize its outputs",
        description="Run a model once on one execution provider.",
    )
    parser.add_argument("model", help="path to an .onnx file")
    flags.add_run_options(parser)
    flags.add_inputs_option(parser)
    parser.add_argument("--save", metavar="FILE.npz", help="write the outputs to an .npz file")
    parser.add_argument(
        "--placement",
        action="store_true",
        help="also list which provider runs each node of the optimized graph",
    )
    flags.add_output_options(parser, RunResult.report_formats)
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Run once and print a summary."""
    paths = flags.report_paths(args.report, RunResult.report_formats)
    model = load(args.model)
    feeds = load_feeds(args.inputs, model) if args.inputs else None
    result = model.run(feeds, **flags.run_kwargs(args))
    if args.save:
        _save(args.save, result.outputs)
    placement = (
        model.session(args.provider, allow_fallback=args.allow_fallback).placement()
        if args.placement
        else []
    )
    flags.show(
        result, args, extra={"placement": [vars(p) for p in placement]} if placement else None
    )
    if placement and not args.json:
        print(f"Node placement ({len(placement)} nodes after optimization):")
        for provider, count in Counter(p.provider for p in placement).most_common():
            print(f"  {count:>5}  {provider}")
        elsewhere = [p for p in placement if p.provider != result.applied_providers[0]]
        for node in elsewhere[:20]:
            print(printable(f"  {describe_node(node.node, node.op_type)} runs on {node.provider}"))
    flags.write_reports(result, paths, args)
    return 0


def _save(path: str, outputs: dict[str, Any]) -> None:
    arrays: dict[str, Any] = {k: v for k, v in outputs.items() if isinstance(v, np.ndarray)}
    skipped = sorted(set(outputs) - set(arrays))
    if skipped:
        raise WorkbenchError(
            f"--save writes tensors only; {', '.join(skipped)} are sequences or maps.",
            "Use the Python API (model.run) to keep non-tensor outputs.",
        )
    try:
        np.savez(path, **arrays)
    except OSError as exc:
        raise WorkbenchError(
            f"Cannot write {path!r}: {exc.strerror or exc}.",
            "Check that the folder exists and is writable, and that the disk has space.",
        ) from None
