"""Report files in every format but HTML, and the atomic write they all go through.

JSON holds everything, raw samples included; CSV the table; Markdown a summary for pull
requests; text a table for terminals.
"""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.display import printable
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.bench.results import BenchmarkResult

SCHEMA_VERSION = 1
TABLE_COLUMNS = [
    "label",
    "status",
    "n",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "mean_ms",
    "std_ms",
    "ci95_ms",
    "throughput_per_s",
    "session_create_s",
    "first_run_s",
    "peak_rss_mb",
]


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename over `path`.

    A full disk or a read-only folder raises a WorkbenchError, and whatever was at `path`
    before stays intact.
    """
    folder = path.parent
    temporary = None
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        temporary = Path(name)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        temporary.replace(path)
    except OSError as exc:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        fix = (
            "Free some disk space"
            if exc.errno in (errno.ENOSPC, errno.EDQUOT)
            else "Choose a writable folder"
        )
        raise WorkbenchError(
            f"Could not write the report {str(path)!r}: {exc.strerror or exc}.",
            f"{fix}, then write it again: the results are still in memory, and any previous "
            "report at that path was left untouched.",
        ) from None


def to_json(result: BenchmarkResult) -> bytes:
    """The full report as JSON, raw samples included (NaN and infinity become null)."""
    return json.dumps(_finite(result.as_dict()), indent=1, ensure_ascii=False).encode()


def to_csv(result: BenchmarkResult) -> bytes:
    """The configurations table."""
    frame = result.to_frame()
    return frame.to_csv(index=False).encode()


def to_markdown(result: BenchmarkResult) -> bytes:
    """A summary table for pasting into a pull request."""
    env = result.environment
    ort = env.get("onnxruntime", {})
    lines = [
        f"### Benchmark: {_cell(str(result.model.get('name', 'model')))}",
        "",
        f"{_cell(ort.get('package', ''))} {_cell(ort.get('version', ''))} on "
        f"{_cell(env.get('cpu', ''))} ({env.get('cpu_cores', '?')} cores)"
        + "".join(f", {_cell(g['name'])}" for g in env.get("gpus", [])),
        "",
        "| configuration | status | p50 ms | 95% CI ms | p99 ms | items/s | runs |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    for r in result.results:
        s = r.stats
        if s is None:
            lines.append(f"| {_cell(r.config.label)} | {r.status}: {_cell(r.reason)} | | | | | |")
            continue
        lines.append(
            f"| {_cell(r.config.label)} | {r.status} | {s.p50_ms:.3f} | "
            f"{s.ci95_ms[0]:.3f}-{s.ci95_ms[1]:.3f} | {s.p99_ms:.3f} | "
            f"{s.throughput_per_s:.1f} | {s.n} |"
        )
    warnings = result.warnings()
    if warnings:
        lines += ["", *(f"- {_cell(w)}" for w in warnings)]
    return ("\n".join(lines) + "\n").encode()


def text_table(result: BenchmarkResult) -> str:
    """A fixed-width table for terminals."""
    header = (
        f"{'configuration':<36} {'status':<8} {'p50 ms':>10} {'95% CI ms':>21} "
        f"{'p99 ms':>10} {'items/s':>10} {'runs':>7}"
    )
    lines = [header, "-" * len(header)]
    for r in result.results:
        s = r.stats
        if s is None:
            lines.append(f"{r.config.label:<36} {r.status:<8} {r.reason}")
            continue
        ci = f"{s.ci95_ms[0]:.3f}-{s.ci95_ms[1]:.3f}"
        lines.append(
            f"{r.config.label:<36} {r.status:<8} {s.p50_ms:>10.3f} {ci:>21} {s.p99_ms:>10.3f} "
            f"{s.throughput_per_s:>10.1f} {s.n:>7}"
        )
    overhead = result.copy_overhead()
    for row in overhead.to_dict("records"):
        lines.append(
            f"copy overhead {row['label']}: {row['copy_overhead_ms']:.3f} ms (host - device p50)"
        )
    lines += [f"! {w}" for w in result.warnings()]
    return printable("\n".join(lines))


def _cell(text: str) -> str:
    """Markdown-safe table cell: pipes escaped, newlines and markup characters neutralized."""
    return (
        printable(text)
        .replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("\n", " ")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
