"""Executor overhead (issue 21): the per-configuration cost of `pool` and `worker` over
`inprocess`, on a 20-configuration sweep of the demo model.

Goal: `pool` under 0.1 s per configuration over `inprocess` (a `worker` starts Python,
imports onnxruntime and loads the model for each configuration: about 0.3-0.6 s).

Run: python tests/perf/bench_pool.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.perf._common import report, sweep_seconds


def main() -> int:
    sweep_seconds("inprocess")  # imports and the model's first sessions, for everyone
    seconds = {name: sweep_seconds(name) for name in ("inprocess", "pool", "worker")}
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
