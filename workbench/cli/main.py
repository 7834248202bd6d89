"""The `onnx-workbench` entry point.

Exit codes: 0 success, 1 a `WorkbenchError` (message and hint on stderr, no traceback),
2 bad arguments, 3 a bug in onnx-workbench, 141 the output pipe closed early.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from collections.abc import Sequence

from workbench._version import __version__
from workbench.cli import (
    bench,
    compare,
    diff,
    doctor,
    graph,
    history,
    info,
    load_test,
    localize,
    report,
    run,
    variants,
)
from workbench.errors import WorkbenchError, WorkbenchWarning
from workbench.text import printable

EXIT_USER_ERROR, EXIT_BUG = 1, 3
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool killed by it
_SUBCOMMANDS = (
    info, run, compare, bench, load_test, variants, diff, localize, graph, report, history,
    doctor,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="onnx-workbench",
        description="Inspect, run, compare and benchmark ONNX models.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show full tracebacks (for bug reports)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        # Commands print warnings as part of their output; stderr is kept for errors.
        warnings.simplefilter("ignore", WorkbenchWarning)
        try:
            code: int = args.handler(args)
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        except WorkbenchError as exc:
            _report(f"error: {exc.message}", exc.hint)
            return EXIT_USER_ERROR
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as other Unix tools do. Point
            # stdout at /dev/null so the interpreter's final flush cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_BROKEN_PIPE
        except Exception as exc:
            if args.debug:
                traceback.print_exc()
            _report(
                f"internal error: {type(exc).__name__}: {exc}",
                "This is a bug in onnx-workbench. Rerun with --debug and report the traceback.",
            )
            return EXIT_BUG
    return code


def _report(message: str, hint: str) -> None:
    print(printable(message), file=sys.stderr)
    if hint:
        print(printable(f"hint: {hint}"), file=sys.stderr)
