"""What every `%onnx` subcommand shares.

Its argparse parser, which reports mistakes as IPython's UsageError (one line, no traceback)
instead of exiting the kernel; the common arguments (model name, -o VAR, feeds); and
`--show-code`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from IPython.core.error import UsageError

from workbench.cli import flags
from workbench.magics import codegen

if TYPE_CHECKING:
    from workbench.magics.router import OnnxMagics
    from workbench.model.model import Model


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


@dataclass(frozen=True)
class Subcommand:
    """One `%onnx` subcommand: its name, its parser (given the magics' defaults) and body."""

    name: str
    arguments: str  # how `%onnx --help` shows its arguments, e.g. "PATH [--name NAME]"
    summary: str  # what it does, in `%onnx --help`
    parser: Callable[[OnnxMagics], MagicParser]
    command: Callable[[OnnxMagics, argparse.Namespace], Any]


def new_parser(
    name: str, description: str, *, model: bool = False, feeds: bool = False
) -> MagicParser:
    """A subcommand's parser, with --show-code.

    `model`: it takes a model NAME (or a model file's path); `feeds`: it runs the model, so
    it takes --feeds VAR or --inputs FILE, and -o VAR to keep its result.
    """
    parser = MagicParser(prog=f"%onnx {name}", description=description, add_help=True)
    parser.add_argument(
        "--show-code",
        action="store_true",
        help="print the equivalent public-API Python instead of running",
    )
    if model:
        parser.add_argument(
            "name", nargs="?", help="a loaded model's name (default: the current one)"
        )
    if feeds:
        parser.add_argument("--feeds", metavar="VAR", help="a dict of arrays in the namespace")
        flags.add_inputs_option(parser)
        parser.add_argument(
            "-o", "--output", metavar="VAR", help="store the result in this variable"
        )
    return parser


def feeds(magics: OnnxMagics, args: argparse.Namespace, model: Model) -> Any:
    """The feeds `--feeds VAR` or `--inputs FILE` name, or None for synthetic ones."""
    if args.feeds and args.inputs:
        raise UsageError("Pass either --feeds VAR or --inputs FILE, not both.")
    if args.feeds:
        return magics.variable(args.feeds)
    if args.inputs:
        from workbench.feeds.files import load_feeds  # noqa: PLC0415  (the core loads on use: %load_ext stays fast)

        return load_feeds(args.inputs, model)
    return None


def model_path(model: Model | None) -> str | None:
    """The model's file, for generated code (None for a model loaded from memory)."""
    return str(model.path) if model is not None and model.path else None


def show_code(*lines: str | None) -> None:
    """Print the script a magic stands for."""
    print(codegen.program(*lines))


def show_call(
    model: Model,
    args: argparse.Namespace,
    function: str,
    options: dict[str, Any],
    *,
    default_name: str,
    then: str | None = None,
) -> None:
    """Print the script for a call on the model: load it (and the feeds), call, keep the result.

    Feeds always go by keyword: `compare` and `profile` take `providers`/`provider` second.
    """
    feeds_line = codegen.feeds_line(args.feeds, args.inputs)
    subject = [] if function.startswith("model.") else ["model"]
    call = codegen.call(function, *subject, *(["feeds=feeds"] if feeds_line else []), **options)
    name = args.output or default_name
    show_code(codegen.model_line(model_path(model)), feeds_line, f"{name} = {call}", then)
