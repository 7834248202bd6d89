"""Per-call overhead of `Model.run` over a bare `session.run` (issue 3's goal: < 10 us, feed
validation included), and the time `doctor()` takes in a fresh process (goal: < 2 s).

Run: python tests/perf/bench_run.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import in_fresh_process, report

import workbench


def tiny_model() -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "x"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def overhead(model: workbench.Model, feeds: dict, pairs: int) -> tuple[float, float, float]:
    """Median bare and ours per-call times, and the median of paired differences (us).

    Calls alternate (bare, ours, ours, bare, ...) so drift and cache state hit both alike;
    the paired median is robust to the model's own run-to-run noise.
    """
    session = model.session("cpu").ort_session
    clock = time.perf_counter_ns
    bare, ours = [], []
    for index in range(pairs):
        order = (True, False) if index % 2 else (False, True)
        for ours_first in order:
            start = clock()
            if ours_first:
                model.run(feeds)
                ours.append(clock() - start)
            else:
                session.run(None, feeds)
                bare.append(clock() - start)
    differences = [o - b for o, b in zip(ours, bare, strict=True)]
    return (
        statistics.median(bare) / 1e3,
        statistics.median(ours) / 1e3,
        statistics.median(differences) / 1e3,
    )


def doctor_seconds() -> float:
    figures = in_fresh_process("""
        import json, time
        start = time.perf_counter()
        import workbench
        workbench.doctor()
        print(json.dumps({"seconds": time.perf_counter() - start}))
    """)
    return figures["seconds"]


def main() -> int:
    rows = []
    cases = [
        ("tiny Add [1,16]", workbench.load(tiny_model()), {"x": np.ones((1, 16), np.float32)}),
        (
            "demo CNN [1,3,32,32]",
            workbench.load(workbench.demo_model()),
            {"image": np.random.default_rng(0).random((1, 3, 32, 32), dtype=np.float32)},
        ),
    ]
    for label, model, feeds in cases:
        for _ in range(200):
            model.run(feeds)  # create and warm the session
        bare, ours, extra = overhead(model, feeds, pairs=20000)
        rows.append((f"{label}: bare session.run", f"{bare:.1f} us", "-", True))
        rows.append((f"{label}: model.run", f"{ours:.1f} us", "-", True))
        rows.append((f"{label}: overhead per call", f"{extra:.1f} us", "< 10 us", extra < 10))
    seconds = doctor_seconds()
    rows.append(
        ("doctor() in a fresh process", f"{seconds * 1e3:.0f} ms", "< 2000 ms", seconds < 2)
    )
    return report(rows)


if __name__ == "__main__":
    raise SystemExit(main())
