"""onnxruntime's profiler output, read: time per node, and which provider ran each node.

`workbench.profile()` (run/profile.py) runs a profiled session; this module only reads the
events onnxruntime wrote, so sessions can use it too (node placement on onnxruntime < 1.31).
"""

from __future__ import annotations

import statistics
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench import plots
from workbench.render.mixin import Rendered
from workbench.text import printable

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

_KERNEL_SUFFIX = "_kernel_time"
COLUMNS = ["node", "op_type", "provider", "calls", "total_ms", "mean_ms", "share"]


@dataclass(frozen=True)
class NodePlacement:
    """Which provider runs one node of the optimized graph."""

    node: str
    op_type: str
    provider: str


@dataclass
class ProfileResult(Rendered):
    """Time per node over the profiled runs, and onnxruntime's whole-run durations."""

    template = "profile"
    title = "Per-operator profile"

    provider: str
    runs: int
    rows: list[dict[str, Any]]  # one per node, most time first (see COLUMNS)
    model_run_ms: list[float] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)  # what ran (Feeds.input_rows)
    # What it was taken on, so that it is never read against another model or configuration:
    model_sha256: str = ""
    session: dict[str, Any] = field(default_factory=dict)  # SessionConfig.as_dict()

    def to_frame(self) -> pd.DataFrame:
        """The per-node table: node, op type, provider, calls, total and mean time, share."""
        import pandas as pd  # noqa: PLC0415  (heavy: imported on first use)

        return pd.DataFrame(self.rows, columns=COLUMNS)

    @property
    def frame(self) -> pd.DataFrame:
        """Deprecated: use `to_frame()`, as every other result does."""
        warnings.warn(
            "ProfileResult.frame is deprecated; use ProfileResult.to_frame().",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.to_frame()

    def by_op_type(self) -> pd.DataFrame:
        """Time summed per op type (and provider), most time first."""
        frame = self.to_frame()
        grouped = frame.groupby(["op_type", "provider"], as_index=False)[
            ["calls", "total_ms", "share"]
        ].sum()
        grouped["mean_ms"] = grouped["total_ms"] / grouped["calls"]
        return grouped.sort_values("total_ms", ascending=False, ignore_index=True)

    def hottest(self, top: int = 10) -> list[dict[str, Any]]:
        """The `top` nodes with the most time: node, op type, provider, ms per run, run share.

        `run_share` is the node's share of `model_run` time (None where runs were not timed).
        A node inside a subgraph (If, Loop, Scan) counts in its parent node's time too.
        """
        run_ms = sum(self.model_run_ms)
        runs = max(self.runs, 1)
        return [
            {
                "node": r["node"],
                "op_type": r["op_type"],
                "provider": r["provider"],
                "ms_per_run": r["total_ms"] / runs,
                "run_share": r["total_ms"] / run_ms if run_ms else None,
            }
            for r in self.rows[:top]
        ]

    def plot(self, top: int = 15, ax: Axes | None = None, by: str = "op_type") -> Axes:
        """Horizontal bars of the `top` op types (or nodes, with by="node")."""
        return plots.op_breakdown(self, top=top, ax=ax, by=by)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "provider": self.provider,
            "runs": self.runs,
            "nodes": self.rows,
            "model_run_ms": self.model_run_ms,
            "inputs": self.inputs,
            "model_sha256": self.model_sha256,
            "session": self.session,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProfileResult:
        """Inverse of `as_dict()`."""
        return cls(
            data["provider"],
            data["runs"],
            list(data["nodes"]),
            list(data["model_run_ms"]),
            list(data.get("inputs") or []),  # reports before 0.2 did not say
            str(data.get("model_sha256") or ""),  # nor these
            dict(data.get("session") or {}),
        )

    def render_context(self) -> dict[str, Any]:
        """The 20 costliest op types, and the median whole-run time."""
        rows = self.by_op_type().head(20).to_dict("records")
        return {
            "result": self,
            "rows": rows,
            "rows_text": [
                [
                    str(r["op_type"]),
                    str(r["provider"]),
                    str(r["calls"]),
                    f"{r['total_ms']:.3f}",
                    f"{r['mean_ms']:.4f}",
                    f"{100 * r['share']:.1f}%",
                ]
                for r in rows
            ],
            "median_run_ms": statistics.median(self.model_run_ms) if self.model_run_ms else None,
            "hottest_text": [
                [
                    printable(str(r["node"])),
                    str(r["op_type"]),
                    f"{r['ms_per_run']:.4f}",
                    "" if r["run_share"] is None else f"{100 * r['run_share']:.1f}%",
                ]
                for r in self.hottest()
            ],
        }

    def __repr__(self) -> str:
        return f"<ProfileResult on {self.provider}: {len(self.rows)} nodes, {self.runs} runs>"


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


def placements(events: list[dict[str, Any]], provider: str) -> list[NodePlacement]:
    """Which provider ran each node, as one profiled run recorded it."""
    profile = summarize(events, provider, runs=1, warmup=0)
    return [NodePlacement(r["node"], r["op_type"], r["provider"]) for r in profile.rows]
