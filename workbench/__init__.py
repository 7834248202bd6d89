"""onnx-workbench: inspect, run, compare and benchmark ONNX models, in notebooks and scripts.

Importing the package is cheap: onnx, onnxruntime, pandas and matplotlib load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from workbench._version import __version__

if TYPE_CHECKING:
    from workbench.bench.engine import benchmark
    from workbench.bench.results import BenchmarkResult
    from workbench.comparison import Comparison, compare
    from workbench.demo import demo_model
    from workbench.diagnose import DoctorReport, doctor
    from workbench.errors import WorkbenchError, WorkbenchWarning
    from workbench.feed_files import load_feeds, load_outputs
    from workbench.graphview.view import GraphView, show_graph
    from workbench.model import Model, load
    from workbench.profiling import ProfileResult, profile
    from workbench.report.diff import ReportDiff, diff_reports, load_report
    from workbench.run import RunResult
    from workbench.widgets.explorer import Explorer, explore

__all__ = [
    "BenchmarkResult",
    "Comparison",
    "DoctorReport",
    "Explorer",
    "GraphView",
    "Model",
    "ProfileResult",
    "ReportDiff",
    "RunResult",
    "WorkbenchError",
    "WorkbenchWarning",
    "__version__",
    "benchmark",
    "compare",
    "demo_model",
    "diff_reports",
    "doctor",
    "explore",
    "load",
    "load_feeds",
    "load_outputs",
    "load_report",
    "profile",
    "show_graph",
]

# Public name -> module defining it; resolved on first attribute access (PEP 562).
_LAZY = {
    "benchmark": "workbench.bench.engine",
    "BenchmarkResult": "workbench.bench.results",
    "Comparison": "workbench.comparison",
    "compare": "workbench.comparison",
    "DoctorReport": "workbench.diagnose",
    "doctor": "workbench.diagnose",
    "Explorer": "workbench.widgets.explorer",
    "explore": "workbench.widgets.explorer",
    "GraphView": "workbench.graphview.view",
    "show_graph": "workbench.graphview.view",
    "Model": "workbench.model",
    "load": "workbench.model",
    "RunResult": "workbench.run",
    "profile": "workbench.profiling",
    "ProfileResult": "workbench.profiling",
    "load_report": "workbench.report.diff",
    "diff_reports": "workbench.report.diff",
    "ReportDiff": "workbench.report.diff",
    "demo_model": "workbench.demo",
    "load_feeds": "workbench.feed_files",
    "load_outputs": "workbench.feed_files",
    "WorkbenchError": "workbench.errors",
    "WorkbenchWarning": "workbench.errors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext workbench`: the %onnx magics (loading twice is harmless)."""
    from workbench.magics import register  # noqa: PLC0415

    register(ipython)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Jupyter server extension entry point (the module is imported only when loaded)."""
    return [{"module": "workbench.server"}]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
