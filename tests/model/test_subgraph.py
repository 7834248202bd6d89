"""Model.subgraph: part of a model as a valid model of its own, that runs."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

import workbench
from tests import models


@pytest.fixture
def demo() -> workbench.Model:
    return workbench.load(workbench.demo_model())


def test_around_a_node_holds_it_and_passes_the_checker(demo) -> None:
    part = demo.subgraph(around="block/Conv", depth=2)
    names = [n.name for n in part.proto.graph.node]
    assert "block/Conv" in names and len(names) < demo.node_count
    onnx.checker.check_model(part.proto)
    assert part.run()  # its inputs are synthesized from the shapes inference gave them
    only = demo.subgraph(around="block/Conv", depth=0)
    assert [n.name for n in only.proto.graph.node] == ["block/Conv"]
    assert {t.name for t in only.proto.graph.initializer} == set(
        next(n for n in demo.proto.graph.node if n.name == "block/Conv").input[1:]
    )


def test_a_layered_model_gives_a_small_part(tmp_path) -> None:
    path = models.large_chain(tmp_path / "chain.onnx", blocks=100, width=16)
    part = workbench.load(path).subgraph(around="block50/Relu", depth=2)
    assert [n.name for n in part.proto.graph.node] == [
        "block50/MatMul", "block50/Add", "block50/Relu", "block50/Mul", "block51/MatMul",
    ]  # fmt: skip
    x = np.ones((2, 16), np.float32)
    assert part.run({part.inputs[0].name: x})[part.outputs[0].name].shape == (2, 16)


def test_between_two_tensors_and_a_list_of_nodes(demo) -> None:
    part = demo.subgraph(between=("stem.pool", "stage1.pool"))
    assert [n.op_type for n in part.proto.graph.node] == ["Conv", "Relu", "MaxPool"]
    assert [v.name for v in part.inputs] == ["stem.pool"]
    listed = demo.subgraph(nodes=["head/Gemm", "head/Softmax"])
    assert [v.name for v in listed.outputs] == ["logits", "probabilities"]


def test_a_part_of_a_model_with_subgraphs_keeps_the_bodies() -> None:
    model = workbench.load(models.build("control_flow"))
    part = model.subgraph(around="If_2", depth=0)
    (node,) = part.proto.graph.node
    assert node.op_type == "If" and len(node.attribute) == 2
    assert "x" in {v.name for v in part.inputs}  # read by the bodies, from outside


@pytest.mark.parametrize(
    ("ask", "message"),
    [
        ({"around": "block/Conf"}, "Did you mean 'block/Conv'"),
        ({"around": "block/Conv", "depth": -1}, "depth must be 0 or more"),
        ({"between": ("stage1.pool", "stem.pool")}, "No path leads"),
        ({"between": ("nowhere", "stem.pool")}, "no tensor named 'nowhere'"),
        ({}, "Say which part"),
    ],
)
def test_bad_requests_are_refused_clearly(demo, ask, message) -> None:
    with pytest.raises(workbench.WorkbenchError, match=message):
        demo.subgraph(**ask)
