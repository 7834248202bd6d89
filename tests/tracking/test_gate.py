"""The CI gate as CI runs it: `onnx-workbench bench ... --compare-to ... --max-slowdown`, and
`result.check_against(...)`, on real models measured here and a real history file."""

from __future__ import annotations

import dataclasses
import json
import sqlite3

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import workbench
from tests.cli import cli
from workbench.tracking.store import Store

WIDTH = 1024  # big enough (a few MB of weights a layer) that a run takes ~0.1 ms or more:
# a model of a few microseconds varies by over 50% from one process to the next here


def _export(folder, layers: int):
    """`model.onnx` in `folder`: x[1, WIDTH] -> y[1, WIDTH] through `layers` MatMuls."""
    rng = np.random.default_rng(layers)
    weights = [numpy_helper.from_array(
        (rng.standard_normal((WIDTH, WIDTH)) / 30).astype(np.float32), f"w{i}")
        for i in range(layers)]  # fmt: skip
    names = ["x"] + [f"h{i}" for i in range(layers - 1)] + ["y"]
    nodes = [helper.make_node("MatMul", [names[i], f"w{i}"], [names[i + 1]]) for i in range(layers)]
    graph = helper.make_graph(
        nodes, "export",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, WIDTH])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, WIDTH])], weights,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    folder.mkdir(exist_ok=True)
    onnx.save(model, folder / "model.onnx")
    return folder / "model.onnx"


def test_the_gate_as_ci_runs_it(tmp_path) -> None:
    history = tmp_path / "history.sqlite"
    env = {"ONNX_WORKBENCH_HISTORY": str(history)}
    fast = _export(tmp_path / "v1", 2)
    slow = _export(tmp_path / "v2", 10)  # the same file name and signature, five times the work
    first = cli("bench", str(fast), "--runs", "300", env=env)
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(history) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    same = cli("bench", str(fast), "--runs", "300", "--compare-to", "last", "--max-slowdown",
               "50%", env=env)  # fmt: skip
    assert same.returncode == 0, same.stdout + same.stderr
    assert "No configuration got slower" in same.stdout
    slower = cli("bench", str(slow), "--runs", "300", "--compare-to", "last", "--max-slowdown",
                 "50%", "--summary", str(tmp_path / "comment.md"), env=env)  # fmt: skip
    assert slower.returncode == 1, slower.stdout + slower.stderr
    comment = (tmp_path / "comment.md").read_text()
    assert "1 configuration got slower" in comment and "**slower**" in comment
    assert "the model file changed" in comment
    nothing = cli("bench", str(fast), "--runs", "50", "--compare-to", "label:release-1",
                  env=env)  # fmt: skip
    assert nothing.returncode == 2 and "Nothing was compared" in nothing.stdout
    other_key = cli("bench", str(fast), "--runs", "50", "--model-key", "other", "--compare-to",
                    "last", env=env)  # fmt: skip
    assert other_key.returncode == 2
    listed = cli("history", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    found = json.loads(listed.stdout)
    assert len(found["results"]) == 5  # one per stored configuration result: five benches
    for entry in found["results"]:
        assert {"model_name", "model_sha256", "p50_ms", "time"} <= set(entry)
        assert entry["model_name"] == "model" and entry["p50_ms"] > 0
    shas = {e["model_sha256"] for e in found["results"]}
    assert len(shas) == 2


def test_the_gate_in_json_and_against_a_report(tmp_path) -> None:
    env = {"ONNX_WORKBENCH_HISTORY": str(tmp_path / "h.sqlite")}
    model = _export(tmp_path / "m", 1)
    baseline = cli("bench", str(model), "--runs", "200", "--report", str(tmp_path / "b.json"),
                   env=env)  # fmt: skip
    assert baseline.returncode == 0, baseline.stderr
    again = cli("bench", str(model), "--runs", "200", "--json", "--compare-to",
                str(tmp_path / "b.json"), "--max-slowdown", "50%", env=env)  # fmt: skip
    assert again.returncode == 0, again.stderr
    gate = json.loads(again.stdout)["gate"]
    assert gate["exit_code"] == 0 and gate["baseline"] == "the report b.json"
    assert [r["label"] for r in gate["rows"]] == ["cpu host"]
    bad = cli("bench", str(model), "--runs", "20", "--max-slowdown", "5", env=env)
    assert bad.returncode == 2 and "percentage (5%) or a fraction (0.05)" in bad.stderr


def test_check_against_from_python(tmp_path) -> None:
    path = tmp_path / "h.sqlite"
    demo = workbench.demo_model()
    base = workbench.benchmark(demo, ["cpu"], [1, 2], runs=100, warmup=5, progress=False,
                               history=path, label="release-1")  # fmt: skip
    # Four times slower: the same rows, their samples scaled (what a slow export would give).
    slower = dataclasses.replace(base, results=[
        dataclasses.replace(r, samples_ns=[4 * s for s in r.samples_ns]).finish()
        for r in base.results
    ], settings={})  # fmt: skip
    gate = slower.check_against("label:release-1", max_slowdown=0.5, store=path)
    assert gate.exit_code == 1 and [r.verdict for r in gate.rows] == ["slower", "slower"]
    assert gate.rows[0].change == pytest.approx(3, rel=0.01)
    assert "| cpu b1 host |" in gate.markdown()
    within = slower.check_against(base, max_slowdown=5.0)
    assert within.exit_code == 0 and within.rows[0].verdict == "slower, within the threshold"
    faster = base.check_against(slower, max_slowdown=0.05)
    assert {r.verdict for r in faster.rows} == {"faster"}
    # Earlier runs set how much runs vary: a change inside that spread is not significant.
    target = Store(path)
    for factor in (1.0, 1.3, 0.8, 1.25, 0.9, 1.1):
        varied = dataclasses.replace(base, results=[
            dataclasses.replace(r, samples_ns=[int(factor * s) for s in r.samples_ns]).finish()
            for r in base.results
        ])  # fmt: skip
        target.append(varied, kind="benchmark")
    noisy = dataclasses.replace(base, results=[
        dataclasses.replace(r, samples_ns=[int(1.2 * s) for s in r.samples_ns]).finish()
        for r in base.results
    ], settings={})  # fmt: skip
    judged = noisy.check_against("last", max_slowdown=0.05, store=path)
    assert judged.rows[0].noise is not None and judged.rows[0].noise > 0.05
    assert judged.exit_code == 0 and judged.rows[0].verdict == "no significant change"
    with pytest.raises(workbench.WorkbenchError, match="Could not read the baseline"):
        base.check_against(tmp_path / "h.sqlite")


def test_a_configuration_that_stopped_working_fails_the_gate(tmp_path) -> None:
    path = tmp_path / "h.sqlite"
    base = workbench.benchmark(workbench.demo_model(), ["cpu"], [1, 2], runs=50, warmup=2,
                               progress=False, history=path)  # fmt: skip
    broken = dataclasses.replace(base, results=[
        base.results[0], dataclasses.replace(base.results[1], status="failed", samples_ns=[],
                                             stats=None, reason="out of memory"),
    ], settings={})  # fmt: skip
    gate = broken.check_against("last", max_slowdown=0.5, store=path)
    assert gate.exit_code == 1 and gate.lost == ["cpu b2 host (failed)"]
    assert "no longer measured" in gate.markdown() and "cpu b2 host (failed)" in gate.markdown()
