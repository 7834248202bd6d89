"""`workbench.diff_models(a, b)`: what changed between two models, and where.

Two models that should be "the same" (a re-export, a variant, this week's and last week's)
compared part by part: the IO signature, the op histogram, the nodes (matched by name
first, then by structure: op type, the op types feeding them and their order, so a
re-export that renamed everything still matches), their attributes, the initializers
(renamed but equal tensors found by content hash; external weights are not read unless
asked), opsets, IR version, producer, metadata, and the size.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.model.model import Model, load
from workbench.model.walk import op_key
from workbench.render.mixin import Rendered
from workbench.text import printable

if TYPE_CHECKING:
    import onnx

    from workbench.model import ModelLike

_VALUE_CHARS = 80  # attribute values longer than this are shown cut


@dataclass
class ModelDiff(Rendered):
    """Every difference between model `a` and model `b`."""

    template = "model_diff"
    title = "Model diff"

    a: dict[str, Any]  # name, path, sha256
    b: dict[str, Any]
    io: list[dict[str, str]]  # {"kind", "name", "change", "a", "b"}
    ops: dict[str, list[int]]  # op -> [count in a, count in b]
    nodes_added: list[dict[str, str]]
    nodes_removed: list[dict[str, str]]
    nodes_changed: list[dict[str, Any]]  # {"a", "b", "op_type", "changes": [...]}
    nodes_renamed: list[dict[str, str]]  # matched by structure under another name: {"a", "b"}
    matched_by_name: int
    matched_by_structure: int
    initializers: list[dict[str, Any]]  # {"name", "change", ...}
    properties: list[dict[str, str]]  # opset, IR version, producer, metadata: {"what", "a", "b"}
    size_delta_bytes: int
    notes: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        """True when nothing but names differ... and not even those."""
        return not (
            self.io or self.nodes_added or self.nodes_removed or self.nodes_changed
            or self.nodes_renamed or self.initializers or self.properties
            or any(a != b for a, b in self.ops.values())
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what `onnx-workbench diff --json` prints)."""
        return {
            "a": self.a,
            "b": self.b,
            "identical": self.identical,
            "io": self.io,
            "ops": self.ops,
            "nodes_added": self.nodes_added,
            "nodes_removed": self.nodes_removed,
            "nodes_changed": self.nodes_changed,
            "nodes_renamed": self.nodes_renamed,
            "matched_by_name": self.matched_by_name,
            "matched_by_structure": self.matched_by_structure,
            "initializers": self.initializers,
            "properties": self.properties,
            "size_delta_bytes": self.size_delta_bytes,
            "notes": self.notes,
        }

    def render_context(self) -> dict[str, Any]:
        """The op histogram's changed rows, most changed first."""
        ops = sorted(
            ((op, a, b) for op, (a, b) in self.ops.items() if a != b),
            key=lambda row: -abs(row[2] - row[1]),
        )
        return {"result": self, "op_rows": ops}

    def __repr__(self) -> str:
        return (
            f"<ModelDiff {self.a.get('name')} -> {self.b.get('name')}: "
            f"+{len(self.nodes_added)} -{len(self.nodes_removed)} ~{len(self.nodes_changed)}"
            " nodes>"
        )


def diff_models(a: ModelLike, b: ModelLike, *, read_external: bool = False) -> ModelDiff:
    """What changed from model `a` to model `b` (see the module's docstring).

    External weights are compared by their recorded size and location only, unless
    `read_external=True` reads and hashes them.
    """
    first, second = load(a), load(b)
    notes = []
    if read_external is False and (first.external_data.files or second.external_data.files):
        notes.append(
            "External weights were compared by shape and type, not read: pass "
            "read_external=True (--read-external) to compare their contents."
        )
    matched, by_name, by_structure = _match_nodes(first.proto.graph, second.proto.graph)
    graph_a, graph_b = first.proto.graph, second.proto.graph
    matched_a = {id(n) for n, _ in matched}
    matched_b = {id(n) for _, n in matched}
    labels = {id(n): _label(n, i) for graph in (graph_a, graph_b) for i, n in enumerate(graph.node)}
    return ModelDiff(
        a=_identity(first),
        b=_identity(second),
        io=_io_changes(first, second),
        ops=_ops(first, second),
        nodes_added=[_node(n, i) for i, n in enumerate(graph_b.node) if id(n) not in matched_b],
        nodes_removed=[_node(n, i) for i, n in enumerate(graph_a.node) if id(n) not in matched_a],
        nodes_changed=[c for c in (_node_change(x, y, labels) for x, y in matched) if c],
        nodes_renamed=[
            {"a": labels[id(x)], "b": labels[id(y)]} for x, y in matched if x.name != y.name
        ],
        matched_by_name=by_name,
        matched_by_structure=by_structure,
        initializers=_initializer_changes(graph_a, graph_b, read_external=read_external),
        properties=_property_changes(first.proto, second.proto),
        size_delta_bytes=_size(second) - _size(first),
        notes=notes,
    )


