"""The HTML report: one self-contained file that opens offline.

Plots are embedded as PNG data and the data itself as JSON; the page carries no external
URL. Every model or environment string is escaped by the template engine.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbench.bench.config import MODE_LABELS
from workbench.display import render
from workbench.errors import WorkbenchError
from workbench.report.formats import TABLE_COLUMNS, _finite

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from workbench.bench.results import BenchmarkResult

DATA_ELEMENT_ID = "onnx-workbench-data"
_SCRIPT_UNSAFE = re.compile("[<>&\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def report_html(result: BenchmarkResult) -> str:
    """The full report page."""
    from workbench import plots  # noqa: PLC0415

    figures = []
    for title, draw in (
        ("Median latency", lambda ax: plots.p50_bars(result, ax=ax)),
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
    data = json.dumps(_finite(result.as_dict()), ensure_ascii=False)
    return render(
        "report.html.j2",
        result=result,
        rows=[r.as_dict(samples=False) for r in result.results],
        columns=TABLE_COLUMNS,
        overhead=result.copy_overhead().to_dict("records"),
        warnings=result.warnings(),
        figures=figures,
        profile_rows=result.profile.by_op_type().head(30).to_dict("records")
        if result.profile
        else [],
        data=_script_safe(data),
        data_id=DATA_ELEMENT_ID,
        modes=_modes_used(result),
    )


def result_html(result: BenchmarkResult) -> str:
    """The notebook view of a result: the table, copy overhead and warnings."""
    return render(
        "result.html.j2",
        result=result,
        rows=[r.as_dict(samples=False) for r in result.results],
        overhead=result.copy_overhead().to_dict("records"),
        warnings=result.warnings(),
        modes=_modes_used(result),
    )


def _modes_used(result: BenchmarkResult) -> list[str]:
    """What each timing mode in the result measures, for a legend."""
    used = dict.fromkeys(r.config.mode for r in result.results)
    return [MODE_LABELS[mode] for mode in used]


def _png(draw: Callable[[Axes], Any], rows: int) -> str:
    """A base64 PNG of one plot, drawn as the notebook draws it (plots.picture)."""
    from workbench.plots import picture  # noqa: PLC0415

    try:
        drawn = picture(draw, rows, "report plot")
    except WorkbenchError:
        return ""  # e.g. no batch sizes to show scaling for: leave that plot out
    return base64.b64encode(drawn.png()).decode("ascii")


def _script_safe(text: str) -> str:
    """JSON that cannot close its <script> element or open an HTML comment.

    Invisible format characters (bidi overrides, line separators) are written as escapes too.
    """
    return _SCRIPT_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
