"""`workbench.history(...)`: what the store holds for a model, over time, and where it changed.

A series is one configuration of one model (by model key) on one machine (its hostname, or
its CPU and GPUs when hostnames are hashed or dropped), in time order; `changes()` runs
`history.changes.steps` over each series of `ok` medians and names what else changed at a
step's first run (onnxruntime, the driver, the model file, the machine).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from workbench.errors import WorkbenchError
from workbench.render.files import finite
from workbench.render.mixin import Rendered
from workbench.tracking import changes as change_rules
from workbench.tracking.store import (
    CONFIG_COLUMNS,
    MACHINE_COLUMNS,
    SUMMARY_COLUMNS,
    Store,
    decode_samples,
    named,
    unpack_summaries,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from workbench.model import ModelLike

# The frame's columns, in order: the run's then the result's (all flat; no JSON is parsed).
COLUMNS = (
    "time", "model_name", "model_key", "model_sha256", "label", "git_commit", "kind",
    "config_label", "provider", "batch", "dims", "shapes", "threads", "opt_level", "mode",
    "machine", "variant", "scenario", "target_qps", "status", "n", "p50_ms", "ci_low_ms",
    "ci_high_ms", "p90_ms", "p99_ms", "throughput_per_s", "peak_qps", "hostname", "cpu",
    "gpus", "driver", "onnxruntime", "workbench_version", "config", "run_uid", "result_id",
    "time_s",
)  # fmt: skip
_RUN_FIELDS = ("time", "time_s", "model_name", "model_key", "model_sha256", "label", "git_commit",
               "kind", "workbench_version")  # fmt: skip
# What is named when it changed at a step's first run.
ENVIRONMENT = ("onnxruntime", "driver", "model_sha256", "hostname", "cpu", "gpus",
               "workbench_version")  # fmt: skip


@dataclass(frozen=True)
class Change:
    """A sustained step in one configuration's series."""

    model_key: str
    config_label: str
    machine: str
    time: str  # the first run of the new level
    label: str | None  # that run's label (a commit, a model version)
    ratio: float  # new p50 / old p50
    before_ms: float
    after_ms: float
    z: float
    runs_before: int
    coincides: tuple[str, ...] = ()  # e.g. "onnxruntime 1.20.1 -> 1.21.0"

    @property
    def verdict(self) -> str:
        """Slower or faster: these are latencies, so a higher one is slower."""
        return "slower" if self.ratio > 1 else "faster"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "model_key": self.model_key, "config_label": self.config_label,
            "machine": self.machine, "time": self.time, "label": self.label,
            "change": finite(self.ratio - 1), "verdict": self.verdict,
            "before_ms": finite(self.before_ms), "after_ms": finite(self.after_ms),
            "z": finite(self.z), "runs_before": self.runs_before,
            "coincides": list(self.coincides),
        }  # fmt: skip


