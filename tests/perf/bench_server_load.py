"""Server extension under load (issue 9): 1, 10 and 50 concurrent viewer loads (page, a
script, then the whole 100 MB model) on loopback; errors, throughput, latency, and the
Jupyter server's peak memory. Run: python tests/perf/bench_server_load.py
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests import models
from tests.integration.jupyter import running_server
from tests.integration.load import concurrent_loads
from tests.integration.test_server import register

GOAL_EXTRA_MIB = 300  # peak server memory above idle, at 50 clients


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root, work = Path(tmp) / "root", Path(tmp) / "work"
        root.mkdir()
        path = models.large_chain(root / "large.onnx")
        digest = hashlib.sha256(path.read_bytes()).digest()
        with running_server(root, work, app="server") as server:
            model_id = register(server, path)
            runs = [concurrent_loads(server, model_id, digest, clients) for clients in (1, 10, 50)]
    for run in runs:
        print(run.summary())
    last = runs[-1]
    ok = (
        not any(r.errors for r in runs) and last.rss_peak_mib - last.rss_before_mib < GOAL_EXTRA_MIB
    )
    print(
        f"goal: no errors, server memory +{GOAL_EXTRA_MIB} MiB at most: {'ok' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
