"""`Model.subgraph(...)`: part of a model as a valid model of its own.

Around a node (`around=`, `depth=` hops along its tensors), between two tensors
(`between=`), or a list of nodes (`nodes=`): the nodes chosen, the initializers they read
(external weights stay on disk, referenced where they are), tensors read from outside as
inputs and tensors read outside (or the graph's outputs) as outputs, with the shapes shape
inference gives them. Subgraph bodies (If, Loop, Scan) come whole, with what they read from
the outer graph. A part onnx's checker refuses is never handed out.
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import TYPE_CHECKING

from workbench.errors import WorkbenchError
from workbench.model.names import graphs
from workbench.text import did_you_mean, printable

_GRAPH = 5  # onnx.AttributeProto.GRAPH (else GRAPHS)

if TYPE_CHECKING:
    import onnx


def subgraph(
    proto: onnx.ModelProto,
    *,
    around: str | None = None,
    depth: int = 1,
    between: tuple[str, str] | None = None,
    nodes: list[str] | None = None,
) -> onnx.ModelProto:
    """The part of `proto` (every node named) asked for, checked (`Model.subgraph`)."""
    chosen = _choose(proto.graph, around=around, depth=depth, between=between, nodes=nodes)
    part = _part(proto, chosen)
    _check(part)
    return part


def _choose(
    graph: onnx.GraphProto,
    *,
    around: str | None,
    depth: int,
    between: tuple[str, str] | None,
    nodes: list[str] | None,
) -> list[int]:
    """Indexes of the main graph's nodes that make the part, in graph order."""
    asked = [x is not None for x in (around, between, nodes)]
    if sum(asked) != 1:
        raise WorkbenchError(
            "Say which part: one of around=NODE, between=(TENSOR, TENSOR) or nodes=[...].",
            "E.g. model.subgraph(around='encoder/layer.3/MatMul', depth=2).",
        )
    index = {node.name: i for i, node in enumerate(graph.node)}
    if around is not None:
        if depth < 0:
            raise WorkbenchError(f"depth must be 0 or more, not {depth}.", "E.g. depth=2.")
        return _near(graph, _find(index, around), depth)
    if nodes is not None:
        if not nodes:
            raise WorkbenchError("nodes= is empty.", "Name at least one node.")
        return sorted({_find(index, name) for name in nodes})
    assert between is not None
    return _between(graph, *between)


def _find(index: dict[str, int], name: str) -> int:
    if name not in index:
        raise WorkbenchError(
            f"The model has no node named {printable(name)!r}.{did_you_mean(name, list(index))}",
            "Node names are those show_graph draws (unnamed nodes as onnxruntime names them).",
        )
    return index[name]


def _near(graph: onnx.GraphProto, start: int, depth: int) -> list[int]:
    """Nodes within `depth` hops of `start`, through the tensors they share either way."""
    producer = {out: i for i, node in enumerate(graph.node) for out in node.output if out}
    consumers: dict[str, list[int]] = defaultdict(list)
    for i, node in enumerate(graph.node):
        for tensor in node.input:
            consumers[tensor].append(i)
    seen = {start}
    frontier = deque([(start, 0)])
    while frontier:
        current, distance = frontier.popleft()
        if distance == depth:
            continue
        node = graph.node[current]
        neighbours = [producer[t] for t in node.input if t in producer]
        neighbours += [c for t in node.output for c in consumers.get(t, [])]
        for other in neighbours:
            if other not in seen:
                seen.add(other)
                frontier.append((other, distance + 1))
    return sorted(seen)


def _between(graph: onnx.GraphProto, first: str, last: str) -> list[int]:
    """Nodes on a path from tensor `first` to tensor `last`."""
    producer = {out: i for i, node in enumerate(graph.node) for out in node.output if out}
    known = set(producer) | {v.name for v in graph.input} | {t.name for t in graph.initializer}
    for tensor in (first, last):
        if tensor not in known:
            raise WorkbenchError(
                f"The model has no tensor named {printable(tensor)!r}."
                f"{did_you_mean(tensor, sorted(known))}",
                "Tensor names are the edges show_graph draws.",
            )
    after: set[int] = set()
    reached = {first}
    for i, node in enumerate(graph.node):  # graph order is topological
        if reached & set(node.input):
            after.add(i)
            reached.update(node.output)
    before: set[int] = set()
    pending = [last]
    while pending:
        found = producer.get(pending.pop())
        if found is not None and found not in before:
            before.add(found)
            pending.extend(graph.node[found].input)
    chosen = sorted(after & before)
    if not chosen:
        raise WorkbenchError(
            f"No path leads from {printable(first)!r} to {printable(last)!r}.",
            "Check the order: between=(an earlier tensor, a later one).",
        )
    return chosen


