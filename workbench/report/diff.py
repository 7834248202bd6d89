"""`diff_reports`: whether a change (or another machine) made the model faster or slower.

It reads benchmark reports (configuration by configuration), variant evaluations (variant
and provider by variant and provider, with accuracy changes in the notes) and load tests
(run by run: the latency percentile, and a peak search's rate).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from workbench.bench.results import BenchmarkResult
from workbench.bench.stats import MIN_CI_RUNS
from workbench.errors import WorkbenchError
from workbench.loadtest.engine import PEAK_PRECISION
from workbench.loadtest.result import LoadResult
from workbench.render.mixin import Rendered
from workbench.report.load import load_report
from workbench.variant.evaluate import Evaluation

if TYPE_CHECKING:
    import pandas as pd

    from workbench.report import ReportLike


@dataclass(frozen=True)
class ConfigChange:
    """One configuration present in both reports."""

    label: str
    p50_a_ms: float  # in `measure`'s unit: ms for latencies, requests/s for rates
    p50_b_ms: float
    change: float  # relative: (b - a) / a
    verdict: str  # "faster", "slower" or "no significant change"
    measure: str = "p50 ms"  # what the two values are ("p99 ms", "peak QPS" for load tests)

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
            columns=["label", "measure", "p50_a_ms", "p50_b_ms", "change", "verdict"],
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


def diff_reports(
    a: ReportLike, b: ReportLike, *, machines: Mapping[str, str] | None = None
) -> ReportDiff:
    """Compare two reports (paths or results), configuration by configuration.

    Two benchmarks, or two variant evaluations (`workbench.evaluate`): then each variant on
    each provider is a configuration, and variants whose accuracy verdict changed are noted.
    `machines={"t4": "h200"}` compares benchmark rows across machine kinds: `a`'s rows on
    t4 against `b`'s rows of the same configuration on h200 (`a` and `b` may be one report).

    A change is significant when the two medians' 95% confidence intervals do not overlap;
    below 6 runs on either side there is no such interval, and the verdict says so.
    """
    first, second = _as_result(a), _as_result(b)
    if _kind(first) != _kind(second):
        raise WorkbenchError(
            f"One report is {_kind(first)}, the other {_kind(second)}: they measure different "
            "things.",
            "Compare two benchmark reports, two evaluations, or two load tests.",
        )
    if machines:
        left, right = _across_machines(first, second, machines)
    else:
        left, right = _timings(first), _timings(second)
    changes = []
    for key, old in left.items():
        new = right.get(key)
        if new is None:
            continue
        change = (new.p50_ms - old.p50_ms) / old.p50_ms if old.p50_ms else math.inf
        overlap = old.ci95_ms[0] <= new.ci95_ms[1] and new.ci95_ms[0] <= old.ci95_ms[1]
        if not (old.has_ci and new.has_ci):
            verdict = "too few runs to tell"
        elif overlap:
            verdict = "no significant change"
        else:  # a rate going up is faster; a latency going up, slower
            verdict = "slower" if (change > 0) != old.higher_is_better else "faster"
        changes.append(
            ConfigChange(old.label, old.p50_ms, new.p50_ms, change, verdict, old.measure)
        )
    notes = []
    if first.model.get("sha256") != second.model.get("sha256"):
        notes.append("the reports measured different model files (sha256 differs)")
    for part in ("cpu", "onnxruntime", "gpus"):
        if first.environment.get(part) != second.environment.get(part):
            notes.append(f"the environments differ in {part}")
    if isinstance(first, Evaluation) and isinstance(second, Evaluation):
        notes += _accuracy_changes(first, second)
    return ReportDiff(
        changes=tuple(changes),
        only_in_a=tuple(left[k].label for k in left if k not in right),
        only_in_b=tuple(right[k].label for k in right if k not in left),
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class _Timing:
    """One measured row of either kind of report."""

    label: str
    p50_ms: float  # the value compared (a latency in ms, or a peak rate)
    ci95_ms: tuple[float, float]
    has_ci: bool
    measure: str = "p50 ms"
    higher_is_better: bool = False


def _kind(result: BenchmarkResult | Evaluation | LoadResult) -> str:
    if isinstance(result, Evaluation):
        return "a variant evaluation"
    return "a load test" if isinstance(result, LoadResult) else "a benchmark"


def _timings(result: BenchmarkResult | Evaluation | LoadResult) -> dict[Hashable, _Timing]:
    """Measured rows by key: configurations, variants, or a load test's runs.

    A load test's runs compare the bound's percentile (with its CI), a peak search its rate.
    """
    if isinstance(result, LoadResult):
        return _load_timings(result)
    if isinstance(result, Evaluation):
        return {
            f"{r.variant}|{r.provider}": _Timing(
                f"{r.variant} on {r.provider}", r.p50_ms, r.ci95_ms, r.runs >= MIN_CI_RUNS
            )
            for r in result.rows
            if r.status == "ok" and r.p50_ms and r.ci95_ms is not None
        }
    return {
        r.config.key: _Timing(r.config.label, r.stats.p50_ms, r.stats.ci95_ms, r.stats.has_ci)
        for r in result.measured
        if r.stats is not None
    }


def _across_machines(
    first: BenchmarkResult | Evaluation | LoadResult,
    second: BenchmarkResult | Evaluation | LoadResult,
    machines: Mapping[str, str],
) -> tuple[dict[Hashable, _Timing], dict[Hashable, _Timing]]:
    """`first`'s rows on each machine named against `second`'s on its partner, by configuration.

    A machine is `ConfigResult.machine` (the `machines=` kind, else the host's name).
    """
    if not (isinstance(first, BenchmarkResult) and isinstance(second, BenchmarkResult)):
        raise WorkbenchError(
            "machines= matches benchmark rows across machines; these reports are "
            f"{_kind(first)} and {_kind(second)}.",
            "Leave machines= out, or compare two benchmark reports.",
        )
    in_a = {r.machine for r in first.measured}
    in_b = {r.machine for r in second.measured}
    unknown = [f"{old!r} in a" for old in machines if old not in in_a]
    unknown += [f"{new!r} in b" for new in machines.values() if new not in in_b]
    if unknown:
        raise WorkbenchError(
            f"No measured row ran on machine {', '.join(dict.fromkeys(unknown))}.",
            f"a's machines: {', '.join(sorted(map(repr, in_a)))}; b's: "
            f"{', '.join(sorted(map(repr, in_b)))} (machines={{A's: B's}}).",
        )
    left: dict[Hashable, _Timing] = {}
    right: dict[Hashable, _Timing] = {}
    for old, new in machines.items():
        pair = (old, new)
        for result, machine, found_rows in ((first, old, left), (second, new, right)):
            for r in result.measured:
                if r.stats is not None and r.machine == machine:
                    label = f"{r.config.label_without_machine} @{old} -> @{new}"
                    found_rows[r.config.key[:-1], pair] = _Timing(
                        label, r.stats.p50_ms, r.stats.ci95_ms, r.stats.has_ci
                    )
    return left, right


def _load_timings(result: LoadResult) -> dict[Hashable, _Timing]:
    """Rates where a run measures one (peak, offline), the bound's percentile elsewhere.

    A rate has no confidence interval: each is given +-PEAK_PRECISION, so two rates differ
    significantly past about twice that.
    """
    found: dict[Hashable, _Timing] = {}
    for row in result.rows:
        key = (row.label, row.target_qps if row.scenario == "server" else None)
        rate = row.peak_qps if row.scenario == "peak" else row.achieved_qps
        if row.scenario in ("peak", "offline") and rate and row.verdict == "ok":
            spread = rate * PEAK_PRECISION
            what = "peak QPS" if row.scenario == "peak" else "QPS"
            found[key] = _Timing(f"{row.label} {what}", rate, (rate - spread, rate + spread),
                                 True, what, higher_is_better=True)  # fmt: skip
        elif row.percentile_ms and row.percentile_ci_ms and row.verdict in ("ok", "overloaded"):
            ci = row.percentile_ci_ms
            found[key] = _Timing(row.label, row.percentile_ms, ci, math.isfinite(ci[1]),
                                 f"p{row.percentile:g} ms")  # fmt: skip
    return found


def _accuracy_changes(first: Evaluation, second: Evaluation) -> list[str]:
    """Variants whose accuracy verdict changed from one evaluation to the other."""
    before = {(r.variant, r.provider): r for r in first.rows}
    notes = []
    for row in second.rows:
        old = before.get((row.variant, row.provider))
        if old is None or None in (old.accurate, row.accurate) or old.accurate == row.accurate:
            continue
        state = "meets" if row.accurate else "no longer meets"
        notes.append(
            f"{row.variant} on {row.provider} {state} the accuracy bar "
            f"(max abs error {old.max_abs_error or 0:.3g} -> {row.max_abs_error or 0:.3g})"
        )
    return notes


def _as_result(value: ReportLike) -> BenchmarkResult | Evaluation | LoadResult:
    if isinstance(value, BenchmarkResult | Evaluation | LoadResult):
        return value
    return load_report(value)
