"""Model diff timing (issue 19): two 1,000-node models, one a renamed re-export of the other.

Goal: under 3 s, every node matched (by structure, since every name changed).

Run: python tests/perf/bench_diff.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import workbench
from tests import models
from tests.perf._common import report


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = models.large_chain(Path(tmp) / "chain.onnx", blocks=250, width=32)
        a = workbench.load(path)
        b = workbench.load(models.renamed(a.proto))
        start = time.perf_counter()
        result = workbench.diff_models(a, b)
        seconds = time.perf_counter() - start
    nodes = len(a.proto.graph.node)
    matched = result.matched_by_name + result.matched_by_structure
    print(f"{nodes} nodes, every one renamed: {matched} matched ({result.matched_by_structure} "
          f"by structure), {len(result.nodes_added)} added, {len(result.nodes_removed)} removed, "
          f"{seconds:.2f} s")  # fmt: skip
    return report([
        ("diff of two 1,000-node models", f"{seconds:.2f} s", "< 3 s", seconds < 3),
        ("nodes matched", f"{matched}/{nodes}", "all", matched == nodes),
    ])  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
