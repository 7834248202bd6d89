"""`--show-code`: the public-API Python a magic stands for, so users can move to scripts."""

from __future__ import annotations

from typing import Any


def call(function: str, *positional: str, **keywords: Any) -> str:
    """`function(positional..., name=repr(value)...)`; positional values are code, as given."""
    parts = list(positional) + [f"{name}={value!r}" for name, value in keywords.items()]
    return f"{function}({', '.join(parts)})"


def model_line(path: str | None) -> str:
    """How a script gets the model a magic worked on."""
    if path is None:
        return "model = ...  # this model was loaded from memory, not a file"
    return f"model = workbench.load({path!r})"


def feeds_line(variable: str | None, inputs: str | None) -> str | None:
    """How a script gets the feeds (`--feeds VAR` or `--inputs FILE`), or None."""
    if variable:
        return f"feeds = {variable}"
    if inputs:
        return f"feeds = workbench.load_feeds({inputs!r}, model)"
    return None


def program(*lines: str | None) -> str:
    """The script: `import workbench`, then the non-empty lines."""
    return "\n".join(["import workbench", *(line for line in lines if line)])
