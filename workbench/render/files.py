"""Report files: the format follows the path's suffix, and every write is atomic.

Every result can be written as a self-contained HTML page or as JSON; some add formats of
their own (a benchmark adds CSV and Markdown). A write that fails (disk full, read-only
folder) raises a WorkbenchError and leaves any previous file at that path intact.
"""

from __future__ import annotations

import errno
import json
import math
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import WorkbenchError
from workbench.render.templates import render

if TYPE_CHECKING:
    from workbench.render.mixin import Rendered

# Suffixes that name a format other than their own spelling.
_SUFFIX_ALIASES = {"markdown": "md", "htm": "html"}
_KNOWN = {"html", "json", "csv", "md", *_SUFFIX_ALIASES}  # suffixes that name some format


def write_report(
    result: Rendered, path: str | os.PathLike[str], *, formats: Sequence[str] | None = None
) -> list[str]:
    """Write `result` in the format `path`'s suffix names; return the paths written.

    With `formats`, write each of them next to each other (same stem, one suffix each).
    """
    target, kinds = report_target(path, result.report_formats, formats)
    stem = target.with_suffix("") if target.suffix.lstrip(".").lower() in _KNOWN else target
    written = []
    for kind in kinds:
        destination = stem.with_name(f"{stem.name}.{kind}")  # a dotted stem stays whole
        atomic_write(destination, result.report_bytes(kind))
        written.append(str(destination))
    return written


def report_target(
    path: str | os.PathLike[str], offered: Sequence[str], formats: Sequence[str] | None = None
) -> tuple[Path, tuple[str, ...]]:
    """The file and formats a report would use, or the WorkbenchError writing it would raise.

    Callers check their paths with it before a long measurement, not after.
    """
    target = Path(path).expanduser()
    if formats is None:
        suffix = target.suffix.lower().lstrip(".")
        suffix = _SUFFIX_ALIASES.get(suffix, suffix)
        if suffix not in offered:
            raise WorkbenchError(
                f"Cannot tell the report format from {target.name!r}.",
                f"End the path with one of: {', '.join('.' + f for f in offered)}.",
            )
        formats = (suffix,)
    unknown = [f for f in formats if f not in offered]
    if unknown:
        raise WorkbenchError(
            f"Unknown report format(s): {', '.join(unknown)}.", f"Formats: {', '.join(offered)}."
        )
    if not target.parent.is_dir():
        raise WorkbenchError(
            f"The folder {str(target.parent)!r} does not exist.",
            "Create it first, or write the report elsewhere.",
        )
    return target, tuple(formats)


def atomic_write(path: Path, data: bytes, *, what: str = "the report") -> None:
    """Write to a temporary file in the same folder, then rename over `path`.

    The file gets the permissions `open()` would give it (the umask applies), or, when it
    replaces a file, that file's. A full disk or a read-only folder raises a WorkbenchError
    naming `what`, and whatever was at `path` before stays intact.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    created = False
    try:
        mode = path.stat().st_mode & 0o777 if path.is_file() else 0o666
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        created = True
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if path.is_file():
            temporary.chmod(mode)  # the umask narrowed it at creation: restore the old mode
        temporary.replace(path)
    except OSError as exc:
        if created:
            temporary.unlink(missing_ok=True)
        fix = (
            "Free some disk space"
            if exc.errno in (errno.ENOSPC, errno.EDQUOT)
            else "Choose a writable folder"
        )
        raise WorkbenchError(
            f"Could not write {what} {str(path)!r}: {exc.strerror or exc}.",
            f"{fix}, then write it again: the results are still in memory, and any previous "
            "file at that path was left untouched.",
        ) from None


def json_text(data: Any, *, indent: int | None = 1) -> str:
    """A result as JSON, as reports and `--json` write it.

    NaN and infinity, which JSON lacks, become null; what else JSON cannot hold, its text.
    """
    return json.dumps(finite(data), indent=indent, ensure_ascii=False, default=str)


def json_bytes(data: Any) -> bytes:
    """`json_text` as UTF-8 bytes, for a report file."""
    return json_text(data).encode()


def finite(value: Any) -> Any:
    """`value` with every NaN or infinite float replaced by None, in nested dicts and lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def html_page(title: str, body: str) -> bytes:
    """A self-contained page around a result's HTML view (no script, no external URL)."""
    return render("page.html.j2", title=title, body=body).encode()
