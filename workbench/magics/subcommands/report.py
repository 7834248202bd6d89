"""`%onnx report PATH [--from VAR]`: write a benchmark result as a report file."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from workbench.bench.config import REPORT_FORMATS
from workbench.magics.parser import MagicParser, Subcommand, new_parser, show_code

if TYPE_CHECKING:
    from workbench.magics.router import OnnxMagics


def parser(magics: OnnxMagics) -> MagicParser:
    """The parser of `%onnx report`."""
    parser = new_parser("report", "Write a benchmark result as a report file.")
    parser.add_argument("path", help=f"report file: {', '.join('.' + f for f in REPORT_FORMATS)}")
    parser.add_argument(
        "--from",
        dest="source",
        metavar="VAR",
        help="a BenchmarkResult variable (default: the last %%onnx bench)",
    )
    return parser


def command(magics: OnnxMagics, args: argparse.Namespace) -> None:
    """Write the report and say where."""
    from workbench.bench.results import BenchmarkResult  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)

    result = magics.variable(args.source) if args.source else magics.last_bench
    if result is None:
        raise UsageError("No benchmark to report yet: run %onnx bench first, or pass --from VAR.")
    if not isinstance(result, BenchmarkResult):
        raise UsageError(f"{args.source} is a {type(result).__name__}, not a BenchmarkResult.")
    if args.show_code:
        show_code(f"{args.source or 'result'}.report({args.path!r})")
        return
    for path in result.report(args.path):
        print(f"wrote {path}")


SUBCOMMAND = Subcommand(
    "report", "PATH", "write the last benchmark as a report (--from VAR)", parser, command
)
