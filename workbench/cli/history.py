"""`onnx-workbench history [MODEL]`: stored results, their changes; import, export, merge, prune."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from workbench.cli import flags
from workbench.plots import picture
from workbench.tracking import transfer
from workbench.tracking.query import History, history
from workbench.tracking.store import Store, named


def register(subparsers: Any) -> None:
    """Add the `history` subcommand."""
    parser = subparsers.add_parser(
        "history",
        help="results kept over time: trends, detected changes; import, export, merge, prune",
        description="Every benchmark, evaluation and load test is added to a SQLite history "
        "($ONNX_WORKBENCH_HISTORY, else ~/.local/share/onnx-workbench/history.sqlite). This "
        "lists what it holds for MODEL (a model key, or an .onnx file's name) with the "
        "sustained changes in each configuration's p50.",
    )
    flags.add_history_query_options(parser)
    parser.add_argument("--kind", choices=("benchmark", "evaluation", "load-test"))
    parser.add_argument("--plot", metavar="FILE.png", help="draw p50 over time to a PNG file")
    parser.add_argument(
        "--import", dest="imports", nargs="+", metavar="REPORT",
        help="add these JSON or HTML reports to the history (each keeps its time)",
    )  # fmt: skip
    parser.add_argument("--export", metavar="FILE", help="write every stored result as .json/.csv")
    parser.add_argument("--merge", metavar="OTHER.sqlite", help="copy another history's runs in")
    parser.add_argument("--prune-days", type=float, metavar="N", help="drop runs older than N days")
    parser.add_argument(
        "--max-mb", type=float, metavar="MB",
        help="shrink under MB: the oldest raw samples first, then the oldest runs",
    )  # fmt: skip
    flags.add_output_options(parser, History.report_formats)
    parser.set_defaults(handler=history_command)


def history_command(args: argparse.Namespace) -> int:
    """Maintenance actions when asked, else the query: its text (or JSON) and reports."""
    store = args.store
    maintenance = (args.prune_days, args.max_mb)  # 0 is asked for too (and refused)
    if args.imports or args.export or args.merge or any(v is not None for v in maintenance):
        return _maintain(args)
    paths = flags.report_paths(args.report, History.report_formats)
    found = history(args.model, label=args.label, since=args.since, provider=args.provider,
                    kind=args.kind, store=store)  # fmt: skip
    flags.show(found, args)
    if args.plot:
        Path(args.plot).write_bytes(picture(lambda ax: found.plot(ax=ax), 8, "history").png())
        print(f"wrote {args.plot}", file=sys.stderr if args.json else sys.stdout)
    flags.write_reports(found, paths, args)
    return 0


def _maintain(args: argparse.Namespace) -> int:
    said = []
    if args.imports:
        added = transfer.import_reports(args.imports, store=args.store)
        said.append(f"imported {added} report{'s' if added != 1 else ''}")
    if args.merge:
        added, kept = transfer.merge(args.merge, store=args.store)
        said.append(f"merged {args.merge}: {added} runs added, {kept} already here")
    if args.prune_days is not None or args.max_mb is not None:
        target = Store(named(args.store))
        said.append(target.prune(older_than_days=args.prune_days, max_mb=args.max_mb))
    if args.export:
        said.append(f"wrote {transfer.export(args.export, store=args.store)}")
    print("\n".join(said))
    return 0
