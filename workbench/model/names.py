"""One identity per node: a name unique across the model, and where optimized nodes came from.

onnxruntime names what a graph leaves unnamed only inside a session (`Reshape_2` in its
profile, `''` again in the optimized model it saves), and fuses nodes into new ones
(`r_nchwc` for a Conv+Relu). The workbench therefore gives every node a name in a private
copy before profiling, optimizing or asking for placement (`Model.named()`; the user's file
is never changed), so the profile, the optimized graph, the placement and the viewer all
speak of the same nodes. Unnamed nodes get the name onnxruntime would give them,
`{op_type}_{index in its graph}`, so a profile onnxruntime took on the original file matches
too; a name already taken gets a `_{n}` suffix.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    import onnx

_GRAPH, _GRAPHS = 5, 10  # onnx.AttributeProto.GRAPH and GRAPHS
_SUFFIX = re.compile(r"_nchwc$")  # how onnxruntime names a node after the tensor it writes
# A fused node whose sources reach further than this is not mapped: past it, the tensors it
# reads no longer bound a fusion, and naming hundreds of "sources" would mislead.
MAX_SOURCES = 64


@dataclass(frozen=True)
class NamedNode:
    """One node's identity: its unique name, its op type and the graph it is in."""

    name: str
    op_type: str
    graph: str  # "" for the main graph, else e.g. "loop/body" (node name, attribute)
    original: str  # the name in the file ("" if it had none)


def graphs(proto: onnx.ModelProto) -> Iterator[tuple[str, onnx.GraphProto]]:
    """Every graph of the model with its path: the main graph first, then subgraphs."""
    pending: deque[tuple[str, onnx.GraphProto]] = deque([("", proto.graph)])
    while pending:  # breadth first: the main graph's nodes claim their names first
        path, graph = pending.popleft()
        yield path, graph
        for index, node in enumerate(graph.node):
            owner = node.name or f"{node.op_type}_{index}"
            for attr in node.attribute:
                prefix = f"{path}/{owner}" if path else owner
                if attr.type == _GRAPH:
                    pending.append((f"{prefix}/{attr.name}", attr.g))
                elif attr.type == _GRAPHS:
                    pending.extend(
                        (f"{prefix}/{attr.name}[{k}]", g) for k, g in enumerate(attr.graphs)
                    )


def name_nodes(proto: onnx.ModelProto) -> list[NamedNode]:
    """Give every node of `proto` a unique name, in place; every node's identity.

    A name keeps its first owner (main graph first); unnamed nodes and later owners of a
    taken name get new ones.
    """
    nodes = [(path, index, node) for path, graph in graphs(proto) for index, node in
             enumerate(graph.node)]  # fmt: skip
    taken: set[str] = set()
    renamed = []
    for path, index, node in nodes:
        if node.name and node.name not in taken:
            taken.add(node.name)
        else:
            renamed.append((path, index, node))
    identities: dict[int, NamedNode] = {}
    for path, index, node in renamed:
        base = node.name or f"{node.op_type}_{index}"
        name, suffix = base, 1
        while name in taken:
            name, suffix = f"{base}_{suffix}", suffix + 1
        taken.add(name)
        identities[id(node)] = NamedNode(name, node.op_type, path, node.name)
        node.name = name
    return [
        identities.get(id(node)) or NamedNode(node.name, node.op_type, path, node.name)
        for path, _, node in nodes
    ]


def needs_names(proto: onnx.ModelProto) -> bool:
    """True when some node has no name, or shares its name with another node."""
    seen: set[str] = set()
    for _, graph in graphs(proto):
        for node in graph.node:
            if not node.name or node.name in seen:
                return True
            seen.add(node.name)
    return False


def lineage(
    original: onnx.GraphProto, optimized: onnx.GraphProto
) -> dict[str, tuple[str, ...] | None]:
    """For each node of the optimized graph, the original nodes it came from.

    onnxruntime records nothing of it, but its fusions keep the names of the tensors they
    write (or name the node after one: `{tensor}_nchwc`): a node came from the original
    nodes between the tensors it reads and those it stands for, itself first where it kept
    its name (a Conv that absorbed a BatchNormalization keeps the Conv's name and writes
    the BatchNormalization's output). Tensors of its own (a reordered layout) stand for the
    original tensor their producer stands for. A node that stands for nothing new (a layout
    reorder, a copy) came from none: `()`; one whose sources reach too far, `None`.
    """
    kept = {n.name for n in original.node} & {n.name for n in optimized.node}
    producer = {out: node for node in original.node for out in node.output if out}
    stands_for: dict[str, str] = {t: t for t in producer}  # a tensor -> the original it is
    stands_for.update((v.name, v.name) for v in original.input)
    result: dict[str, tuple[str, ...] | None] = {}
    for node in optimized.node:  # in order: a node's inputs are known before it
        reads = {stands_for[t] for t in node.input if t in stands_for}
        written = [t for t in node.output if t in producer]
        if node.name in kept:
            absorbed = [t for t in written if producer[t].name != node.name]
            others = _between(absorbed, reads, producer, kept)
            result[node.name] = None if others is None else (node.name, *others)
            continue
        stem = _SUFFIX.sub("", node.name)
        anchors = [t for t in (*written, stem) if t in producer and t not in reads]
        result[node.name] = _between(anchors, reads, producer, kept)
        meaning = anchors[0] if anchors else (next(iter(reads)) if len(reads) == 1 else "")
        for tensor in node.output:
            if tensor and tensor not in producer and meaning:
                stands_for[tensor] = meaning
    return result


def _between(
    writes: list[str], reads: set[str], producer: dict[str, onnx.NodeProto], kept: set[str]
) -> tuple[str, ...] | None:
    """The original nodes that compute `writes` from `reads`, walking back; None past a bound.

    The bound is `MAX_SOURCES`.
    """
    found: dict[str, None] = {}
    pending = list(writes)
    seen: set[str] = set()
    while pending:
        tensor = pending.pop()
        node = producer.get(tensor)
        if tensor in seen or node is None or node.name in kept:
            continue
        seen.add(tensor)
        if node.name not in found:
            found[node.name] = None
            if len(found) > MAX_SOURCES:
                return None
            pending.extend(t for t in node.input if t and t not in reads)
    return tuple(found)