@dataclass(frozen=True)
class History(Rendered):
    """Stored results matching a query (oldest first), their series and their changes.

    Frozen: what it works out (series, changes) is kept and stays true to `frame`.
    """

    template = "history"
    title = "Benchmark history"
    report_formats: ClassVar[tuple[str, ...]] = ("html", "json", "csv", "md")

    path: str
    filters: dict[str, Any]
    frame: pd.DataFrame = field(repr=False)
    # Worked out once (the reports ask for both several times), set through object.__setattr__.
    _series: dict[tuple[str, str, str], pd.DataFrame] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _changes: list[Change] | None = field(default=None, init=False, repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per stored configuration result (see COLUMNS), oldest first: yours to change."""
        return _yours(self.frame)

    def __len__(self) -> int:
        return len(self.frame)

    def series(self) -> dict[tuple[str, str, str], pd.DataFrame]:
        """Each configuration's `ok` results on each machine: (model key, config, machine)."""
        if self._series is None:
            usable = self.frame[(self.frame["status"] == "ok") & self.frame["p50_ms"].gt(0)]
            usable = usable.assign(machine_id=_machine_ids(usable))
            object.__setattr__(self, "_series", {
                (str(key[0]), str(key[1]), str(key[2])): group
                for key, group in usable.groupby(["model_key", "config", "machine_id"],
                                                 sort=False)
            })  # fmt: skip
        return {key: _yours(group) for key, group in (self._series or {}).items()}

    def changes(self) -> list[Change]:
        """Sustained steps in every series (the rule: `workbench.tracking.changes`)."""
        if self._changes is None:
            object.__setattr__(self, "_changes", self._find_changes())
        return list(self._changes or [])

    def _find_changes(self) -> list[Change]:
        found = []
        for (model_key, _, machine), group in self.series().items():
            previous = 0
            for step in change_rules.steps(group["p50_ms"].to_numpy()):
                first, last = group.iloc[step.index], group.iloc[step.index - 1]
                coincides = tuple(
                    f"{name} {_known(last[name]) or '?'} -> {_known(first[name]) or '?'}"
                    for name in ENVIRONMENT
                    if _known(last[name]) != _known(first[name])
                )
                found.append(Change(model_key, str(first["config_label"]), machine,
                                    str(first["time"]), first["label"], step.ratio, step.before,
                                    step.after, step.z,
                                    min(step.index - previous, change_rules.WINDOW),
                                    coincides))  # fmt: skip
                previous = step.index
        return found

    def samples(self, result_id: int) -> np.ndarray:
        """The raw samples (ns) of one stored result (`result_id` of the frame)."""
        with Store(self.path).connect() as db:
            row = db.execute("SELECT data FROM samples WHERE result_id = ?", (result_id,))
            found = row.fetchone()
        if found is None:
            raise WorkbenchError(f"No raw samples are stored for result {result_id}.",
                                 "They were pruned, or the result had none.")  # fmt: skip
        return decode_samples(found[0])

    def plot(self, by: str = "time", ax: Axes | None = None, top: int = 8) -> Axes:
        """p50 with its CI per configuration over time (or over labels), steps marked.

        Marker shapes tell machines apart, and a dotted line marks each run where
        onnxruntime changed; `top` series at most (the ones with the most runs).
        """
        from workbench import plots  # noqa: PLC0415  (matplotlib loads on first use)

        return plots.history(self, by=by, ax=ax, top=top)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: `results` (one entry per stored configuration result) and `changes`."""
        records = self.frame.drop(columns=["time_s"]).to_dict("records")
        return {
            "kind": "history",
            "store": self.path,
            "filters": self.filters,
            "results": [{k: _plain(v) for k, v in r.items()} for r in records],
            "changes": [c.as_dict() for c in self.changes()],
        }

    def render_context(self) -> dict[str, Any]:
        """The changes, the last result of each series, and (in HTML) the plot."""
        latest = [group.iloc[-1] for group in self.series().values()]
        return {
            "result": self,
            "changes": self.changes(),
            "latest": latest,
            "runs": int(self.frame["run_uid"].nunique()) if len(self.frame) else 0,
            "plot": self._plot_png(),
        }

    def _plot_png(self) -> str:
        if not len(self.series()):
            return ""
        import base64  # noqa: PLC0415  (only for the HTML view)

        from workbench import plots  # noqa: PLC0415  (matplotlib loads on first use)

        drawn = plots.picture(lambda ax: self.plot(ax=ax), 8, "history plot")
        return base64.b64encode(drawn.png()).decode("ascii")

    def __repr__(self) -> str:
        return f"<History: {len(self.frame)} results from {self.path}>"


def history(
    model: ModelLike | None = None,
    *,
    label: str | None = None,
    since: str | datetime.datetime | datetime.timedelta | None = None,
    provider: str | Sequence[str] | None = None,
    kind: str | None = None,
    store: str | os.PathLike[str] | None = None,
) -> History:
    """What the history store holds, as a `History` (`to_frame()`, `plot()`, `changes()`).

    - `model`: a model key (the model's name unless one was given when recording), a path
      or a loaded model (its name); None for every model.
    - `label`: runs recorded with this label; `since`: a date, an ISO time, or a timedelta
      ("the last week": `datetime.timedelta(days=7)`); `provider`: e.g. "cuda";
      `kind`: "benchmark", "evaluation" or "load-test".
    - `store`: the file (default: `$ONNX_WORKBENCH_HISTORY`, else the user's).
    """
    import pandas as pd  # noqa: PLC0415  (heavy: loads on first use)

    path = named(store)
    if not path.exists():  # a query never creates a store
        raise WorkbenchError(
            f"There is no history at {path} yet.",
            "Each benchmark, evaluation and load test adds to it (unless history=False); "
            "or name another file: store=PATH (--store PATH).",
        )
    where: list[str] = []
    parameters: list[Any] = []
    key = _model_key(model)
    if key is not None:
        where.append("model_key = ?")
        parameters.append(key)
    if since is not None:
        where.append("time_s >= ?")
        parameters.append(_since(since))
    if provider is not None:
        from workbench.ort.providers import resolve  # noqa: PLC0415  (onnxruntime on use)

        names = [provider] if isinstance(provider, str) else list(provider)
        full = [resolve(p) for p in names]
        where.append(f"config_id IN (SELECT id FROM configs WHERE provider IN "
                     f"({', '.join('?' * len(full))}))")  # fmt: skip
        parameters += full
    for column, value in (("label", label), ("kind", kind)):
        if value is not None:
            where.append(f"run_id IN (SELECT id FROM runs WHERE {column} = ?)")
            parameters.append(value)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    with Store(path).connect() as db:
        db.execute("BEGIN")  # one snapshot: a prune or an append meanwhile is not half seen
        own = _results(db, clause, parameters)
        run_ids = json.dumps(np.unique(own["run_id"]).tolist())
        runs = _table(db, f"SELECT id, uid, {', '.join(_RUN_FIELDS)} FROM runs "
                          "WHERE id IN (SELECT value FROM json_each(?))",
                      ["run_uid", *_RUN_FIELDS], [run_ids])  # fmt: skip
        configs = _table(db, f"SELECT id, {', '.join(CONFIG_COLUMNS)} FROM configs",
                         CONFIG_COLUMNS)  # fmt: skip
        machines = _table(db, f"SELECT id, {', '.join(MACHINE_COLUMNS)} FROM machines",
                          MACHINE_COLUMNS)  # fmt: skip
        db.execute("COMMIT")
    machines = machines.astype(object).where(machines != "", None)  # '' when unknown
    # Each run, configuration and machine was read once; repeated here by id (a take, fast).
    joined = [table.reindex(own[key]).reset_index(drop=True)
              for table, key in ((runs, "run_id"), (configs, "config_id"),
                                 (machines, "machine_id"))]  # fmt: skip
    frame = pd.concat([own, *joined], axis=1)[list(COLUMNS)]
    filters = {"model": key, "label": label, "since": str(since) if since else None,
               "provider": provider, "kind": kind}  # fmt: skip
    return History(str(path), {k: v for k, v in filters.items() if v is not None}, frame)


# One stored result as read: straight into typed columns (no list of tuples, no inference);
# its numbers packed in `summary`, its status None for "ok" (not a string each).
_SUMMARY_BYTES = 8 * len(SUMMARY_COLUMNS)
_RESULT_ROW = np.dtype([
    ("result_id", "i8"), ("run_id", "i8"), ("config_id", "i8"), ("machine_id", "i8"),
    ("status", "O"), ("summary", f"V{_SUMMARY_BYTES}"),
])  # fmt: skip
UNREADABLE = "unreadable"  # the status of a result whose packed numbers have another size
_NO_NUMBERS = np.full(len(SUMMARY_COLUMNS), np.nan).tobytes()  # what it reads as instead


def _results(db: sqlite3.Connection, clause: str, parameters: list[Any]) -> pd.DataFrame:
    """The matching results' own columns, oldest first (the run's time, then insertion)."""
    import pandas as pd  # noqa: PLC0415  (heavy: loads on first use)

    # A blob of another size (another version wrote it) would be padded or cut silently.
    rows = db.execute(
        "SELECT id, run_id, config_id, machine_id, "
        f"CASE WHEN length(summary) IS NOT {_SUMMARY_BYTES} THEN '{UNREADABLE}' "
        "WHEN status = 'ok' THEN NULL ELSE coalesce(status, '') END, "
        f"CASE WHEN length(summary) = {_SUMMARY_BYTES} THEN summary ELSE ? END "
        f"FROM results{clause} ORDER BY time_s, id", [_NO_NUMBERS, *parameters],
    )  # fmt: skip
    found = np.fromiter(rows, dtype=_RESULT_ROW)
    status = found["status"]
    ok, unknown = status == None, status == ""  # noqa: E711  (elementwise: `is` is not)
    status[ok], status[unknown] = "ok", None  # NULL came as "", never to be taken for "ok"
    numbers = dict(zip(SUMMARY_COLUMNS, unpack_summaries(found["summary"]).T, strict=True))
    numbers["n"] = pd.array(numbers["n"], dtype="Int64")  # a count, unknown for some kinds
    return pd.DataFrame({
        "result_id": found["result_id"], "run_id": found["run_id"],
        "config_id": found["config_id"], "machine_id": found["machine_id"], "status": status,
        **numbers,
    })  # fmt: skip


def _table(db: sqlite3.Connection, query: str, names: Sequence[str],
           parameters: Sequence[Any] = ()) -> pd.DataFrame:  # fmt: skip
    """A small table (runs, configurations, machines) indexed by its id."""
    import pandas as pd  # noqa: PLC0415  (heavy: loads on first use)

    rows = db.execute(query, parameters).fetchall()
    return pd.DataFrame.from_records(rows, columns=["id", *names]).set_index("id")


def _yours(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` the caller may change without changing the History's."""
    import pandas as pd  # noqa: PLC0415  (loaded already: the frame is one)

    # pandas 3 copies on write: a shallow copy is already independent (and 10x cheaper).
    return frame.copy(deep=int(pd.__version__.split(".")[0]) < 3)


def _model_key(model: ModelLike | None) -> str | None:
    """A model argument as the key results are stored under (see `history`)."""
    if model is None or (isinstance(model, str) and not model.endswith(".onnx")):
        return model
    if isinstance(model, str | os.PathLike):
        return Path(os.fspath(model)).stem
    name = getattr(model, "name", None)  # a Model: its file's stem
    if isinstance(name, str):
        return name
    graph = getattr(getattr(model, "graph", None), "name", None)  # a ModelProto
    if isinstance(graph, str) and graph:
        return graph
    raise WorkbenchError(
        "A model given as bytes has no name to look its history up by.",
        "Pass its model key (the name it was recorded under), e.g. history('resnet50').",
    )


def _since(since: str | datetime.datetime | datetime.timedelta) -> float:
    now = datetime.datetime.now(datetime.timezone.utc)
    if isinstance(since, datetime.timedelta):
        return (now - since).timestamp()
    when = since if isinstance(since, datetime.datetime) else None
    if when is None:
        try:
            when = datetime.datetime.fromisoformat(str(since))
        except ValueError:
            raise WorkbenchError(
                f"since={since!r} is not a date or an ISO time.",
                "E.g. since='2026-11-01', or since=datetime.timedelta(days=7).",
            ) from None
    return (when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)).timestamp()


def _machine_ids(frame: pd.DataFrame) -> list[str]:
    """A series' machine: the hostname, else its CPU and GPUs (hostnames hashed or dropped)."""
    return [
        str(host) if host else f"{cpu or '?'}{' + ' + gpus if gpus else ''}"
        for host, cpu, gpus in zip(frame["hostname"], frame["cpu"], frame["gpus"], strict=True)
    ]


def _known(value: Any) -> Any:
    """A cell, or None when it holds nothing (None, NaN, "")."""
    missing = value is None or value == "" or (isinstance(value, float) and math.isnan(value))
    return None if missing else value


def _plain(value: Any) -> Any:
    """A frame cell as JSON: numpy scalars as Python ones, NaN as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
