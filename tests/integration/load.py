"""Concurrent viewer loads against a running Jupyter server: each client fetches the
viewer page, one of its scripts and the whole model, as a browser opening a graph does.
Used by the load test (tests/integration/test_server_load.py) and its benchmark script
(tests/perf/bench_server_load.py)."""

from __future__ import annotations

import hashlib
import http.client
import statistics
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psutil

from tests.integration.jupyter import TOKEN, JupyterServer

MiB = 2**20
READ_BYTES = 1 * MiB


@dataclass
class LoadRun:
    """What `concurrent_loads` measured."""

    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # per client, page to last byte
    errors: list[str] = field(default_factory=list)
    model_bytes: int = 0
    rss_before_mib: float = 0.0
    rss_peak_mib: float = 0.0

    def summary(self) -> str:
        total = self.model_bytes * len(self.latencies) / MiB
        quantiles = (
            statistics.quantiles(self.latencies, n=20)
            if len(self.latencies) > 1
            else self.latencies
        )
        return (
            f"{self.clients} concurrent loads of a {self.model_bytes / MiB:.0f} MiB model: "
            f"{len(self.latencies)} complete, {len(self.errors)} errors, {self.seconds:.1f} s "
            f"({total / self.seconds:,.0f} MiB/s); per load p50 "
            f"{statistics.median(self.latencies):.1f} s, p95 {quantiles[-1]:.1f} s, max "
            f"{max(self.latencies):.1f} s; server RSS {self.rss_before_mib:.0f} MiB before, "
            f"{self.rss_peak_mib:.0f} MiB at peak (+{self.rss_peak_mib - self.rss_before_mib:.0f})"
        )


def concurrent_loads(
    server: JupyterServer, model_id: str, expected: bytes, clients: int = 50
) -> LoadRun:
    """`clients` threads start together; each loads the viewer and the model `model_id`,
    whose bytes must hash like `expected`'s (its SHA-256 digest)."""
    run = LoadRun(clients)
    process = psutil.Process(server.process.pid)
    run.rss_before_mib = process.memory_info().rss / MiB
    run.rss_peak_mib = run.rss_before_mib
    start = threading.Barrier(clients + 1)
    lock = threading.Lock()
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            run.rss_peak_mib = max(run.rss_peak_mib, process.memory_info().rss / MiB)
            time.sleep(0.01)

    def client() -> None:
        start.wait()
        began = time.perf_counter()
        try:
            size = _load(server, model_id, expected)
        except Exception as error:
            with lock:
                run.errors.append(f"{type(error).__name__}: {error}")
            return
        with lock:
            run.latencies.append(time.perf_counter() - began)
            run.model_bytes = size

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - began
    stop.set()
    sampler.join()
    return run


def abandoned_load(server: JupyterServer, model_id: str, after: int = 4 * MiB) -> None:
    """Start loading the model and hang up after `after` bytes, as a closed tab does."""
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    path = f"{url.path.rstrip('/')}/onnx-workbench/api/models/{model_id}"
    connection.request("GET", path, headers={"Authorization": f"token {TOKEN}"})
    response = connection.getresponse()
    response.read(after)
    connection.sock.close()  # mid-stream, without reading the rest
    connection.close()


def _load(server: JupyterServer, model_id: str, expected: bytes) -> int:
    url = urlsplit(server.url)
    base = url.path.rstrip("/")
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    headers = {"Authorization": f"token {TOKEN}"}
    try:
        for path, must_contain in ((f"{base}/onnx-workbench/viewer/netron-viewer.html", b"<html"),):
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200 or must_contain not in body:
                raise RuntimeError(f"GET {path}: HTTP {response.status}")
        connection.request("GET", f"{base}/onnx-workbench/api/models/{model_id}", headers=headers)
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"model bytes: HTTP {response.status}")
        digest, size = hashlib.sha256(), 0
        while chunk := response.read(READ_BYTES):
            digest.update(chunk)
            size += len(chunk)
        if digest.digest() != expected:
            raise RuntimeError(f"model bytes differ ({size:,} bytes received)")
        return size
    finally:
        connection.close()
