"""Model.subgraph: part of a model as a valid model of its own, that runs."""

from __future__ import annotations

import json

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


# --- repeated blocks ----------------------------------------------------------------------


def test_blocks_are_found_by_structure_and_labelled_by_names(tmp_path) -> None:
    chain = workbench.load(models.large_chain(tmp_path / "chain.onnx", blocks=12, width=8))
    blocks = chain.blocks()
    assert len(blocks) == 12 and [b.label for b in blocks] == [f"block{i}" for i in range(12)]
    assert blocks[3].nodes == ("block3/MatMul", "block3/Add", "block3/Relu", "block3/Mul")
    part = chain.subgraph(block=3)
    assert [n.name for n in part.proto.graph.node] == list(blocks[3].nodes)
    onnx.checker.check_model(part.proto)
    assert chain.subgraph(block=-1).proto.graph.node[0].name == "block11/MatMul"
    with pytest.raises(workbench.WorkbenchError, match=r"Block 12 is out of range.*12 blocks"):
        chain.subgraph(block=12)


def test_blocks_of_a_model_its_exporter_did_not_name(tmp_path) -> None:
    proto = onnx.load(models.large_chain(tmp_path / "chain.onnx", blocks=6, width=8))
    for node in proto.graph.node:
        node.name = ""
    blocks = workbench.load(proto).blocks()
    assert len(blocks) == 6 and {b.label for b in blocks} == {""}
    assert blocks[1].nodes == ("MatMul_4", "Add_5", "Relu_6", "Mul_7")  # onnxruntime's names


def test_a_model_without_repeated_blocks_says_so(demo) -> None:
    assert demo.blocks() == []  # Relu, MaxPool, Conv twice is not a layer: names disagree
    with pytest.raises(workbench.WorkbenchError, match="no repeated blocks") as caught:
        demo.subgraph(block=0)
    assert "around=" in caught.value.hint


def test_the_cli_draws_and_saves_a_part(tmp_path) -> None:
    from tests.cli import cli

    chain = models.large_chain(tmp_path / "chain.onnx", blocks=12, width=8)
    done = cli("graph", str(chain), "--block", "3", "--save", str(tmp_path / "part.onnx"),
               "--html", str(tmp_path / "p.html"), "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["path"] == str(tmp_path / "p.html")
    saved = workbench.load(tmp_path / "part.onnx")
    assert saved.node_count == 4 and saved.run({"h2": np.ones((2, 8), np.float32)})
    around = cli("graph", str(chain), "--around", "block5/Relu", "--depth", "1",
                 "--html", str(tmp_path / "a.html"))  # fmt: skip
    assert around.returncode == 0 and "p.html" not in around.stdout
    lonely = cli("graph", str(chain), "--save", str(tmp_path / "x.onnx"))
    assert lonely.returncode != 0 and "--save writes a part" in lonely.stderr


def test_pytorch_module_paths_label_the_blocks(tmp_path) -> None:
    proto = onnx.load(models.large_chain(tmp_path / "chain.onnx", blocks=4, width=8))
    for index, node in enumerate(proto.graph.node):
        layer = index // 4
        node.name = f"node_{node.op_type.lower()}_{layer}"  # as torch.onnx.export(dynamo=True)
        entry = node.metadata_props.add()
        entry.key = "pkg.torch.onnx.name_scopes"
        entry.value = repr(["", "layers", f"layers.{layer}", f"op_{index}"])
    assert [b.label for b in workbench.load(proto).blocks()] == [
        f"layers/layers.{i}" for i in range(4)
    ]
    for node in proto.graph.node:  # code where a list should be: never run, names stand
        node.metadata_props[0].value = "__import__('os').system('false')"
    assert [b.label for b in workbench.load(proto).blocks()] == [""] * 4
