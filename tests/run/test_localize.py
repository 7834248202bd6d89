"""localize(): every shared tensor of two models (or two providers) over every sample."""

from __future__ import annotations

import json
import warnings

import numpy as np
import onnx
import pytest

import workbench
from tests.cli import cli
from workbench.errors import FeedError, WorkbenchError


@pytest.fixture(scope="module")
def demo() -> workbench.Model:
    return workbench.load(workbench.demo_model())


def _broken(path, weight: str = "stage1.conv.weight"):
    """The demo with one conv's weights off: a re-export with a bug at one node."""
    proto = onnx.load(workbench.demo_model())
    for tensor in proto.graph.initializer:
        if tensor.name == weight:
            values = onnx.numpy_helper.to_array(tensor).copy()
            values[0] *= 1.5
            tensor.CopyFrom(onnx.numpy_helper.from_array(values, tensor.name))
    onnx.save(proto, path)
    return path


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    return _broken(tmp_path_factory.mktemp("broken") / "broken.onnx")


@pytest.fixture(scope="module")
def int8_static(demo, tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # synthetic calibration, said elsewhere
        folder = tmp_path_factory.mktemp("variants")
        return workbench.variants(demo, ["int8-static"], folder=folder)["int8-static"]


def test_the_first_bad_tensor_is_the_broken_node_over_every_sample(demo, broken) -> None:
    result = workbench.localize(demo, broken, samples=4)
    assert result.samples == 4 and result.matching == "name"
    first = result.first
    assert first is not None and first.node == "stage1/Conv" and first.tensor == "stage1.conv"
    before = [t for t in result.tensors[: result.tensors.index(first)]]
    assert before and all(t.status == "pass" and t.max_abs_error == 0 for t in before)
    assert result.worst[0] is first  # the lowest SQNR: where the error is largest for its size
    assert first.elements == 4 * 32 * 16 * 16  # every sample counted, not one
    assert 0 <= first.worst_sample < 4 and first.sqnr_db < 30
    assert not result.passed
    assert any("unoptimized" in note for note in result.notes)
    data = result.as_dict()
    assert data["first"]["node"] == "stage1/Conv" and len(data["worst"]) == 10
    json.dumps(data)  # JSON-ready (infinite SQNRs as strings)


def test_a_model_against_itself_passes(demo) -> None:
    same = workbench.load(workbench.demo_model())
    result = workbench.localize(demo, same, samples=2)
    assert result.passed and result.first is None
    assert all(t.sqnr_db == float("inf") for t in result.tensors)


def test_user_data_is_used_and_must_fit_both(demo, broken, tmp_path) -> None:
    samples = [{"image": np.full((1, 3, 32, 32), v, np.float32)} for v in (0.1, 0.5, 0.9)]
    result = workbench.localize(demo, broken, data=samples)
    assert result.samples == 3 and result.data == "the samples given"
    assert not any("synthetic" in note for note in result.notes)
    for index, sample in enumerate(samples):
        folder = tmp_path / f"test_data_set_{index}"
        folder.mkdir()
        tensor = onnx.numpy_helper.from_array(sample["image"], "image")
        (folder / "input_0.pb").write_bytes(tensor.SerializeToString())
    assert workbench.localize(demo, broken, data=tmp_path).samples == 3
    # A candidate whose input is smaller than the data: named, with which model refuses it.
    proto = onnx.load(broken)
    proto.graph.input[0].type.tensor_type.shape.dim[2].dim_value = 16
    proto.graph.input[0].type.tensor_type.shape.dim[3].dim_value = 16
    onnx.save(proto, tmp_path / "small.onnx")
    with pytest.raises(FeedError, match=r"Sample 0 fits .*tinynet.onnx' but not .*small.onnx'"):
        workbench.localize(demo, tmp_path / "small.onnx", data=samples)


def test_qdq_variants_are_matched_as_onnxruntime_does(demo, int8_static) -> None:
    result = workbench.localize(demo, int8_static, samples=4)
    assert result.matching == "qdq"
    names = [t.tensor for t in result.tensors]
    assert "stem.pool" in names and len(names) == len(set(names))
    assert not any(t.tensor.endswith("_DequantizeLinear_Output") for t in result.tensors)
    assert result.passed  # 5% of each tensor's range: the default for quantized candidates
    assert {(t.rtol, t.atol) for t in result.tensors} == {(0.0, 0.05)}
    tight = workbench.localize(demo, int8_static, samples=4, rtol=1e-3, atol=1e-3)
    assert tight.first is not None and tight.first.op_type not in ("QuantizeLinear",
                                                                   "DequantizeLinear")  # fmt: skip
    assert tight.worst_nodes(2) and all("Linear" not in n for n in tight.worst_nodes(2))


def test_qoperator_models_are_refused(demo, tmp_path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qop = workbench.variants(demo, ["int8-static"], quant_format="QOperator",
                                 folder=tmp_path)["int8-static"]  # fmt: skip
    with pytest.raises(WorkbenchError, match=r"QOperator format.*not available") as caught:
        workbench.localize(demo, qop, samples=1)
    assert "QDQ format" in caught.value.hint


def test_bad_pairs_are_refused_with_what_to_do(demo, tmp_path) -> None:
    with pytest.raises(WorkbenchError, match="nothing to compare against"):
        workbench.localize(demo)
    other = workbench.load(workbench.demo_model()).subgraph(around="head/Gemm", depth=0)
    with pytest.raises(WorkbenchError, match="no input in common") as caught:
        workbench.localize(demo, other)
    assert "diff_models" in caught.value.hint
    with pytest.raises(WorkbenchError, match="one provider or two"):
        workbench.localize(demo, demo, providers=["cpu", "cpu", "cpu"])


def test_too_large_to_expose_is_refused_with_the_estimate(demo, broken) -> None:
    with pytest.raises(WorkbenchError, match=r"needs about .* for one sample") as caught:
        workbench.localize(demo, broken, samples=1, memory_limit=10_000)
    assert "subgraph(around=" in caught.value.hint


def test_the_repro_shows_the_difference_alone(demo, broken, tmp_path) -> None:
    result = workbench.localize(demo, broken, samples=3)
    folder = result.repro(tmp_path / "repro")
    part = workbench.load(folder / "part.onnx")
    assert [n.name for n in part.proto.graph.node] == ["stage1/Conv"]
    readme = (folder / "README.md").read_text()
    command = readme.split("Show the difference: `")[1].split("`")[0]
    assert command.startswith("onnx-workbench compare part.onnx")
    done = cli(*command.split()[1:], cwd=folder)
    assert done.returncode == 1 and "MISMATCH" in done.stdout, done.stdout + done.stderr
    fine = workbench.localize(demo, workbench.load(workbench.demo_model()), samples=1)
    with pytest.raises(WorkbenchError, match="no difference to reproduce"):
        fine.repro(tmp_path / "none")


def test_a_qdq_repro_holds_the_quantize_dequantize_around_it(demo, int8_static, tmp_path) -> None:
    result = workbench.localize(demo, int8_static, samples=2, rtol=1e-3, atol=1e-3)
    folder = result.repro(tmp_path / "q")
    part = workbench.load(folder / "part.onnx")
    assert part.ops["QuantizeLinear"] >= 1 and part.ops["DequantizeLinear"] >= 2
    assert part.outputs[0].name.endswith("_DequantizeLinear_Output")
    command = (folder / "README.md").read_text().split("`")[-2]
    done = cli(*command.split()[1:], cwd=folder)
    assert done.returncode == 1, done.stdout + done.stderr
    measured = float(done.stdout.split("max abs ")[1].split()[0])
    assert measured <= result.first.max_abs_error * 1.001  # the worst sample's own error


def test_requantize_shows_the_new_row_beside_the_old(demo, int8_static) -> None:
    result = workbench.localize(demo, int8_static, samples=4)
    with pytest.warns(UserWarning, match="synthetic samples"):  # calibration, said again
        evaluation = workbench.requantize(result, worst=2, runs=20)
    rows = {r.variant: r for r in evaluation.rows}
    assert list(rows) == ["reference", "int8-static", "int8-static-excluding-2"]
    assert all(r.status == "ok" and r.p50_ms and r.cosine for r in rows.values())
    assert rows["int8-static-excluding-2"].nodes != rows["int8-static"].nodes
    assert "leaves 2 nodes in float" in evaluation.notes[-1]
    with pytest.raises(WorkbenchError, match="not an int8 variant"):
        workbench.requantize(workbench.localize(demo, demo, providers=["cpu", "cpu"],
                                                samples=1))  # fmt: skip


def test_cli_localize_json_repro_graph_and_exit_status(demo, broken, tmp_path) -> None:
    done = cli("localize", str(workbench.demo_model()), str(broken), "--samples", "2", "--json",
               "--repro", str(tmp_path / "r"), "--graph", str(tmp_path / "g.html"))  # fmt: skip
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert data["first"]["node"] == "stage1/Conv" and data["samples"] == 2
    assert (tmp_path / "r" / "part.onnx").is_file()
    page = (tmp_path / "g.html").read_text()
    assert "Localization: error per tensor" in page
    same = cli("localize", str(workbench.demo_model()), str(workbench.demo_model()),
               "--samples", "1")  # fmt: skip
    assert same.returncode == 0 and "every tensor within tolerance" in same.stdout
    bad = cli("localize", str(workbench.demo_model()))
    assert bad.returncode != 0 and "nothing to compare against" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_names_from_the_file_are_escaped_in_the_report(demo, tmp_path) -> None:
    proto = onnx.load(_broken(tmp_path / "b.onnx"))
    for node in proto.graph.node:
        if node.name == "stage1/Conv":
            node.name = "<img src=x onerror=alert(1)>"
    onnx.save(proto, tmp_path / "hostile.onnx")
    result = workbench.localize(demo, tmp_path / "hostile.onnx", samples=1)
    page = result._repr_html_()
    assert "<img src=x" not in page and "&lt;img src=x" in page
    written = result.report(tmp_path / "loc.html")
    assert all("<img src=x" not in open(p).read() for p in written)  # noqa: PTH123, SIM115
