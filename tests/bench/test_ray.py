"""executor="ray" on a real two-node Ray cluster on this machine (no mocks).

The cluster starts once for the module (`ray start`, twice: a head and a node with a custom
resource, both with a `bench_slot`), with Ray's token authentication as Ray 2.60 sets it up
(the token in ~/.ray/auth_token, RAY_AUTH_MODE=token for whoever joins), and is stopped
(`ray stop --force`, which ends every Ray process it started) at the end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import workbench
from workbench.errors import MissingDependencyError

# Ray reads its auth mode when it is imported: a driver joining a token-authenticated
# cluster sets it first (the token itself is in ~/.ray/auth_token, written by `ray start`).
os.environ.setdefault("RAY_AUTH_MODE", "token")
ray = pytest.importorskip("ray", reason="needs the ray extra (pip install onnx-workbench[ray])")
RAY = str(Path(sys.executable).with_name("ray"))
ENV = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_USAGE_STATS_ENABLED": "0"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ray(*args: str) -> str:
    done = subprocess.run([RAY, *args], env=ENV, capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


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
             '--resources={"bench_slot": 1}', *common)  # fmt: skip
        _ray("start", f"--address=127.0.0.1:{port}",
             '--resources={"bench_slot": 1, "special": 1}', *common)  # fmt: skip
        ray.init(address=f"127.0.0.1:{port}", log_to_driver=False)
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
    local = workbench.benchmark(workbench.demo_model(), ["cpu"], [8], runs=50, warmup=2,
                                progress=False)  # fmt: skip
    ratio = result.results[-1].stats.p50_ms / local.results[0].stats.p50_ms
    assert 0.5 < ratio < 2  # the same configuration, on the same machine, through Ray


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
