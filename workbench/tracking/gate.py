"""A CI gate: is any configuration significantly slower than a baseline, by more than X.

The baseline is the model's last stored run (`"last"`), its last run with a label
(`"label:NAME"`), a JSON report (`"FILE.json"`), or a result. Configurations match by the
whole configuration (provider, shapes, threads, optimization level, mode, machine) within
one model key. A configuration is `slower` when its p50 rose by more than `max_slowdown`
and the rise is significant: the two medians' 95% CIs do not overlap and, when the store
holds at least `NOISE_RUNS` earlier runs of it on this host, the rise is more than
`NOISE_Z` times the between-run spread of the last `NOISE_WINDOW` of them (runs of one
configuration vary far more than one run's CI says). A configuration measured in the
baseline that fails now is a regression too. Exit codes: 0 nothing slower, 1 something
slower or no longer measured, 2 nothing matched (a gate that compared nothing must not
pass).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from workbench.bench.config import BenchConfig
from workbench.errors import WorkbenchError
from workbench.render.files import finite
from workbench.render.mixin import Rendered
from workbench.tracking.store import (
    SUMMARY_COLUMNS,
    Recordable,
    Store,
    resolve,
)

NOISE_RUNS = 5  # earlier runs needed to judge a change against the between-run spread
NOISE_Z = 3.0
NOISE_WINDOW = 20  # the most recent runs that say how much runs vary (a level may move)


@dataclass(frozen=True)
class GateRow:
    """One configuration in both the result and the baseline."""

    label: str
    baseline_ms: float
    current_ms: float
    change: float  # (current - baseline) / baseline
    verdict: str  # "slower", "slower, within the threshold", "faster", "no significant change"
    noise: float | None = None  # between-run spread of earlier runs (relative), when known

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"label": self.label, "baseline_ms": finite(self.baseline_ms),
                "current_ms": finite(self.current_ms), "change": finite(self.change),
                "verdict": self.verdict, "noise": finite(self.noise)}  # fmt: skip


@dataclass
class Gate(Rendered):
    """The verdict of `check_against`: rows, what was not matched, and warnings."""

    template = "gate"
    title = "Performance gate"
    report_formats: ClassVar[tuple[str, ...]] = ("html", "json", "md")

    baseline: str  # what was compared against, in words
    max_slowdown: float
    rows: list[GateRow]
    unmatched: list[str] = field(default_factory=list)  # measured now, not in the baseline
    notes: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # measured in the baseline, failing now

    @property
    def regressions(self) -> list[GateRow]:
        """Configurations significantly slower by more than the threshold."""
        return [r for r in self.rows if r.verdict == "slower"]

    @property
    def exit_code(self) -> int:
        """0 nothing slower, 1 something slower or no longer measured, 2 nothing compared."""
        if self.lost:
            return 1
        if not self.rows:
            return 2
        return 1 if self.regressions else 0

    @property
    def passed(self) -> bool:
        """True when something was compared and nothing got slower."""
        return self.exit_code == 0

    def markdown(self) -> str:
        """The summary for a pull-request comment."""
        return self.report_bytes("md").decode().strip() + "\n"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"kind": "gate", "baseline": self.baseline, "max_slowdown": self.max_slowdown,
                "exit_code": self.exit_code, "rows": [r.as_dict() for r in self.rows],
                "lost": self.lost, "unmatched": self.unmatched, "notes": self.notes}  # fmt: skip

    def __repr__(self) -> str:
        return f"<Gate: exit {self.exit_code}, {len(self.regressions)}/{len(self.rows)} slower>"


def check_against(
    result: Recordable,
    baseline: str | os.PathLike[str] | Recordable = "last",
    *,
    max_slowdown: float = 0.05,
    model_key: str | None = None,
    store: bool | str | os.PathLike[str] | None = None,
) -> Gate:
    """Compare `result` with `baseline` (see the module) and say whether it got slower."""
    if not (isinstance(max_slowdown, int | float) and 0 <= max_slowdown < 100):
        raise WorkbenchError(f"max_slowdown={max_slowdown!r} is not a fraction.",
                             "E.g. max_slowdown=0.05 for 5%.")  # fmt: skip
    key = model_key or str(result.model.get("name") or "model")
    path = resolve(store)
    exclude = str(getattr(result, "settings", {}).get("history_run") or "")
    described, old, old_model, old_environment = _baseline(baseline, key, path, exclude)
    current = result.history_rows()
    now = {r["config"]: r for r in current if _measured(r)}
    # Measured in the baseline, run now but not measured (failed, skipped): a regression too.
    lost = [f"{r['config_label']} ({r['status']})" for r in current
            if r["config"] in old and r["config"] not in now]  # fmt: skip
    host = _first(current, "hostname")
    noise = _noise(path, key, list(now), exclude, host) if path is not None else {}
    rows = []
    for config, row in now.items():
        before = old.get(config)
        if before is None:
            continue
        change = row["p50_ms"] / before["p50_ms"] - 1
        rows.append(GateRow(row["config_label"], before["p50_ms"], row["p50_ms"], change,
                            _verdict(before, row, change, max_slowdown, noise.get(config)),
                            noise.get(config)))  # fmt: skip
    notes = []
    if not rows:
        notes.append(f"nothing matched: {described} has no measured configuration of "
                     f"{len(now)} measured now (model key {key!r})")  # fmt: skip
    if old_model.get("sha256") and old_model.get("sha256") != result.model.get("sha256"):
        notes.append(f"the model file changed (sha256 {str(old_model['sha256'])[:12]} -> "
                     f"{str(result.model.get('sha256'))[:12]}): a re-export?")  # fmt: skip
    for part in ("hostname", "cpu"):
        was, now_value = old_environment.get(part), _first(result.history_rows(), part)
        if was and now_value and was != now_value:
            notes.append(f"warning: another {part} ({was} then, {now_value} now): "
                         "differences may be the machine's, not the change's")  # fmt: skip
    return Gate(described, float(max_slowdown), rows,
                [r["config_label"] for c, r in now.items() if c not in old], notes,
                lost)  # fmt: skip


def _measured(row: dict[str, Any]) -> bool:
    return row.get("status") == "ok" and bool(row.get("p50_ms"))


def _verdict(
    before: dict[str, Any],
    now: dict[str, Any],
    change: float,
    max_slowdown: float,
    noise: float | None,
) -> str:
    """Slower (beyond the threshold), slower within it, faster, or no significant change."""
    bounds = [now.get("ci_low_ms"), now.get("ci_high_ms"), before.get("ci_low_ms"),
              before.get("ci_high_ms")]  # fmt: skip
    known = [float(b) for b in bounds if b is not None]
    if len(known) < len(bounds):
        overlap = abs(change) < 0.02  # no CI on one side: only a clear change counts
    else:
        low, high, was_low, was_high = known
        overlap = low <= was_high and was_low <= high
    beyond_noise = noise is None or abs(math.log1p(change)) > NOISE_Z * noise
    if overlap or not beyond_noise:
        return "no significant change"
    if change < 0:
        return "faster"
    return "slower" if change > max_slowdown else "slower, within the threshold"


def _baseline(
    baseline: str | os.PathLike[str] | Recordable, key: str, path: Path | None, exclude: str
) -> tuple[str, dict[str, dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """(what it is in words, its measured rows by config, its model, its machine)."""
    if not isinstance(baseline, str | os.PathLike):
        rows = baseline.history_rows()
        machine = {"hostname": _first(rows, "hostname"), "cpu": _first(rows, "cpu")}
        measured = {r["config"]: r for r in rows if _measured(r)}
        return "the result given", measured, baseline.model, machine
    text = os.fspath(baseline)
    if text == "last" or text.startswith("label:"):
        if path is None:
            raise WorkbenchError(
                f"--compare-to {text} reads the history, which is switched off.",
                "Unset ONNX_WORKBENCH_HISTORY=off, or compare to a report file.",
            )
        return _stored(text, key, path, exclude)
    return _report(Path(text))


def _stored(
    text: str, key: str, path: Path, exclude: str
) -> tuple[str, dict[str, dict[str, Any]], dict[str, Any], dict[str, Any]]:
    label = text.removeprefix("label:") if text != "last" else None
    where = (
        "kind = 'benchmark' AND model_key = ? AND uid != ? AND EXISTS (SELECT 1 FROM results "
        "WHERE run_id = runs.id AND status = 'ok')"  # a run that measured something
        + (" AND label = ?" if label is not None else "")
    )
    parameters = [key, exclude] + ([label] if label is not None else [])
    with Store(path).connect() as db:
        run = db.execute(
            f"SELECT id, time, label, model_sha256, hostname, cpu FROM runs WHERE {where} "
            "ORDER BY time_s DESC, id DESC LIMIT 1", parameters,
        ).fetchone()  # fmt: skip
        if run is None:
            return (f"the history ({'no run' if label is None else f'no run labelled {label!r}'}"
                    f" of {key!r})", {}, {}, {})  # fmt: skip
        found = db.execute(
            "SELECT c.config, c.config_label, r.status, r.p50_ms, r.summary "
            "FROM results r JOIN configs c ON c.id = r.config_id WHERE r.run_id = ?", (run[0],),
        ).fetchall()  # fmt: skip
    low, high = (SUMMARY_COLUMNS.index(c) for c in ("ci_low_ms", "ci_high_ms"))
    width = len(SUMMARY_COLUMNS)  # a blob of another size (another version's): no CI known
    summaries = [np.frombuffer(r[4], dtype="<f8") if len(r[4]) == 8 * width
                 else np.full(width, np.nan) for r in found]  # fmt: skip
    rows = [
        {"config": r[0], "config_label": r[1], "status": r[2], "p50_ms": r[3],
         "ci_low_ms": _number(summary[low]), "ci_high_ms": _number(summary[high])}
        for r, summary in zip(found, summaries, strict=True)
    ]  # fmt: skip
    named = f" {run[2]!r}" if run[2] else ""
    return (f"the run{named} of {run[1]}", {r["config"]: r for r in rows if _measured(r)},
            {"sha256": run[3]}, {"hostname": run[4], "cpu": run[5]})  # fmt: skip


def _report(path: Path) -> tuple[str, dict[str, dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """A benchmark's JSON report as flat rows (read here: no other layer is needed)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise WorkbenchError(
            f"Could not read the baseline {str(path)!r}: {error}.",
            "Give last, label:NAME, or a benchmark's .json report (result.report('x.json')).",
        ) from None
    entries = data.get("results") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise WorkbenchError(f"{str(path)!r} is not a benchmark's JSON report.",
                             "Write one with result.report('baseline.json').")  # fmt: skip
    rows = {}
    for entry in entries:
        ci = entry.get("ci95_ms") or [None, None]
        enough = (entry.get("n") or 0) >= 6  # below that, the "CI" is just the range
        row = {**BenchConfig.from_dict(entry).flat(), "status": entry.get("status"),
               "p50_ms": entry.get("p50_ms"), "ci_low_ms": ci[0] if enough else None,
               "ci_high_ms": ci[1] if enough else None}  # fmt: skip
        if _measured(row):
            rows[row["config"]] = row
    hosts = [e.get("host_info") or {} for e in entries]
    machine = {"hostname": next((h.get("hostname") for h in hosts if h.get("hostname")), None),
               "cpu": next((h.get("cpu") for h in hosts if h.get("cpu")), None)}  # fmt: skip
    return f"the report {path.name}", rows, data.get("model") or {}, machine


