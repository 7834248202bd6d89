"""Reports of every schema version read back: a stored report for each version, written by the
onnx-workbench release that introduced it (see SCHEMA_VERSION in bench/results.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import workbench
from workbench.bench.results import SCHEMA_VERSION

DATA = Path(__file__).parent / "data"


def test_a_stored_report_exists_for_every_schema_version() -> None:
    stored = sorted(int(p.stem.split("-v")[1]) for p in DATA.glob("report-v*.json"))
    assert stored == list(range(1, SCHEMA_VERSION + 1))


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION + 1))
def test_every_earlier_version_reads_back_whole(version: int) -> None:
    path = DATA / f"report-v{version}.json"
    data = json.loads(path.read_text())
    result = workbench.load_report(path)
    assert len(result.results) == len(data["results"])
    for entry, row in zip(data["results"], result.results, strict=True):
        assert row.config.label == entry["label"] and row.status == entry["status"]
        assert row.samples_ns == entry["samples_ns"]
        if entry["status"] == "ok":  # statistics are recomputed from the raw samples
            assert row.stats is not None and row.stats.p50_ms == pytest.approx(entry["p50_ms"])
    assert result.model["sha256"] == data["model"]["sha256"]
    assert (result.profile is None) == (data["profile"] is None)


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION + 1))
def test_an_earlier_version_written_again_is_current(version: int, tmp_path) -> None:
    result = workbench.load_report(DATA / f"report-v{version}.json")
    (path,) = result.report(tmp_path / "again.json")
    again = workbench.load_report(path)
    assert json.loads(Path(path).read_text())["schema_version"] == SCHEMA_VERSION
    assert [r.samples_ns for r in again.results] == [r.samples_ns for r in result.results]


def test_a_newer_version_is_refused_with_the_fix(tmp_path) -> None:
    data = json.loads((DATA / f"report-v{SCHEMA_VERSION}.json").read_text())
    data["schema_version"] = SCHEMA_VERSION + 1
    path = tmp_path / "future.json"
    path.write_text(json.dumps(data))
    with pytest.raises(workbench.WorkbenchError, match="Upgrade onnx-workbench"):
        workbench.load_report(path)
