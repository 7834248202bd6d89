"""Localization and sub-model timing (issue 19).

Goals: `localize` of the demo against its int8-static variant on 16 samples under 10 s
(beside the bare baseline: two onnxruntime sessions with every node output exposed, run on
the same 16 samples); on a 10,000-node model, `subgraph(around=..., depth=3)` under 1 s and
`blocks()` under 2 s.

Run: python tests/perf/bench_localize.py
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import onnxruntime as ort

import workbench
from tests import models
from tests.perf._common import report
from workbench.run.compare import with_every_node_output


def _bare(reference: workbench.Model, candidate: workbench.Model, feeds: list) -> float:
    """Two plain sessions, every node output exposed, unoptimized: the floor."""
    start = time.perf_counter()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sessions = [
        ort.InferenceSession(with_every_node_output(m).proto.SerializeToString(), options,
                             providers=["CPUExecutionProvider"])
        for m in (reference, candidate)
    ]  # fmt: skip
    for sample in feeds:
        for session in sessions:
            session.run(None, sample)
    return time.perf_counter() - start


def main() -> int:
    demo = workbench.load(workbench.demo_model())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # synthetic calibration: said in the variants bench
        int8 = workbench.variants(demo, ["int8-static"])["int8-static"]
    workbench.localize(demo, int8, samples=1)  # onnxruntime's quantization tools imported
    start = time.perf_counter()
    result = workbench.localize(demo, int8, samples=16)
    localize_s = time.perf_counter() - start
    bare_s = _bare(demo, int8, list(result.feeds))
    print(f"localize: {len(result.tensors)} tensors over 16 samples in {localize_s:.2f} s; "
          f"bare onnxruntime {bare_s:.2f} s ({localize_s / bare_s:.1f}x)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        big = workbench.load(models.large_chain(Path(tmp) / "big.onnx", blocks=2500, width=16))
        nodes = big.node_count
        start = time.perf_counter()
        part = big.subgraph(around="block1250/Relu", depth=3)
        around_s = time.perf_counter() - start
        start = time.perf_counter()
        blocks = big.blocks()
        blocks_s = time.perf_counter() - start
    print(f"{nodes} nodes: subgraph(around, depth=3) -> {part.node_count} nodes in "
          f"{around_s:.2f} s; blocks() -> {len(blocks)} blocks in {blocks_s:.2f} s")  # fmt: skip
    return report([
        ("localize, demo vs int8, 16 samples", f"{localize_s:.2f} s", "< 10 s", localize_s < 10),
        (f"subgraph(around, depth=3), {nodes} nodes", f"{around_s:.2f} s", "< 1 s", around_s < 1),
        (f"blocks(), {nodes} nodes", f"{blocks_s:.2f} s", "< 2 s", blocks_s < 2),
    ])  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
