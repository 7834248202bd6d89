"""`workbench.history()`: queries, series, detected changes and what coincides with them,
the plot and reports; `onnx-workbench history` with import, export, merge and prune."""

from __future__ import annotations

import dataclasses
import datetime
import json
import sqlite3
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import workbench
from tests.cli import cli
from workbench.errors import WorkbenchError
from workbench.tracking import transfer
from workbench.tracking.store import Store

matplotlib.use("Agg")
LEVELS = [1.0] * 12 + [1.5] * 5  # a 50% step at the 13th run


@pytest.fixture(scope="module")
def base():
    return workbench.benchmark(workbench.demo_model(), ["cpu"], [1, 2], runs=60, warmup=2,
                               progress=False, history=False)  # fmt: skip


def _scaled(result, factor: float, onnxruntime: str | None = None):
    rows = []
    for row in result.results:
        host = {**row.host, "onnxruntime": onnxruntime} if onnxruntime else row.host
        samples = [int(factor * s) for s in row.samples_ns]
        rows.append(dataclasses.replace(row, host=host, samples_ns=samples).finish())
    return dataclasses.replace(result, results=rows)


@pytest.fixture
def stepped(tmp_path, base) -> Path:
    """A store with 17 daily runs of the demo model; the 13th is 50% slower, with a new
    onnxruntime; and one run of another model."""
    path = tmp_path / "h.sqlite"
    target = Store(path)
    for day, factor in enumerate(LEVELS, start=1):
        version = "onnxruntime 1.21.0" if factor > 1 else "onnxruntime 1.20.1"
        target.append(_scaled(base, factor, version), kind="benchmark", label=f"c{day}",
                      created=f"2026-11-{day:02d}T09:00:00+00:00")  # fmt: skip
    target.append(base, kind="benchmark", model_key="other", label="x",
                  created="2026-11-20T09:00:00+00:00")  # fmt: skip
    return path


def test_a_query_returns_flat_rows_oldest_first(stepped) -> None:
    found = workbench.history("tinynet", store=stepped)
    frame = found.to_frame()
    assert len(frame) == 34 and list(frame["label"][:2]) == ["c1", "c1"]
    assert frame["time"].is_monotonic_increasing
    assert set(frame["config_label"]) == {"cpu b1 host", "cpu b2 host"}
    assert len(workbench.history(store=stepped)) == 36
    assert len(workbench.history("tinynet", label="c3", store=stepped)) == 2
    assert len(workbench.history(store=stepped, since="2026-11-12")) == 14
    assert len(workbench.history(store=stepped, provider="cuda")) == 0
    assert len(workbench.history(workbench.load(workbench.demo_model()), store=stepped)) == 34
    with pytest.raises(WorkbenchError, match="not a date"):
        workbench.history(store=stepped, since="last tuesday")
    samples = found.samples(int(frame["result_id"].iloc[0]))
    assert len(samples) == 60
    frame.loc[0, "p50_ms"], frame["label"] = -1.0, "mine"  # the caller's copy, not the query's
    assert found.to_frame().loc[0, "p50_ms"] > 0 and found.to_frame()["label"].iloc[0] == "c1"


def test_a_failed_row_keeps_its_status_and_unknown_numbers(tmp_path, base) -> None:
    failed = dataclasses.replace(base.results[1], status="failed", samples_ns=[], stats=None)
    path = tmp_path / "h.sqlite"
    Store(path).append(dataclasses.replace(base, results=[base.results[0], failed]),
                       kind="benchmark")  # fmt: skip
    frame = workbench.history(store=path).to_frame()
    assert list(frame["status"]) == ["ok", "failed"]
    assert frame["n"].tolist() == [60, 0] and frame["p50_ms"].isna().tolist() == [False, True]
    assert workbench.history(store=path).changes() == []
    with sqlite3.connect(path) as db:  # a status nobody wrote is unknown, never "ok"
        db.execute("UPDATE results SET status = NULL WHERE status = 'failed'")
    assert workbench.history(store=path).to_frame()["status"].isna().tolist() == [False, True]
    with sqlite3.connect(path) as db:  # numbers packed by another version: not misread
        db.execute("UPDATE results SET summary = substr(summary, 1, 64) WHERE status = 'ok'")
    first = workbench.history(store=path).to_frame().iloc[0]
    assert first["status"] == "unreadable" and pd.isna(first["p50_ms"]) and pd.isna(first["n"])