# --- nodes ---------------------------------------------------------------------------------


def _match_nodes(
    a: onnx.GraphProto, b: onnx.GraphProto
) -> tuple[list[tuple[onnx.NodeProto, onnx.NodeProto]], int, int]:
    """Pairs of nodes that are the same node: by name (and op), then by structure."""
    named_b: dict[str, onnx.NodeProto] = {}
    for node in b.node:
        if node.name:
            named_b.setdefault(node.name, node)
    pairs = []
    left_a = []
    taken: set[int] = set()
    for node in a.node:
        other = named_b.get(node.name) if node.name else None
        if other is not None and id(other) not in taken and other.op_type == node.op_type:
            pairs.append((node, other))
            taken.add(id(other))
        else:
            left_a.append(node)
    by_name = len(pairs)
    left_b = [n for n in b.node if id(n) not in taken]
    producers_a, producers_b = _producers(a), _producers(b)
    buckets: dict[tuple[str, ...], list[onnx.NodeProto]] = defaultdict(list)
    for node in left_b:
        buckets[_shape(node, producers_b)].append(node)
    for node in left_a:
        bucket = buckets.get(_shape(node, producers_a))
        if bucket:
            pairs.append((node, bucket.pop(0)))  # in graph order: the n-th with the n-th
    return pairs, by_name, len(pairs) - by_name


def _shape(node: onnx.NodeProto, producers: dict[str, str]) -> tuple[str, ...]:
    """What a node is, whatever its name: its op, and the ops (or graph inputs) feeding it."""
    feeding = tuple(producers.get(t, "input" if t else "") for t in node.input)
    return (node.domain, node.op_type, *feeding)


def _producers(graph: onnx.GraphProto) -> dict[str, str]:
    """Tensor -> op type of the node writing it."""
    return {o: n.op_type for n in graph.node for o in n.output if o}


def _label(node: onnx.NodeProto, index: int) -> str:
    """A node's name, or `#index` (its place in the graph) where it has none."""
    return node.name or f"#{index}"


def _node(node: onnx.NodeProto, index: int) -> dict[str, str]:
    return {"name": _label(node, index), "op_type": op_key(node.domain, node.op_type)}


def _node_change(
    a: onnx.NodeProto, b: onnx.NodeProto, labels: dict[int, str]
) -> dict[str, Any] | None:
    """The differences of two matched nodes: attributes, and the op when its name matched."""
    changes = []
    if a.op_type != b.op_type or a.domain != b.domain:
        changes.append({"what": "op", "a": op_key(a.domain, a.op_type),
                        "b": op_key(b.domain, b.op_type)})  # fmt: skip
    left, right = _attributes(a), _attributes(b)
    for name in sorted(set(left) | set(right)):
        if left.get(name) != right.get(name):
            changes.append({"what": f"attribute {name}", "a": left.get(name, "(none)"),
                            "b": right.get(name, "(none)")})  # fmt: skip
    if len(a.input) != len(b.input) or len(a.output) != len(b.output):
        changes.append({"what": "arity", "a": f"{len(a.input)} in, {len(a.output)} out",
                        "b": f"{len(b.input)} in, {len(b.output)} out"})  # fmt: skip
    if not changes:
        return None
    return {"a": labels[id(a)], "b": labels[id(b)], "op_type": op_key(b.domain, b.op_type),
            "changes": changes}  # fmt: skip


def _attributes(node: onnx.NodeProto) -> dict[str, str]:
    """Attribute name -> its value as short text (tensors and graphs by content hash)."""
    from onnx import helper  # noqa: PLC0415  (onnx is loaded: the models are parsed)

    values = {}
    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        if hasattr(value, "SerializeToString"):
            text = f"{type(value).__name__} sha256:{_hash(value.SerializeToString())}"
        elif isinstance(value, list) and value and hasattr(value[0], "SerializeToString"):
            text = "[" + ", ".join(_hash(v.SerializeToString()) for v in value) + "]"
        else:
            text = printable(repr(value))
        values[attribute.name] = (
            text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"
        )
    return values


# --- initializers, IO, properties ----------------------------------------------------------


