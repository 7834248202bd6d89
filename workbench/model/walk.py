"""One walk over a model's graphs (subgraphs included) that gathers what inspection reports."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workbench.errors import CorruptModelError
from workbench.model.dtypes import element_type, tensor_nbytes

if TYPE_CHECKING:
    import onnx

DEFAULT_DOMAINS = ("", "ai.onnx")
# Attribute kinds that carry nested graphs, tensors or types (onnx.AttributeProto.AttributeType).
_TENSOR, _GRAPH, _TENSORS, _GRAPHS, _SPARSE_TENSOR, _TYPE_PROTO, _TYPE_PROTOS = (
    4,
    5,
    9,
    10,
    11,
    13,
    14,
)
_FLOATS = 6
ML_DOMAIN = "ai.onnx.ml"
# Integer attributes that name an element type (Cast.to, RandomNormal.dtype, ...).
_DTYPE_ATTRIBUTES = frozenset({"to", "dtype", "output_dtype"})
# First IR versions of features other than element types (onnx.proto's Version comments).
_IR_OPTIONAL_SPARSE_FUNCTIONS = 8
_IR_FUNCTION_ATTRIBUTES = 9
_IR_METADATA_ON_NODES = 10
_IR_DEVICE_CONFIGURATION = 11


@dataclass(frozen=True)
class ExternalTensor:
    """An initializer whose bytes live in a separate file."""

    tensor: str
    location: str
    offset: int
    length: int  # bytes the tensor occupies in the file


@dataclass
class GraphStats:
    """Counts and facts gathered from the main graph and every subgraph."""

    ops: Counter[str] = field(default_factory=Counter)
    node_count: int = 0
    initializer_count: int = 0
    initializer_parameters: int = 0  # elements over all initializers
    initializer_bytes: int = 0
    constant_count: int = 0  # Constant nodes (weights exported as nodes, often in subgraphs)
    constant_parameters: int = 0
    constant_bytes: int = 0
    # ONNX-ML nodes keep their weights in float attributes (coefficients, tree thresholds).
    ml_node_count: int = 0
    ml_parameters: int = 0
    ml_bytes: int = 0
    subgraph_count: int = 0
    external_tensors: list[ExternalTensor] = field(default_factory=list)
    element_types: set[int] = field(default_factory=set)
    min_ir_version: int = 3  # lowest IR able to express every feature the model uses


def op_key(domain: str, op_type: str) -> str:
    """Histogram key: `op_type` in the default ONNX domain, `domain::op_type` otherwise."""
    return op_type if domain in DEFAULT_DOMAINS else f"{domain}::{op_type}"


def collect(model: onnx.ModelProto) -> GraphStats:
    """Walk the model once and gather its statistics.

    Raises `CorruptModelError` where a string the workbench relies on is not UTF-8. Node
    names and internal tensor names are left to onnxruntime, which runs such models:
    display code escapes them.
    """
    _text("the model's producer, domain or description", (
        model.producer_name, model.producer_version, model.domain, model.doc_string
    ))  # fmt: skip
    _text("a metadata entry", [t for p in model.metadata_props for t in (p.key, p.value)])
    _text("an opset domain", [o.domain for o in model.opset_import])
    stats = GraphStats(min_ir_version=_model_level_min_ir(model))
    for function in model.functions:
        _text("a function name or domain", (function.name, function.domain))
        for node in function.node:
            _text("an op type or domain", (node.op_type, node.domain))
            _scan_attributes(stats, node, count_subgraphs=False)
    # An explicit stack rather than recursion: hostile files can nest subgraphs very deeply.
    pending = [model.graph]
    while pending:
        graph = pending.pop()
        _text("a graph name or description", (graph.name, graph.doc_string))
        if graph.metadata_props:
            stats.min_ir_version = max(stats.min_ir_version, _IR_METADATA_ON_NODES)
        for value in (*graph.input, *graph.output, *graph.value_info):
            _text("a value name or description", (value.name, value.doc_string))
            _scan_type(stats, value.type)
        for tensor in graph.initializer:
            _add_initializer(stats, tensor)
        for sparse in graph.sparse_initializer:
            _add_sparse_initializer(stats, sparse)
        for node in graph.node:
            _text("an op type or domain", (node.op_type, node.domain))
            stats.node_count += 1
            stats.ops[op_key(node.domain, node.op_type)] += 1
            if node.op_type == "Constant" and node.domain in DEFAULT_DOMAINS:
                _add_constant(stats, node)
            elif node.domain == ML_DOMAIN:
                _add_ml_weights(stats, node)
            if node.metadata_props:
                stats.min_ir_version = max(stats.min_ir_version, _IR_METADATA_ON_NODES)
            pending.extend(_scan_attributes(stats, node, count_subgraphs=True))
    return stats


def _text(what: str, values: Sequence[str]) -> None:
    """Refuse text that is not UTF-8: protobuf hands it to Python as bytes, not str."""
    try:
        "".join(values)  # the cheap check: a TypeError on bytes
    except TypeError:
        bad = next(v for v in values if isinstance(v, bytes))
        raise CorruptModelError(
            f"The model holds text that is not valid UTF-8, in {what}: {bad[:80]!r}. ONNX "
            "requires UTF-8 names and strings, so the file is damaged or its exporter is broken.",
            "Export or download the model again; if the exporter wrote it, report the bug "
            "there, quoting the text above.",
        ) from None


def _model_level_min_ir(model: onnx.ModelProto) -> int:
    """The IR needed by model-level features: local functions and device configurations."""
    needed = 3
    if model.functions:
        needed = _IR_OPTIONAL_SPARSE_FUNCTIONS
    if model.configuration:
        needed = max(needed, _IR_DEVICE_CONFIGURATION)
    for function in model.functions:
        if function.attribute_proto:
            needed = max(needed, _IR_FUNCTION_ATTRIBUTES)
        if function.overload or function.metadata_props:
            needed = max(needed, _IR_METADATA_ON_NODES)
    return needed


def _scan_attributes(
    stats: GraphStats, node: onnx.NodeProto, *, count_subgraphs: bool
) -> list[onnx.GraphProto]:
    """Note dtypes used by `node`'s attributes and return its subgraphs."""
    subgraphs: list[onnx.GraphProto] = []
    for attr in node.attribute:
        _text("an attribute name", (attr.name, attr.ref_attr_name))
        kind = attr.type
        if kind == _GRAPH:
            subgraphs.append(attr.g)
        elif kind == _GRAPHS:
            subgraphs.extend(attr.graphs)
        elif kind == _TENSOR:
            _note_element_type(stats, attr.t.data_type)
        elif kind == _TENSORS:
            for tensor in attr.tensors:
                _note_element_type(stats, tensor.data_type)
        elif kind == _SPARSE_TENSOR:
            _note_element_type(stats, attr.sparse_tensor.values.data_type)
        elif kind == _TYPE_PROTO:
            _scan_type(stats, attr.tp)
        elif kind == _TYPE_PROTOS:
            for tp in attr.type_protos:
                _scan_type(stats, tp)
        elif attr.name in _DTYPE_ATTRIBUTES and attr.i:
            _note_element_type(stats, attr.i)
    if count_subgraphs:
        stats.subgraph_count += len(subgraphs)
    return subgraphs


