"""Resume: a sweep's finished rows kept as JSON lines; only the missing ones run again."""

from __future__ import annotations

import json
import threading

import pytest

import workbench
from tests import models
from tests.cli import cli
from workbench.errors import WorkbenchError

DEMO = workbench.demo_model()
FAST = {"runs": 20, "warmup": 1, "progress": False}


def _stopped_sweep(path):
    """A sweep of four batch sizes stopped while the second is measured."""
    stop = threading.Event()

    def second_started(result, current) -> None:
        if len(result.results) >= 2 and current.samples_ns:
            stop.set()

    return workbench.benchmark(DEMO, ["cpu"], [1, 2, 4, 8], runs=2000, warmup=1,
                               progress=False, cancel=stop, on_update=second_started,
                               checkpoint=path)  # fmt: skip


def test_resume_runs_only_what_the_checkpoint_lacks(tmp_path) -> None:
    path = tmp_path / "sweep.jsonl"
    first = _stopped_sweep(path)
    assert [r.status for r in first.results] == ["ok", "partial", "skipped", "skipped"]
    measured = []
    again = workbench.benchmark(DEMO, ["cpu"], [1, 2, 4, 8], resume=True, checkpoint=path,
                                on_update=lambda r, c: measured.append(c.config.batch),
                                **FAST)  # fmt: skip
    assert [r.status for r in again.results] == ["ok"] * 4
    assert set(measured) == {2, 4, 8}  # the partial row is measured again, the ok one kept
    assert again.results[0].samples_ns == first.results[0].samples_ns
    assert again.settings["resumed"] == 1
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 4 and json.loads(lines[0])["model_sha256"] == again.model["sha256"]
    done = workbench.benchmark(DEMO, ["cpu"], [1, 2, 4, 8], resume=True, checkpoint=path, **FAST)
    assert done.settings["resumed"] == 4  # nothing left to run


def test_resume_is_refused_when_the_model_or_the_machine_changed(tmp_path) -> None:
    path = tmp_path / "sweep.jsonl"
    workbench.benchmark(DEMO, ["cpu"], [1], checkpoint=path, **FAST)
    with pytest.raises(WorkbenchError, match="another model file") as caught:
        workbench.benchmark(models.build("small_cnn"), ["cpu"], [1], resume=True,
                            checkpoint=path, **FAST)  # fmt: skip
    assert "without resume=True" in caught.value.hint
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    header["machine"]["cpu"] = "another CPU"
    path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    with pytest.raises(WorkbenchError, match=r"the machine changed since the checkpoint \(cpu\)"):
        workbench.benchmark(DEMO, ["cpu"], [1], resume=True, checkpoint=path, **FAST)
    path.write_text("not json\n")
    with pytest.raises(WorkbenchError, match="cannot be read"):
        workbench.benchmark(DEMO, ["cpu"], [1], resume=True, checkpoint=path, **FAST)


def test_the_cli_keeps_the_checkpoint_beside_the_report(tmp_path) -> None:
    report = tmp_path / "bench.json"
    done = cli("bench", str(DEMO), "--batch", "1,2", "--runs", "20", "--report", str(report))
    assert done.returncode == 0, done.stderr
    checkpoint = tmp_path / "bench.checkpoint.jsonl"
    assert len(checkpoint.read_text().splitlines()) == 3
    again = cli("bench", str(DEMO), "--batch", "1,2", "--runs", "20", "--report", str(report),
                "--resume", "--json")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["settings"]["resumed"] == 2


def test_rows_name_the_machine_they_ran_on(tmp_path, monkeypatch) -> None:
    result = workbench.benchmark(DEMO, ["cpu"], [1], executor="worker", **FAST)
    frame = result.to_frame()
    assert frame.loc[0, "host"] and result.results[0].host["cpu"]
    monkeypatch.setenv("ONNX_WORKBENCH_HOSTNAMES", "hash")  # the worker reads it at start
    hashed = workbench.benchmark(DEMO, ["cpu"], [1], executor="worker", **FAST).to_frame()
    assert (
        hashed.loc[0, "host"].startswith("host-") and hashed.loc[0, "host"] != frame.loc[0, "host"]
    )
