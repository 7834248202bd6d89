"""onnx-workbench: inspect, run, compare and benchmark ONNX models, in notebooks and scripts.

Importing the package is cheap: onnx, onnxruntime, pandas and matplotlib load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from workbench._version import __version__

if TYPE_CHECKING:
    from workbench.demo import demo_model
    from workbench.errors import WorkbenchError, WorkbenchWarning
    from workbench.model import Model, load

__all__ = [
    "Model",
    "WorkbenchError",
    "WorkbenchWarning",
    "__version__",
    "demo_model",
    "load",
]

# Public name -> module defining it; resolved on first attribute access (PEP 562).
_LAZY = {
    "Model": "workbench.model",
    "load": "workbench.model",
    "demo_model": "workbench.demo",
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


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