def test_what_a_query_cannot_answer_it_says(stepped, monkeypatch) -> None:
    found = workbench.history("tinynet", store=stepped)
    result_id = int(found.to_frame()["result_id"].iloc[0])
    with sqlite3.connect(stepped) as db:
        db.execute("DELETE FROM samples WHERE result_id = ?", (result_id,))
    with pytest.raises(WorkbenchError, match=f"No raw samples are stored for result {result_id}"):
        found.samples(result_id)
    with pytest.raises(WorkbenchError, match="has no name to look its history up by"):
        workbench.history(workbench.demo_model().read_bytes(), store=stepped)
    monkeypatch.setenv("ONNX_WORKBENCH_HISTORY", "off")
    with pytest.raises(WorkbenchError, match="switched off") as caught:
        workbench.history("tinynet")
    assert "store=PATH" in caught.value.hint
    pruned = cli("history", "--prune-days", "30", env={"ONNX_WORKBENCH_HISTORY": "off"})
    assert pruned.returncode != 0 and "switched off" in pruned.stderr


def test_a_query_never_creates_a_store(tmp_path) -> None:
    missing = tmp_path / "typo.sqlite"
    with pytest.raises(WorkbenchError, match="There is no history at") as caught:
        workbench.history(store=missing)
    assert "store=PATH" in caught.value.hint and not missing.exists()
    listed = cli("history", "--store", str(missing))
    assert listed.returncode != 0 and "There is no history at" in listed.stderr
    assert not missing.exists()


def test_a_step_is_found_with_what_changed_at_the_same_run(stepped) -> None:
    found = workbench.history("tinynet", store=stepped)
    changes = found.changes()
    assert [(c.config_label, c.label) for c in changes] == [("cpu b1 host", "c13"),
                                                            ("cpu b2 host", "c13")]  # fmt: skip
    step = changes[0]
    assert step.ratio == pytest.approx(1.5, rel=0.02) and step.verdict == "slower"
    assert step.coincides == ("onnxruntime onnxruntime 1.20.1 -> onnxruntime 1.21.0",)
    text = found.text()
    assert "+50% cpu b1 host" in text and "onnxruntime 1.20.1 -> onnxruntime 1.21.0" in text


def test_the_plot_and_the_reports(stepped, tmp_path) -> None:
    found = workbench.history("tinynet", store=stepped)
    ax = found.plot()
    assert len(ax.get_legend().get_texts()) == 2
    assert [t.get_text() for t in ax.texts] == ["+50%", "+50%"]  # each step annotated
    by_label = found.plot(by="label")
    assert [t.get_text() for t in by_label.get_xticklabels()][:2] == ["c1", "c2"]
    written = found.report(tmp_path / "h", formats=("html", "json", "csv", "md"))
    page, data, table, markdown = (Path(p).read_text() for p in written)
    assert "data:image/png;base64," in page and "c13" in page
    assert len(json.loads(data)["results"]) == 34 and json.loads(data)["changes"]
    assert table.count("\n") == 35
    assert "| cpu b1 host | tinynet |" in markdown


def test_the_cli_lists_imports_exports_merges_and_prunes(stepped, tmp_path, base) -> None:
    env = {"ONNX_WORKBENCH_HISTORY": str(stepped)}
    listed = cli("history", "tinynet", "--plot", str(tmp_path / "p.png"), env=env)
    assert listed.returncode == 0, listed.stderr
    assert "+50% cpu b1 host" in listed.stdout and (tmp_path / "p.png").stat().st_size > 1000
    report = base.report(tmp_path / "old.json")[0]
    imported = cli("history", "--import", report, env=env)
    assert imported.returncode == 0 and "imported 1 report" in imported.stdout
    assert len(workbench.history(store=stepped)) == 38
    other = tmp_path / "other.sqlite"
    Store(other).append(base, kind="benchmark", label="from-another-machine")
    merged = cli("history", "--merge", str(other), env=env)
    assert "1 runs added, 0 already here" in merged.stdout
    again = cli("history", "--merge", str(other), env=env)
    assert "0 runs added, 1 already here" in again.stdout
    exported = cli("history", "--export", str(tmp_path / "all.csv"), env=env)
    assert exported.returncode == 0 and (tmp_path / "all.csv").read_text().count("\n") == 41
    pruned = cli("history", "--prune-days", "1", env=env)
    assert "18 runs older than 1 days removed" in pruned.stdout
    with sqlite3.connect(stepped) as db:  # the imported and the merged run are today's
        assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 2


