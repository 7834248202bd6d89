"""Per-operator profiles from onnxruntime's own profiler, as a DataFrame and a plot."""

from __future__ import annotations

import json
import statistics
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.display import render
from workbench.errors import WorkbenchError
from workbench.inputs import synthesize
from workbench.session import NodePlacement, Session, SessionConfig

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from workbench.model import Model

_KERNEL_SUFFIX = "_kernel_time"
COLUMNS = ["node", "op_type", "provider", "calls", "total_ms", "mean_ms", "share"]


@dataclass
class ProfileResult:
    """Time per node over the profiled runs, and onnxruntime's whole-run durations."""

    provider: str
    runs: int
    rows: list[dict[str, Any]]  # one per node, most time first (see COLUMNS)
    model_run_ms: list[float] = field(default_factory=list)

    @property
    def frame(self) -> pd.DataFrame:
        """The per-node table: node, op type, provider, calls, total and mean time, share."""
        import pandas as pd  # noqa: PLC0415

        return pd.DataFrame(self.rows, columns=COLUMNS)

    def by_op_type(self) -> pd.DataFrame:
        """Time summed per op type (and provider), most time first."""
        frame = self.frame
        grouped = frame.groupby(["op_type", "provider"], as_index=False)[
            ["calls", "total_ms", "share"]
        ].sum()
        grouped["mean_ms"] = grouped["total_ms"] / grouped["calls"]
        return grouped.sort_values("total_ms", ascending=False, ignore_index=True)

    def plot(self, top: int = 15, ax: Axes | None = None, by: str = "op_type") -> Axes:
        """Horizontal bars of the `top` op types (or nodes, with by="node")."""
        from workbench.plots import op_breakdown  # noqa: PLC0415

        return op_breakdown(self, top=top, ax=ax, by=by)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "provider": self.provider,
            "runs": self.runs,
            "nodes": self.rows,
            "model_run_ms": self.model_run_ms,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProfileResult:
        """Inverse of `as_dict()`."""
        return cls(data["provider"], data["runs"], list(data["nodes"]), list(data["model_run_ms"]))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(
            f"Per-operator profile on {self.provider}, {self.runs} runs\n"
            + self.by_op_type().head(20).to_string(index=False)
        )

    def _repr_html_(self) -> str:
        rows = self.by_op_type().head(20).to_dict("records")
        median = statistics.median(self.model_run_ms) if self.model_run_ms else None
        return render("profile.html.j2", profile=self, rows=rows, median_run_ms=median)


def profile(
    model: Any,
    provider: str = "cpu",
    feeds: Mapping[str, Any] | None = None,
    *,
    runs: int = 10,
    warmup: int = 3,
    dims: Mapping[str, int] | None = None,
    shapes: Mapping[str, Sequence[int]] | None = None,
    batch: int | None = None,
    seed: int = 0,
    **session_options: Any,
) -> ProfileResult:
    """Run `warmup + runs` times in a profiled session and tabulate time per node.

    Warmup runs are left out of the table. Profiling adds its own overhead, so compare these
    times with each other, not with a benchmark's latencies.
    """
    from workbench.model import load  # noqa: PLC0415

    model = load(model)
    if runs < 1:
        raise WorkbenchError(f"runs must be at least 1, got {runs}.", "E.g. runs=10.")
    values = (
        model.feed_checker.check(feeds)
        if feeds is not None
        else synthesize(model.inputs, dims=dims, shapes=shapes, batch=batch, seed=seed).values
    )
    events, full_name = _profiled_events(model, provider, values, runs + warmup, session_options)
    return summarize(events, full_name, runs=runs, warmup=warmup)


def _profiled_events(
    model: Model,
    provider: str,
    feeds: Mapping[str, Any],
    total_runs: int,
    session_options: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], str]:
    config = SessionConfig.make(provider, enable_profiling=True, **session_options)
    # A dedicated session: profiling ends (and writes its file) once per session.
    with tempfile.TemporaryDirectory(prefix="onnx-workbench-profile-") as folder:
        session = Session(model, config, profile_prefix=str(Path(folder) / "profile"))
        try:
            for _ in range(total_runs):
                session.run(feeds)
            path = Path(session.end_profiling())
            events = json.loads(path.read_text())
        finally:
            session.close()
    return events, config.provider


def summarize(
    events: list[dict[str, Any]], provider: str, *, runs: int, warmup: int
) -> ProfileResult:
    """Aggregate onnxruntime profiler events, skipping those of the first `warmup` runs."""
    model_runs = sorted(
        (e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"),
        key=lambda e: e["ts"],
    )
    start = model_runs[warmup]["ts"] if len(model_runs) > warmup else 0
    totals: dict[str, dict[str, Any]] = {}
    for event in events:
        name = event.get("name", "")
        if event.get("cat") != "Node" or not name.endswith(_KERNEL_SUFFIX) or event["ts"] < start:
            continue
        node = name[: -len(_KERNEL_SUFFIX)]
        args = event.get("args", {})
        row = totals.setdefault(
            node,
            {
                "node": node,
                "op_type": args.get("op_name", ""),
                "provider": args.get("provider", ""),
                "calls": 0,
                "total_ms": 0.0,
            },
        )
        row["calls"] += 1
        row["total_ms"] += event.get("dur", 0) / 1000.0
    overall = sum(r["total_ms"] for r in totals.values()) or 1.0
    rows = sorted(totals.values(), key=lambda r: r["total_ms"], reverse=True)
    for row in rows:
        row["mean_ms"] = row["total_ms"] / row["calls"]
        row["share"] = row["total_ms"] / overall
    return ProfileResult(
        provider=provider,
        runs=runs,
        rows=[{c: r[c] for c in COLUMNS} for r in rows],
        model_run_ms=[e["dur"] / 1000.0 for e in model_runs[warmup:]],
    )


def placement_from_profile(
    model: Model, provider: str, **session_options: Any
) -> list[NodePlacement]:
    """Node placement for onnxruntime versions that cannot report it without profiling."""
    result = profile(model, provider=provider, runs=1, warmup=0, **session_options)
    return [NodePlacement(r["node"], r["op_type"], r["provider"]) for r in result.rows]
