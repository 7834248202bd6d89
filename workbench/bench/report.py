"""A benchmark's full HTML report and the summary row every table shows.

The page opens offline: plots are embedded as PNG, the data as JSON (which
`workbench.load_report` reads back), and no external URL appears. Every model or
environment string is escaped by the templates (`bench_report.html.j2`, `bench.md.j2`).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbench import plots
from workbench.bench.config import MODE_LABELS
from workbench.errors import WorkbenchError
from workbench.render.files import json_text
from workbench.render.templates import render

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from workbench.bench.results import BenchmarkResult, ConfigResult

DATA_ELEMENT_ID = "onnx-workbench-data"  # the <script> holding the report's JSON
_SCRIPT_UNSAFE = re.compile("[<>&\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# (title, key of ConfigResult.as_dict, format): the summary every table shows.
SUMMARY = (
    ("p50 ms", "p50_ms", "{:.3f}"),
    ("95% CI ms", "ci95_ms", "{0[0]:.3f}-{0[1]:.3f}"),
    ("p90 ms", "p90_ms", "{:.3f}"),
    ("p99 ms", "p99_ms", "{:.3f}"),
    ("items/s", "throughput_per_s", "{:.1f}"),
    ("runs", "n", "{}"),
)


def summary_row(result: ConfigResult) -> dict[str, Any]:
    """One configuration as the summary tables show it.

    Label, status, then SUMMARY's cells (None when nothing was measured: `reason` says why).
    """
    entry = result.as_dict(samples=False)
    measured = entry["p50_ms"] is not None
    return {
        "label": entry["label"],
        "status": entry["status"],
        "reason": entry["reason"],
        "cells": [fmt.format(entry[key]) for _, key, fmt in SUMMARY] if measured else None,
        "session_create_s": entry["session_create_s"],
    }


def report_html(result: BenchmarkResult) -> str:
    """The full report page."""
    figures = []
    machines = machines_used(result)
    order = {name: index for index, name in enumerate(machines)}
    for title, draw in (
        ("Median latency", lambda ax: plots.p50_bars(result, ax=ax)),
        ("Median latency by machine", lambda ax: plots.p50_by_machine(result, ax=ax)),
        ("Latency distribution", lambda ax: plots.latency_distribution(result, ax=ax)),
        ("Scaling with batch size", lambda ax: plots.scaling(result, ax=ax)),
    ):
        image = _png(draw, rows=len(result.measured))
        if image:
            figures.append((title, image))
    if result.profile is not None:
        profile = result.profile
        image = _png(lambda ax: profile.plot(ax=ax), rows=min(15, len(profile.by_op_type())))
        if image:
            figures.append(("Time by op type", image))
    data = json_text(result.as_dict(), indent=None)
    return render(
        "bench_report.html.j2",
        title=f"Benchmark report: {result.model.get('name', 'model')}",
        result=result,
        # Grouped by machine when the sweep spans several (a stable sort keeps the sweep order).
        rows=[
            {
                **r.as_dict(samples=False),
                "machine_name": r.machine if r.machine in machines else "(none: not run)",
            }
            for r in (
                sorted(result.results, key=lambda r: order.get(r.machine, len(order)))
                if len(machines) > 1
                else result.results
            )
        ],
        machines=machines if len(machines) > 1 else {},
        overhead=result.copy_overhead().to_dict("records"),
        warnings=result.warnings,
        figures=figures,
        profile_rows=result.profile.by_op_type().head(30).to_dict("records")
        if result.profile
        else [],
        data=_script_safe(data),
        data_id=DATA_ELEMENT_ID,
        modes=modes_used(result),
    )


def machines_used(result: BenchmarkResult) -> dict[str, dict[str, Any]]:
    """Each machine the rows ran on (by `ConfigResult.machine`) with what its hosts were."""
    found: dict[str, dict[str, Any]] = {}
    for row in result.results:
        if not row.host and row.config.machine is None:
            continue  # never ran (skipped before measuring)
        entry = found.setdefault(row.machine, {"hosts": {}, "rows": 0})
        entry["rows"] += 1
        if row.host:  # two nodes of one kind may differ: each distinct host is listed
            described = {k: v for k, v in row.host.items() if k != "ray_node"}
            entry["hosts"][repr(sorted(described.items()))] = described
    for entry in found.values():
        entry["hosts"] = list(entry["hosts"].values())
    return found


def modes_used(result: BenchmarkResult) -> list[str]:
    """What each timing mode in the result measures, for a legend."""
    return [MODE_LABELS[mode] for mode in dict.fromkeys(r.config.mode for r in result.results)]


def _png(draw: Callable[[Axes], Any], rows: int) -> str:
    """A base64 PNG of one plot, drawn as the notebook draws it (plots.picture)."""
    try:
        drawn = plots.picture(draw, rows, "report plot")
    except WorkbenchError:
        return ""  # e.g. no batch sizes to show scaling for: leave that plot out
    return base64.b64encode(drawn.png()).decode("ascii")


def _script_safe(text: str) -> str:
    """JSON that cannot close its <script> element or open an HTML comment.

    Invisible format characters (bidi overrides, line separators) are written as escapes too.
    """
    return _SCRIPT_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
