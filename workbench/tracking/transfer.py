"""Moving results in and out of the history: import reports, export, merge two stores."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.report.load import load_report
from workbench.tracking.query import history
from workbench.tracking.store import (
    CONFIG_COLUMNS,
    MACHINE_COLUMNS,
    RUN_COLUMNS,
    SCHEMA_VERSION,
    STAT_COLUMNS,
    Store,
    named,
    problem,
)

KINDS = {"BenchmarkResult": "benchmark", "Evaluation": "evaluation", "LoadResult": "load-test"}


def import_reports(
    paths: Sequence[str | os.PathLike[str]],
    *,
    store: str | os.PathLike[str] | None = None,
    label: str | None = None,
    model_key: str | None = None,
) -> int:
    """Add JSON or HTML reports (benchmarks, evaluations, load tests) to the history.

    Each keeps its own time (`created`); a report of a run already in the history (every
    result is recorded when it runs) is not added twice. Returns how many were added.
    """
    target = _target(store)
    added = 0
    for path in paths:
        result = load_report(path)
        kind = KINDS[type(result).__name__]
        created = getattr(result, "created", None) or None
        settings = getattr(result, "settings", None) or {}
        # A result recorded when it ran names its run: importing its report adds nothing.
        done = target.append(result, kind=kind, label=label, model_key=model_key,
                             created=created, settings=settings,
                             uid=settings.get("history_run"))  # fmt: skip
        added += bool(done.run_uid)
    return added


def export(path: str | os.PathLike[str], *, store: str | os.PathLike[str] | None = None) -> str:
    """Write every stored result (no raw samples) as .json or .csv; returns the path."""
    destination = Path(path)
    if destination.suffix not in (".json", ".csv"):
        raise WorkbenchError(f"Cannot export the history as {destination.suffix or 'that'}.",
                             "Name a .json or a .csv file.")  # fmt: skip
    found = history(store=_target(store).path)
    return found.report(destination)[0]


def merge(
    other: str | os.PathLike[str], *, store: str | os.PathLike[str] | None = None
) -> tuple[int, int]:
    """Copy the runs of the store `other` that this one lacks (by run id), samples included.

    Returns (runs added, runs already there). A team collects machines' stores this way.
    """
    source = Path(other).expanduser().resolve()
    if not source.is_file():
        raise WorkbenchError(f"There is no history at {source} to merge.",
                             "Name another machine's history.sqlite.")  # fmt: skip
    wrong = problem(source)  # read only: another's file is never set aside, nor migrated
    if not wrong:
        with sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True) as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            wrong = (f"it has history schema {version}, this onnx-workbench {SCHEMA_VERSION} "
                     "(open it once with this version, which migrates it)")  # fmt: skip
    if wrong:
        raise WorkbenchError(f"Cannot merge {source}: {wrong}.",
                             "Name an onnx-workbench history file.")  # fmt: skip
    target = _target(store)
    if source == Path(target.path).resolve():
        raise WorkbenchError("A store cannot be merged into itself.", "Name another file.")
    added = kept = 0
    with target.connect() as db:
        db.execute("ATTACH DATABASE ? AS other", (str(source),))
        try:
            db.execute("BEGIN IMMEDIATE")  # all of it or nothing
            have = {uid for (uid,) in db.execute("SELECT uid FROM main.runs")}
            runs = db.execute(f"SELECT id, {', '.join(RUN_COLUMNS)} FROM other.runs").fetchall()
            for run in runs:
                if run[1] in have:
                    kept += 1
                else:
                    _copy_run(db, run)
                    added += 1
            db.execute("COMMIT")
        except sqlite3.DatabaseError as error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise WorkbenchError(
                f"Could not merge {other}: {error}.", "Check that it is an onnx-workbench history."
            ) from None
        finally:
            db.execute("DETACH DATABASE other")
    return added, kept


def _copy_run(db: sqlite3.Connection, run: tuple[object, ...]) -> None:
    """One run of the attached store, its results and samples, into the main one.

    Configurations and machines are matched by content (their ids differ between stores).
    """
    cursor = db.execute(
        f"INSERT INTO main.runs ({', '.join(RUN_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(RUN_COLUMNS))})", run[1:],
    )  # fmt: skip
    for table, columns in (("configs", CONFIG_COLUMNS), ("machines", MACHINE_COLUMNS)):
        names = ", ".join(columns)
        db.execute(
            f"INSERT OR IGNORE INTO main.{table} ({names}) SELECT {names} FROM other.{table} "
            f"WHERE id IN (SELECT {table[:-1]}_id FROM other.results WHERE run_id = ?)", (run[0],),
        )  # fmt: skip
    same_machine = " AND ".join(f"m.{c} = om.{c}" for c in MACHINE_COLUMNS)
    stats = ", ".join(f"r.{c}" for c in (*STAT_COLUMNS, "summary"))
    results = db.execute(
        f"SELECT r.id, (SELECT id FROM main.configs c WHERE c.config = oc.config), "
        f"(SELECT id FROM main.machines m WHERE {same_machine}), r.model_key, r.time_s, {stats} "
        f"FROM other.results r JOIN other.configs oc ON oc.id = r.config_id "
        f"JOIN other.machines om ON om.id = r.machine_id WHERE r.run_id = ?", (run[0],),
    ).fetchall()  # fmt: skip
    fields = ("run_id", "config_id", "machine_id", "model_key", "time_s", *STAT_COLUMNS,
              "summary")  # fmt: skip
    for result in results:
        inserted = db.execute(
            f"INSERT INTO main.results ({', '.join(fields)}) "
            f"VALUES ({', '.join('?' * len(fields))})", (cursor.lastrowid, *result[1:]),
        )  # fmt: skip
        db.execute(
            "INSERT INTO main.samples SELECT ?, count, data FROM other.samples "
            "WHERE result_id = ?", (inserted.lastrowid, result[0]),
        )  # fmt: skip


def _target(store: str | os.PathLike[str] | None) -> Store:
    return Store(named(store))
