"""Benchmark reports: HTML, JSON, CSV and Markdown writers, reading reports back, and diffs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import WorkbenchError
from workbench.report.formats import atomic_write, to_csv, to_json, to_markdown

if TYPE_CHECKING:
    from workbench.bench.results import BenchmarkResult

FORMATS = ("html", "json", "csv", "md")


def write_report(
    result: BenchmarkResult, path: str, *, formats: tuple[str, ...] | None = None
) -> list[str]:
    """Write `result` to `path` in the format its suffix names; return the paths written.

    With `formats`, write each of them next to each other (same stem, one suffix each).
    """
    target, formats = report_target(path, formats)
    written = []
    for kind in formats:
        destination = target.with_suffix(f".{kind}")
        atomic_write(destination, _WRITERS[kind](result))
        written.append(str(destination))
    return written


def report_target(
    path: str, formats: tuple[str, ...] | None = None
) -> tuple[Path, tuple[str, ...]]:
    """The file and formats `write_report` would use, or the WorkbenchError it would raise.

    Callers check their paths with it before a long measurement, not after.
    """
    target = Path(path).expanduser()
    if formats is None:
        suffix = target.suffix.lower().lstrip(".")
        suffix = "md" if suffix == "markdown" else suffix
        if suffix not in FORMATS:
            raise WorkbenchError(
                f"Cannot tell the report format from {target.name!r}.",
                f"End the path with one of: {', '.join('.' + f for f in FORMATS)}.",
            )
        formats = (suffix,)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise WorkbenchError(
            f"Unknown report format(s): {', '.join(unknown)}.", f"Formats: {', '.join(FORMATS)}."
        )
    if not target.parent.is_dir():
        raise WorkbenchError(
            f"The folder {str(target.parent)!r} does not exist.",
            "Create it first, or write the report elsewhere.",
        )
    return target, formats


def _html(result: BenchmarkResult) -> bytes:
    from workbench.report.html import report_html  # noqa: PLC0415

    return report_html(result).encode()


_WRITERS: dict[str, Callable[[BenchmarkResult], bytes]] = {
    "html": _html,
    "json": to_json,
    "csv": to_csv,
    "md": to_markdown,
}
