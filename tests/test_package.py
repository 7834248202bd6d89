"""The package contract: a cheap import, an explicit public API, lazy heavy dependencies."""

from __future__ import annotations

import subprocess
import sys

import workbench

HEAVY = ("onnx", "onnxruntime", "pandas", "matplotlib", "IPython", "numpy", "jinja2")


def test_import_loads_no_heavy_dependency() -> None:
    code = f"import sys, workbench; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_public_names_resolve() -> None:
    for name in workbench.__all__:
        assert getattr(workbench, name) is not None
    assert set(workbench.__all__) <= set(dir(workbench))


def test_unknown_attribute_is_an_attribute_error() -> None:
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        workbench.nope  # noqa: B018