def _noise(
    path: Path, key: str, configs: list[str], exclude: str, host: str | None
) -> dict[str, float]:
    """Between-run spread (robust sd of log p50) of each configuration's earlier runs.

    The last `NOISE_WINDOW` of them on this host: another machine's runs, or runs from
    before a step long ago, say nothing of this machine's noise now.
    """
    if not configs or not path.exists():
        return {}
    found: dict[str, list[float]] = {}
    with Store(path).connect() as db:
        marks = ", ".join("?" * len(configs))
        for config, p50 in db.execute(
            f"SELECT c.config, r.p50_ms FROM results r JOIN runs ON runs.id = r.run_id "
            f"JOIN configs c ON c.id = r.config_id JOIN machines m ON m.id = r.machine_id "
            f"WHERE r.model_key = ? AND runs.uid != ? AND m.hostname = ? AND r.status = 'ok' "
            f"AND r.p50_ms > 0 AND c.config IN ({marks}) ORDER BY r.time_s DESC",
            [key, exclude, host or "", *configs],
        ):  # fmt: skip
            found.setdefault(config, []).append(math.log(p50))
    spread = {}
    for config, logs in found.items():
        if len(logs) >= NOISE_RUNS:
            values = np.asarray(logs[:NOISE_WINDOW])
            spread[config] = 1.4826 * float(np.median(np.abs(values - np.median(values))))
    return spread


def _first(rows: list[dict[str, Any]], column: str) -> Any:
    return next((r.get(column) for r in rows if r.get(column)), None)


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
