"""`diff_reports`: whether a change (or another machine) made the model faster or slower."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from workbench.bench.results import BenchmarkResult
from workbench.render.mixin import Rendered
from workbench.report.load import load_report

if TYPE_CHECKING:
    import pandas as pd

    from workbench.report import ReportLike


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
class ReportDiff(Rendered):
    """Per-configuration p50 changes from report `a` to report `b`."""

    template = "diff"
    title = "Benchmark report diff"

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
        import pandas as pd  # noqa: PLC0415  (heavy: loads on first use)

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

    def __repr__(self) -> str:
        return (
            f"<ReportDiff: {len(self.changes)} configurations compared, "
            f"{len(self.regressions)} slower>"
        )


def diff_reports(a: ReportLike, b: ReportLike) -> ReportDiff:
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


def _as_result(value: ReportLike) -> BenchmarkResult:
    return value if isinstance(value, BenchmarkResult) else load_report(value)
