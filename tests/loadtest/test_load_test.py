"""load_test() on real onnxruntime sessions: scenarios, verdicts, bad input, reports, CLI."""

from __future__ import annotations

import json
import threading

import numpy as np
import onnx
import pytest

import workbench
from tests import models
from tests.cli import cli
from workbench.errors import WorkbenchError

DEMO = str(workbench.demo_model())


@pytest.fixture(scope="module")
def slow_model(tmp_path_factory):
    """About 0.8 ms a request on this machine's CPU: a capacity a few thousand/s exceeds."""
    return models.large_chain(tmp_path_factory.mktemp("slow") / "chain.onnx", blocks=30,
                              width=512)  # fmt: skip


def test_the_cli_server_json_carries_what_maintainers_check() -> None:
    done = cli("load-test", DEMO, "--providers", "cpu", "--scenario", "server", "--qps", "200",
               "--duration", "2", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    (row,) = data["rows"]
    for key in ("provider", "scenario", "target_qps", "achieved_qps", "requests", "dropped",
                "p50_ms", "p99_ms", "verdict"):  # fmt: skip
        assert key in row
    assert row["verdict"] == "ok" and row["scenario"] == "server"
    assert abs(row["achieved_qps"] - 200) <= 10 and row["requests"] == 400
    assert len(row["requests_table"]["rows"]) == 400  # every request kept
    assert data["kind"] == "load-test" and data["environment"]


def test_far_past_capacity_requests_drop_or_the_queue_shows(slow_model) -> None:
    result = workbench.load_test(slow_model, scenario="server", qps=6000, duration=2)
    (row,) = result.rows
    assert row.verdict == "overloaded" and "overloaded at 6000 QPS" in row.reason
    assert row.dropped > 0 or row.p99_ms >= 500  # a quarter of the run, waiting
    assert row.lateness_p99_ms is not None  # the generator's noise, beside the figures


def test_peak_with_dynamic_batching_beside_none(slow_model) -> None:
    result = workbench.load_test(slow_model, scenario="peak", bound="50ms", duration=0.5,
                                 batching=["none", "dynamic:8:1ms"], max_probes=6)  # fmt: skip
    plain, batched = result.rows
    assert plain.policy == "none" and batched.policy == "dynamic:8:1ms"
    for row in (plain, batched):
        assert row.verdict == "ok" and row.peak_qps and 2 <= len(row.probes) <= 6, row.reason
        assert row.percentile_ms <= 50
    assert batched.mean_batch > 1
    data = json.loads(json.dumps(result.as_dict()))
    assert data["rows"][0]["peak_qps"] == plain.peak_qps
    result.plot()  # the bound drawn, each peak starred
    result.plot_breakdown()
    result.plot_timeline(0)


def test_a_bound_one_request_cannot_meet_is_unattainable_not_searched() -> None:
    result = workbench.load_test(DEMO, scenario="peak", bound="1us", duration=0.5,
                                 executor="inprocess")  # fmt: skip
    (row,) = result.rows
    assert row.verdict == "unattainable" and row.peak_qps is None and not row.probes
    assert "even one request at a time" in row.reason and row.percentile_ms > 0.001


def test_single_stream_concurrency_and_offline() -> None:
    single = workbench.load_test(DEMO, scenario="single-stream", duration=0.5,
                                 executor="inprocess").rows[0]  # fmt: skip
    assert single.verdict == "ok" and single.requests > 100 and single.queue_ms == 0
    sweep = workbench.load_test(DEMO, scenario="concurrency", concurrency=[1, 2],
                                sessions="both", duration=0.5).rows  # fmt: skip
    assert [(r.clients, r.sessions) for r in sweep] == [
        (1, "shared"), (1, "per-client"), (2, "shared"), (2, "per-client")]  # fmt: skip
    assert all(r.verdict == "ok" and r.achieved_qps for r in sweep)
    offline = workbench.load_test(DEMO, scenario="offline", duration=0.5).rows[0]
    assert offline.verdict == "ok" and offline.requests >= 100 and offline.achieved_qps > 0
    assert offline.target_qps is None and offline.queue_ms > 0  # all queued at the start


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scenario": "server", "qps": 0}, "needs a target rate above 0"),
        ({"scenario": "server", "qps": 10, "duration": 1}, "too few for a p99"),
        ({"scenario": "concurrency", "concurrency": [0]}, "1 or more clients"),
        ({"scenario": "peak"}, "needs a latency bound"),
        ({"scenario": "serverr", "qps": 10}, "Unknown scenario"),
        ({"scenario": "server", "qps": 100, "batching": "dynamic:1:1ms"}, "no batching"),
        ({"scenario": "server", "qps": 100, "duration": "ten"}, "Cannot read the duration"),
    ],
)
def test_impossible_settings_are_refused_with_what_makes_sense(options, message) -> None:
    with pytest.raises(WorkbenchError, match=message):
        workbench.load_test(DEMO, **options)