def _scan_type(stats: GraphStats, proto: onnx.TypeProto) -> None:
    which = proto.WhichOneof("value")
    if which == "tensor_type":
        dims = proto.tensor_type.shape.dim
        _text("a dim name", [t for d in dims for t in (d.dim_param, d.denotation)])
        _text("a type denotation", (proto.denotation,))
        _note_element_type(stats, proto.tensor_type.elem_type)
    elif which == "sparse_tensor_type":
        stats.min_ir_version = max(stats.min_ir_version, _IR_OPTIONAL_SPARSE_FUNCTIONS)
        _note_element_type(stats, proto.sparse_tensor_type.elem_type)
    elif which == "sequence_type":
        _scan_type(stats, proto.sequence_type.elem_type)
    elif which == "map_type":
        _note_element_type(stats, proto.map_type.key_type)
        _scan_type(stats, proto.map_type.value_type)
    elif which == "optional_type":
        stats.min_ir_version = max(stats.min_ir_version, _IR_OPTIONAL_SPARSE_FUNCTIONS)
        _scan_type(stats, proto.optional_type.elem_type)


def _note_element_type(stats: GraphStats, code: int) -> None:
    if code and code not in stats.element_types:
        stats.element_types.add(code)
        stats.min_ir_version = max(stats.min_ir_version, element_type(code).since_ir)


