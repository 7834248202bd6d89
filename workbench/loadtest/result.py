"""Load-test results: a `LoadRow` per run (or per peak search), gathered in a `LoadResult`.

A row keeps every request (scheduled, dispatched, start and end times, batch, status) and
the figures computed from them: the achieved rate, latency percentiles with their 95% CIs
(from each request's scheduled arrival: queueing counts), how much was queueing and how
much service, the generator's own lateness (dispatch minus schedule: the tool's noise, shown
next to every figure), drops, failures, CPU and GPU use, and the verdict.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from workbench import plots
from workbench.bench.stats import quantile_ci
from workbench.loadtest.generator import CANCELLED, COLUMNS, DROPPED, FAILED, OK
from workbench.render.files import finite
from workbench.render.mixin import Rendered

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

KIND = "load-test"  # what a load test's JSON report says it is
SCHEMA_VERSION = 1
VERDICTS = ("ok", "overloaded", "unattainable", "failed", "skipped", "partial", "running")
# Below this share of the target rate served, a run did not keep up.
MIN_ACHIEVED = 0.95
COLUMNS_SHOWN = [
    "provider", "scenario", "policy", "clients", "sessions", "target_qps", "achieved_qps",
    "requests", "completed", "dropped", "failed", "p50_ms", "p90_ms", "p99_ms",
    "percentile_ms", "percentile_ci_ms", "queue_ms", "service_ms", "lateness_p50_ms",
    "lateness_p99_ms", "cpu_percent", "gpu_percent", "peak_qps", "verdict", "reason",
]  # fmt: skip


@dataclass
class LoadRow:
    """One run (or a peak search) on one provider with one batching policy."""

    provider: str
    scenario: str
    policy: str = "none"
    clients: int = 1  # closed loop: clients; open loop: worker threads
    sessions: str = "shared"
    target_qps: float | None = None
    achieved_qps: float | None = None
    requests: int = 0  # sent
    completed: int = 0
    dropped: int = 0
    failed: int = 0
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    percentile: float = 99.0
    percentile_ms: float | None = None  # at the spec's percentile
    percentile_ci_ms: tuple[float, float] | None = None
    bound_ms: float | None = None
    queue_ms: float | None = None  # mean time from dispatch to start
    service_ms: float | None = None  # mean time from start to end
    lateness_p50_ms: float | None = None  # the generator's: dispatch minus schedule
    lateness_p99_ms: float | None = None
    mean_batch: float | None = None
    cpu_percent: float | None = None  # the process's, of all cores (the generator's included)
    gpu_percent: float | None = None
    duration_s: float | None = None
    peak_qps: float | None = None  # peak: the highest rate that met the bound
    probes: list[dict[str, Any]] = field(default_factory=list)  # peak: each server run
    verdict: str = "ok"
    reason: str = ""
    host: str = ""  # the machine it ran on (`doctor.host()`'s hostname)
    table: np.ndarray = field(default_factory=lambda: np.zeros((0, len(COLUMNS)), np.int64),
                              repr=False)  # fmt: skip

    @property
    def label(self) -> str:
        """`cpu server none`, `cpu concurrency 4 per-client`."""
        parts = [self.provider.removesuffix("ExecutionProvider"), self.scenario]
        if self.scenario == "concurrency":
            parts += [str(self.clients), self.sessions]
        if self.policy != "none":
            parts.append(self.policy)
        return " ".join(parts)

    def timeline(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Completed requests' arrival (s) and latency (ms), and dropped ones' arrival (s)."""
        done = self.table[self.table[:, _STATUS] == OK]
        dropped = self.table[self.table[:, _STATUS] == DROPPED]
        latency: np.ndarray = (done[:, _END] - done[:, _SCHEDULED]) / 1e6
        return done[:, _SCHEDULED] / 1e9, latency, dropped[:, _SCHEDULED] / 1e9

    def as_dict(self, *, requests: bool = True) -> dict[str, Any]:
        """JSON-ready row; `requests=False` leaves out the per-request table."""
        data = {k: v for k, v in asdict(self).items() if k != "table"}
        data["percentile_ci_ms"] = list(self.percentile_ci_ms) if self.percentile_ci_ms else None
        data["label"] = self.label
        if requests:
            data["requests_table"] = {"columns": list(COLUMNS), "rows": self.table.tolist()}
        cleaned: dict[str, Any] = finite(data)
        return cleaned

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadRow:
        """Inverse of `as_dict()`."""
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "table"}
        if values.get("percentile_ci_ms"):  # JSON holds an unbounded end as null
            low, high = values["percentile_ci_ms"]
            values["percentile_ci_ms"] = (low, math.inf if high is None else high)
        row = cls(**values)
        table = (data.get("requests_table") or {}).get("rows")
        if table:
            row.table = np.asarray(table, dtype=np.int64).reshape(-1, len(COLUMNS))
        return row


