"""Plots take an Axes, return it, never show, and stay readable from 2 to 20 configurations."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

import workbench
from workbench import plots
from workbench.bench.config import BenchConfig
from workbench.bench.results import BenchmarkResult, ConfigResult


def fake_result(count: int, batches=(1,)) -> BenchmarkResult:
    import numpy as np

    rng = np.random.default_rng(0)
    results = []
    for index in range(count):
        for batch in batches:
            samples = (rng.normal(1 + index, 0.05, 60).clip(0.5) * batch * 1e6).astype(int).tolist()
            results.append(
                ConfigResult(
                    BenchConfig("CPUExecutionProvider", batch=batch, intra_op_threads=index + 1),
                    "ok",
                    samples_ns=samples,
                    items_per_run=batch,
                ).finish()
            )
    return BenchmarkResult(results, {"name": "m"}, {}, {}, "now")


@pytest.mark.parametrize("count", [2, 20])
def test_p50_bars(count: int) -> None:
    ax = Figure().add_subplot()
    assert plots.p50_bars(fake_result(count), ax=ax) is ax
    assert len(ax.patches) == count
    labels = ax.get_yticklabels() if count > plots.HORIZONTAL_ABOVE else ax.get_xticklabels()
    assert len(labels) == count and labels[0].get_text() == "cpu b1 t1 host"
    assert "1.00x" in [t.get_text() for t in ax.texts]


@pytest.mark.parametrize("count", [2, 20])
def test_latency_distribution(count: int) -> None:
    ax = Figure().add_subplot()
    assert plots.latency_distribution(fake_result(count), ax=ax) is ax
    assert len(ax.collections) == count  # one scatter of runs per configuration


def test_scaling_plots_latency_and_throughput_per_batch() -> None:
    ax = Figure().add_subplot()
    assert plots.scaling(fake_result(2, batches=(1, 2, 4)), ax=ax) is ax
    assert len(ax.lines) == 2
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "4"]


def test_scaling_needs_batch_sizes() -> None:
    result = BenchmarkResult(
        [ConfigResult(BenchConfig("CPUExecutionProvider"), "ok", samples_ns=[1000] * 10).finish()],
        {},
        {},
        {},
        "now",
    )
    with pytest.raises(workbench.WorkbenchError, match="batch sizes"):
        plots.scaling(result, ax=Figure().add_subplot())


def test_nothing_measured_is_a_clear_error() -> None:
    result = BenchmarkResult(
        [ConfigResult(BenchConfig("CUDAExecutionProvider"), "skipped", reason="no GPU")],
        {},
        {},
        {},
        "now",
    )
    with pytest.raises(workbench.WorkbenchError, match="no configuration was measured"):
        plots.p50_bars(result, ax=Figure().add_subplot())


def test_plot_method_and_no_show(monkeypatch) -> None:
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plots must not call show()"))
    result = fake_result(3)
    assert result.plot("distribution").get_title().startswith("Latency distribution")
    with pytest.raises(workbench.WorkbenchError, match="Unknown plot kind"):
        result.plot("pie")
    plt.close("all")
