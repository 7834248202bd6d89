"""onnx-workbench: inspect, run, compare and benchmark ONNX models, in notebooks and scripts.

Importing the package is cheap: onnx, onnxruntime, pandas and matplotlib load on first use.
Names that need the `jupyter` extra (`explore`, `Explorer`) resolve on any install; using
them without it raises `MissingDependencyError` naming the install command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from workbench._version import __version__
from workbench.errors import MissingDependencyError

if TYPE_CHECKING:
    from workbench.bench.engine import benchmark
    from workbench.bench.results import BenchmarkResult
    from workbench.demo import demo_model
    from workbench.errors import WorkbenchError, WorkbenchWarning
    from workbench.feeds.files import load_feeds, load_outputs
    from workbench.graphview.show import show_graph
    from workbench.graphview.view import GraphView
    from workbench.loadtest.engine import load_test
    from workbench.loadtest.result import LoadResult
    from workbench.model import ModelLike
    from workbench.model.diff import ModelDiff, diff_models
    from workbench.model.model import Model, load
    from workbench.ort.doctor import DoctorReport, doctor
    from workbench.ort.profiling import ProfileResult
    from workbench.report import ReportLike
    from workbench.report.diff import ReportDiff, diff_reports
    from workbench.report.load import load_report
    from workbench.run.compare import Comparison, compare
    from workbench.run.localize import Localization, localize
    from workbench.run.profile import profile
    from workbench.run.result import RunResult
    from workbench.tracking.query import History, history
    from workbench.variant.evaluate import Evaluation, evaluate
    from workbench.variant.recipes import variants
    from workbench.variant.requantize import requantize
    from workbench.widgets.explorer import Explorer, explore

__all__ = [
    "BenchmarkResult",
    "Comparison",
    "DoctorReport",
    "Evaluation",
    "Explorer",
    "GraphView",
    "History",
    "LoadResult",
    "Localization",
    "MissingDependencyError",
    "Model",
    "ModelDiff",
    "ModelLike",
    "ProfileResult",
    "ReportDiff",
    "ReportLike",
    "RunResult",
    "WorkbenchError",
    "WorkbenchWarning",
    "__version__",
    "benchmark",
    "compare",
    "demo_model",
    "diff_models",
    "diff_reports",
    "doctor",
    "evaluate",
    "explore",
    "history",
    "load",
    "load_feeds",
    "load_outputs",
    "load_report",
    "load_test",
    "localize",
    "profile",
    "requantize",
    "show_graph",
    "variants",
]

# Public name -> module defining it; resolved on first attribute access (PEP 562).
_LAZY = {
    "benchmark": "workbench.bench.engine",
    "BenchmarkResult": "workbench.bench.results",
    "Comparison": "workbench.run.compare",
    "compare": "workbench.run.compare",
    "LoadResult": "workbench.loadtest.result",
    "load_test": "workbench.loadtest.engine",
    "Localization": "workbench.run.localize",
    "localize": "workbench.run.localize",
    "requantize": "workbench.variant.requantize",
    "demo_model": "workbench.demo",
    "diff_models": "workbench.model.diff",
    "ModelDiff": "workbench.model.diff",
    "diff_reports": "workbench.report.diff",
    "DoctorReport": "workbench.ort.doctor",
    "doctor": "workbench.ort.doctor",
    "Evaluation": "workbench.variant.evaluate",
    "evaluate": "workbench.variant.evaluate",
    "variants": "workbench.variant.recipes",
    "Explorer": "workbench.widgets.explorer",
    "explore": "workbench.widgets.explorer",
    "GraphView": "workbench.graphview.view",
    "History": "workbench.tracking.query",
    "history": "workbench.tracking.query",
    "load": "workbench.model.model",
    "load_feeds": "workbench.feeds.files",
    "load_outputs": "workbench.feeds.files",
    "load_report": "workbench.report.load",
    "Model": "workbench.model.model",
    "ModelLike": "workbench.model",
    "profile": "workbench.run.profile",
    "ProfileResult": "workbench.ort.profiling",
    "ReportDiff": "workbench.report.diff",
    "ReportLike": "workbench.report",
    "RunResult": "workbench.run.result",
    "show_graph": "workbench.graphview.show",
    "WorkbenchError": "workbench.errors",
    "WorkbenchWarning": "workbench.errors",
}
# Names whose module needs an optional extra: without it they become stand-ins that raise
# MissingDependencyError when used, so `from workbench import *` works on a core install.
_NEEDS_EXTRA = {"Explorer": "The explorer", "explore": "The explorer"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module), name)
    except ImportError as error:
        if name not in _NEEDS_EXTRA:
            raise
        if not isinstance(error, MissingDependencyError):
            package = (error.name or "a package").split(".", 1)[0]
            error = MissingDependencyError.for_extra(
                _NEEDS_EXTRA[name], package, "jupyter", str(error)
            )
        return _unavailable(name, error)  # not kept: installing the extra later still works
    globals()[name] = value
    return value


def _unavailable(name: str, error: Exception) -> Any:
    """A stand-in for `name` that raises `error` when called (a class or a function alike)."""

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise error

    unavailable.__name__ = unavailable.__qualname__ = name
    unavailable.__doc__ = f"Unavailable here: {error}"
    return unavailable


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext workbench`: the %onnx magics (loading twice is harmless)."""
    from workbench.magics import register  # noqa: PLC0415  (IPython loads only for magics)

    register(ipython)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Jupyter server extension entry point (the module is imported only when loaded)."""
    return [{"module": "workbench.server"}]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
