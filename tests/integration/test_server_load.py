"""50 concurrent viewer loads of a 100 MB model: no errors, every byte right, and the server
streams rather than buffering (its memory grows by far less than one model per client).
The figures are printed by tests/perf/bench_server_load.py."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import pytest

from tests import models
from tests.integration.jupyter import JupyterServer, running_server
from tests.integration.load import MiB, abandoned_load, concurrent_loads
from tests.integration.test_server import register

CLIENTS = 50
MEMORY_BOUND_MIB = 300  # 50 buffered copies would be 5,000 MiB; streaming needs a few MiB


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    root = tmp_path_factory.mktemp("load")
    models.large_chain(root / "large.onnx")
    with running_server(root, tmp_path_factory.mktemp("work"), app="server") as running:
        yield running


def test_fifty_concurrent_loads_of_a_100_mb_model(server) -> None:
    path = server.root / "large.onnx"
    assert path.stat().st_size > 95 * MiB
    run = concurrent_loads(
        server, register(server, path), hashlib.sha256(path.read_bytes()).digest(), CLIENTS
    )
    print("\n" + run.summary())
    assert run.errors == []
    assert len(run.latencies) == CLIENTS
    assert run.rss_peak_mib - run.rss_before_mib < MEMORY_BOUND_MIB, run.summary()
    assert "Traceback" not in server.server_log()


def test_clients_hanging_up_mid_stream_leave_no_errors(server) -> None:
    model_id = register(server, server.root / "large.onnx")
    for _ in range(5):
        abandoned_load(server, model_id)
    time.sleep(1)  # let the server notice the closed connections
    status, _, body = server.get(f"onnx-workbench/api/models/{model_id}")
    assert status == 200 and len(body) == (server.root / "large.onnx").stat().st_size
    log = server.server_log()
    assert "Traceback" not in log and "Uncaught exception" not in log, log[-2000:]
