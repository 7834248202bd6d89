"""`Model.blocks()`: the repeated blocks of a model (the 12 layers of an encoder), by structure.

A block is a run of nodes whose op types repeat, in graph order, back to back: the longest
such repetition (most nodes covered; the shortest period on a tie) gives the blocks. Names
play no part in finding them, so a model whose exporter named nothing is covered too; where
nodes are named (or, from PyTorch, carry their module path), the blocks are aligned on the
names (a layer starts where its prefix does) and labelled by the prefix they share.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnx

MIN_NODES = 2  # a block is at least two nodes
# ...and the blocks cover at least this share of the graph: two short runs of the same ops
# turn up by chance in any long graph (7 random op types of 8 twice in 10,000), layers do not.
MIN_SHARE = 0.2
MAX_PERIOD = 4000  # nodes in a block at most: keeps a 60,000-node graph's search under a second
_TORCH_SCOPES = "pkg.torch.onnx.name_scopes"  # the PyTorch exporter's module path of a node
_SCOPES_CHARS = 4096  # a longer entry is not read (it comes from the file: untrusted)
_SEPARATORS = re.compile(r"[/.:_-]+[^/.:_-]*$")  # the last path component of a prefix


@dataclass(frozen=True)
class Block:
    """One repetition: its place among the blocks, its nodes in graph order, its label."""

    index: int
    nodes: tuple[str, ...]
    label: str  # the name prefix its nodes share ("" when they share none)

    @property
    def first(self) -> str:
        """The block's first node."""
        return self.nodes[0]

    @property
    def last(self) -> str:
        """The block's last node."""
        return self.nodes[-1]

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (nodes counted, not listed)."""
        return {"index": self.index, "label": self.label, "nodes": len(self.nodes),
                "first": self.first, "last": self.last}  # fmt: skip


def find_blocks(graph: onnx.GraphProto, given: list[str]) -> list[Block]:
    """The repeated blocks of the main graph (every node named), or [] when nothing repeats.

    `given`: each node's path as the file gives it (`node_path`; "" where none). Where it
    names every node and no block's nodes share a prefix, the repetition is not the
    model's own structure (a Relu, MaxPool, Conv twice over), and no blocks are found.
    """
    nodes = list(graph.node)
    if len(nodes) < 2 * MIN_NODES:
        return []
    codes = _codes(nodes)
    best = _longest_repeat(codes)
    if best is None or best[0] * best[2] < MIN_SHARE * len(nodes):
        return []
    period, start, count = best
    names = [n.name for n in nodes]
    start, count = _aligned(given, period, start, count)
    blocks = []
    for index in range(count):
        span = slice(start + index * period, start + (index + 1) * period)
        blocks.append(Block(index, tuple(names[span]), _label(tuple(given[span]))))
    if all(given[start : start + count * period]) and not any(b.label for b in blocks):
        return []
    if len({b.label for b in blocks}) == 1:  # "node" for every block names none of them
        blocks = [Block(b.index, b.nodes, "") for b in blocks]
    return blocks


def _codes(nodes: list[onnx.NodeProto]) -> np.ndarray:
    """One integer per node: its op (domain, type) and its arity."""
    seen: dict[tuple[str, str, int, int], int] = {}
    keys = [(n.domain, n.op_type, len(n.input), len(n.output)) for n in nodes]
    return np.array([seen.setdefault(k, len(seen)) for k in keys], dtype=np.int64)


def _longest_repeat(codes: np.ndarray) -> tuple[int, int, int] | None:
    """(period, start, count) of the back-to-back repetition covering the most nodes."""
    best: tuple[int, int, int] | None = None
    covered = 0
    n = len(codes)
    for period in range(MIN_NODES, min(n // 2, MAX_PERIOD) + 1):
        if period * (n // period) <= covered:  # even a perfect run could not beat it
            continue
        same = codes[:-period] == codes[period:]
        length, start = _longest_true_run(same)
        count = length // period + 1
        if count >= 2 and count * period > covered:
            best, covered = (period, start, count), count * period
    return best


def _longest_true_run(flags: np.ndarray) -> tuple[int, int]:
    """(length, start) of the longest run of True values."""
    padded = np.concatenate(([0], flags.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    if not len(edges):
        return 0, 0
    starts, ends = edges[::2], edges[1::2]
    longest = int(np.argmax(ends - starts))
    return int(ends[longest] - starts[longest]), int(starts[longest])


def _aligned(names: list[str], period: int, start: int, count: int) -> tuple[int, int]:
    """Shift the blocks (by less than a period) to where their nodes share the longest names.

    A rotation keeps the blocks inside the repeating run: shifting by r loses the last block.
    """
    if not any(names[start : start + period]):
        return start, count
    scores = []
    for shift in range(period if count > 2 else 1):
        kept = count if shift == 0 else count - 1
        sample = [names[start + shift + i * period : start + shift + (i + 1) * period]
                  for i in range(min(kept, 3))]  # fmt: skip
        scores.append(sum(len(_label(tuple(block))) for block in sample) / len(sample))
    shift = int(np.argmax(scores))
    return start + shift, count if shift == 0 else count - 1


def _label(names: tuple[str, ...]) -> str:
    """The path prefix the names share ("encoder/layer.3"), cut at a separator."""
    prefix = os.path.commonprefix(list(names))  # noqa: RUF071  (a name's prefix, not a path's)
    if prefix and not all(name == prefix for name in names):
        if "/" in prefix:
            prefix = prefix.rpartition("/")[0]
        else:
            prefix = _SEPARATORS.sub("", prefix) if _SEPARATORS.search(prefix) else ""
    return prefix.strip("/")


def node_path(node: onnx.NodeProto) -> str:
    """Where a node sits in its model's modules: PyTorch's name scopes, else its name.

    The PyTorch exporter names nodes `node_linear_3` but records each node's module path
    (`layers.3/layers.3.fc`) in its metadata; that is what tells one layer from the next.
    """
    for entry in node.metadata_props:
        if entry.key == _TORCH_SCOPES and len(entry.value) < _SCOPES_CHARS:
            try:
                scopes = ast.literal_eval(entry.value)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                break
            if isinstance(scopes, list) and all(isinstance(x, str) for x in scopes):
                return "/".join(x for x in scopes if x)
    return node.name
