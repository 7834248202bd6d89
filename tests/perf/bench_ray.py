"""The Ray executor (issue 21) on a local one-node cluster of this machine.

- Scheduling overhead per configuration: a 20-configuration sweep of the demo model through
  Ray against the same sweep in process (fixed run counts, so the measuring is the same).
  Goal: under 100 ms.
- The same configuration's p50 through Ray and in process, threads pinned the same
  (intra_op_threads=1), rounds alternated as bench_gpu.py does since sequential runs drift.
  Goal: within 3%.

Run: python tests/perf/bench_ray.py   (needs the ray extra; starts and stops its own Ray)
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import ray

import workbench
from tests.perf._common import report, sweep_seconds

ROUNDS = 6


def _p50(executor: str) -> float:
    result = workbench.benchmark(workbench.demo_model(), ["cpu"], [8], intra_op_threads=[1],
                                 runs=400, warmup=20, progress=False, executor=executor,
                                 history=False)  # fmt: skip
    return result.results[0].stats.p50_ms


def main() -> int:
    # One node, one measurement at a time (a bench_slot), as on a cluster of one machine.
    ray.init(address="local", num_cpus=2, resources={"bench_slot": 1}, include_dashboard=False,
             log_to_driver=False)  # fmt: skip
    try:
        sweep_seconds("inprocess"), sweep_seconds("ray")  # imports, sessions, Ray's first workers
        base, count = min(sweep_seconds("inprocess") for _ in range(2))
        through_ray, _ = min(sweep_seconds("ray") for _ in range(2))
        overhead = (through_ray - base) / count
        print(f"inprocess: {base:.2f} s, ray: {through_ray:.2f} s for {count} configurations "
              f"({overhead * 1000:+.0f} ms each)")  # fmt: skip
        pairs = [(_p50("inprocess"), _p50("ray")) for _ in range(ROUNDS)]
        for local, remote in pairs:
            print(f"  p50 inprocess {local:.4f} ms, ray {remote:.4f} ms ({remote / local:.3f}x)")
        ratio = statistics.median(remote / local for local, remote in pairs)
    finally:
        ray.shutdown()
    return report([
        ("ray scheduling overhead per configuration", f"{overhead * 1000:.0f} ms", "< 100 ms",
         overhead < 0.1),
        ("ray p50 / inprocess p50 (median of alternated rounds)", f"{ratio:.3f}", "within 3%",
         abs(ratio - 1) <= 0.03),
    ])  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