def test_a_size_cap_drops_the_oldest_raw_samples_first(tmp_path, base) -> None:
    rng = np.random.default_rng(0)
    big = dataclasses.replace(base, results=[
        dataclasses.replace(row, samples_ns=rng.integers(10**5, 10**6, 100_000).tolist())
        for row in base.results
    ])  # fmt: skip
    path = tmp_path / "h.sqlite"
    for day in (1, 2, 3):  # about 0.7 MB of compressed samples a run
        Store(path).append(big, kind="benchmark", created=f"2026-11-0{day}T09:00:00+00:00")
    env = {"ONNX_WORKBENCH_HISTORY": str(path)}
    capped = cli("history", "--max-mb", "1.2", env=env)
    assert capped.returncode == 0, capped.stderr
    # 0.34 MB a result: the three oldest go (day 1's two, day 2's first), not more.
    assert "raw samples of 3 results and 0 whole runs removed" in capped.stdout
    assert path.stat().st_size <= 1.2e6
    with sqlite3.connect(path) as db:
        kept = db.execute("SELECT r.time_s FROM samples s JOIN results r ON r.id = s.result_id "
                          "ORDER BY r.time_s").fetchall()  # fmt: skip
        assert db.execute("SELECT count(*) FROM results").fetchone()[0] == 6  # summaries stay
    day_2 = datetime.datetime(2026, 11, 2, 9, tzinfo=datetime.timezone.utc).timestamp()
    assert [time_s for (time_s,) in kept][:2] == [day_2, day_2 + 86400] and len(kept) == 3
    for typo in ("0.5", "0", "nan"):  # GB meant, or no cap: refused, nothing dropped
        refused = cli("history", "--max-mb", typo, env=env)
        assert refused.returncode != 0 and "at least 1 MB" in refused.stderr, typo
    for typo in ("-1", "nan"):
        refused = cli("history", "--prune-days", typo, env=env)
        assert refused.returncode != 0 and "not a number of days" in refused.stderr, typo
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM samples").fetchone()[0] == 3


def test_evaluations_and_load_tests_are_recorded_too(tmp_path, monkeypatch) -> None:
    path = tmp_path / "h.sqlite"
    monkeypatch.setenv("ONNX_WORKBENCH_HISTORY", str(path))  # the inner benchmarks' default
    demo = workbench.demo_model()
    evaluation = workbench.evaluate(demo, ["ort-optimized"], samples=2, time_budget=0.2,
                                    folder=tmp_path / "v")  # fmt: skip
    loaded = workbench.load_test(demo, scenario="server", qps=200, duration=1)
    frame = workbench.history(store=path).to_frame()
    assert list(frame["kind"]) == ["evaluation"] * 2 + ["load-test"]  # one run each, whole
    reports = [r.report(tmp_path / name)[0] for r, name in ((evaluation, "e.json"),
                                                             (loaded, "l.json"))]  # fmt: skip
    assert transfer.import_reports(reports, store=path) == 0  # each names its stored run
    assert "ort-optimized on CPUExecutionProvider" in set(frame["config_label"])
    load = frame[frame["kind"] == "load-test"].iloc[0]
    assert load["scenario"] == "server" and load["target_qps"] == 200 and load["n"] > 0
    samples = workbench.history(store=path, kind="load-test")
    assert len(samples.samples(int(load["result_id"]))) == load["n"]


def test_merge_and_import_never_harm_or_double(tmp_path, base, monkeypatch) -> None:
    path = tmp_path / "h.sqlite"
    recorded = workbench.benchmark(workbench.demo_model(), ["cpu"], runs=20, warmup=1,
                                   progress=False, history=path)  # fmt: skip
    report = recorded.report(tmp_path / "r.json")[0]
    assert transfer.import_reports([report, report], store=path) == 0  # recorded when it ran
    notes = tmp_path / "notes.json"
    notes.write_text('{"mine": true}')
    with pytest.raises(WorkbenchError, match="not a readable SQLite database"):
        transfer.merge(notes, store=path)
    assert notes.read_text() == '{"mine": true}'  # never set aside, never replaced
    with pytest.raises(WorkbenchError, match="no history at"):
        transfer.merge(tmp_path / "typo.sqlite", store=path)
    assert not (tmp_path / "typo.sqlite").exists()
    monkeypatch.chdir(tmp_path)  # a relative path, opened twice
    for _ in range(2):
        Store("relative.sqlite").append(base, kind="benchmark")
    assert len(workbench.history(store="relative.sqlite")) == 4
