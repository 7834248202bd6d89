"""The history store on real SQLite files: what a result becomes, many writers, a killed
writer, old and new schema versions, unreadable files, network file systems, pruning."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench
from workbench.errors import WorkbenchError, WorkbenchWarning
from workbench.tracking import store as store_module
from workbench.tracking.store import (
    SCHEMA_VERSION,
    SUMMARY_COLUMNS,
    Store,
    decode_samples,
    default_path,
    on_network_file_system,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def result():
    """A real benchmark of the demo model (two rows), not recorded anywhere."""
    return workbench.benchmark(workbench.demo_model(), ["cpu"], [1, 2], runs=30, warmup=1,
                               progress=False, history=False)  # fmt: skip


def _count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_a_benchmark_is_recorded_in_flat_columns_with_its_samples(tmp_path) -> None:
    path = tmp_path / "h.sqlite"
    result = workbench.benchmark(workbench.demo_model(), ["cpu"], [1, 2], runs=30, warmup=1,
                                 progress=False, history=path, label="v1")  # fmt: skip
    assert result.settings["history_run"]
    with sqlite3.connect(path) as db:
        run = db.execute("SELECT kind, model_name, model_key, label, model_sha256, hostname "
                         "FROM runs").fetchall()  # fmt: skip
        rows = db.execute("SELECT c.config_label, c.provider, c.batch, r.status, r.n, r.p50_ms "
                          "FROM results r JOIN configs c ON c.id = r.config_id "
                          "ORDER BY r.id").fetchall()  # fmt: skip
        types = db.execute("SELECT typeof(c.batch), typeof(r.n), typeof(r.p50_ms) FROM results r "
                           "JOIN configs c ON c.id = r.config_id").fetchone()  # fmt: skip
        machines = db.execute("SELECT hostname, cpu FROM machines").fetchall()
        blob = db.execute("SELECT data FROM samples ORDER BY result_id").fetchone()[0]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert run == [("benchmark", "tinynet", "tinynet", "v1", result.model["sha256"],
                    result.results[0].host["hostname"])]  # fmt: skip
    cpu = "CPUExecutionProvider"
    assert [r[:5] for r in rows] == [("cpu b1 host", cpu, 1, "ok", 30),
                                     ("cpu b2 host", cpu, 2, "ok", 30)]  # fmt: skip
    assert rows[0][5] == pytest.approx(result.results[0].stats.p50_ms)
    assert types == ("integer", "integer", "real")
    host = result.results[0].host
    assert machines == [(host["hostname"], host["cpu"])]  # stored once, referred to by id
    assert list(decode_samples(blob)) == result.results[0].samples_ns


def test_recording_can_be_switched_off_per_call_and_per_process(tmp_path, monkeypatch) -> None:
    path = tmp_path / "h.sqlite"
    monkeypatch.setenv("ONNX_WORKBENCH_HISTORY", str(path))
    first = workbench.benchmark(workbench.demo_model(), ["cpu"], runs=5, warmup=0,
                                progress=False, history=False)  # fmt: skip
    assert "history_run" not in first.settings and not path.exists()
    monkeypatch.setenv("ONNX_WORKBENCH_HISTORY", "off")
    workbench.benchmark(workbench.demo_model(), ["cpu"], runs=5, warmup=0, progress=False)
    assert not path.exists() and default_path() is None
    monkeypatch.delenv("ONNX_WORKBENCH_HISTORY")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / "onnx-workbench" / "history.sqlite"


def _write_many(path: str, writer: int, count: int) -> None:
    """One of many processes appending at once (module level: spawned processes import it)."""
    result = workbench.load_report(os.environ["WORKBENCH_TEST_REPORT"])
    target = Store(path)
    for index in range(count):
        target.append(result, kind="benchmark", label=f"w{writer}-{index}")


def test_ten_processes_writing_at_once_lose_nothing(tmp_path, result, monkeypatch) -> None:
    path = tmp_path / "h.sqlite"
    report = result.report(tmp_path / "r.json")[0]
    monkeypatch.setenv("WORKBENCH_TEST_REPORT", report)
    Store(path)  # created once; the writers race on appends, not on the schema
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_many, args=(str(path), w, 100)) for w in range(10)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)
        assert writer.exitcode == 0
    assert _count(path, "runs") == 1000
    assert _count(path, "results") == 2000 and _count(path, "samples") == 2000
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        labels = {label for (label,) in db.execute("SELECT label FROM runs")}
    assert labels == {f"w{w}-{i}" for w in range(10) for i in range(100)}


def test_a_writer_killed_mid_write_leaves_the_file_consistent(tmp_path, result) -> None:
    path = tmp_path / "h.sqlite"
    report = result.report(tmp_path / "r.json")[0]
    Store(path)
    script = (
        "import sys, workbench\n"
        "from workbench.tracking.store import Store\n"
        "result = workbench.load_report(sys.argv[2]); store = Store(sys.argv[1])\n"
        "print('ready', flush=True)\n"
        "while True: store.append(result, kind='benchmark')\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script, str(path), report],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.wait(timeout=30)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
        orphans = db.execute("SELECT count(*) FROM results WHERE run_id NOT IN "
                             "(SELECT id FROM runs)").fetchone()[0]  # fmt: skip
        partial = db.execute("SELECT count(*) FROM runs WHERE (SELECT count(*) FROM results "
                             "WHERE run_id = runs.id) != 2").fetchone()[0]  # fmt: skip
    assert runs > 0 and orphans == 0 and partial == 0  # every run whole, or not there
    Store(path).append(result, kind="benchmark")  # and it still takes writes


def test_an_older_schema_is_migrated_on_open_in_one_transaction(tmp_path, result, monkeypatch):
    path = tmp_path / "h.sqlite"
    Store(path).append(result, kind="benchmark", label="old")

    def add_note_column(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE runs ADD COLUMN note TEXT DEFAULT 'migrated'")

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(store_module.MIGRATIONS, SCHEMA_VERSION, add_note_column)
    opened = Store(path)
    assert f"from schema {SCHEMA_VERSION} to {SCHEMA_VERSION + 1}" in opened.notes[0]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert db.execute("SELECT label, note FROM runs").fetchall() == [("old", "migrated")]


def test_a_failing_migration_leaves_the_file_as_it_was(tmp_path, result, monkeypatch) -> None:
    path = tmp_path / "h.sqlite"
    Store(path).append(result, kind="benchmark")

    def half_done(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE runs ADD COLUMN note TEXT")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(store_module.MIGRATIONS, SCHEMA_VERSION, half_done)
    with pytest.raises(sqlite3.OperationalError):
        Store(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        columns = [row[1] for row in db.execute("PRAGMA table_info(runs)")]
    assert "note" not in columns


def test_every_stored_schema_version_still_opens(tmp_path) -> None:
    # A file of each released schema version (data/history-vN.sqlite) opens and reads.
    files = sorted(DATA.glob("history-v*.sqlite"))
    assert files, "keep a history file of every schema version in tests/tracking/data"
    for original in files:
        copy = tmp_path / original.name
        copy.write_bytes(original.read_bytes())
        found = workbench.history(store=copy)
        assert len(found) > 0 and set(found.to_frame()["status"]) == {"ok"}


def test_a_schema_1_file_keeps_every_number_through_the_migration(tmp_path) -> None:
    # Schema 2 packs n and p50_ms into `summary` as well: what schema 1 held flat and
    # packed must read back the same, and the file must then take new results.
    path = tmp_path / "h.sqlite"
    path.write_bytes((DATA / "history-v1.sqlite").read_bytes())
    with sqlite3.connect(path) as db:  # and a failed row: no n, no p50 (NULL), as v1 kept it
        db.execute(
            "INSERT INTO results (run_id, config_id, machine_id, model_key, time_s, "
            "status, n, p50_ms, summary) SELECT run_id, config_id, machine_id, "
            "model_key, time_s, 'failed', NULL, NULL, summary FROM results LIMIT 1"
        )
        before = db.execute("SELECT id, n, p50_ms, summary FROM results ORDER BY id").fetchall()
    opened = Store(path)
    assert "from schema 1 to 2" in opened.notes[0]
    frame = workbench.history(store=path).to_frame().sort_values("result_id")
    assert frame["result_id"].tolist() == [row[0] for row in before]
    assert frame["n"].tolist()[:-1] == [row[1] for row in before][:-1]
    assert frame["p50_ms"].tolist()[:-1] == [row[2] for row in before][:-1]
    failed = frame.iloc[-1]
    assert failed["status"] == "failed" and pd.isna(failed["n"]) and pd.isna(failed["p50_ms"])
    with sqlite3.connect(path) as db:
        after = db.execute("SELECT summary FROM results ORDER BY id").fetchall()
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for (_, n, p50, old), (new,) in zip(before, after, strict=True):
        numbers = [np.nan if n is None else n, np.nan if p50 is None else p50]
        assert new == np.array(numbers, dtype="<f8").tobytes() + old
    shown = [c for c in SUMMARY_COLUMNS if c in frame]  # mean and std are kept, not shown
    packed = np.frombuffer(b"".join(row[0] for row in after), "<f8").reshape(len(after), -1)
    columns = [SUMMARY_COLUMNS.index(c) for c in shown]
    assert np.array_equal(frame[shown].to_numpy(dtype=float), packed[:, columns], equal_nan=True)
    assert Store(path).notes == []  # migrated once


def test_a_newer_schema_is_refused_and_left_untouched(tmp_path, result) -> None:
    path = tmp_path / "h.sqlite"
    Store(path).append(result, kind="benchmark")
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    before = path.read_bytes()
    with pytest.raises(WorkbenchError, match="newer onnx-workbench") as caught:
        Store(path)
    assert "pip install -U onnx-workbench" in caught.value.hint
    assert path.read_bytes() == before
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        kept = workbench.benchmark(workbench.demo_model(), ["cpu"], runs=5, warmup=0,
                                   progress=False, history=path)  # fmt: skip
    assert kept.measured and "history_run" not in kept.settings  # the result is intact
    assert any("was not added to the history" in str(w.message) for w in seen)


@pytest.mark.parametrize("content", [b"this is not a database" * 100, "foreign"])
def test_an_unreadable_file_is_set_aside_never_deleted(tmp_path, content, result) -> None:
    path = tmp_path / "h.sqlite"
    if content == "foreign":
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE notes (text TEXT)")
            db.execute("INSERT INTO notes VALUES ('keep me')")
    else:
        path.write_bytes(content)
    original = path.read_bytes()
    with pytest.warns(WorkbenchWarning, match="set aside"):
        opened = Store(path)
    aside = [p for p in tmp_path.iterdir() if ".unreadable-" in p.name and p.suffix != ".txt"]
    assert len(aside) == 1 and aside[0].read_bytes() == original
    note = aside[0].with_name(aside[0].name + ".txt").read_text()
    assert "never deleted" in note and str(path) in note
    assert opened.notes[0].startswith("The history at") and opened.notes[1].startswith("created")
    opened.append(result, kind="benchmark")
    assert _count(path, "runs") == 1


def test_network_file_systems_get_a_rollback_journal(tmp_path, monkeypatch) -> None:
    mounts = ("/dev/sda1 / ext4 rw 0 0\n"
              "server:/export/home /home nfs4 rw,relatime 0 0\n"
              "//nas/share /mnt/my\\040share cifs rw 0 0\n")  # fmt: skip
    assert on_network_file_system(Path("/home/ann/project"), mounts)
    assert on_network_file_system(Path("/mnt/my share/x"), mounts)
    assert not on_network_file_system(Path("/homework"), mounts)
    assert not on_network_file_system(Path("/tmp"), mounts)
    monkeypatch.setattr(store_module, "on_network_file_system", lambda folder: True)
    path = tmp_path / "h.sqlite"
    Store(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_prune_drops_old_runs_then_the_oldest_samples_to_fit(tmp_path, result) -> None:
    path = tmp_path / "h.sqlite"
    target = Store(path)
    target.append(result, kind="benchmark", created="2020-01-01T00:00:00+00:00")
    big = dataclasses.replace(result, results=[
        dataclasses.replace(r, samples_ns=[s + i % 997 for i in range(700) for s in r.samples_ns])
        for r in result.results
    ])  # fmt: skip
    for day in range(1, 31):
        target.append(big, kind="benchmark", created=f"2026-10-{day:02d}T00:00:00+00:00")
    said = target.prune(older_than_days=365)
    assert said.startswith("1 runs older than 365 days removed") and _count(path, "runs") == 30
    assert target.size_bytes() > 1_500_000
    said = target.prune(max_mb=1.0)
    files = {p.name: p.stat().st_size for p in tmp_path.iterdir()}
    assert target.size_bytes() <= 1_000_000 and "raw samples of" in said, (said, files)
    assert _count(path, "results") == 60  # every summary stays
    with sqlite3.connect(path) as db:
        kept = [t for (t,) in db.execute("SELECT r.time_s FROM samples s JOIN results r "
                                         "ON r.id = s.result_id")]  # fmt: skip
        newest = sorted(t for (t,) in db.execute("SELECT time_s FROM results"))[-len(kept) :]
    assert 0 < len(kept) < 60 and sorted(kept) == newest  # the oldest samples went first
