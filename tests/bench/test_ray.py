"""executor="ray" on a real Ray cluster on this machine (no mocks).

The cluster starts once for the module (`ray start`, twice: a head with a `head_box` resource
and a node with a `special` resource and a `kind=special` label, both with a `bench_slot`),
with Ray's token authentication as Ray 2.60 sets it up (the token in ~/.ray/auth_token,
RAY_AUTH_MODE=token for whoever joins), and is stopped (`ray stop --force`, which ends every
Ray process it started) at the end. The last test adds a third node and kills every process
of it mid-sweep. The head declares a node dead after 3 missed 1 s health checks (Ray's
default is 5 of 3 s), so that test takes seconds, not half a minute.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

import workbench
from tests import models
from workbench.bench.executors import ray_cluster
from workbench.errors import MissingDependencyError, WorkbenchError

# Ray reads its auth mode when it is imported: a driver joining a token-authenticated
# cluster sets it first (the token itself is in ~/.ray/auth_token, written by `ray start`).
os.environ.setdefault("RAY_AUTH_MODE", "token")
ray = pytest.importorskip("ray", reason="needs the ray extra (pip install onnx-workbench[ray])")
RAY = str(Path(sys.executable).with_name("ray"))
ENV = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_USAGE_STATS_ENABLED": "0",
       "RAY_health_check_period_ms": "1000", "RAY_health_check_failure_threshold": "3"}  # fmt: skip
DEMO = workbench.demo_model()
PLACED = {"head": {"resources": {"head_box": 1}}, "special": {"labels": {"kind": "special"}}}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ray(*args: str) -> str:
    done = subprocess.run([RAY, *args], env=ENV, capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


cluster_port: list[int] = []


def _node_with(resource: str) -> str:
    return next(n["NodeID"] for n in ray.nodes() if n["Alive"] and resource in n["Resources"])


@pytest.fixture(scope="module")
def cluster():
    if ray.is_initialized():  # a local Ray an earlier test started (executor="ray" alone)
        ray.shutdown()
    port = _free_port()
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats"]
    try:
        # A new machine has no token yet: made here, and handed to this driver explicitly
        # (Ray may have looked for the file before it existed).
        os.environ["RAY_AUTH_TOKEN"] = _ray("get-auth-token", "--generate").strip().splitlines()[-1]
        _ray("start", "--head", f"--port={port}", "--include-dashboard=false",
             '--resources={"bench_slot": 1, "head_box": 1}', *common)  # fmt: skip
        _ray("start", f"--address=127.0.0.1:{port}", "--labels=kind=special",
             '--resources={"bench_slot": 1, "special": 1}', *common)  # fmt: skip
        ray.init(address=f"127.0.0.1:{port}", log_to_driver=False)
        deadline = time.monotonic() + 60  # both nodes' resources, as the driver sees them
        while ray.cluster_resources().get("bench_slot") != 2:
            assert time.monotonic() < deadline, ray.cluster_resources()
            time.sleep(0.5)
        cluster_port[:] = [port]
        yield ray
    finally:
        if ray.is_initialized():
            ray.shutdown()
        os.environ.pop("RAY_AUTH_TOKEN", None)
        subprocess.run([RAY, "stop", "--force"], env=ENV, capture_output=True, timeout=120,
                       check=False)  # fmt: skip


def test_a_sweep_runs_on_the_cluster_with_a_host_per_row(cluster) -> None:
    assert cluster.cluster_resources()["bench_slot"] == 2
    result = workbench.benchmark(workbench.demo_model(), ["cpu"], [1, 2, 4, 8], runs=50,
                                 warmup=2, executor="ray", progress=False)  # fmt: skip
    frame = result.to_frame()
    assert list(frame["status"]) == ["ok"] * 4 and frame["host"].all()
    nodes = {r.host["ray_node"] for r in result.results}
    alive = {n["NodeID"] for n in cluster.nodes() if n["Alive"]}
    assert nodes <= alive and len(alive) == 2
    assert all(r.stats.n == 50 and r.items_per_run == r.config.batch for r in result.results)
    # One configuration alone (the sweep above measured two at once: on a real cluster on
    # two machines, here on one), through Ray and here: the same machine, the same speed.
    alone = workbench.benchmark(workbench.demo_model(), ["cpu"], [8], runs=50, warmup=2,
                                executor="ray", progress=False)  # fmt: skip
    local = workbench.benchmark(workbench.demo_model(), ["cpu"], [8], runs=50, warmup=2,
                                progress=False)  # fmt: skip
    ratio = alone.results[0].stats.p50_ms / local.results[0].stats.p50_ms
    assert 0.5 < ratio < 2, (alone.results[0].stats, local.results[0].stats)


def test_a_cuda_configuration_without_a_gpu_anywhere_is_a_skipped_row(cluster) -> None:
    result = workbench.benchmark(workbench.demo_model(), ["cpu", "cuda"], runs=10,
                                 executor="ray", progress=False)  # fmt: skip
    cpu, cuda = result.results
    assert cpu.status == "ok" and cuda.status == "skipped" and cuda.reason


def test_without_ray_the_error_names_the_extra(monkeypatch) -> None:
    from workbench.bench.executors.ray_cluster import RayExecutor
    from workbench.feeds.synthetic import FeedRequest

    monkeypatch.setitem(sys.modules, "ray", None)  # as if it were not installed
    with pytest.raises(MissingDependencyError, match=r"onnx-workbench\[ray\]"):
        RayExecutor(workbench.load(workbench.demo_model()), FeedRequest(None, None, None))


def test_configurations_land_on_the_machines_asked_for(cluster, tmp_path) -> None:
    result = workbench.benchmark(DEMO, ["cpu"], [1, 2], runs=40, warmup=2, executor="ray",
                                 machines=PLACED, progress=False)  # fmt: skip
    assert [r.config.label for r in result.results] == [
        "cpu b1 host @head",
        "cpu b1 host @special",
        "cpu b2 host @head",
        "cpu b2 host @special",
    ]
    nodes = {"head": _node_with("head_box"), "special": _node_with("special")}
    for row in result.results:
        assert row.status == "ok" and row.host["ray_node"] == nodes[row.config.machine]
    assert result.settings["machines"] == PLACED
    # A report that spans both nodes: grouped by machine, compared across them.
    page = Path(result.report(tmp_path / "r.html")[0]).read_text()
    assert "<h2>Machines</h2>" in page and "machine special" in page
    diff = workbench.diff_reports(result, result, machines={"head": "special"})
    assert len(diff.changes) == 2


def test_a_machine_no_node_offers_is_refused_before_anything_runs(cluster) -> None:
    ran = []
    with pytest.raises(WorkbenchError, match="'h200'") as caught:
        workbench.benchmark(DEMO, ["cpu"], executor="ray", progress=False,
                            machines={**PLACED, "h200": {"accelerator_type": "H200"}},
                            on_update=lambda r, c: ran.append(c))  # fmt: skip
    assert "head_box 1" in caught.value.hint and "kind=special" in caught.value.hint
    assert ran == []


def test_a_stopped_sweep_resumes_on_the_cluster(cluster, tmp_path) -> None:
    path = tmp_path / "sweep.jsonl"
    stop = threading.Event()

    def first_done(result, current) -> None:
        if current.stats is not None and current.status == "ok":
            stop.set()  # one row finished: cancel the rest

    first = workbench.benchmark(DEMO, ["cpu"], [1, 2, 4, 8], time_budget=1.0, target_ci=None,
                                warmup=2, executor="ray", cancel=stop, on_update=first_done,
                                checkpoint=path, progress=False)  # fmt: skip
    kept = [r for r in first.results if r.status == "ok" and r.stop_reason == "time"]
    assert kept and len(kept) < 4
    for row in first.results:  # the rest: cancelled while measured, or before
        if row not in kept:
            assert row.status in ("partial", "skipped") and "cancelled" in (
                row.reason + row.stop_reason
            ), row
    again = workbench.benchmark(DEMO, ["cpu"], [1, 2, 4, 8], runs=30, warmup=2, executor="ray",
                                resume=True, checkpoint=path, progress=False)  # fmt: skip
    assert [r.status for r in again.results] == ["ok"] * 4
    assert again.settings["resumed"] == len(kept)
    by_batch = {r.config.batch: r for r in again.results}
    for row in kept:
        assert by_batch[row.config.batch].samples_ns == row.samples_ns


def test_a_model_with_external_weights_is_read_from_its_shared_path(cluster, tmp_path) -> None:
    path = models.write("external_weights", tmp_path)  # every node here sees tmp_path
    result = workbench.benchmark(path, ["cpu"], [1, 4], runs=20, warmup=1, executor="ray",
                                 progress=False)  # fmt: skip
    assert [r.status for r in result.results] == ["ok", "ok"]
    inside = workbench.load(path)
    moved = workbench.load(inside.serialized(), base_dir=tmp_path)  # no file of its own
    with pytest.raises(WorkbenchError, match="no file of its own"):
        workbench.benchmark(moved, ["cpu"], runs=5, executor="ray", progress=False)


def test_evaluations_and_load_tests_run_on_the_cluster_too(cluster, tmp_path) -> None:
    evaluation = workbench.evaluate(DEMO, ["ort-optimized"], samples=2, time_budget=0.3,
                                    executor="ray", folder=tmp_path / "v")  # fmt: skip
    assert [r.status for r in evaluation.rows] == ["ok", "ok"]
    load = workbench.load_test(DEMO, scenario="single-stream", duration=1, executor="ray")
    assert load.rows[0].verdict == "ok" and load.rows[0].completed > 0


def test_a_node_killed_mid_sweep_loses_only_its_configurations(cluster, monkeypatch) -> None:
    monkeypatch.setattr(ray_cluster, "SCHEDULE_TIMEOUT_S", 2.0)
    victim = subprocess.Popen(
        [RAY, "start", f"--address=127.0.0.1:{cluster_port[0]}", "--block",
         "--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats",
         '--resources={"bench_slot": 1, "victim": 1}'],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not any(n["Alive"] and "victim" in n["Resources"] for n in ray.nodes()):
            assert time.monotonic() < deadline, "the third node did not join"
            time.sleep(0.5)
        node = _node_with("victim")
        killed: list[float] = []

        def kill_the_node(result, row) -> None:
            if not killed and row.stats is None and row.host.get("ray_node") == node:
                top = psutil.Process(victim.pid)  # every process of the node: its workers too
                for process in [top, *top.children(recursive=True)]:
                    process.send_signal(signal.SIGKILL)
                killed.append(time.monotonic())

        machines = {"head": PLACED["head"], "victim": {"resources": {"victim": 1}}}
        result = workbench.benchmark(DEMO, ["cpu"], [1, 2, 4], time_budget=1.5,
                                     target_ci=None, warmup=2, executor="ray",
                                     machines=machines, on_update=kill_the_node,
                                     progress=False)  # fmt: skip
    finally:
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
    assert killed
    rows = {r.config.label: r for r in result.results}
    assert [rows[f"cpu b{b} host @head"].status for b in (1, 2, 4)] == ["ok"] * 3
    lost = rows["cpu b1 host @victim"]
    assert lost.status in ("failed", "partial") and lost.stop_reason == "worker died"
    assert "was lost" in lost.reason and "node" in lost.reason
    for b in (2, 4):  # waiting for a node that is gone: skipped with the reason, never a hang
        row = rows[f"cpu b{b} host @victim"]
        assert row.status == "skipped" and row.stop_reason == "unscheduled"
        assert "No live node" in row.reason and "victim 1" in row.reason
