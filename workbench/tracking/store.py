"""The results store: every benchmark, evaluation and load test, appended to a SQLite file.

Where: `history=` of a call (a path), else `$ONNX_WORKBENCH_HISTORY` (a path, or `off` for
none in this process), else `$XDG_DATA_HOME/onnx-workbench/history.sqlite` (user data, not
a cache that cleaners empty). Tables: `runs` (one per call: model, label, machine,
versions), `configs` and `machines` (each stored once, in flat columns), `results` (one per
configuration: its status, n and p50 flat for SQL, every number packed in `summary`;
indexed by model key and time) and `samples` (raw samples, zlib-compressed, read only when
asked).

Several kernels and CLI processes may write at once: each append is one `BEGIN IMMEDIATE`
transaction, waiting up to `BUSY_TIMEOUT_S` for the others. WAL journaling where the file
system supports it; a rollback journal on network file systems (JupyterHub homes on NFS),
where WAL's shared memory is unsafe. The schema is versioned (`PRAGMA user_version`):
an older file is migrated on open (every step in one transaction), a newer one refused. A
file that is not a store (corrupt, or another program's) is renamed aside with a note,
never deleted.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import sqlite3
import uuid
import warnings
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from workbench.errors import WorkbenchError, WorkbenchWarning

ENV = "ONNX_WORKBENCH_HISTORY"  # a path, or OFF to record nothing in this process
OFF = "off"
APPLICATION_ID = 0x4F4E5857  # "ONXW": marks the file as ours (PRAGMA application_id)
SCHEMA_VERSION = 2
BUSY_TIMEOUT_S = 30.0
MIN_MAX_MB = 1.0  # a smaller cap is a typo or GB meant, and would empty most stores
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26  # SQLite's result codes for a damaged file
NETWORK_FILE_SYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "lustre", "gpfs", "ceph",
    "fuse.glusterfs", "afs", "fuse.s3fs", "fuse.gcsfuse", "beegfs",
})  # fmt: skip

RUN_COLUMNS = (
    "uid", "kind", "time", "time_s", "model_name", "model_key", "model_sha256", "model_path",
    "model_version", "label", "git_commit", "workbench_version", "onnxruntime",
    "onnxruntime_build", "hostname", "cpu", "gpus", "driver", "environment", "settings",
)  # fmt: skip
# A configuration and a machine are stored once and referred to by id: a query of 100,000
# results reads numbers, not 100,000 copies of the same strings.
CONFIG_COLUMNS = (
    "config", "config_label", "provider", "batch", "dims", "shapes", "threads", "opt_level",
    "mode", "machine", "variant", "scenario", "target_qps",
)  # fmt: skip
MACHINE_COLUMNS = ("hostname", "cpu", "gpus", "driver", "onnxruntime")
# Flat, for SQL to filter and sort on (the gate's noise query, your own queries).
STAT_COLUMNS = ("status", "n", "p50_ms")
# Every number of a result, packed into one blob (`summary`; n and p50_ms also flat above):
# Python's sqlite3 makes an object per value read, about 0.13 us each, so a query reads
# this blob and not ten columns (100,000 results: six values a row, not fifteen).
SUMMARY_COLUMNS = (
    "n", "p50_ms", "ci_low_ms", "ci_high_ms", "p90_ms", "p99_ms", "mean_ms", "std_ms",
    "throughput_per_s", "peak_qps",
)  # fmt: skip

_TYPES = {"batch": "INTEGER", "threads": "INTEGER", "n": "INTEGER"}


def _typed(columns: Sequence[str]) -> str:
    return ", ".join(
        f"{c} {_TYPES.get(c) or ('REAL' if c.endswith(('_ms', '_qps', '_s')) else 'TEXT')}"
        for c in columns
    )


_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,  -- so merging two stores never counts a run twice
    kind TEXT NOT NULL, time TEXT NOT NULL, time_s REAL NOT NULL,
    model_name TEXT, model_key TEXT NOT NULL, model_sha256 TEXT, model_path TEXT,
    model_version TEXT, label TEXT, git_commit TEXT, workbench_version TEXT,
    onnxruntime TEXT, onnxruntime_build TEXT, hostname TEXT, cpu TEXT, gpus TEXT,
    driver TEXT, environment TEXT, settings TEXT
);
CREATE TABLE configs (
    id INTEGER PRIMARY KEY,
    {_typed(CONFIG_COLUMNS)},
    UNIQUE (config)  -- the whole configuration as text: what matches across runs
);
CREATE TABLE machines (
    id INTEGER PRIMARY KEY,
    {_typed(MACHINE_COLUMNS)},  -- '' for unknown, so UNIQUE holds
    UNIQUE ({", ".join(MACHINE_COLUMNS)})
);
CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    config_id INTEGER NOT NULL REFERENCES configs(id),
    machine_id INTEGER NOT NULL REFERENCES machines(id),
    model_key TEXT NOT NULL, time_s REAL NOT NULL,  -- the run's, so one index serves queries
    {_typed(STAT_COLUMNS)},
    summary BLOB NOT NULL  -- SUMMARY_COLUMNS as little-endian float64, NaN for none
);
CREATE INDEX results_by_model ON results (model_key, time_s);
CREATE INDEX results_by_run ON results (run_id);
CREATE INDEX runs_by_time ON runs (time_s);
CREATE TABLE samples (
    result_id INTEGER PRIMARY KEY REFERENCES results(id) ON DELETE CASCADE,
    count INTEGER NOT NULL,
    data BLOB NOT NULL  -- zlib of little-endian int64 nanoseconds
);
"""  # fmt: skip