_SCHEDULED, _DISPATCHED, _START, _END, _BATCH, _STATUS = range(len(COLUMNS))


def summarize(row: LoadRow, table: np.ndarray, *, window_s: float | None) -> LoadRow:
    """Fill `row`'s figures from its requests (`window_s`: the open loop's schedule span)."""
    row.table = table
    sent = table[table[:, _STATUS] != CANCELLED]
    done = sent[sent[:, _STATUS] == OK]
    row.requests, row.completed = len(sent), len(done)
    row.dropped = int(np.count_nonzero(sent[:, _STATUS] == DROPPED))
    row.failed = int(np.count_nonzero(sent[:, _STATUS] == FAILED))
    if not len(done):
        return row
    latency = np.sort((done[:, _END] - done[:, _SCHEDULED]) / 1e6)
    p50, p90, p99, pxx = np.percentile(latency, [50, 90, 99, row.percentile])
    row.p50_ms, row.p90_ms, row.p99_ms = float(p50), float(p90), float(p99)
    row.percentile_ms = float(pxx)
    row.percentile_ci_ms = quantile_ci(latency, row.percentile / 100)
    row.queue_ms = float(np.mean(done[:, _START] - done[:, _DISPATCHED]) / 1e6)
    row.service_ms = float(np.mean(done[:, _END] - done[:, _START]) / 1e6)
    late = (sent[:, _DISPATCHED] - sent[:, _SCHEDULED]) / 1e6
    row.lateness_p50_ms, row.lateness_p99_ms = (float(v) for v in np.percentile(late, [50, 99]))
    row.mean_batch = float(np.mean(done[:, _BATCH]))
    first, last = float(done[:, _SCHEDULED].min()), float(done[:, _END].max())
    span = max(window_s or 0.0, last / 1e9) if window_s else (last - first) / 1e9
    row.duration_s = span
    row.achieved_qps = row.completed / span if span > 0 else None
    return row


def judge(row: LoadRow) -> None:
    """The verdict of an open-loop run at a target rate: ok, or overloaded (and why)."""
    if row.verdict in ("failed", "skipped", "unattainable", "partial"):
        return
    reasons = []
    if row.dropped:
        reasons.append(f"{row.dropped} requests dropped (the queue was full)")
    if row.target_qps and (row.achieved_qps or 0) < MIN_ACHIEVED * row.target_qps:
        reasons.append(f"served {row.achieved_qps or 0:.4g} of {row.target_qps:.4g} QPS")
    if row.bound_ms is not None and (row.percentile_ms or math.inf) > row.bound_ms:
        reasons.append(
            f"p{row.percentile:g} {row.percentile_ms or math.inf:.4g} ms > {row.bound_ms:g} ms"
        )
    if reasons:
        row.verdict = "overloaded"
        row.reason = f"overloaded at {row.target_qps:.4g} QPS: " + "; ".join(reasons)


