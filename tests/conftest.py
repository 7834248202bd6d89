"""Shared fixtures. Only pytest, numpy and onnx are needed to collect the suite, so the GPU
machine (no IPython, Jupyter or Playwright) can run the `gpu` tests."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import models


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `gpu` tests where CUDA is unusable, giving the doctor's reason."""
    gpu_tests = [item for item in items if "gpu" in item.keywords]
    if not gpu_tests:
        return
    from workbench.ort import providers

    status = providers.probe("cuda")
    if status.usable:
        return
    reason = f"needs a usable CUDA provider: {status.reason or 'not compiled in'}"
    for item in gpu_tests:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the demo model, other cache files and the results history out of the user's home.

    Every result a test makes goes to one temporary history (notebooks' kernels inherit it).
    """
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    patch.setenv("ONNX_WORKBENCH_HISTORY", str(tmp_path_factory.mktemp("data") / "history.sqlite"))
    yield
    patch.undo()


@pytest.fixture
def model_path(tmp_path: Path) -> Callable[[str], Path]:
    """Write a registry model into the test's temp folder: `model_path("control_flow")`."""
    return lambda name: models.write(name, tmp_path)


@pytest.fixture
def load_quietly() -> Callable[..., object]:
    """`workbench.load` with its warnings (too-new IR, missing weights) silenced."""
    import workbench

    def load(source: object, **kwargs: object) -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", workbench.WorkbenchWarning)
            return workbench.load(source, **kwargs)

    return load


def ort_datasets() -> list[Path]:
    """The small models shipped inside the onnxruntime wheel."""
    import onnxruntime

    return sorted((Path(onnxruntime.__file__).parent / "datasets").glob("*.onnx"))
