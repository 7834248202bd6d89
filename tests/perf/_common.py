"""Helpers for the benchmark scripts: run code in a fresh interpreter and report goals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Figures from these scripts are not history: nothing they measure goes to your store.
os.environ.setdefault("ONNX_WORKBENCH_HISTORY", "off")


def in_fresh_process(code: str) -> dict[str, float]:
    """Run `code` (which must print one JSON object last) in a new Python process."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def report(rows: list[tuple[str, str, str, bool]]) -> int:
    """Print `what | measured | goal | ok` rows; return the exit status (1 if a goal is missed)."""
    width = max(len(r[0]) for r in rows)
    for what, measured, goal, ok in rows:
        print(f"{what.ljust(width)}  {measured:>14}  goal {goal:<14} {'ok' if ok else 'MISSED'}")
    return 0 if all(r[3] for r in rows) else 1


SWEEP = {"batch_sizes": [1, 2, 4, 8, 16], "opt_levels": ["disabled", "basic", "extended", "all"]}


def sweep_seconds(executor: str) -> tuple[float, int]:
    """Seconds a 20-configuration sweep of the demo model takes through `executor` (and how
    many configurations): fixed run counts, so executors differ only in their overhead."""
    import time

    import workbench

    start = time.perf_counter()
    result = workbench.benchmark(workbench.demo_model(), ["cpu"], runs=20, warmup=2,
                                 progress=False, executor=executor, history=False,
                                 **SWEEP)  # fmt: skip
    elapsed = time.perf_counter() - start
    assert all(r.status == "ok" for r in result.results), result.to_frame()
    return elapsed, len(result.results)