def _element_count(dims: Iterable[int]) -> int:
    # Negative dims are invalid (onnxruntime refuses them); count them as empty.
    dims = list(dims)
    return math.prod(dims) if all(d >= 0 for d in dims) else 0


def _add_initializer(stats: GraphStats, tensor: onnx.TensorProto) -> None:
    _text("an initializer name", (tensor.name,))
    _text("an external-data entry", [t for e in tensor.external_data for t in (e.key, e.value)])
    count = _element_count(tensor.dims)
    _note_element_type(stats, tensor.data_type)
    stats.initializer_count += 1
    stats.initializer_parameters += count
    nbytes = _tensor_bytes(tensor, count)
    stats.initializer_bytes += nbytes
    if tensor.data_location == 1:  # onnx.TensorProto.EXTERNAL
        stats.external_tensors.append(_external_tensor(tensor, nbytes))


def _add_sparse_initializer(stats: GraphStats, sparse: onnx.SparseTensorProto) -> None:
    stats.min_ir_version = max(stats.min_ir_version, _IR_OPTIONAL_SPARSE_FUNCTIONS)
    _note_element_type(stats, sparse.values.data_type)
    stats.initializer_count += 1
    stats.initializer_parameters += _element_count(sparse.dims)
    stored = (sparse.values, sparse.indices)
    stats.initializer_bytes += sum(
        tensor_nbytes(t.data_type, _element_count(t.dims)) for t in stored
    )
    stats.external_tensors.extend(
        _external_tensor(t, tensor_nbytes(t.data_type, _element_count(t.dims)))
        for t in stored
        if t.data_location == 1
    )


def _tensor_bytes(tensor: onnx.TensorProto, count: int) -> int:
    if element_type(tensor.data_type).name == "string":
        return sum(len(s) for s in tensor.string_data)
    return tensor_nbytes(tensor.data_type, count)


def _add_constant(stats: GraphStats, node: onnx.NodeProto) -> None:
    """A Constant node's value: a tensor, a sparse tensor or a list, counted as parameters."""
    for attr in node.attribute:
        if attr.name == "value" and attr.type == _TENSOR:
            count = _element_count(attr.t.dims)
            nbytes = _tensor_bytes(attr.t, count)
        elif attr.name == "sparse_value" and attr.type == _SPARSE_TENSOR:
            count = _element_count(attr.sparse_tensor.dims)
            stored = (attr.sparse_tensor.values, attr.sparse_tensor.indices)
            nbytes = sum(tensor_nbytes(t.data_type, _element_count(t.dims)) for t in stored)
        elif attr.name in ("value_floats", "value_ints"):
            count = len(attr.floats) + len(attr.ints)
            nbytes = 4 * len(attr.floats) + 8 * len(attr.ints)
        elif attr.name in ("value_float", "value_int"):
            count, nbytes = 1, 4 if attr.name == "value_float" else 8
        elif attr.name == "value_string":
            count, nbytes = 1, len(attr.s)
        elif attr.name == "value_strings":
            count, nbytes = len(attr.strings), sum(len(s) for s in attr.strings)
        else:
            continue
        stats.constant_count += 1
        stats.constant_parameters += count
        stats.constant_bytes += nbytes
        return


def _add_ml_weights(stats: GraphStats, node: onnx.NodeProto) -> None:
    """An ONNX-ML node's learned values: its float lists and tensor attributes.

    Integer and string lists (class labels, tree node ids) are structure, not weights.
    """
    count = nbytes = 0
    for attr in node.attribute:
        if attr.type == _FLOATS:
            count += len(attr.floats)
            nbytes += 4 * len(attr.floats)
        elif attr.type == _TENSOR:
            elements = _element_count(attr.t.dims)
            count += elements
            nbytes += _tensor_bytes(attr.t, elements)
    if count:
        stats.ml_node_count += 1
        stats.ml_parameters += count
        stats.ml_bytes += nbytes


def _external_tensor(tensor: onnx.TensorProto, expected_bytes: int) -> ExternalTensor:
    entries = {entry.key: entry.value for entry in tensor.external_data}
    return ExternalTensor(
        tensor=tensor.name,
        location=entries.get("location", ""),
        offset=_int_or_zero(entries.get("offset")),
        length=_int_or_zero(entries.get("length")) or expected_bytes,
    )


def _int_or_zero(text: str | None) -> int:
    try:
        return max(int(text), 0) if text else 0
    except ValueError:
        return 0
