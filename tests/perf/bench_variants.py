"""Variant timings (issue 18).

- `evaluate` on the demo model, 3 variants x cpu x 16 samples: the whole call from a cold
  cache, split into making the variants and the rest (measuring, comparing). Goal: < 15 s.
- Asking again for a variant of an already-loaded model. Goal: < 50 ms.
- A transformer encoder exported from PyTorch (the `examples` extra): int8-dynamic's
  speed-up and error, and its p50 checked against a bare onnxruntime loop in the same run
  (goal: within 3%).

Run: python tests/perf/bench_variants.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.perf._common import report

RECIPES = ["ort-optimized", "fp16", "int8-dynamic"]


def _demo(folder: Path) -> tuple[float, float, float]:
    """(seconds to make the variants, the whole evaluate from a cold cache, asking again)."""
    import workbench

    model = workbench.load(workbench.demo_model())
    start = time.perf_counter()  # the first call: onnxruntime's tools are imported too
    workbench.evaluate(model, RECIPES, ["cpu"], samples=16, folder=folder / "evaluated")
    whole = time.perf_counter() - start
    start = time.perf_counter()
    workbench.variants(model, RECIPES, folder=folder / "made")  # an empty folder: all made
    made = time.perf_counter() - start
    start = time.perf_counter()
    workbench.variants(model, ["int8-dynamic"], folder=folder / "evaluated")
    again = time.perf_counter() - start
    return made, whole, again


def _encoder(folder: Path) -> tuple[float, float, float, float] | None:
    """(int8 speed-up, its max abs error, evaluate's int8 p50, a bare loop's p50) or None."""
    try:
        import torch
    except ImportError:
        print("(torch missing: install the examples extra for the transformer figures)")
        return None
    import onnxruntime as ort

    import workbench

    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(256, 4, 1024, batch_first=True, dropout=0.0)
    encoder = torch.nn.TransformerEncoder(layer, 4).eval()
    path = folder / "encoder.onnx"
    torch.onnx.export(encoder, (torch.randn(1, 128, 256),), str(path), dynamo=True,
                      verbose=False, input_names=["x"])  # fmt: skip
    model = workbench.load(path)
    feeds = [{"x": np.random.default_rng(i).standard_normal((1, 128, 256), np.float32)}
             for i in range(8)]  # fmt: skip
    result = workbench.evaluate(model, ["int8-dynamic"], ["cpu"], feeds, time_budget=3.0)
    int8 = next(r for r in result.rows if r.variant == "int8-dynamic")
    assert int8.p50_ms is not None and int8.speedup is not None
    made = workbench.variants(model, ["int8-dynamic"])["int8-dynamic"]
    session = ort.InferenceSession(str(made.path), providers=["CPUExecutionProvider"])
    for _ in range(20):
        session.run(None, feeds[0])
    times = []
    for _ in range(200):
        start = time.perf_counter()
        session.run(None, feeds[0])
        times.append((time.perf_counter() - start) * 1000)
    return int8.speedup, int8.max_abs_error or 0.0, int8.p50_ms, statistics.median(times)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        made, whole, again = _demo(Path(tmp))
        encoder = _encoder(Path(tmp))
    print(f"demo, {len(RECIPES)} variants x cpu x 16 samples: evaluate {whole:.2f} s from a "
          f"cold cache in a fresh process; making the variants again (tools imported) "
          f"{made:.2f} s, so importing onnxruntime's tools, measuring and comparing take "
          f"the rest")  # fmt: skip
    rows = [
        ("evaluate, demo, cold cache", f"{whole:.2f} s", "< 15 s", whole < 15),
        ("a variant asked for again", f"{1000 * again:.1f} ms", "< 50 ms", again < 0.05),
    ]
    if encoder is not None:
        speedup, error, p50, bare = encoder
        print(f"encoder int8-dynamic: speed-up {speedup:.2f}x, max abs error {error:.3g}; "
              f"p50 {p50:.3f} ms in evaluate, {bare:.3f} ms in a bare loop")  # fmt: skip
        rows.append(("int8 p50, evaluate / bare loop", f"{p50 / bare:.3f}x", "within 3%",
                     abs(p50 / bare - 1) <= 0.03))  # fmt: skip
    return report(rows)


if __name__ == "__main__":
    raise SystemExit(main())
