"""diff_models: what changed between two models, even when a re-export renamed everything."""

from __future__ import annotations

import json

import onnx
import pytest
from onnx import helper

import workbench
from tests import models
from tests.cli import cli


@pytest.fixture
def demo() -> onnx.ModelProto:
    return workbench.load(workbench.demo_model()).proto


def _copy(proto: onnx.ModelProto) -> onnx.ModelProto:
    copy = onnx.ModelProto()
    copy.CopyFrom(proto)
    return copy


def test_a_model_against_itself_is_identical(demo) -> None:
    result = workbench.diff_models(demo, _copy(demo))
    assert result.identical and result.size_delta_bytes == 0
    assert result.matched_by_name == len(demo.graph.node) and result.matched_by_structure == 0
    assert "no difference" in str(result)


def test_a_re_export_that_renamed_everything_still_matches(demo) -> None:
    renamed = models.renamed(demo)
    result = workbench.diff_models(demo, renamed)
    assert result.matched_by_structure == len(demo.graph.node) and result.matched_by_name == 0
    assert result.nodes_added == [] and result.nodes_removed == [] and result.nodes_changed == []
    assert len(result.nodes_renamed) == len(demo.graph.node) and not result.identical
    assert {c["change"] for c in result.initializers} == {"renamed"}
    assert {c["change"] for c in result.io} == {"added", "removed"}  # the outputs' names


def test_changed_attributes_io_weights_and_properties_are_listed(demo) -> None:
    changed = _copy(demo)
    pool = next(n for n in changed.graph.node if n.op_type == "MaxPool")
    for attribute in pool.attribute:
        if attribute.name == "kernel_shape":
            attribute.ints[:] = [3, 3]
    changed.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "n"
    weight = changed.graph.initializer[0]
    array = onnx.numpy_helper.to_array(weight).copy()
    array.flat[0] += 1.0
    weight.CopyFrom(onnx.numpy_helper.from_array(array, weight.name))
    changed.producer_name = "someone else"
    helper.set_model_props(changed, {"license": "MIT", "note": "new"})
    result = workbench.diff_models(demo, changed)
    (node,) = result.nodes_changed
    assert node["a"] == pool.name and node["changes"][0]["what"] == "attribute kernel_shape"
    (io,) = result.io
    assert (io["name"], io["change"]) == ("image", "changed")
    assert io["a"].endswith("[batch, 3, 32, 32]") and io["b"].endswith("[n, 3, 32, 32]")
    assert [c["change"] for c in result.initializers] == ["values"]
    whats = {p["what"] for p in result.properties}
    assert "producer" in whats and "metadata note" in whats


def test_a_model_and_its_int8_variant(tmp_path) -> None:
    demo = workbench.demo_model()
    int8 = workbench.variants(demo, ["int8-dynamic"], folder=tmp_path)["int8-dynamic"]
    done = cli("diff", str(demo), str(int8.path), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    for key in ("ops", "nodes_added", "nodes_removed", "nodes_changed", "size_delta_bytes"):
        assert key in data
    assert data["ops"]["ConvInteger"] == [0, 3] and data["ops"]["Conv"] == [3, 0]
    assert data["size_delta_bytes"] < 0 and data["nodes_added"] and data["nodes_removed"]
    text = cli("diff", str(demo), str(int8.path)).stdout
    assert "ConvInteger: 0 -> 3" in text


def test_model_text_is_escaped_in_the_html_view(demo) -> None:
    hostile = _copy(demo)
    hostile.graph.node[0].name = "<img src=x onerror=alert(1)>"
    page = workbench.diff_models(demo, hostile)._repr_html_()
    assert "<img src=x" not in page and "&lt;img src=x" in page
