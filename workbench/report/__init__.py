"""Reports read back: `load_report` (every schema version so far) and `diff_reports`.

Writing reports is each result's own `report()` (render/files.py, bench/report.py).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from workbench.bench.results import BenchmarkResult
    from workbench.loadtest.result import LoadResult
    from workbench.variant.evaluate import Evaluation

# What `diff_reports` accepts: a report's path, or a result in memory.
ReportLike = Union[str, "os.PathLike[str]", "BenchmarkResult", "Evaluation", "LoadResult"]
