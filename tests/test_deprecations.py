"""Names renamed in 0.2 keep working, with a DeprecationWarning, until 0.3 (CHANGELOG.md)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import workbench
from tests import models


@pytest.fixture(scope="module")
def bench() -> workbench.BenchmarkResult:
    return workbench.benchmark(
        workbench.demo_model(), ["cpu", "cuda"], runs=6, warmup=1, progress=False
    )


def test_benchmark_warnings_is_a_property_and_still_callable(bench) -> None:
    assert isinstance(bench.warnings, list) and any("skipped" in w for w in bench.warnings)
    with pytest.warns(DeprecationWarning, match="now a property"):
        assert bench.warnings() == list(bench.warnings)


def test_profile_frame_is_to_frame() -> None:
    profile = workbench.profile(workbench.demo_model(), runs=1, warmup=0)
    with pytest.warns(DeprecationWarning, match="to_frame"):
        frame = profile.frame
    assert frame.equals(profile.to_frame())


def test_model_summary_is_as_dict() -> None:
    model = workbench.load(workbench.demo_model())
    with pytest.warns(DeprecationWarning, match="as_dict"):
        assert model.summary() == model.as_dict()


def test_comparison_status_fail_is_now_mismatch() -> None:
    # Outputs that differ from the expected ones (a constant far from any logit).
    model = workbench.load(models.build("small_cnn"))
    comparison = workbench.compare(
        model, ["cpu"], expected={"logits": np.full((1, 10), 1e6, np.float32)}
    )
    (row,) = [r for r in comparison.rows if r.output]
    assert row.status == "mismatch" and str(row.status) == "mismatch"
    with pytest.warns(DeprecationWarning, match="'fail' is now 'mismatch'"):
        assert row.status == "fail"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the current names never warn
        assert row.status != "pass" and row.status in ("mismatch",)
    assert comparison.as_dict()["rows"][0]["status"] == "mismatch"


def test_model_plumbing_moved_to_its_session_source() -> None:
    model = workbench.load(workbench.demo_model())
    with pytest.warns(DeprecationWarning, match="session_source.checker"):
        assert model.feed_checker is model.session_source.checker
    with pytest.warns(DeprecationWarning, match="session_source"):
        assert model.ort_source() == (str(model.path), None)
    with (
        pytest.warns(DeprecationWarning, match="select_outputs"),
        pytest.raises(workbench.WorkbenchError, match="'nope' is not an output"),
    ):
        model.check_output_names(["nope"])


def test_explore_takes_its_old_keyword(monkeypatch) -> None:
    pytest.importorskip("ipywidgets")
    with pytest.warns(DeprecationWarning, match="model_or_path"):
        app = workbench.explore(model_or_path=workbench.demo_model())
    assert app.model is not None and app.model.name == "tinynet"
