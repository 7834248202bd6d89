"""Benchmark results: one `ConfigResult` per configuration, gathered in a `BenchmarkResult`.

The same objects display themselves in notebooks, feed the plots, and are what reports
write and read back.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from workbench import plots
from workbench.bench import report as bench_report
from workbench.bench import stats as stats_module
from workbench.bench.config import REPORT_FORMATS, BenchConfig
from workbench.bench.stats import LatencyStats
from workbench.errors import WorkbenchError
from workbench.ort.profiling import ProfileResult
from workbench.render.files import finite
from workbench.render.mixin import Rendered

if TYPE_CHECKING:
    import os

    import pandas as pd
    from matplotlib.axes import Axes

    from workbench.tracking.gate import Gate

Status = Literal["ok", "skipped", "failed", "partial"]
NOISY_CI = 0.05  # a CI half-width above 5% of the median makes a measurement "noisy"
# The report's JSON layout. Whoever changes it bumps this, teaches `BenchmarkResult.from_dict`
# to read the previous version, and stores a report of that version under tests/report/data.
SCHEMA_VERSION = 1
UNSCHEDULED = "unscheduled"  # stop_reason of a row no node of a cluster could take


@dataclass
class ConfigResult:
    """Everything measured for one configuration, including raw per-run latencies."""

    config: BenchConfig
    status: Status
    reason: str = ""
    samples_ns: list[int] = field(default_factory=list, repr=False)
    stats: LatencyStats | None = None
    items_per_run: int = 1
    applied_providers: list[str] = field(default_factory=list)
    fallback: str = ""
    session_create_s: float | None = None
    first_run_s: float | None = None
    warmup_runs: int = 0
    stop_reason: str = ""  # as Timing.stop_reason, or "worker died" / "worker hung" / UNSCHEDULED
    peak_rss_mb: float | None = None
    peak_gpu_mb: float | None = None
    host: dict[str, Any] = field(default_factory=dict)  # the machine it ran on

    @property
    def machine(self) -> str:
        """Where it ran, as reports group rows: the `machines=` kind, else the host's name."""
        return self.config.machine or self.host.get("hostname") or ""

    @property
    def partial(self) -> bool:
        """True when measuring stopped early (Ctrl-C, cancel, a crash or a hang)."""
        return self.status == "partial"

    @property
    def noisy(self) -> bool:
        """True when the median's 95% CI is wider than +-5% of it, or too few runs give none."""
        stats = self.stats
        return (
            stats is not None
            and stats.n > 0
            and (not stats.has_ci or stats.ci_halfwidth > NOISY_CI)
        )

    def finish(self) -> ConfigResult:
        """Compute statistics from the samples gathered so far."""
        if self.samples_ns:
            self.stats = stats_module.compute(self.samples_ns, self.items_per_run)
        return self

    def as_dict(self, *, samples: bool = True) -> dict[str, Any]:
        """The JSON entry of this configuration (raw samples in nanoseconds when asked)."""
        entry: dict[str, Any] = {
            **self.config.as_dict(),
            "label": self.config.label,
            "applied_providers": self.applied_providers,
            "fallback": self.fallback,
            "status": self.status,
            "reason": self.reason,
            "partial": self.partial,
            "stop_reason": self.stop_reason,
            **finite(self.stats.as_dict() if self.stats else LatencyStats.empty_dict()),
            "items_per_run": self.items_per_run,
            "session_create_s": finite(self.session_create_s),
            "first_run_s": finite(self.first_run_s),
            "warmup_runs": self.warmup_runs,
            "peak_rss_mb": finite(self.peak_rss_mb),
            "peak_gpu_mb": finite(self.peak_gpu_mb),
            "noisy": self.noisy,
            "host": self.host.get("hostname", ""),
            "host_info": self.host,
        }
        if samples:
            entry["samples_ns"] = list(self.samples_ns)
        return entry

    def history_row(self) -> dict[str, Any]:
        """The row as the history store keeps it (flat columns and the raw samples)."""
        stats = self.stats
        return {
            **self.config.flat(),
            "status": self.status,
            "n": stats.n if stats else 0,
            "p50_ms": finite(stats.p50_ms) if stats else None,
            "ci_low_ms": finite(stats.ci95_ms[0]) if stats and stats.has_ci else None,
            "ci_high_ms": finite(stats.ci95_ms[1]) if stats and stats.has_ci else None,
            "p90_ms": finite(stats.p90_ms) if stats else None,
            "p99_ms": finite(stats.p99_ms) if stats else None,
            "mean_ms": finite(stats.mean_ms) if stats else None,
            "std_ms": finite(stats.std_ms) if stats else None,
            "throughput_per_s": finite(stats.throughput_per_s) if stats else None,
            "hostname": self.host.get("hostname") or None,
            "cpu": self.host.get("cpu"),
            "gpus": ", ".join(self.host.get("gpus") or []) or None,
            "driver": self.host.get("driver") or None,
            "onnxruntime": self.host.get("onnxruntime"),
            "samples_ns": self.samples_ns,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConfigResult:
        """Inverse of `as_dict()`; statistics are recomputed from the raw samples."""
        result = cls(
            config=BenchConfig.from_dict(data),
            status=data["status"],
            reason=data.get("reason", ""),
            samples_ns=list(data.get("samples_ns") or []),
            items_per_run=data.get("items_per_run", 1),
            applied_providers=list(data.get("applied_providers") or []),
            fallback=data.get("fallback", ""),
            session_create_s=data.get("session_create_s"),
            first_run_s=data.get("first_run_s"),
            warmup_runs=data.get("warmup_runs", 0),
            stop_reason=data.get("stop_reason", ""),
            peak_rss_mb=data.get("peak_rss_mb"),
            peak_gpu_mb=data.get("peak_gpu_mb"),
            host=dict(data.get("host_info") or {}),
        )
        return result.finish()


class _Warnings(list[str]):
    """`BenchmarkResult.warnings`: a list, still callable as the method it was until 0.2."""

    def __call__(self) -> list[str]:
        warnings.warn(
            "BenchmarkResult.warnings() is now a property, like Model.warnings; drop the "
            "parentheses (the call goes in 0.3).",
            DeprecationWarning,
            stacklevel=2,
        )
        return list(self)


@dataclass
class BenchmarkResult(Rendered):
    """A sweep's results with the model summary, environment and settings that produced them."""

    template = "bench"
    title = "Benchmark report"
    report_formats: ClassVar[tuple[str, ...]] = REPORT_FORMATS

    results: list[ConfigResult]
    model: dict[str, Any]
    environment: dict[str, Any]
    settings: dict[str, Any]
    created: str
    profile: ProfileResult | None = None

    @property
    def partial(self) -> bool:
        """True when the sweep stopped early; completed samples are all kept."""
        return any(r.partial for r in self.results) or bool(self.settings.get("interrupted"))

    @property
    def measured(self) -> list[ConfigResult]:
        """Configurations with at least one sample (ok or partial)."""
        return [r for r in self.results if r.stats is not None and r.stats.n > 0]

    def to_frame(self) -> pd.DataFrame:
        """One row per configuration: its settings, status and statistics."""
        import pandas as pd  # noqa: PLC0415  (heavy: loads on first use)

        rows = [r.as_dict(samples=False) for r in self.results]
        frame = pd.DataFrame(rows)
        overhead = self.copy_overhead()
        if not overhead.empty:
            frame = frame.merge(overhead[["label", "copy_overhead_ms"]], on="label", how="left")
        return frame

    def history_rows(self) -> list[dict[str, Any]]:
        """Every row as the history store keeps it (`workbench.history`)."""
        return [r.history_row() for r in self.results]

    def check_against(
        self,
        baseline: Any = "last",
        *,
        max_slowdown: float = 0.05,
        model_key: str | None = None,
        store: str | os.PathLike[str] | None = None,
    ) -> Gate:
        """A CI gate: whether any configuration got significantly slower than `baseline`.

        Slower means by more than `max_slowdown` (0.05: 5%). `baseline`: "last" (this
        model's previous stored run), "label:NAME", a JSON report, or a result.
        `gate.exit_code`: 0 nothing slower, 1 something slower, 2 nothing compared.
        """
        from workbench.tracking.gate import check_against  # noqa: PLC0415  (sqlite on use)

        return check_against(self, baseline, max_slowdown=max_slowdown, model_key=model_key,
                             store=store)  # fmt: skip

    def samples_frame(self) -> pd.DataFrame:
        """One row per measured run: configuration label, run index and latency in ms."""
        import pandas as pd  # noqa: PLC0415  (heavy: loads on first use)

        rows = [
            {
                "label": r.config.label,
                "provider": r.config.provider,
                "batch": r.config.batch,
                "mode": r.config.mode,
                "run": index,
                "latency_ms": ns / 1e6,
            }
            for r in self.results
            for index, ns in enumerate(r.samples_ns)
        ]
        return pd.DataFrame(
            rows, columns=["label", "provider", "batch", "mode", "run", "latency_ms"]
        )

    def copy_overhead(self) -> pd.DataFrame:
        """Host minus device p50 for configurations measured in both modes: the cost of copies."""
        import pandas as pd  # noqa: PLC0415  (heavy: loads on first use)

        by_key = {r.config.key: r for r in self.measured}
        rows = []
        for result in self.measured:
            if result.config.mode != "host":
                continue
            twin_key = (*result.config.key[:4], "device", *result.config.key[5:])
            twin = by_key.get(twin_key)
            if twin is not None and result.stats and twin.stats:
                rows.append(
                    {
                        "label": result.config.label,
                        "host_p50_ms": result.stats.p50_ms,
                        "device_p50_ms": twin.stats.p50_ms,
                        "copy_overhead_ms": result.stats.p50_ms - twin.stats.p50_ms,
                    }
                )
        return pd.DataFrame(
            rows, columns=["label", "host_p50_ms", "device_p50_ms", "copy_overhead_ms"]
        )

    @property
    def warnings(self) -> list[str]:
        """Fallbacks, skips, failures, partial runs and noisy measurements, in plain words.

        Configurations sharing one reason (every batch of an unusable provider) share a line.
        """
        grouped: dict[str, list[str]] = {}
        for r in self.results:
            label = r.config.label
            if r.fallback:
                grouped.setdefault(r.fallback, []).append(label)
            if r.status in ("skipped", "failed"):
                grouped.setdefault(f"{r.status}: {r.reason}", []).append(label)
            if r.partial:
                grouped.setdefault(
                    f"partial ({r.reason or r.stop_reason}); {len(r.samples_ns)} completed runs "
                    "kept",
                    [],
                ).append(label)
            if r.noisy and r.stats and not r.stats.has_ci:
                grouped.setdefault(
                    f"too few runs ({r.stats.n}) for a 95% CI of the median; "
                    f"{stats_module.MIN_CI_RUNS} or more give one",
                    [],
                ).append(label)
            elif r.noisy and r.stats:
                grouped.setdefault(
                    "noisy measurement: the median's 95% CI is "
                    f"+-{100 * r.stats.ci_halfwidth:.1f}% ({r.stats.n} runs)",
                    [],
                ).append(label)
        return _Warnings(f"{', '.join(labels)}: {note}" for note, labels in grouped.items())

    def as_dict(self, *, samples: bool = True) -> dict[str, Any]:
        """The report's JSON content (its layout is SCHEMA_VERSION), raw samples included."""
        return {
            "schema_version": SCHEMA_VERSION,
            "created": self.created,
            "model": self.model,
            "environment": self.environment,
            "settings": self.settings,
            "partial": self.partial,
            "warnings": list(self.warnings),
            "results": [r.as_dict(samples=samples) for r in self.results],
            "copy_overhead": self.copy_overhead().to_dict(orient="records"),
            "profile": self.profile.as_dict() if self.profile else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchmarkResult:
        """Inverse of `as_dict()`, for every schema version up to SCHEMA_VERSION."""
        return cls(
            results=[ConfigResult.from_dict(entry) for entry in data["results"]],
            model=data.get("model", {}),
            environment=data.get("environment", {}),
            settings=data.get("settings", {}),
            created=data.get("created", ""),
            profile=ProfileResult.from_dict(data["profile"]) if data.get("profile") else None,
        )

    def report_bytes(self, kind: str) -> bytes:
        """The report in format `kind`: its own HTML page, else as every result writes it."""
        if kind == "html":
            return bench_report.report_html(self).encode()
        return super().report_bytes(kind)

    def plot(self, kind: str = "p50", ax: Axes | None = None, **options: Any) -> Axes:
        """Plot: "p50" (bars with CI), "distribution", "scaling", "machines" (workbench.plots)."""
        function = {
            "p50": plots.p50_bars,
            "distribution": plots.latency_distribution,
            "scaling": plots.scaling,
            "machines": plots.p50_by_machine,
        }.get(kind)
        if function is None:
            raise WorkbenchError(
                f"Unknown plot kind {kind!r}.",
                "Use 'p50', 'distribution', 'scaling' or 'machines'.",
            )
        return function(self, ax=ax, **options)

    def render_context(self) -> dict[str, Any]:
        """The summary table, copy overhead, warnings and the modes' meaning."""
        return {
            "result": self,
            "rows": [bench_report.summary_row(r) for r in self.results],
            "titles": [title for title, _, _ in bench_report.SUMMARY],
            "overhead": self.copy_overhead().to_dict("records"),
            "warnings": self.warnings,
            "modes": bench_report.modes_used(self),
        }

    def __repr__(self) -> str:
        done = sum(1 for r in self.results if r.status == "ok")
        return f"<BenchmarkResult: {done}/{len(self.results)} configurations measured>"
