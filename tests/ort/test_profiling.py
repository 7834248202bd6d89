"""Per-operator profiles from onnxruntime's profiler."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import workbench
from tests import models
from workbench.ort.profiling import ProfileResult, summarize


def test_profile_table_of_the_demo_model() -> None:
    result = workbench.profile(workbench.demo_model(), runs=5, warmup=2)
    frame = result.to_frame()
    assert list(frame.columns) == [
        "node",
        "op_type",
        "provider",
        "calls",
        "total_ms",
        "mean_ms",
        "share",
    ]
    assert set(frame["provider"]) == {"CPUExecutionProvider"}
    assert (frame["calls"] == 5).all()  # warmup runs are left out
    assert math.isclose(frame["share"].sum(), 1.0, rel_tol=1e-9)
    assert list(frame["total_ms"]) == sorted(frame["total_ms"], reverse=True)
    assert len(result.model_run_ms) == 5
    by_type = result.by_op_type()
    assert "Conv" in set(by_type["op_type"])
    assert "Conv" in result._repr_html_()


def test_profile_plot_returns_axes() -> None:
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    result = workbench.profile(models.build("small_cnn"), runs=2, warmup=1)
    assert result.plot(top=3, ax=ax) is ax
    assert len(ax.patches) == min(3, len(result.by_op_type()))
    assert result.plot(by="node", ax=Figure().add_subplot()).get_title().startswith("Time by node")


def test_summarize_skips_warmup_events() -> None:
    events = [
        {"cat": "Session", "name": "model_run", "ts": 0, "dur": 900},
        {
            "cat": "Node",
            "name": "a_kernel_time",
            "ts": 10,
            "dur": 800,
            "args": {"op_name": "Conv", "provider": "CPUExecutionProvider"},
        },
        {"cat": "Session", "name": "model_run", "ts": 1000, "dur": 300},
        {
            "cat": "Node",
            "name": "a_kernel_time",
            "ts": 1010,
            "dur": 200,
            "args": {"op_name": "Conv", "provider": "CPUExecutionProvider"},
        },
        {
            "cat": "Node",
            "name": "b_kernel_time",
            "ts": 1100,
            "dur": 100,
            "args": {"op_name": "Relu", "provider": "CPUExecutionProvider"},
        },
    ]
    result = summarize(events, "CPUExecutionProvider", runs=1, warmup=1)
    assert [(r["node"], r["total_ms"]) for r in result.rows] == [("a", 0.2), ("b", 0.1)]
    assert result.model_run_ms == [0.3]
    assert result.rows[0]["share"] == pytest.approx(2 / 3)


def test_profile_needs_at_least_one_run() -> None:
    with pytest.raises(workbench.WorkbenchError, match="at least 1"):
        workbench.profile(workbench.demo_model(), runs=0)


def test_a_profile_says_which_inputs_were_given() -> None:
    result = workbench.profile(models.build("vad_like"), values={"sr": 16000}, runs=1, warmup=0)
    assert [(r["name"], r["given"]) for r in result.inputs] == [("audio", False), ("sr", True)]
    assert "Inputs: audio synthetic [1, 64]; sr given []" in result.text()
    again = ProfileResult.from_dict(result.as_dict())
    assert again.inputs == result.inputs


def test_a_profile_records_the_model_and_the_session_it_was_taken_with(tmp_path) -> None:
    model = workbench.load(workbench.demo_model())
    result = workbench.profile(model, runs=2, warmup=1, opt_level="basic", intra_op_threads=1)
    assert result.model_sha256 == model.sha256
    assert result.session["opt_level"] == "basic" and result.session["intra_op_threads"] == 1
    assert result.session["provider"] == "CPUExecutionProvider"
    assert f"model sha256 {model.sha256[:12]}" in str(result)
    assert "optimization level basic" in str(result) and model.sha256 in result._repr_html_()
    (report,) = result.report(str(tmp_path / "profile.json"))
    written = json.loads(Path(report).read_text())
    assert written["model_sha256"] == model.sha256 and written["session"] == result.session
    again = ProfileResult.from_dict(written)
    assert again.model_sha256 == model.sha256 and again.session == result.session
    # A report written before these were recorded still reads, saying nothing of them.
    older = {k: v for k, v in result.as_dict().items() if k not in ("model_sha256", "session")}
    assert ProfileResult.from_dict(older).model_sha256 == ""
    assert "model sha256" not in str(ProfileResult.from_dict(older))


def test_a_profile_lists_its_hottest_nodes_in_every_view(tmp_path) -> None:
    result = workbench.profile(workbench.demo_model(), runs=3, warmup=1)
    hottest = result.hottest(3)
    assert [h["node"] for h in hottest] == [r["node"] for r in result.rows[:3]]
    run_ms = sum(result.model_run_ms)
    assert hottest[0]["run_share"] == pytest.approx(result.rows[0]["total_ms"] / run_ms)
    assert hottest[0]["ms_per_run"] == pytest.approx(result.rows[0]["total_ms"] / 3)
    text = str(result)
    assert "Hottest nodes:" in text and result.rows[0]["node"] in text.split("Hottest")[1]
    assert "<b>Hottest nodes</b>" in result._repr_html_()
    untimed = ProfileResult.from_dict({**result.as_dict(), "model_run_ms": []})
    assert untimed.hottest(1)[0]["run_share"] is None
    assert "Hottest nodes:" in str(untimed)
    bench = workbench.benchmark(
        workbench.demo_model(), ["cpu"], runs=2, warmup=1, progress=False, profile=True
    )
    (page,) = bench.report(str(tmp_path / "bench.html"))
    assert "<b>Hottest nodes</b>" in Path(page).read_text()
