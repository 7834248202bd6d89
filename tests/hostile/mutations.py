"""Mutants of valid models, for fuzzing: each `mutate` call changes one thing.

Half the mutations work on the serialized bytes (what a damaged download looks like), half
on the parsed proto (what a buggy exporter writes: a wrong dim, dtype, op, attribute, name or
version). Everything is drawn from the `random.Random` passed in, so a seed reproduces a
mutant exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import onnx

from tests import models
from tests.conftest import ort_datasets
from workbench.demo import build_demo_model

SEEDS = (
    "symbolic_dims", "control_flow", "ml_classifier", "ml_map_input", "sequences_and_optionals",
    "mixed_io", "contrib_ops", "special_dtypes", "sequence_input", "optional_input",
    "small_cnn", "reshape_baked",
)  # fmt: skip
EXTREME_INTS = (0, -1, -(2**63), 2**31, 2**62, 2**63 - 1, 1, 3)
STRANGE_TEXT = (
    "", " ", "a" * 5000, "<img src=x onerror=alert(1)>", "../../etc/passwd", "名前", "\x00nul",
    "batch", "N", "%s%n", "{{7*7}}", "\u202eevil",
)  # fmt: skip
OP_TYPES = (
    "Relu", "Add", "MatMul", "Conv", "Reshape", "Gather", "Loop", "If", "Concat", "Cast",
    "ConstantOfShape", "Expand", "Tile", "Resize", "TopK", "NonZero", "Unknown", "ZipMap",
    "QLinearConv", "Attention", "Split", "Slice",
)  # fmt: skip


def seed_models() -> dict[str, bytes]:
    """The valid models mutants start from: the demo and registry models of every kind."""
    seeds = {name: models.build(name).SerializeToString() for name in SEEDS}
    seeds["demo"] = build_demo_model().SerializeToString()
    for path in ort_datasets():  # small real models from the onnxruntime wheel
        seeds[path.stem] = path.read_bytes()
    return seeds


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One mutant of serialized model `data`."""
    if rng.random() < 0.4:
        return _mutate_bytes(data, rng)
    proto = onnx.ModelProto.FromString(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        rng.choice(_PROTO_MUTATIONS)(proto, rng)
    try:
        return proto.SerializeToString()
    except Exception:
        return _mutate_bytes(data, rng)


def _mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    kind = rng.randrange(5)
    position = rng.randrange(len(buffer))
    if kind == 0:  # flip bits
        for _ in range(rng.randint(1, 8)):
            buffer[rng.randrange(len(buffer))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # an extreme varint where a length or number was
        buffer[position : position + rng.randint(1, 4)] = bytes([0xFF] * 9 + [0x01])
    elif kind == 2:  # cut
        del buffer[position:]
    elif kind == 3:  # duplicate a span (repeated fields, overlapping messages)
        end = min(len(buffer), position + rng.randint(1, 256))
        buffer[position:position] = buffer[position:end]
    else:  # random bytes inserted
        buffer[position:position] = rng.randbytes(rng.randint(1, 64))
    return bytes(buffer)


def _graphs(proto: onnx.ModelProto) -> list[onnx.GraphProto]:
    """The main graph and every subgraph inside it."""
    found, pending = [], [proto.graph]
    while pending:
        graph = pending.pop()
        found.append(graph)
        for node in graph.node:
            for attribute in node.attribute:
                if attribute.HasField("g"):
                    pending.append(attribute.g)
                pending.extend(attribute.graphs)
    return found


def _value_infos(proto: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    return [
        v
        for g in _graphs(proto)
        for v in (*g.input, *g.output, *g.value_info)
        if v.type.HasField("tensor_type")
    ]


def _dims(proto: onnx.ModelProto, rng: random.Random) -> None:
    values = _value_infos(proto)
    if not values:
        return
    shape = rng.choice(values).type.tensor_type.shape
    if not shape.dim or rng.random() < 0.2:
        shape.dim.add()
    dim = rng.choice(shape.dim)
    if rng.random() < 0.5:
        dim.dim_value = rng.choice(EXTREME_INTS)
    else:
        dim.dim_param = rng.choice(STRANGE_TEXT)


def _elem_type(proto: onnx.ModelProto, rng: random.Random) -> None:
    values = _value_infos(proto)
    if values:
        rng.choice(values).type.tensor_type.elem_type = rng.choice((*range(0, 26), 99, -5))


def _op_type(proto: onnx.ModelProto, rng: random.Random) -> None:
    nodes = [n for g in _graphs(proto) for n in g.node]
    if nodes:
        rng.choice(nodes).op_type = rng.choice(OP_TYPES)


def _wiring(proto: onnx.ModelProto, rng: random.Random) -> None:
    nodes = [n for g in _graphs(proto) for n in g.node]
    if not nodes:
        return
    node = rng.choice(nodes)
    names = [*node.input, *node.output, "", "ghost", rng.choice(STRANGE_TEXT)]
    target = node.input if (node.input and rng.random() < 0.6) else node.output
    if target:
        target[rng.randrange(len(target))] = rng.choice(names)
    else:
        target.append(rng.choice(names))


def _structure(proto: onnx.ModelProto, rng: random.Random) -> None:
    graph = rng.choice(_graphs(proto))
    if graph.node and rng.random() < 0.5:
        del graph.node[rng.randrange(len(graph.node))]
    elif graph.node:
        copy = graph.node.add()
        copy.CopyFrom(rng.choice(graph.node))
    if rng.random() < 0.3 and graph.output:
        del graph.output[rng.randrange(len(graph.output))]


def _attribute(proto: onnx.ModelProto, rng: random.Random) -> None:
    attributes = [a for g in _graphs(proto) for n in g.node for a in n.attribute]
    if not attributes:
        return
    attribute = rng.choice(attributes)
    if attribute.type == onnx.AttributeProto.INT or rng.random() < 0.2:
        attribute.i = rng.choice(EXTREME_INTS)
        attribute.type = rng.choice((onnx.AttributeProto.INT, attribute.type))
    elif attribute.ints:
        attribute.ints[rng.randrange(len(attribute.ints))] = rng.choice(EXTREME_INTS)
    elif attribute.type == onnx.AttributeProto.FLOAT:
        attribute.f = rng.choice((float("nan"), float("inf"), -1e38, 0.0))
    else:
        attribute.name = rng.choice(("axis", "to", "", "then_branch", "body"))


def _initializer(proto: onnx.ModelProto, rng: random.Random) -> None:
    tensors = [t for g in _graphs(proto) for t in g.initializer]
    if not tensors:
        return
    tensor = rng.choice(tensors)
    choice = rng.randrange(4)
    if choice == 0:
        tensor.dims.append(rng.choice((0, 2, 2**40)))
    elif choice == 1:
        tensor.data_type = rng.choice((*range(0, 26), 99))
    elif choice == 2:
        tensor.raw_data = tensor.raw_data[: len(tensor.raw_data) // 2]
    else:
        tensor.data_location = onnx.TensorProto.EXTERNAL
        entry = tensor.external_data.add()
        entry.key, entry.value = "location", rng.choice(STRANGE_TEXT)


def _versions(proto: onnx.ModelProto, rng: random.Random) -> None:
    if rng.random() < 0.5:
        proto.ir_version = rng.choice((0, 1, 3, 7, 10, 11, 12, 13, 14, 99, -1))
    elif proto.opset_import:
        rng.choice(proto.opset_import).version = rng.choice((0, 1, 6, 12, 21, 26, 27, 999, -3))


def _text(proto: onnx.ModelProto, rng: random.Random) -> None:
    text = rng.choice(STRANGE_TEXT)
    where = rng.randrange(5)
    if where == 0:
        proto.doc_string = text
    elif where == 1:
        entry = proto.metadata_props.add()
        entry.key, entry.value = text, rng.choice(STRANGE_TEXT)
    elif where == 2:
        proto.producer_name = text
    elif where == 3 and proto.graph.node:
        rng.choice(proto.graph.node).name = text
    else:
        proto.graph.name = text


_PROTO_MUTATIONS: tuple[Callable[[onnx.ModelProto, random.Random], None], ...] = (
    _dims, _elem_type, _op_type, _wiring, _structure, _attribute, _initializer, _versions,
    _text,
)  # fmt: skip
