"""IPython integration: the `%onnx` magics and clean display of WorkbenchErrors.

`router.py` routes `%onnx NAME ...` to `subcommands/NAME.py` (its parser and body, one file
each); `parser.py` holds what they share; flags common with the CLI live in `cli/flags.py`.
"""

from __future__ import annotations

from typing import Any

from workbench.errors import WorkbenchError, optional_import

# Without IPython there are no magics: say which extra brings it, instead of a bare import error.
optional_import("IPython", feature="The %onnx magics", extra="jupyter")

from workbench.magics.completion import completer  # noqa: E402
from workbench.magics.router import OnnxMagics  # noqa: E402


def register(shell: Any) -> None:
    """Register `%onnx` (once per shell), its completer and its %config class."""
    if any(isinstance(c, OnnxMagics) for c in shell.configurables):
        return  # %load_ext twice: nothing to do
    magics = OnnxMagics(shell, parent=shell)
    shell.register_magics(magics)  # also makes it a configurable: %config OnnxMagics...
    shell.set_hook("complete_command", completer(magics), str_key="%onnx")
    if not shell.custom_exceptions:  # never replace a handler the user installed
        shell.set_custom_exc((WorkbenchError,), show_workbench_error)


def show_workbench_error(
    shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None
) -> list[str]:
    """Show a WorkbenchError as its message and hint, without a traceback."""
    message = getattr(value, "message", str(value))
    hint = getattr(value, "hint", "")
    lines = [f"{etype.__name__}: {message}"] + ([f"Hint: {hint}"] if hint else [])
    shell._showtraceback(etype, value, lines)
    return lines
