"""Read reports back, and compare two of them.

Did a change (or another machine) make the model faster, slower, or not significantly
different?
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.display import render
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    import pandas as pd

    from workbench.bench.results import BenchmarkResult

_EMBEDDED = re.compile(
    r'<script type="application/json" id="onnx-workbench-data">(.*?)</script>', re.DOTALL
)


def load_report(path: str | os.PathLike[str]) -> BenchmarkResult:
    """A `BenchmarkResult` from a report's .json file (or the data embedded in its .html)."""
    from workbench.bench.results import BenchmarkResult, ConfigResult  # noqa: PLC0415
    from workbench.profiling import ProfileResult  # noqa: PLC0415
    from workbench.report.formats import SCHEMA_VERSION  # noqa: PLC0415

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
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version is None or version > SCHEMA_VERSION:
        raise WorkbenchError(
            f"{str(source)!r} has report schema version {version!r}; this onnx-workbench reads "
            f"up to {SCHEMA_VERSION}.",
            "Upgrade onnx-workbench, or pass a report it wrote."
            if version
            else "Pass a report written by onnx-workbench.",
        )
    return BenchmarkResult(
        results=[ConfigResult.from_dict(entry) for entry in data["results"]],
        model=data.get("model", {}),
        environment=data.get("environment", {}),
        settings=data.get("settings", {}),
        created=data.get("created", ""),
        profile=ProfileResult.from_dict(data["profile"]) if data.get("profile") else None,
    )


@dataclass(frozen=True)
class ConfigChange:
    """One configuration present in both reports."""

    label: str
    p50_a_ms: float
    p50_b_ms: float
    change: float  # relative: (b - a) / a
    verdict: str  # "faster", "slower" or "no significant change"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class ReportDiff:
    """Per-configuration p50 changes from report `a` to report `b`."""

    changes: tuple[ConfigChange, ...]
    only_in_a: tuple[str, ...]
    only_in_b: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def regressions(self) -> list[ConfigChange]:
        """Configurations significantly slower in `b`."""
        return [c for c in self.changes if c.verdict == "slower"]

    def to_frame(self) -> pd.DataFrame:
        """One row per matched configuration."""
        import pandas as pd  # noqa: PLC0415

        return pd.DataFrame(
            [c.as_dict() for c in self.changes],
            columns=["label", "p50_a_ms", "p50_b_ms", "change", "verdict"],
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "changes": [c.as_dict() for c in self.changes],
            "only_in_a": list(self.only_in_a),
            "only_in_b": list(self.only_in_b),
            "notes": list(self.notes),
        }

    def text(self) -> str:
        """A readable summary."""
        lines = [f"{'configuration':<36} {'p50 a ms':>10} {'p50 b ms':>10} {'change':>8}  verdict"]
        for c in self.changes:
            lines.append(
                f"{c.label:<36} {c.p50_a_ms:>10.4f} {c.p50_b_ms:>10.4f} "
                f"{100 * c.change:>+7.1f}%  {c.verdict}"
            )
        lines += [f"only in a: {label}" for label in self.only_in_a]
        lines += [f"only in b: {label}" for label in self.only_in_b]
        lines += [f"! {note}" for note in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text())

    def _repr_html_(self) -> str:
        return render("diff.html.j2", diff=self)


def diff_reports(a: Any, b: Any) -> ReportDiff:
    """Compare two reports (paths or BenchmarkResults), configuration by configuration.

    A change is significant when the two medians' 95% confidence intervals do not overlap;
    below 6 runs on either side there is no such interval, and the verdict says so.
    """
    first, second = _as_result(a), _as_result(b)
    left = {r.config.key: r for r in first.measured}
    right = {r.config.key: r for r in second.measured}
    changes = []
    for key, old in left.items():
        new = right.get(key)
        if new is None or old.stats is None or new.stats is None:
            continue
        change = (new.stats.p50_ms - old.stats.p50_ms) / old.stats.p50_ms
        overlap = (
            old.stats.ci95_ms[0] <= new.stats.ci95_ms[1]
            and new.stats.ci95_ms[0] <= old.stats.ci95_ms[1]
        )
        if not (old.stats.has_ci and new.stats.has_ci):
            verdict = "too few runs to tell"
        elif overlap:
            verdict = "no significant change"
        else:
            verdict = "slower" if change > 0 else "faster"
        changes.append(
            ConfigChange(old.config.label, old.stats.p50_ms, new.stats.p50_ms, change, verdict)
        )
    notes = []
    if first.model.get("sha256") != second.model.get("sha256"):
        notes.append("the reports measured different model files (sha256 differs)")
    for part in ("cpu", "onnxruntime", "gpus"):
        if first.environment.get(part) != second.environment.get(part):
            notes.append(f"the environments differ in {part}")
    return ReportDiff(
        changes=tuple(changes),
        only_in_a=tuple(left[k].config.label for k in left if k not in right),
        only_in_b=tuple(right[k].config.label for k in right if k not in left),
        notes=tuple(notes),
    )


def _as_result(value: Any) -> BenchmarkResult:
    from workbench.bench.results import BenchmarkResult  # noqa: PLC0415

    return value if isinstance(value, BenchmarkResult) else load_report(value)
