"""Tab completion for `%onnx`, through IPython's own completer.

Subcommands, flags, providers (usable ones first), .onnx paths and loaded model names.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.bench.config import REPORT_FORMATS
from workbench.magics.router import ROUTES
from workbench.ort import providers

if TYPE_CHECKING:
    from workbench.magics.router import OnnxMagics

PROVIDER_FLAGS = ("--provider", "--providers")


def completer(magics: OnnxMagics) -> Any:
    """An IPython `complete_command` hook bound to the magics' state."""

    def complete(shell: Any, event: Any) -> list[str]:
        return candidates(magics, event.line, event.symbol)

    return complete


def candidates(magics: OnnxMagics, line: str, word: str) -> list[str]:
    """What may come next, given the line so far and the word being typed."""
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    if line.endswith(" "):
        words.append("")
    words = words[1:]  # drop "%onnx"
    if len(words) <= 1:
        return [name for name in ROUTES if name.startswith(word)]
    subcommand, previous = words[0], words[-2]
    if previous in PROVIDER_FLAGS:
        return _providers(word)
    if word.startswith("-"):
        return _flags(magics, subcommand, word)
    positional = {
        "load": lambda: _paths(word, (".onnx", ".ort")),
        "report": lambda: _paths(word, tuple(f".{kind}" for kind in REPORT_FORMATS)),
    }
    if subcommand in positional:
        return positional[subcommand]()
    if "name" in _arguments(magics, subcommand):  # the subcommand takes a loaded model
        return [name for name in magics.models if name.startswith(word)]
    return []


def _flags(magics: OnnxMagics, subcommand: str, word: str) -> list[str]:
    flags = [flag for names in _arguments(magics, subcommand).values() for flag in names]
    return sorted(f for f in flags if f.startswith(word))


def _arguments(magics: OnnxMagics, subcommand: str) -> dict[str, list[str]]:
    """A subcommand's arguments, from its parser: destination -> option strings."""
    if subcommand not in ROUTES:
        return {}
    parser = ROUTES[subcommand].parser(magics)
    return {action.dest: list(action.option_strings) for action in parser._actions}


def _providers(word: str) -> list[str]:
    """Provider aliases, usable ones first; a comma-separated list completes its last item."""
    head, _, last = word.rpartition(",")
    prefix = f"{head}," if head else ""
    usable = [providers.short_name(p) for p in providers.usable_providers()]
    others = [alias for alias in providers.ALIASES if alias not in usable]
    return [prefix + alias for alias in usable + others if alias.startswith(last)]


def _paths(word: str, suffixes: tuple[str, ...]) -> list[str]:
    typed = Path(word).expanduser()
    folder, stem = (typed, "") if word.endswith(os.sep) else (typed.parent, typed.name)
    if not folder.is_dir():
        return []
    shown = word[: len(word) - len(stem)]
    matches = []
    for path in sorted(folder.iterdir()):
        if not path.name.startswith(stem) or (path.name.startswith(".") and not stem):
            continue
        if path.is_dir():
            matches.append(f"{shown}{path.name}{os.sep}")
        elif path.name.endswith(suffixes):
            matches.append(f"{shown}{path.name}")
    return matches
