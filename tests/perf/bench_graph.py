"""Graph view timings (issue 5): from cell execution to graph drawn, for the demo model and a
100 MB / 1,000-node model, in a real JupyterLab and Chromium; and the Jupyter server's peak
memory while it serves the large model. Run: python tests/perf/bench_graph.py
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests import models
from tests.integration.browser import LabPage, chromium
from tests.integration.jupyter import notebook, running_server

MiB = 2**20


class PeakMemory:
    """Samples a process's RSS every 10 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.01)

    def stop(self) -> tuple[float, float]:
        self._stop.set()
        self._thread.join()
        return self.baseline / MiB, self.peak / MiB


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root, work = Path(tmp) / "root", Path(tmp) / "work"
        root.mkdir()
        large_mib = models.large_chain(root / "large.onnx").stat().st_size / MiB
        notebook(
            root / "demo.ipynb", ["import workbench\nworkbench.show_graph(workbench.demo_model())"]
        )
        notebook(root / "large.ipynb", ["import workbench\nworkbench.show_graph('large.onnx')"])
        with running_server(root, work) as server, chromium() as browser:
            rows = []
            for name, minimum in (("demo", 17), ("large", 1000)):
                tab = LabPage(browser, server)
                tab.open_notebook(f"{name}.ipynb")
                memory = PeakMemory(server.process.pid)
                ran = tab.run_all()
                nodes, drawn = tab.wait_for_graph(0, minimum=minimum)
                baseline, peak = memory.stop()
                rows.append((name, nodes, ran + drawn, baseline, peak))
                tab.close()
                server.delete_sessions()
    print(f"model file: {large_mib:.0f} MiB, 1,000 nodes, 750 initializers")
    for name, nodes, seconds, baseline, peak in rows:
        print(
            f"{name:>5}: {nodes:>5} nodes drawn {seconds:.2f} s after Run; server RSS "
            f"{baseline:.0f} MiB -> peak {peak:.0f} MiB (+{peak - baseline:.0f})"
        )
    large_seconds = rows[1][2]
    print(f"goal: the 100 MB graph within 5 s: {'ok' if large_seconds < 5 else 'MISSED'}")
    return 0 if large_seconds < 5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
