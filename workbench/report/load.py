"""`load_report`: a `BenchmarkResult` from a report's JSON file or the data in its HTML."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from workbench.bench.report import DATA_ELEMENT_ID
from workbench.bench.results import SCHEMA_VERSION, BenchmarkResult
from workbench.errors import WorkbenchError
from workbench.loadtest.result import KIND as LOAD_TEST
from workbench.loadtest.result import LoadResult
from workbench.variant.evaluate import KIND as EVALUATION
from workbench.variant.evaluate import Evaluation

_EMBEDDED = re.compile(
    rf'<script type="application/json" id="{DATA_ELEMENT_ID}">(.*?)</script>', re.DOTALL
)


def load_report(path: str | os.PathLike[str]) -> BenchmarkResult | Evaluation | LoadResult:
    """A `BenchmarkResult` from a report's .json file (or the data embedded in its .html).

    Reports of every schema version up to this release's read back; a variant evaluation's
    .json (`Evaluation.report`) reads back as an `Evaluation`, a load test's
    (`LoadResult.report`) as a `LoadResult`.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkbenchError(
            f"Cannot read the report {str(source)!r}: {exc.strerror}.", "Check the path."
        ) from None
    if source.suffix.lower() in (".html", ".htm"):
        match = _EMBEDDED.search(text)
        if match is None:
            raise WorkbenchError(
                f"{str(source)!r} is not an onnx-workbench HTML report.",
                "Pass the report's .json or .html file.",
            )
        text = match.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkbenchError(
            f"{str(source)!r} is not valid JSON ({exc.msg}).",
            "Pass a report written by onnx-workbench (result.report(...)).",
        ) from None
    if isinstance(data, dict) and data.get("kind") == EVALUATION:
        return Evaluation.from_dict(data)
    if isinstance(data, dict) and data.get("kind") == LOAD_TEST:
        return LoadResult.from_dict(data)
    version = data.get("schema_version") if isinstance(data, dict) else None
    if not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
        raise WorkbenchError(
            f"{str(source)!r} has report schema version {version!r}; this onnx-workbench reads "
            f"1 to {SCHEMA_VERSION}.",
            "Upgrade onnx-workbench, or pass a report it wrote."
            if isinstance(version, int) and version > SCHEMA_VERSION
            else "Pass a report written by onnx-workbench.",
        )
    return BenchmarkResult.from_dict(data)