def _initializer_changes(
    a: onnx.GraphProto, b: onnx.GraphProto, *, read_external: bool
) -> list[dict[str, Any]]:
    left = {t.name: t for t in a.initializer}
    right = {t.name: t for t in b.initializer}
    changes: list[dict[str, Any]] = []
    for name in sorted(set(left) & set(right)):
        x, y = left[name], right[name]
        if x.data_type != y.data_type or list(x.dims) != list(y.dims):
            changes.append({"name": name, "change": "type or shape",
                            "a": _tensor_text(x), "b": _tensor_text(y)})  # fmt: skip
        elif _content(x, read_external) != _content(y, read_external):
            changes.append({"name": name, "change": "values", "a": _tensor_text(x),
                            "b": _tensor_text(y)})  # fmt: skip
    only_a = [left[n] for n in left if n not in right]
    only_b = [right[n] for n in right if n not in left]
    by_content: dict[str, list[onnx.TensorProto]] = defaultdict(list)
    for tensor in only_b:
        by_content[_content(tensor, read_external)].append(tensor)
    for tensor in only_a:
        twins = by_content.get(_content(tensor, read_external))
        if twins:
            twin = twins.pop(0)
            only_b.remove(twin)
            changes.append({"name": tensor.name, "change": "renamed", "a": tensor.name,
                            "b": twin.name})  # fmt: skip
        else:
            changes.append({"name": tensor.name, "change": "removed", "a": _tensor_text(tensor),
                            "b": ""})  # fmt: skip
    changes += [{"name": t.name, "change": "added", "a": "", "b": _tensor_text(t)}
                for t in only_b]  # fmt: skip
    return changes


def _content(tensor: onnx.TensorProto, read_external: bool) -> str:
    """A tensor's identity by content: its type, shape and data (external: where it is)."""
    external = tensor.data_location == 1  # onnx.TensorProto.EXTERNAL
    head = f"{tensor.data_type}|{list(tensor.dims)}|"
    if external and not read_external:
        return head + "external:" + "|".join(f"{e.key}={e.value}" for e in tensor.external_data
                                              if e.key != "location")  # fmt: skip
    copy = type(tensor)()
    copy.CopyFrom(tensor)
    copy.name = ""
    copy.doc_string = ""
    return head + _hash(copy.SerializeToString())


def _tensor_text(tensor: onnx.TensorProto) -> str:
    from onnx import helper  # noqa: PLC0415  (onnx is loaded: the models are parsed)

    kind = helper.tensor_dtype_to_np_dtype(tensor.data_type) if tensor.data_type else "?"
    return f"{kind}{list(tensor.dims)}"


def _io_changes(a: Model, b: Model) -> list[dict[str, str]]:
    changes = []
    for kind, left, right in (("input", a.inputs, b.inputs), ("output", a.outputs, b.outputs)):
        x = {v.name: f"{v.type.text} {v.shape_text}".strip() for v in left}
        y = {v.name: f"{v.type.text} {v.shape_text}".strip() for v in right}
        for name in list(x) + [n for n in y if n not in x]:
            if name not in y:
                changes.append({"kind": kind, "name": name, "change": "removed", "a": x[name],
                                "b": ""})  # fmt: skip
            elif name not in x:
                changes.append({"kind": kind, "name": name, "change": "added", "a": "",
                                "b": y[name]})  # fmt: skip
            elif x[name] != y[name]:
                changes.append({"kind": kind, "name": name, "change": "changed", "a": x[name],
                                "b": y[name]})  # fmt: skip
    return changes


def _ops(a: Model, b: Model) -> dict[str, list[int]]:
    left, right = Counter(a.ops), Counter(b.ops)
    return {op: [left.get(op, 0), right.get(op, 0)] for op in sorted(set(left) | set(right))}


def _property_changes(a: onnx.ModelProto, b: onnx.ModelProto) -> list[dict[str, str]]:
    pairs = [
        ("IR version", str(a.ir_version), str(b.ir_version)),
        ("producer", f"{a.producer_name} {a.producer_version}".strip(),
         f"{b.producer_name} {b.producer_version}".strip()),
    ]  # fmt: skip
    left = {o.domain or "ai.onnx": o.version for o in a.opset_import}
    right = {o.domain or "ai.onnx": o.version for o in b.opset_import}
    pairs += [(f"opset {d}", str(left.get(d, "")), str(right.get(d, "")))
              for d in sorted(set(left) | set(right))]  # fmt: skip
    meta_a = {p.key: p.value for p in a.metadata_props}
    meta_b = {p.key: p.value for p in b.metadata_props}
    pairs += [(f"metadata {k}", meta_a.get(k, ""), meta_b.get(k, ""))
              for k in sorted(set(meta_a) | set(meta_b))]  # fmt: skip
    return [
        {"what": printable(what), "a": _short(x), "b": _short(y)} for what, x, y in pairs if x != y
    ]


def _identity(model: Model) -> dict[str, Any]:
    return {"name": model.name, "path": str(model.path or ""), "sha256": model.sha256}


def _size(model: Model) -> int:
    own = model.size_bytes if model.size_bytes is not None else len(model.serialized())
    return own + model.external_data.total_bytes


def _short(text: str) -> str:
    text = printable(text)
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]
