"""Text helpers every layer uses. A leaf: it imports nothing of the workbench.

Strings from a model file are untrusted: `printable` makes control characters visible, so a
doc string or node name cannot rewrite a terminal or reorder text with bidi overrides.
"""

from __future__ import annotations

import difflib
import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

Dim = int | str | None  # a fixed size, a symbolic name, or unknown


def printable(text: str) -> str:
    """Make control characters (ANSI escapes, bidi overrides) visible as escapes."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def first_line(text: str) -> str:
    """The first non-blank line, stripped ("" for none): the gist of a long error text."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def decoded(text: str | bytes) -> str:
    """A node or tensor name; protobuf gives names that are not UTF-8 as bytes."""
    return text.decode("utf-8", "backslashreplace") if isinstance(text, bytes) else text


def describe_node(name: str, op_type: str) -> str:
    """How messages name a node: `node 'conv1' (Conv)`, or `an unnamed Conv node`."""
    return f"node {name!r} ({op_type})" if name else f"an unnamed {op_type} node"


def shape_text(shape: Sequence[Dim] | None, *, tensor: bool = True) -> str:
    """`[batch, 3, 224, 224]`, with `?` for unknown dims; containers (tensor=False) have none."""
    if shape is None:
        return "unknown rank" if tensor else ""
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def human_bytes(count: int | None) -> str:
    """1536 -> '1.5 KiB'."""
    if count is None:
        return "n/a"
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def human_count(count: int) -> str:
    """1234567 -> '1.23 M'."""
    for threshold, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if count >= threshold:
            return f"{count / threshold:.2f} {suffix}"
    return str(count)


def columns(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Rows of cells as left-aligned, fixed-width lines (trailing blanks dropped)."""
    if not rows:
        return []
    widths = [max(len(cell) for cell in column) for column in zip(*rows, strict=True)]
    return [
        indent + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def plural(count: int, noun: str) -> str:
    """`3 files`, `1 file`, `12,000 nodes`."""
    return f"{count:,} {noun}{'s' if count != 1 else ''}"


def parameters_text(parameters: Mapping[str, Mapping[str, int]]) -> str:
    """`Model.parameters` in words.

    E.g. "1.23 M in 40 initializers (4.5 MiB, 3.1 MiB external) and 12 Constant nodes (2 KiB)".
    """
    initializers, constants = parameters["initializers"], parameters["constants"]
    ml = parameters.get("ml_attributes") or {"count": 0, "parameters": 0}  # older reports
    parts = []
    if initializers["count"] or not (constants["count"] or ml["count"]):
        external = initializers.get("external_bytes", 0)
        detail = f", {human_bytes(external)} external" if external else ""
        parts.append(
            f"{initializers['count']:,} initializers ({human_bytes(initializers['bytes'])}{detail})"
        )
    if constants["count"]:
        parts.append(f"{constants['count']:,} Constant nodes ({human_bytes(constants['bytes'])})")
    if ml["count"]:
        parts.append(f"the attributes of {plural(ml['count'], 'ONNX-ML node')} "
                     f"({human_bytes(ml['bytes'])})")  # fmt: skip
    total = initializers["parameters"] + constants["parameters"] + ml["parameters"]
    return f"{human_count(total)} in {' and '.join(parts)}"


def literal(text: str) -> Any:
    """A value as typed (`--value sr=16000`, a form field): JSON when it parses, else the text.

    Numbers, lists and true/false come out as such; a word stays a string (for a string
    input, or a typo the input's dtype check then names).
    """
    try:
        return json.loads(text)
    except ValueError:
        return text


def did_you_mean(name: str, choices: Sequence[str]) -> str:
    """` Did you mean 'seq'?` for the closest of `choices`, or ""."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def shortened(
    value: str, *, lines: int = 2, width: int = 160, wrap: bool = False
) -> tuple[str, bool]:
    """(At most `lines` lines of `width` characters and what was left out, whether any was).

    `"... 18,708 more lines (74.1 KiB)"`: long metadata (an OCR model's 18,000-line character
    list) must not flood a terminal; the full text stays one call away. `wrap` folds long
    lines at `width` (prose, such as a description) where data lines are cut.
    """
    every = value.splitlines()
    if wrap:
        every = [part for line in every for part in textwrap.wrap(line, width) or [""]]
    kept, rest = every[:lines], every[lines:]
    cut = [
        line if len(line) <= width else line[: width - 1] + "\N{HORIZONTAL ELLIPSIS}"
        for line in kept
    ]
    if rest:
        size = human_bytes(len("\n".join(rest).encode()))
        cut.append(f"... {len(rest):,} more line{'s' if len(rest) != 1 else ''} ({size})")
    elif cut != kept:
        cut[-1] += f" ({len(value):,} characters)"
    return "\n".join(cut), bool(rest) or cut != kept