def _summary_packs_n_and_p50(db: sqlite3.Connection) -> None:
    """Schema 1 to 2: `summary` gains n and p50_ms in front (they were only flat)."""
    rows = db.execute("SELECT id, n, p50_ms, summary FROM results").fetchall()
    db.executemany("UPDATE results SET summary = ? WHERE id = ?", [
        (np.array([np.nan if n is None else n, np.nan if p50 is None else p50],
                  dtype="<f8").tobytes() + old, result_id)
        for result_id, n, p50, old in rows
    ])  # fmt: skip


# MIGRATIONS[v] takes a file from version v to v + 1 (inside the caller's transaction).
# Whoever changes the schema bumps SCHEMA_VERSION, adds the step here and a file of the new
# version under tests/tracking/data (tests open every one).
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _summary_packs_n_and_p50}


class Recordable(Protocol):
    """A result the store keeps and the gate compares: a benchmark, evaluation or load test."""

    model: dict[str, Any]
    environment: dict[str, Any]
    settings: dict[str, Any]  # what the run was asked to do; `record` notes its run id here

    def history_rows(self) -> list[dict[str, Any]]:
        """One dict per configuration, with `samples_ns` (a sequence) and these keys.

        CONFIG_COLUMNS, MACHINE_COLUMNS, status and SUMMARY_COLUMNS.
        """
        ...


@dataclass(frozen=True)
class Recorded:
    """Where a result went: the store's file and the run's id there (or why it did not)."""

    path: Path
    run_uid: str  # "" when it was not recorded
    error: str = ""


def default_path() -> Path | None:
    """The store this process writes to: $ONNX_WORKBENCH_HISTORY, or the user's; None if off."""
    chosen = os.environ.get(ENV, "").strip()
    if chosen.lower() == OFF:
        return None
    if chosen:
        return Path(chosen).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "onnx-workbench" / "history.sqlite"


def resolve(where: bool | str | os.PathLike[str] | None) -> Path | None:
    """`history=` of a call as a path: True/None the default, False none, else that path."""
    if where is False:
        return None
    if where is None or where is True:
        return default_path()
    return Path(where).expanduser()


def named(store: str | os.PathLike[str] | None) -> Path:
    """The store a query or a maintenance task reads: `store`, else the default one."""
    path = resolve(store)
    if path is None:
        raise WorkbenchError(
            f"The history is switched off in this process ({ENV}={OFF}).",
            "Name a store (store=PATH, --store PATH), or unset ONNX_WORKBENCH_HISTORY.",
        )
    return path


