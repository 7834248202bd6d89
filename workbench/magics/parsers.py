"""One argparse parser per `%onnx` subcommand.

Bad arguments raise IPython's UsageError (a one-line message, no traceback) instead of
exiting the kernel.
"""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from IPython.core.error import UsageError

from workbench import arguments


class MagicParser(argparse.ArgumentParser):
    """argparse that reports errors as UsageError and prints help without exiting."""

    def error(self, message: str) -> NoReturn:
        """Report a bad argument as a UsageError."""
        raise UsageError(f"{self.prog}: {message}. See `{self.prog} --help`.")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        """Never exit the kernel: stop the subcommand instead."""
        if message:
            raise UsageError(message.strip())
        raise HelpShown

    def print_help(self, file: Any = None) -> None:
        """Print to the cell's output (argparse would pick sys.stdout at import time)."""
        print(self.format_help())


class HelpShown(Exception):
    """--help was printed: the subcommand has nothing more to do."""


def _parser(name: str, description: str) -> MagicParser:
    parser = MagicParser(prog=f"%onnx {name}", description=description, add_help=True)
    parser.add_argument(
        "--show-code",
        action="store_true",
        help="print the equivalent public-API Python instead of running",
    )
    return parser


def _model_name(parser: MagicParser) -> None:
    parser.add_argument("name", nargs="?", help="a loaded model's name (default: the current one)")


def _output(parser: MagicParser) -> None:
    parser.add_argument("-o", "--output", metavar="VAR", help="store the result in this variable")


def load() -> MagicParser:
    """The parser of `%onnx load`."""
    parser = _parser("load", "Load a model and make it the current one.")
    parser.add_argument("path", help="path to an .onnx file")
    parser.add_argument("--name", help="name to refer to it by (default: the file's stem)")
    return parser


def list_models() -> MagicParser:
    """The parser of `%onnx list`."""
    return _parser("list", "List the loaded models.")


def info() -> MagicParser:
    """The parser of `%onnx info`."""
    parser = _parser("info", "Metadata, inputs/outputs, op histogram, compatibility, providers.")
    _model_name(parser)
    return parser


def graph() -> MagicParser:
    """The parser of `%onnx graph`."""
    parser = _parser("graph", "The model's graph in Netron, embedded in the output.")
    _model_name(parser)
    parser.add_argument("--height", type=int, default=600, help="pixels (default 600)")
    parser.add_argument(
        "--optimized", action="store_true", help="show the graph after onnxruntime's optimizations"
    )
    parser.add_argument("--both", action="store_true", help="original and optimized side by side")
    return parser


def run(providers: list[str]) -> MagicParser:
    """The parser of `%onnx run`."""
    parser = _parser("run", "Run the model once and summarize its outputs.")
    _model_name(parser)
    arguments.add_run_options(parser)
    parser.set_defaults(provider=providers[0] if providers else "cpu")
    _feeds(parser)
    _output(parser)
    return parser


def compare() -> MagicParser:
    """The parser of `%onnx compare` (no default providers: the command picks them)."""
    parser = _parser("compare", "Compare outputs across providers (first = baseline).")
    _model_name(parser)
    arguments.add_compare_options(parser, providers=None)
    _feeds(parser)
    _output(parser)
    return parser


def bench(
    providers: list[str], batch_sizes: list[int], time_budget: float, executor: str
) -> MagicParser:
    """The parser of `%onnx bench`."""
    parser = _parser("bench", "Benchmark latency; shows a progress bar, then the table and plot.")
    _model_name(parser)
    arguments.add_bench_options(
        parser,
        providers=providers,
        batch_sizes=batch_sizes,
        time_budget=time_budget,
        executor=executor,
    )
    _feeds(parser)
    _output(parser)
    parser.add_argument("--report", metavar="FILE", help="write a report (.html, .json, .csv, .md)")
    return parser


def profile(providers: list[str]) -> MagicParser:
    """The parser of `%onnx profile`."""
    parser = _parser("profile", "Per-operator profile from onnxruntime's profiler.")
    _model_name(parser)
    arguments.add_run_options(parser)  # the same session and feed flags as `run`
    parser.set_defaults(provider=providers[0] if providers else "cpu")
    parser.add_argument("--runs", type=int, default=10, help="profiled runs (default 10)")
    _feeds(parser)
    _output(parser)
    return parser


def explore() -> MagicParser:
    """The parser of `%onnx explore`."""
    parser = _parser("explore", "The widget explorer: overview, graph, run and benchmark tabs.")
    _model_name(parser)
    return parser


def report() -> MagicParser:
    """The parser of `%onnx report`."""
    parser = _parser("report", "Write a benchmark result as a report file.")
    parser.add_argument("path", help="report file: .html, .json, .csv or .md")
    parser.add_argument(
        "--from",
        dest="source",
        metavar="VAR",
        help="a BenchmarkResult variable (default: the last %%onnx bench)",
    )
    return parser


def doctor() -> MagicParser:
    """The parser of `%onnx doctor`."""
    return _parser("doctor", "The installed ONNX Runtime and which providers really work.")


def _feeds(parser: MagicParser) -> None:
    parser.add_argument("--feeds", metavar="VAR", help="a dict of arrays in the namespace")
    parser.add_argument("--inputs", metavar="FILE", help="feeds from .npz/.npy/.pb or a folder")
