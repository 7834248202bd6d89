"""Executor overhead (issue 21): the per-configuration cost of `pool` and `worker` over
`inprocess`, on a 20-configuration sweep of the demo model.

Goal: `pool` under 0.1 s per configuration over `inprocess` (a `worker` starts Python,
imports onnxruntime and loads the model for each configuration: about 0.3-0.6 s).

Run: python tests/perf/bench_pool.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import workbench
from tests.perf._common import report

CONFIGS = {"batch_sizes": [1, 2, 4, 8, 16], "opt_levels": ["disabled", "basic", "extended", "all"]}


def _sweep(executor: str) -> tuple[float, int]:
    start = time.perf_counter()
    result = workbench.benchmark(workbench.demo_model(), ["cpu"], runs=20, warmup=2,
                                 progress=False, executor=executor, **CONFIGS)  # fmt: skip
    elapsed = time.perf_counter() - start
    assert all(r.status == "ok" for r in result.results), result.to_frame()
    return elapsed, len(result.results)


def main() -> int:
    _sweep("inprocess")  # imports and the model's first sessions, for everyone
    seconds = {name: _sweep(name) for name in ("inprocess", "pool", "worker")}
    count = seconds["inprocess"][1]
    base = seconds["inprocess"][0]
    overhead = {name: (s - base) / count for name, (s, _) in seconds.items()}
    for name, (s, _) in seconds.items():
        print(f"{name:>9}: {s:.2f} s for {count} configurations, "
              f"{overhead[name] * 1000:+.0f} ms each over inprocess")  # fmt: skip
    return report([
        ("pool overhead per configuration", f"{overhead['pool'] * 1000:.0f} ms", "< 100 ms",
         overhead["pool"] < 0.1),
        ("worker overhead per configuration", f"{overhead['worker'] * 1000:.0f} ms", "(reported)",
         True),
    ])  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