def test_batching_is_refused_for_a_fixed_batch_model(tmp_path) -> None:
    path = models.write("fixed_batch", tmp_path)
    with pytest.raises(WorkbenchError, match="no free leading dim") as caught:
        workbench.load_test(path, scenario="server", qps=100, batching="dynamic:4:1ms")
    assert "batching='none'" in caught.value.hint


def test_cancel_keeps_every_completed_request() -> None:
    stop = threading.Event()
    seen = []

    def update(result) -> None:
        seen.append(len(result.rows))

    threading.Timer(1.0, stop.set).start()
    result = workbench.load_test(DEMO, scenario="server", qps=300, duration=20, cancel=stop,
                                 on_update=update, executor="inprocess")  # fmt: skip
    (row,) = result.rows
    assert row.verdict == "partial" and row.reason.startswith("cancelled after")
    assert 100 < row.completed < 6000 and seen


def test_reports_read_back_and_diff(tmp_path) -> None:
    first, second = (  # 1,200 requests: enough beyond p99 for its CI to be bounded
        workbench.load_test(DEMO, scenario="server", qps=1000, duration=1.2, executor="inprocess")
        for _ in range(2)
    )
    written = first.report(tmp_path / "a", formats=("html", "json", "csv", "md"))
    assert [p.rsplit(".", 1)[1] for p in written] == ["html", "json", "csv", "md"]
    back = workbench.load_report(tmp_path / "a.json")
    assert isinstance(back, workbench.LoadResult)
    assert back.rows[0].p99_ms == pytest.approx(first.rows[0].p99_ms)
    assert np.array_equal(back.rows[0].table, first.rows[0].table)
    difference = workbench.diff_reports(tmp_path / "a.json", second)
    (change,) = difference.changes
    assert change.measure == "p99 ms" and change.verdict in (
        "no significant change", "slower", "faster")  # fmt: skip
    few = workbench.load_test(DEMO, scenario="server", qps=300, duration=1, executor="inprocess")
    assert few.rows[0].percentile_ci_ms[1] == float("inf")  # 300: too few beyond p99
    assert workbench.diff_reports(few, few).changes[0].verdict == "too few runs to tell"
    with pytest.raises(WorkbenchError, match="a load test, the other a benchmark"):
        workbench.diff_reports(first, workbench.benchmark(DEMO, runs=10, progress=False))


def test_names_from_the_model_are_escaped_in_the_html(tmp_path) -> None:
    proto = models.build("fixed_batch")
    proto.graph.name = "<img src=x onerror=alert(1)>"
    path = tmp_path / "<b>odd<b>.onnx"
    onnx.save(proto, path)
    page = workbench.load_test(path, scenario="single-stream", duration=0.2,
                               executor="inprocess")._repr_html_()  # fmt: skip
    assert "<b>odd" not in page and "&lt;b&gt;odd" in page


def test_a_model_that_fails_gives_a_failed_row_that_says_why() -> None:
    result = workbench.load_test(models.build("reshape_baked"), scenario="server", qps=100,
                                 duration=1, dims={"seq": 64})  # fmt: skip
    (row,) = result.rows
    assert row.verdict == "failed" and "encoder/Reshape" in row.reason
    assert "Traceback" not in row.reason


def test_failed_requests_fail_the_run_and_keep_the_error() -> None:
    """Requests that fail mid-run (the model itself ran at warm-up): the verdict says so."""
    from workbench.bench.config import BenchConfig
    from workbench.bench.jobs import Facts, Finished, Samples, Started
    from workbench.loadtest.engine import _Prober
    from workbench.loadtest.generator import COLUMNS, FAILED
    from workbench.loadtest.spec import make_spec

    class Failing:  # an executor whose every request failed
        def run(self, job, emit, cancel) -> None:
            table = np.zeros((50, len(COLUMNS)), np.int64)
            table[:, 3] = 1_000_000
            table[:, 5] = FAILED
            emit(Started(["CPUExecutionProvider"], 0.1, 1, {"hostname": "here"}))
            emit(Samples(table, COLUMNS))
            emit(Facts({"first_error": "RuntimeError: boom", "cpu_percent": 1.0}))
            emit(Finished("done", 5, None, None, None))

    prober = _Prober(Failing(), BenchConfig("CPUExecutionProvider"),
                     make_spec("single-stream", duration=1), None,
                     should_stop=lambda: False)  # fmt: skip
    row = prober.closed(1, "shared", scenario="single-stream")
    assert row.verdict == "failed" and row.failed == 50 and row.host == "here"
    assert row.reason == "50 requests of 50 failed: RuntimeError: boom"


def test_the_cli_peak_adds_peak_qps_and_writes_the_plot(tmp_path) -> None:
    plot = tmp_path / "curve.png"
    done = cli("load-test", DEMO, "--providers", "cpu", "--scenario", "peak", "--p99", "20ms",
               "--duration", "0.5", "--max-probes", "4", "--json", "--plot", str(plot))  # fmt: skip
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)["rows"]
    assert row["scenario"] == "peak" and row["verdict"] == "ok" and row["peak_qps"] > 0
    assert row["bound_ms"] == 20 and plot.read_bytes()[:4] == b"\x89PNG"
    assert f"wrote {plot}" in done.stderr  # stdout holds the JSON alone