def _part(proto: onnx.ModelProto, chosen: list[int]) -> onnx.ModelProto:
    """A model of the chosen nodes: their weights, the inputs and outputs at its boundary."""
    import onnx  # noqa: PLC0415  (heavy: loaded already, the model is parsed)

    graph = proto.graph
    picked = [graph.node[i] for i in chosen]
    produced = {t for node in picked for t in node.output if t}
    read = [t for node in picked for t in _reads(node) if t]
    weights = {t.name: t for t in graph.initializer}
    outside_readers = {t for i, node in enumerate(graph.node) if i not in set(chosen)
                       for t in _reads(node)}  # fmt: skip
    graph_outputs = {v.name for v in graph.output}
    inputs = list(dict.fromkeys(t for t in read if t not in produced and t not in weights))
    outputs = [t for node in picked for t in node.output
               if t and (t in outside_readers or t in graph_outputs)]  # fmt: skip
    if not outputs:  # nothing reads it elsewhere: the part's last outputs are its outputs
        outputs = [t for t in picked[-1].output if t]
    shapes = _value_infos(proto)
    part = onnx.helper.make_graph(
        [_copy(node) for node in picked],
        f"{graph.name}_part",
        [_value(shapes, t) for t in inputs],
        [_value(shapes, t) for t in dict.fromkeys(outputs)],
        initializer=[weights[t] for t in dict.fromkeys(read) if t in weights],
    )
    model = onnx.helper.make_model(part, opset_imports=list(proto.opset_import),
                                   ir_version=proto.ir_version)  # fmt: skip
    model.functions.extend(proto.functions)
    return model


def _reads(node: onnx.NodeProto) -> list[str]:
    """The tensors a node reads: its inputs, and what its subgraph bodies read from outside."""
    found = list(node.input)
    for attribute in node.attribute:
        bodies = [attribute.g] if attribute.type == _GRAPH else list(attribute.graphs)
        for body in bodies:
            found += _body_reads(body)
    return found


def _body_reads(body: onnx.GraphProto) -> list[str]:
    """Names a subgraph body reads from its enclosing scopes."""
    inner = []
    own: set[str] = set()
    for _, graph in graphs(_as_model(body)):
        own.update(v.name for v in graph.input)
        own.update(t.name for t in graph.initializer)
        for node in graph.node:
            own.update(o for o in node.output if o)
            inner.append(node)
    return [t for node in inner for t in node.input if t and t not in own]


def _as_model(body: onnx.GraphProto) -> onnx.ModelProto:
    import onnx  # noqa: PLC0415  (heavy: loaded already, the model is parsed)

    model = onnx.ModelProto()
    model.graph.CopyFrom(body)
    return model


def _copy(node: onnx.NodeProto) -> onnx.NodeProto:
    copy = type(node)()
    copy.CopyFrom(node)
    return copy


def _value_infos(proto: onnx.ModelProto) -> dict[str, onnx.ValueInfoProto]:
    """Every tensor's type and shape: the graph's own, and shape inference's."""
    import onnx  # noqa: PLC0415  (heavy: loaded already, the model is parsed)

    try:
        inferred = onnx.shape_inference.infer_shapes(proto).graph
    except Exception:  # shape inference refuses some models: the recorded types stand
        inferred = proto.graph
    found = {}
    for value in (*inferred.value_info, *inferred.input, *inferred.output):
        found[value.name] = value
    return found


def _value(shapes: dict[str, onnx.ValueInfoProto], name: str) -> onnx.ValueInfoProto:
    import onnx  # noqa: PLC0415  (heavy: loaded already, the model is parsed)

    copy = onnx.ValueInfoProto(name=name)
    known = shapes.get(name)
    if known is not None:
        copy.CopyFrom(known)
    return copy


def _check(proto: onnx.ModelProto) -> None:
    import onnx.checker  # noqa: PLC0415  (heavy: loaded already, the model is parsed)

    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as error:
        raise WorkbenchError(
            f"This part is not a valid model of its own: {str(error).splitlines()[0]}",
            "Take a larger part (a greater depth), or another node.",
        ) from None
