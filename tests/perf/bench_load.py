"""Load-generator limits (issue 20): its highest sustained rate and its own lateness.

Against a trivial model (one Identity node), in the worker process as `load_test` runs by
default: the highest request rate the generator sustains (aim: 5,000/s), and its dispatch
lateness (dispatch time minus scheduled time, apart from queueing) p50/p99 at 1,000/s and
at the highest rate (aim: p99 under 1 ms at 1,000/s). The bare baseline: a plain loop
calling the same onnxruntime session, one request after another, in the same process.

Run: python tests/perf/bench_load.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

import workbench
from tests.perf._common import report

RATES = (1000, 5000, 10000, 20000, 30000, 40000, 60000, 80000)  # up to the first not ok


def _trivial(path: Path) -> Path:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"], name="id")], "trivial",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def _bare_rate(path: Path) -> float:
    """Requests a second of a plain loop over the same session (no generator at all)."""
    import numpy as np

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {"x": np.zeros((1, 4), np.float32)}
    for _ in range(100):
        session.run(None, feeds)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < 1.0:
        session.run(None, feeds)
        count += 1
    return count / (time.perf_counter() - start)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = _trivial(Path(tmp) / "trivial.onnx")
        bare = _bare_rate(path)
        rows = {}
        for rate in RATES:
            (row,) = workbench.load_test(path, ["cpu"], "server", qps=rate, duration=3).rows
            rows[rate] = row
            print(f"{rate:>6}/s: {row.verdict:<10} achieved {row.achieved_qps:8.0f}/s, lateness "
                  f"p50 {row.lateness_p50_ms:.3f} ms p99 {row.lateness_p99_ms:.3f} ms, latency "
                  f"p99 {row.p99_ms:.3f} ms, dropped {row.dropped}")  # fmt: skip
            if row.verdict != "ok":
                break
    sustained = max((r for r, row in rows.items() if row.verdict == "ok"), default=0)
    at_1000, top = rows[1000], rows.get(sustained, rows[1000])
    print(f"bare loop over the same session: {bare:.0f}/s; the generator sustains "
          f"{sustained}/s ({sustained / bare:.2f}x the bare loop's rate)")  # fmt: skip
    return report([
        ("highest rate sustained (ok verdict)", f"{sustained}/s", ">= 5000/s", sustained >= 5000),
        ("lateness p99 at 1,000/s", f"{at_1000.lateness_p99_ms:.3f} ms", "< 1 ms",
         at_1000.lateness_p99_ms < 1),
        (f"lateness p50/p99 at {sustained}/s",
         f"{top.lateness_p50_ms:.3f}/{top.lateness_p99_ms:.3f} ms", "(reported)", True),
    ])  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
