"""Sweeps that span machines, without a cluster: labels, placement rules, reports, diffs.

A result spanning machines is made from a real sweep here, its rows copied onto two machine
kinds (the second twice as slow); test_ray.py measures real ones on a real cluster.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import matplotlib
import pytest

import workbench
from tests.cli import cli
from workbench.bench.checkpoint import Checkpoint
from workbench.bench.config import BenchConfig
from workbench.bench.executors.ray_cluster import Demand, _label_matches, _machine
from workbench.bench.results import UNSCHEDULED, BenchmarkResult, ConfigResult
from workbench.errors import WorkbenchError

matplotlib.use("Agg")
DEMO = workbench.demo_model()


@pytest.fixture(scope="module")
def spanning() -> BenchmarkResult:
    """cpu b1/b2 on machine "t4" and, twice as slow, on machine "h200"."""
    base = workbench.benchmark(DEMO, ["cpu"], [1, 2], runs=60, warmup=2, progress=False)
    rows = []
    for row in base.results:
        for machine, factor in (("t4", 1), ("h200", 2)):
            copy = ConfigResult.from_dict(row.as_dict())
            copy.config = dataclasses.replace(row.config, machine=machine)
            copy.samples_ns = [s * factor for s in row.samples_ns]
            copy.host = {**row.host, "hostname": f"{machine}-box", "gpus": [machine.upper()]}
            rows.append(copy.finish())
    return dataclasses.replace(base, results=rows)


def test_a_machine_is_part_of_a_configuration() -> None:
    config = BenchConfig("CPUExecutionProvider", batch=8, machine="h200")
    assert config.label == "cpu b8 host @h200"
    assert config.label_without_machine == "cpu b8 host"
    assert config.key != dataclasses.replace(config, machine="t4").key
    assert BenchConfig.from_dict(config.as_dict()) == config
    assert BenchConfig.from_dict({"provider": "CPUExecutionProvider"}).machine is None


def test_machines_need_the_ray_executor() -> None:
    with pytest.raises(WorkbenchError, match="executor='ray'") as caught:
        workbench.benchmark(DEMO, ["cpu"], executor="pool", progress=False,
                            machines={"h200": {"accelerator_type": "H200"}})  # fmt: skip
    assert "this machine" in caught.value.message


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ({"gpu": 1}, "cannot place a task by"),
        ({"resources": {"cpu_box": 0}}, "malformed"),
        ({"labels": {"region": 3}}, "malformed"),
        ({"accelerator_type": ["H200"]}, "malformed"),
        ("H200", "cannot place a task by"),
    ],
)
def test_a_machine_is_described_by_what_ray_places_by(spec, complaint) -> None:
    with pytest.raises(WorkbenchError, match=complaint) as caught:
        _machine("x", spec)
    assert "accelerator_type, resources, labels" in caught.value.hint or "resources maps" in (
        caught.value.hint
    )


def test_a_demand_fits_a_live_node_that_has_everything_it_asks() -> None:
    node = {"Alive": True, "Resources": {"CPU": 8, "GPU": 1, "bench_slot": 1,
            "accelerator_type:H200": 1}, "Labels": {"region": "eu"}}  # fmt: skip
    assert Demand(8, 1, {"bench_slot": 1}, "H200", {"region": "eu"}).fits(node)
    assert Demand(4, labels={"region": "in(us,eu)"}).fits(node)
    assert not Demand(16).fits(node)
    assert not Demand(1, accelerator_type="A100").fits(node)
    assert not Demand(1, resources={"cpu_box": 1}).fits(node)
    assert not Demand(1, labels={"region": "!eu"}).fits(node)
    assert not Demand(1).fits({**node, "Alive": False})
    assert Demand(0, resources={"x": 1}).describe() == "x 1"
    assert (
        Demand(2, 1, accelerator_type="H200").describe() == "2 CPUs, a GPU, accelerator type H200"
    )
    assert _label_matches(None, "!eu") and not _label_matches(None, "eu")


def test_a_report_spanning_machines_groups_its_rows_by_machine(spanning, tmp_path) -> None:
    page = Path(spanning.report(tmp_path / "r.html")[0]).read_text()
    machines = page.split("<h2>Machines</h2>")[1].split("</table>")[0]
    assert "t4-box" in machines and "H200" in machines
    results = page.split("<h2>Results</h2>")[1]
    assert results.index("machine t4") < results.index("machine h200")
    first_group = results.split("machine h200")[0]
    assert "cpu b1 host @t4" in first_group and "@h200" not in first_group
    assert "Median latency by machine" in page
    back = workbench.load_report(tmp_path / "r.html")
    assert [r.config.machine for r in back.results] == ["t4", "h200", "t4", "h200"]


def test_the_machines_plot_puts_one_configuration_on_each_machine_side_by_side(spanning) -> None:
    ax = spanning.plot("machines")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cpu b1 host", "cpu b2 host"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["t4", "h200"]
    widths = [bar.get_width() for bar in ax.patches]
    assert widths[2] == pytest.approx(2 * widths[0], rel=0.01)  # h200 b1 against t4 b1
    one_machine = workbench.benchmark(DEMO, ["cpu"], runs=10, warmup=1, progress=False)
    with pytest.raises(WorkbenchError, match="Only one machine"):
        one_machine.plot("machines")


def test_diff_reports_compares_rows_across_machine_kinds(spanning, tmp_path) -> None:
    diff = workbench.diff_reports(spanning, spanning, machines={"t4": "h200"})
    assert [c.label for c in diff.changes] == [
        "cpu b1 host @t4 -> @h200",
        "cpu b2 host @t4 -> @h200",
    ]
    assert all(
        c.verdict == "slower" and c.change == pytest.approx(1, abs=0.02) for c in diff.changes
    )
    assert workbench.diff_reports(spanning, spanning).regressions == []  # same machine, same rows
    with pytest.raises(WorkbenchError, match="'a100' in b") as caught:
        workbench.diff_reports(spanning, spanning, machines={"t4": "a100"})
    assert "b's: 'h200', 't4'" in caught.value.hint
    path = spanning.report(tmp_path / "r.json")[0]
    done = cli("report", "diff", str(path), str(path), "--machines", "t4=h200", "--json")
    assert done.returncode == 1, done.stderr  # h200 is slower: a regression
    assert len(json.loads(done.stdout)["changes"]) == 2
    bad = cli("report", "diff", str(path), str(path), "--machines", "t4")
    assert bad.returncode == 2 and "expected A=B" in bad.stderr


def test_rows_a_machine_lost_are_measured_again_on_resume(tmp_path) -> None:
    config = BenchConfig("CPUExecutionProvider", batch=1)
    saved = Checkpoint.open(tmp_path / "c.jsonl", model_sha256="x", environment={},
                            settings={}, configs=[config], resume=False)  # fmt: skip
    for stop_reason in ("worker died", UNSCHEDULED):
        saved.add(ConfigResult(config, "failed", stop_reason=stop_reason))
    saved.add(ConfigResult(dataclasses.replace(config, batch=2), "failed", reason="bad"))
    again = Checkpoint.open(tmp_path / "c.jsonl", model_sha256="x", environment={},
                            settings={}, configs=[config], resume=True)  # fmt: skip
    assert [key[1] for key in again.done] == [2]


def test_the_cli_reads_machines_as_json_or_a_file(tmp_path) -> None:
    bad = cli("bench", DEMO, "--executor", "ray", "--machines", "h200")
    assert bad.returncode == 2 and "neither a JSON object nor a readable file" in bad.stderr
    listed = tmp_path / "m.json"
    listed.write_text("[1]")
    bad = cli("bench", DEMO, "--executor", "ray", "--machines", str(listed))
    assert bad.returncode == 2 and "JSON object of names" in bad.stderr
    refused = cli("bench", DEMO, "--machines", '{"h200": {"accelerator_type": "H200"}}')
    assert refused.returncode == 1 and "executor='ray'" in refused.stderr
