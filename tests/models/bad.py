"""The bad-input corpus: files that are not usable ONNX models, and what each must say."""

from __future__ import annotations

import json
import struct
import zipfile
from dataclasses import dataclass
from io import BytesIO

import numpy as np
import onnx
from onnx import numpy_helper

from tests import models


@dataclass(frozen=True)
class BadFile:
    """Bytes to load, the error class expected, and fragments its message must contain."""

    data: bytes
    error: str
    says: tuple[str, ...]


def _demo_bytes() -> bytes:
    from workbench.demo import build_demo_model

    return build_demo_model().SerializeToString()


def _zip() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    return buffer.getvalue()


def corpus() -> dict[str, BadFile]:
    """Every case `load` must refuse, by name."""
    demo = _demo_bytes()
    rng = np.random.default_rng(7)
    tensor = numpy_helper.from_array(np.ones((2, 3), np.float32), "input_0").SerializeToString()
    graph = models.build("external_weights").graph.SerializeToString()
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + bytes(17)
    return {
        "empty": BadFile(b"", "EmptyModelError", ("is empty", "0 bytes")),
        "random_bytes": BadFile(
            bytes([0xFF, 0xFF]) + rng.bytes(4096), "NotAnOnnxModelError", ("not an ONNX model",)
        ),
        "json": BadFile(
            json.dumps({"model": "resnet", "layers": [1, 2]}).encode(),
            "NotAnOnnxModelError",
            ("a JSON file",),
        ),
        "png": BadFile(png, "NotAnOnnxModelError", ("a PNG image",)),
        "zip_checkpoint": BadFile(
            _zip(), "NotAnOnnxModelError", ("ZIP archive", "torch.onnx.export")
        ),
        "pickle": BadFile(b"\x80\x04\x95\x10\x00", "NotAnOnnxModelError", ("pickle",)),
        "lfs_pointer": BadFile(
            b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n",
            "NotAnOnnxModelError",
            ("Git LFS pointer", "git lfs pull"),
        ),
        "html_error_page": BadFile(
            b"<!DOCTYPE html><html><body>404 Not Found</body></html>",
            "NotAnOnnxModelError",
            ("HTML",),
        ),
        "tensor_proto": BadFile(tensor, "NotAnOnnxModelError", ("TensorProto", "load_feeds")),
        "graph_proto": BadFile(graph, "NotAnOnnxModelError", ("GraphProto", "make_model")),
        "truncated_in_graph": BadFile(
            demo[: len(demo) // 2],
            "TruncatedModelError",
            ("truncated", "'graph'"),
        ),
        "truncated_before_graph": BadFile(
            _header_only(demo),
            "TruncatedModelError",
            ("no graph",),
        ),
        "output_name_not_utf8": BadFile(
            _with_bytes(demo, b"logits", b"l\xf6gits"),
            "CorruptModelError",
            ("not valid UTF-8, in a value name or description", "l\\xf6gits"),
        ),
        "nested_too_deep": BadFile(
            _nested_ifs(200), "CorruptModelError", ("nests subgraphs deeper", "Flatten")
        ),
    }


def _with_bytes(data: bytes, old: bytes, new: bytes) -> bytes:
    """`data` with every `old` replaced by `new` (same length: no length prefix changes)."""
    assert len(old) == len(new) and old in data
    return data.replace(old, new)


def _nested_ifs(depth: int) -> bytes:
    """A model of If nodes nested `depth` deep, written on the wire: onnx's own builders
    refuse to make one deeper than the protobuf decoder's limit."""

    def varint(number: int) -> bytes:
        out = bytearray()
        while True:
            low, number = number & 0x7F, number >> 7
            out.append(low | (0x80 if number else 0))
            if not number:
                return bytes(out)

    def message(field: int, payload: bytes) -> bytes:
        return varint(field << 3 | 2) + varint(len(payload)) + payload

    def number(field: int, value: int) -> bytes:
        return varint(field << 3) + varint(value)

    graph = b""
    for _ in range(
        depth
    ):  # AttributeProto name=1 type=20 g=6; NodeProto input=1 output=2 op_type=4 attribute=5
        attribute = message(1, b"then_branch") + number(20, 5) + message(6, graph)
        node = message(1, b"c") + message(2, b"y") + message(4, b"If") + message(5, attribute)
        graph = message(1, node) + message(2, b"g")
    return number(1, 8) + message(8, number(2, 17)) + message(7, graph)


def _header_only(data: bytes) -> bytes:
    """The model's fields that precede the graph (ir_version, producer...), nothing more."""
    proto = onnx.ModelProto.FromString(data)
    proto.ClearField("graph")
    proto.ClearField("opset_import")
    proto.ClearField("metadata_props")
    return proto.SerializeToString()


def truncations(data: bytes, count: int = 40) -> list[bytes]:
    """`data` cut at `count` offsets spread over the file (never the full length)."""
    offsets = np.unique(np.linspace(1, len(data) - 1, count).astype(int))
    return [data[:offset] for offset in offsets]


# ---- models that parse but are hostile: each must load (or be refused) cleanly, and its
# inspection and run must end in a result or a WorkbenchError, never a crash or a hang.


def _tensor(name, shape, elem=onnx.TensorProto.FLOAT):
    return onnx.helper.make_tensor_value_info(name, elem, shape)


def hostile_models() -> dict[str, onnx.ModelProto]:
    """Valid protobuf, invalid or extreme models, by name."""
    node = onnx.helper.make_node
    cases: dict[str, onnx.ModelProto] = {
        "cycle": models.make(
            [node("Relu", ["b"], ["a"]), node("Relu", ["a"], ["b"])],
            [_tensor("x", [2])],
            [_tensor("a", [2])],
        ),
        "dangling_input": models.build("checker_fails_runtime_refuses"),
        "huge_dims": models.make(
            [node("Relu", ["x"], ["y"])],
            [_tensor("x", [2**40, 2**40])],
            [_tensor("y", [2**40, 2**40])],
        ),
        "negative_dims": models.make(
            [node("Relu", ["x"], ["y"])], [_tensor("x", [-3, 4])], [_tensor("y", [-3, 4])]
        ),
        "zero_sized": models.make(
            [node("Relu", ["x"], ["y"])], [_tensor("x", [0, 4])], [_tensor("y", [0, 4])]
        ),
        "unknown_op": models.make(
            [node("Frobnicate", ["x"], ["y"])], [_tensor("x", [2])], [_tensor("y", [2])]
        ),
        "unknown_domain": models.make(
            [node("Relu", ["x"], ["y"], domain="com.nowhere")],
            [_tensor("x", [2])],
            [_tensor("y", [2])],
            opsets={"": 17, "com.nowhere": 1},
        ),
        "opset_1": models.make(
            [node("Relu", ["x"], ["y"])],
            [_tensor("x", [2])],
            [_tensor("y", [2])],
            opsets={"": 1},
            ir_version=3,
        ),
        "opset_99": models.build("opset_too_new"),
        "ir_too_new": models.build("ir_stamped_too_new"),
        "no_nodes": models.make([], [_tensor("x", [2])], [_tensor("x", [2])]),
        "output_never_produced": models.make(
            [node("Relu", ["x"], ["y"])], [_tensor("x", [2])], [_tensor("z", [2])]
        ),
        "initializer_without_data": models.make(
            [node("Add", ["x", "w"], ["y"])],
            [_tensor("x", [4])],
            [_tensor("y", [4])],
            initializers=[onnx.TensorProto(name="w", data_type=1, dims=[10**12])],
        ),
        "wrong_arity": models.make(
            [node("Add", ["x"], ["y"])], [_tensor("x", [2])], [_tensor("y", [2])]
        ),
        "duplicate_outputs": models.make(
            [node("Relu", ["x"], ["y"]), node("Abs", ["x"], ["y"])],
            [_tensor("x", [2])],
            [_tensor("y", [2])],
        ),
        "string_to_relu": models.make(
            [node("Relu", ["x"], ["y"])],
            [_tensor("x", [2], onnx.TensorProto.STRING)],
            [_tensor("y", [2], onnx.TensorProto.STRING)],
        ),
    }
    deep = models.make([node("Identity", ["x"], ["y"])], [_tensor("x", [1])], [_tensor("y", [1])])
    leaf = onnx.helper.make_graph([node("Identity", ["x"], ["y"])], "leaf", [], [_tensor("y", [1])])
    for level in range(25):  # If inside If inside If...: deep nesting must not exhaust recursion
        branch = onnx.helper.make_graph(list(deep.graph.node), "branch", [], [_tensor("y", [1])])
        deep = models.make(
            [
                node(
                    "Constant", [], [f"c{level}"], value=onnx.helper.make_tensor("c", 9, [], [True])
                ),
                node("If", [f"c{level}"], ["y"], then_branch=branch, else_branch=leaf),
            ],
            [_tensor("x", [1])],
            [_tensor("y", [1])],
        )
    cases["deeply_nested"] = deep
    return cases