@dataclass
class LoadResult(Rendered):
    """Every load run of one `load_test()` call."""

    template = "load_test"
    title = "Load test"
    report_formats: ClassVar[tuple[str, ...]] = ("html", "json", "csv", "md")

    model: dict[str, Any]
    rows: list[LoadRow]
    settings: dict[str, Any]
    environment: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    created: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row per run (requests left out)."""
        import pandas as pd  # noqa: PLC0415  (heavy: loads on first use)

        return pd.DataFrame([r.as_dict(requests=False) for r in self.rows])

    def plot(self, ax: Axes | None = None) -> Axes:
        """p50 and the bound's percentile against the achieved rate (the bound, the peak)."""
        return plots.latency_throughput(self, ax)

    def plot_timeline(self, row: int = -1, ax: Axes | None = None) -> Axes:
        """Each request's latency over the run's time (warm-up and overload show here)."""
        return plots.latency_over_time(self.rows[row], ax)

    def plot_breakdown(self, ax: Axes | None = None) -> Axes:
        """Mean queueing and service time of each run."""
        return plots.queue_breakdown(self, ax)

    def history_rows(self) -> list[dict[str, Any]]:
        """Each run as the history store keeps it (`workbench.history`).

        Its request latencies as samples, the achieved rate as the throughput.
        """
        rows = []
        for row in self.rows:
            rate = row.target_qps if row.scenario == "server" else None
            _, latency_ms, _ = row.timeline()
            rows.append({
                # What else shapes a run's latency is part of its configuration's name.
                "config": json.dumps(["load", row.label, rate, row.clients, row.sessions,
                                      self.settings.get("intra_op_threads"),
                                      self.settings.get("opt_level")]),
                "config_label": row.label + (f" @{rate:g} QPS" if rate else ""),
                "provider": row.provider,
                "scenario": row.scenario,
                "target_qps": rate,
                "status": "ok" if row.verdict in ("ok", "overloaded") else row.verdict,
                "n": row.completed,
                "p50_ms": row.p50_ms,
                "p90_ms": row.p90_ms,
                "p99_ms": row.p99_ms,
                "throughput_per_s": row.achieved_qps,
                "peak_qps": row.peak_qps,
                "hostname": row.host or None,
                "cpu": self.environment.get("cpu"),
                "samples_ns": np.rint(latency_ms * 1e6).astype(np.int64),
            })  # fmt: skip
        return rows

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what `--json` prints and a .json report holds)."""
        return {
            "kind": KIND,
            "schema_version": SCHEMA_VERSION,
            "model": self.model,
            "settings": self.settings,
            "environment": self.environment,
            "created": self.created,
            "rows": [r.as_dict() for r in self.rows],
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadResult:
        """A result read back from its JSON report."""
        return cls(
            dict(data.get("model") or {}),
            [LoadRow.from_dict(r) for r in data.get("rows", [])],
            dict(data.get("settings") or {}),
            dict(data.get("environment") or {}),
            list(data.get("notes") or []),
            str(data.get("created") or ""),
        )

    def render_context(self) -> dict[str, Any]:
        """The rows as table cells (text and HTML), and the plot as PNG where one exists."""
        rows = [(r, _cells(r)) for r in self.rows]
        table = [[r.label, r.verdict, *c] for r, c in rows]
        return {"result": self, "rows": rows, "table": table, "headers": HEADERS,
                "picture": _picture(self)}  # fmt: skip

    def __repr__(self) -> str:
        verdicts = ", ".join(f"{r.label}: {r.verdict}" for r in self.rows[:4])
        return f"<LoadResult of {self.model.get('name')}: {verdicts}>"


HEADERS = ["target QPS", "achieved QPS", "requests", "dropped", "p50 ms", "pXX ms (95% CI)",
           "queue ms", "service ms", "lateness p99 ms", "process CPU %", "peak QPS"]  # fmt: skip


def _cells(row: LoadRow) -> list[str]:
    """The figures of a row as text (`-` where there is none)."""
    ci = row.percentile_ci_ms
    pxx = _number(row.percentile_ms)
    if row.percentile_ms is not None:
        pxx = f"p{row.percentile:g} {pxx}" + (f" ({ci[0]:.3g}-{ci[1]:.3g})" if ci else "")
    return [
        _number(row.target_qps, "{:.4g}"), _number(row.achieved_qps, "{:.4g}"), str(row.requests),
        str(row.dropped), _number(row.p50_ms), pxx, _number(row.queue_ms),
        _number(row.service_ms), _number(row.lateness_p99_ms), _number(row.cpu_percent, "{:.0f}"),
        _number(row.peak_qps, "{:.4g}"),
    ]  # fmt: skip


def _number(value: float | None, form: str = "{:.3g}") -> str:
    return "-" if value is None or not math.isfinite(value) else form.format(value)


def _picture(result: LoadResult) -> str:
    """The latency-throughput plot as base64 PNG for the HTML view ("" when nothing ran)."""
    import base64  # noqa: PLC0415  (only for the HTML view)

    if not any(r.achieved_qps for r in result.rows):
        return ""
    picture = plots.picture(lambda ax: plots.latency_throughput(result, ax), 1, "load test")
    return base64.b64encode(picture.png()).decode("ascii")