class Store:
    """One history file, opened (created, migrated or set aside as needed) and checked."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser().resolve()
        self.notes: list[str] = []  # what opening did: created, migrated, set a file aside
        self._ready()

    @contextmanager
    def connect(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection; with `write`, inside one IMMEDIATE transaction (committed at exit)."""
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            connection.execute("PRAGMA foreign_keys = ON")
            if write:
                connection.execute("BEGIN IMMEDIATE")
            yield connection
            if write:
                connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()

    def append(
        self,
        result: Recordable,
        *,
        kind: str,
        label: str | None = None,
        model_key: str | None = None,
        created: str | None = None,
        settings: Mapping[str, Any] | None = None,
        uid: str | None = None,
    ) -> Recorded:
        """Append `result` as one run; returns where it went.

        `uid` names the run (a report's `settings["history_run"]`); a run already stored
        under it is not added twice (`run_uid` is then "" and `error` says so).
        """
        rows = result.history_rows()
        run = run_row(result, kind=kind, label=label, model_key=model_key, created=created,
                      settings=settings)  # fmt: skip
        run["uid"] = uid or run["uid"]
        run["hostname"] = next((r["hostname"] for r in rows if r.get("hostname")), None)
        with self.connect(write=True) as db:
            cursor = db.execute(
                f"INSERT OR IGNORE INTO runs ({', '.join(RUN_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(RUN_COLUMNS))})",
                [run[c] for c in RUN_COLUMNS],
            )
            if not cursor.rowcount:
                return Recorded(self.path, "", f"run {run['uid']} is already in the history")
            _insert_results(db, cursor.lastrowid, run, rows)
        return Recorded(self.path, run["uid"])

    def size_bytes(self) -> int:
        """The file's size with its journal (WAL) beside it.

        Not the -shm file: WAL's shared-memory index, 32 KB while a connection is open.
        """
        files = [p for p in _with_journals(self.path) if not p.name.endswith("-shm")]
        return sum(p.stat().st_size for p in files if p.exists())

    def prune(self, *, older_than_days: float | None = None, max_mb: float | None = None) -> str:
        """Drop old runs, then shrink under `max_mb`; says what it did, in words.

        Runs older than `older_than_days` go first; then, while over `max_mb`, the oldest
        raw samples (their summaries stay), then the oldest runs.
        """
        if older_than_days is not None and not 0 <= older_than_days < math.inf:  # NaN too
            raise WorkbenchError(f"--prune-days {older_than_days:g} is not a number of days; "
                                 "nothing was removed.", "E.g. --prune-days 90.")  # fmt: skip
        if max_mb is not None and not max_mb >= MIN_MAX_MB:  # NaN too
            raise WorkbenchError(
                f"--max-mb {max_mb:g} is under the {MIN_MAX_MB:g} MB this store can be capped "
                "at (a typo, or GB meant?); nothing was removed.",
                f"Give at least {MIN_MAX_MB:g} MB, e.g. --max-mb 500.",
            )
        done = []
        with self.connect(write=True) as db:
            if older_than_days is not None:
                cutoff = _now_s() - older_than_days * 86400
                gone = db.execute("DELETE FROM runs WHERE time_s < ?", (cutoff,)).rowcount
                db.execute("DELETE FROM samples WHERE result_id NOT IN (SELECT id FROM results)")
                done.append(f"{gone} runs older than {older_than_days:g} days removed")
        if max_mb is not None:
            done.append(self._shrink(max_mb * 1e6))
        with self.connect() as db:
            db.execute("VACUUM")  # give the space back to the file system...
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # ...and the WAL's too
        return "; ".join(done) or "nothing to prune"

    def _shrink(self, limit: float) -> str:
        """Oldest samples first, then oldest runs, until the file is under `limit` bytes."""
        dropped_samples = dropped_runs = 0
        with self.connect() as db:
            page = db.execute("PRAGMA page_size").fetchone()[0]
            while True:
                used = db.execute("PRAGMA page_count").fetchone()[0] - db.execute(
                    "PRAGMA freelist_count").fetchone()[0]  # fmt: skip
                if used * page <= limit:
                    break
                oldest = db.execute(
                    "SELECT s.result_id, length(s.data) FROM samples s JOIN results r "
                    "ON r.id = s.result_id ORDER BY r.time_s, r.id LIMIT 1000"
                ).fetchall()
                if oldest:  # the oldest whose bytes cover the excess, then measure again
                    sizes = np.cumsum([size for _, size in oldest])
                    count = min(int(np.searchsorted(sizes, used * page - limit)) + 1, len(oldest))
                    db.execute("BEGIN IMMEDIATE")  # one commit (one sync) for the batch
                    db.executemany("DELETE FROM samples WHERE result_id = ?",
                                   [(result_id,) for result_id, _ in oldest[:count]])  # fmt: skip
                    db.execute("COMMIT")
                    dropped_samples += count
                    continue
                run = db.execute("SELECT id FROM runs ORDER BY time_s LIMIT 1").fetchone()
                if run is None:
                    break
                db.execute("DELETE FROM runs WHERE id = ?", run)
                dropped_runs += 1
        return (f"to stay under {limit / 1e6:g} MB: raw samples of {dropped_samples} results "
                f"and {dropped_runs} whole runs removed (oldest first)")  # fmt: skip

    def _ready(self) -> None:
        """Create, migrate or check the file; set an unreadable one aside (see the module)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        problem = self._problem()
        if problem:
            self._set_aside(problem)
        self._journal_mode()
        with self.connect(write=True) as db:  # serialized: two processes never both create
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if version == 0 and tables == 0:
                # One statement at a time: executescript() would commit the transaction first.
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                db.execute("INSERT INTO meta VALUES ('created', ?)", (_now_iso(),))
                self.notes.append(f"created {self.path}")
            elif version > SCHEMA_VERSION:
                raise WorkbenchError(
                    f"{self.path} was written by a newer onnx-workbench (history schema "
                    f"{version}; this one reads up to {SCHEMA_VERSION}); it is left as it is.",
                    "Upgrade onnx-workbench (pip install -U onnx-workbench), or record to "
                    f"another file ({ENV}=PATH, or history=PATH).",
                )
            elif version < SCHEMA_VERSION:
                for step in range(version, SCHEMA_VERSION):
                    MIGRATIONS[step](db)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self.notes.append(f"migrated {self.path} from schema {version} to {SCHEMA_VERSION}")

    def _problem(self) -> str:
        """Why the file at `path` cannot be a store ("" when it can, or does not exist)."""
        return problem(self.path)

    def _set_aside(self, problem: str) -> None:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.unreadable-{stamp}")
        try:
            self.path.rename(aside)
        except FileNotFoundError:
            return  # another process set it aside first
        for journal in _with_journals(self.path)[1:]:
            if journal.exists():
                journal.rename(aside.with_name(aside.name + journal.name[len(self.path.name) :]))
        note = aside.with_name(aside.name + ".txt")
        note.write_text(
            f"onnx-workbench could not use {self.path} as its history: {problem}.\n"
            f"It was renamed to {aside.name} on {stamp} (never deleted) and a new history was "
            "started in its place. Open it with the sqlite3 tool to recover what you need.\n",
            encoding="utf-8",
        )
        message = f"The history at {self.path} was set aside as {aside.name}: {problem}."
        self.notes.append(message)
        warnings.warn(message + f" A new one was started; see {note.name}.", WorkbenchWarning,
                      stacklevel=4)  # fmt: skip

    def _journal_mode(self) -> None:
        """WAL on a local file system; the rollback journal (DELETE) on a network one."""
        wanted = "delete" if on_network_file_system(self.path.parent) else "wal"
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            current = connection.execute("PRAGMA journal_mode").fetchone()[0]
            if current != wanted:
                connection.execute(f"PRAGMA journal_mode = {wanted}")
        except sqlite3.OperationalError:
            pass  # another process holds it: it will set the same mode
        finally:
            connection.close()


def problem(path: Path) -> str:
    """Why the file at `path` cannot be a store: "" when it can (or is absent, or new).

    Only a file SQLite calls not a database or corrupt, or another program's database, is a
    problem: a locked or busy store is not (the caller waits, or reports it).
    """
    if not path.exists() or path.stat().st_size == 0:
        return ""
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True,
                                     timeout=BUSY_TIMEOUT_S)  # fmt: skip
        try:
            owner = connection.execute("PRAGMA application_id").fetchone()[0]
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        if getattr(error, "sqlite_errorcode", None) in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            return f"it is not a readable SQLite database ({error})"
        raise  # locked, busy, unreadable: not the file's fault
    # (No integrity check on every open: it reads the whole file. Damage deeper in it
    # shows as an error when a write touches it, which `record` reports.)
    if owner == 0 and version == 0 and tables == 0:
        return ""  # being created by another process this moment: its journal mode is set
    if owner != APPLICATION_ID:
        return "it is another program's SQLite database (its application_id is not ours)"
    return ""


def record(
    result: Recordable,
    where: bool | str | os.PathLike[str] | None,
    *,
    kind: str,
    label: str | None = None,
    model_key: str | None = None,
) -> Recorded | None:
    """Append `result` to the history `where` says (see `resolve`); None when it is off.

    The run's id goes into `result.settings["history_run"]`, so its report names the run
    (importing the report adds nothing), or why it is not there into "history_error". A
    store that cannot take it (locked past the timeout, a full disk, a newer schema) is a
    warning, never an error: the result in memory is what matters, and it is intact.
    """
    path = resolve(where)
    if path is None:
        return None
    try:
        recorded = Store(path).append(result, kind=kind, label=label, model_key=model_key,
                                      settings=result.settings)  # fmt: skip
    except (WorkbenchError, sqlite3.Error, OSError, ValueError) as error:
        text = error.message if isinstance(error, WorkbenchError) else str(error)
        message = (f"This result was not added to the history at {path}: {text} The result "
                   f"itself is complete; write it as a report, or set {ENV}=off to stop "
                   "recording.")  # fmt: skip
        warnings.warn(message, WorkbenchWarning, stacklevel=3)
        recorded = Recorded(path, "", message)
    if recorded.run_uid:
        result.settings["history_run"] = recorded.run_uid
    else:
        result.settings["history_error"] = recorded.error
    return recorded


def on_network_file_system(folder: Path, mounts: str | None = None) -> bool:
    """True when `folder` is on NFS, SMB, sshfs, Lustre... (`mounts`: /proc/mounts' text)."""
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text(encoding="utf-8")
        except OSError:
            return False  # not Linux: no way to tell cheaply; WAL is the default
    target = str(folder.resolve())
    best, kind = "", ""
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, parts[2]
    return kind in NETWORK_FILE_SYSTEMS


def run_row(
    result: Recordable,
    *,
    kind: str,
    label: str | None,
    model_key: str | None,
    created: str | None,
    settings: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The `runs` row of `result`: what was measured, where, with what, when."""
    model, environment = result.model, result.environment
    ort = environment.get("onnxruntime") or {}
    gpus = environment.get("gpus") or []
    when = _parse_time(created) if created else datetime.datetime.now(datetime.timezone.utc)
    name = str(model.get("name") or Path(str(model.get("path") or "model")).stem)
    return {
        "uid": uuid.uuid4().hex,
        "kind": kind,
        "time": when.isoformat(timespec="seconds"),
        "time_s": when.timestamp(),
        "model_name": name,
        "model_key": model_key or name,
        "model_sha256": model.get("sha256"),
        "model_path": str(model.get("path") or ""),
        "model_version": str(model.get("model_version") or ""),
        "label": label,
        "git_commit": git_commit(),
        "workbench_version": environment.get("onnx_workbench"),
        "onnxruntime": f"{ort.get('package', '')} {ort.get('version', '')}".strip(),
        "onnxruntime_build": ort.get("build"),
        "hostname": None,  # the rows' (each names its machine)
        "cpu": environment.get("cpu"),
        "gpus": ", ".join(str(g.get("name", "")) for g in gpus) or None,
        "driver": gpus[0].get("driver_version") if gpus else None,
        "environment": json.dumps(environment, default=str),
        "settings": json.dumps(dict(settings or {}), default=str),
    }


def git_commit() -> str | None:
    """The commit CI names (GITHUB_SHA, CI_COMMIT_SHA), or None."""
    for name in ("GITHUB_SHA", "CI_COMMIT_SHA", "BUILD_SOURCEVERSION", "GIT_COMMIT"):
        if os.environ.get(name):
            return os.environ[name]
    return None


def pack_summary(row: Mapping[str, Any]) -> bytes:
    """A row's SUMMARY_COLUMNS as the `summary` column keeps them."""
    values = [row.get(c) for c in SUMMARY_COLUMNS]
    return np.array([np.nan if v is None else float(v) for v in values], dtype="<f8").tobytes()


def unpack_summaries(blobs: Sequence[bytes] | np.ndarray) -> np.ndarray:
    """`summary` blobs as a (rows, SUMMARY_COLUMNS) array: one join, one view.

    `blobs`: bytes objects, or an array of fixed-size voids (as a query reads them).
    """
    joined = blobs.tobytes() if isinstance(blobs, np.ndarray) else b"".join(blobs)
    packed = np.frombuffer(joined, dtype="<f8")
    return packed.reshape(len(blobs), len(SUMMARY_COLUMNS))


def encode_samples(samples_ns: Sequence[int] | np.ndarray) -> bytes:
    """Raw samples as the `samples` table keeps them."""
    return zlib.compress(np.asarray(samples_ns, dtype="<i8").tobytes(), 6)


def decode_samples(data: bytes) -> np.ndarray:
    """Inverse of `encode_samples`."""
    return np.frombuffer(zlib.decompress(data), dtype="<i8")


def _insert_results(
    db: sqlite3.Connection, run_id: int | None, run: Mapping[str, Any], rows: list[dict[str, Any]]
) -> None:
    columns = ("run_id", "config_id", "machine_id", "model_key", "time_s", *STAT_COLUMNS,
               "summary")  # fmt: skip
    insert = (f"INSERT INTO results ({', '.join(columns)}) "
              f"VALUES ({', '.join('?' * len(columns))})")  # fmt: skip
    for row in rows:
        config = _row_id(db, "configs", CONFIG_COLUMNS, [row.get(c) for c in CONFIG_COLUMNS],
                         key=("config",))  # fmt: skip
        known = [row.get(c) or "" for c in MACHINE_COLUMNS]
        machine = _row_id(db, "machines", MACHINE_COLUMNS, known, key=MACHINE_COLUMNS)
        values = [run_id, config, machine, run["model_key"], run["time_s"],
                  *(row.get(c) for c in STAT_COLUMNS), pack_summary(row)]  # fmt: skip
        cursor = db.execute(insert, values)
        samples = row.get("samples_ns")
        if samples is not None and len(samples):
            db.execute("INSERT INTO samples VALUES (?, ?, ?)",
                       (cursor.lastrowid, len(samples), encode_samples(samples)))  # fmt: skip


def _row_id(
    db: sqlite3.Connection,
    table: str,
    columns: Sequence[str],
    values: Sequence[Any],
    *,
    key: Sequence[str],
) -> int:
    """The id of the `table` row holding `values` (unique by `key`), added if new."""
    db.execute(
        f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})", list(values),
    )  # fmt: skip
    wanted = dict(zip(columns, values, strict=True))
    found = db.execute(
        f"SELECT id FROM {table} WHERE {' AND '.join(f'{k} = ?' for k in key)}",
        [wanted[k] for k in key],
    ).fetchone()  # fmt: skip
    return int(found[0])


def _with_journals(path: Path) -> list[Path]:
    return [path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))]


def _parse_time(text: str) -> datetime.datetime:
    when = datetime.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)


def _now_s() -> float:
    return datetime.datetime.now(datetime.timezone.utc).timestamp()


def _now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
