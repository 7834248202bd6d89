"""Render a `Model` as text (terminal, CLI) or HTML (notebook). Rendering only, no logic.

Model strings are untrusted: HTML goes through jinja2 with autoescaping, and text has
terminal control characters made visible so a doc_string cannot rewrite the terminal.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

from workbench.signature import ValueInfo

if TYPE_CHECKING:
    import jinja2

    from workbench.model import Model

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
TOP_OPS = 15


def printable(text: str) -> str:
    """Make control characters (ANSI escapes, bidi overrides) visible as escapes."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def describe_node(name: str, op_type: str) -> str:
    """How messages name a node: `node 'conv1' (Conv)`, or `an unnamed Conv node`."""
    return f"node {name!r} ({op_type})" if name else f"an unnamed {op_type} node"


def _decoded(text: str | bytes) -> str:
    """A node or tensor name; protobuf gives names that are not UTF-8 as bytes."""
    return text.decode("utf-8", "backslashreplace") if isinstance(text, bytes) else text


def shape_text(value: ValueInfo) -> str:
    """`[batch, 3, 224, 224]`, with `?` for unknown dims; container types have no shape."""
    if value.shape is None:
        return "" if value.type.kind not in ("tensor", "sparse_tensor") else "unknown rank"
    return "[" + ", ".join("?" if d is None else str(d) for d in value.shape) + "]"


class ProviderNotes:
    """Which compiled-in providers cannot run here, and why (under a model's card)."""

    def __init__(self) -> None:
        from workbench import providers  # noqa: PLC0415  (providers imports this module)

        self.unusable = [s for s in providers.all_statuses() if not s.usable]

    def __repr__(self) -> str:
        return "\n".join(f"! {s.alias}: not usable here: {s.reason}" for s in self.unusable)

    def _repr_html_(self) -> str:
        return render("provider_notes.html.j2", statuses=self.unusable)


def first_line(text: str) -> str:
    """The first non-blank line, stripped ("" for none): the gist of a long error text."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def human_bytes(count: int | None) -> str:
    """1536 -> '1.5 KiB'."""
    if count is None:
        return "n/a"
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def human_count(count: int) -> str:
    """1234567 -> '1.23 M'."""
    for threshold, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if count >= threshold:
            return f"{count / threshold:.2f} {suffix}"
    return str(count)


def _view(model: Model) -> dict[str, Any]:
    """The facts both renderers show, in display order."""
    meta = model.metadata
    ext = model.external_data
    opsets = ", ".join(f"{d} {v}" for d, v in meta.opset_imports.items())
    facts = [
        ("Path", str(model.path) if model.path else "(in memory)"),
        ("Producer", f"{meta.producer_name} {meta.producer_version}".strip()),
        ("Domain", meta.domain),
        ("Model version", str(meta.model_version) if meta.model_version else ""),
        ("Graph", meta.graph_name),
        ("IR version", str(meta.ir_version)),
        ("Opsets", opsets),
        ("File size", human_bytes(model.size_bytes) if model.size_bytes is not None else ""),
        (
            "Nodes",
            f"{model.node_count:,}"
            + (f" ({model.subgraph_count} subgraphs)" if model.subgraph_count else ""),
        ),
        (
            "Parameters",
            f"{human_count(model.parameter_count)} in "
            f"{model.initializer_count:,} initializers ({human_bytes(model.initializer_bytes)})",
        ),
    ]
    if ext.files:
        facts.append(("External data", f"{len(ext.files)} file(s), {human_bytes(ext.total_bytes)}"))
    ops = model.ops
    top = list(ops.items())[:TOP_OPS]
    return {
        "title": model.name,
        "facts": [(k, v) for k, v in facts if v],
        "doc_string": meta.doc_string,
        "graph_doc_string": (
            meta.graph_doc_string if meta.graph_doc_string != meta.doc_string else ""
        ),
        "metadata_props": meta.metadata_props,
        "inputs": [_io_row(v) for v in model.inputs],
        "outputs": [_io_row(v) for v in model.outputs],
        "top_ops": top,
        "other_ops": (len(ops) - len(top), sum(ops.values()) - sum(c for _, c in top)),
        "max_op": max(ops.values(), default=1),
        "warnings": [f"{p.message} {p.hint}" for p in model.problems],
        "runtime": model.compatibility.runtime,
    }


def _io_row(value: ValueInfo) -> dict[str, str]:
    kind = value.type.kind
    return {
        "name": value.name,
        "type": value.dtype if kind == "tensor" and value.dtype else value.type.text,
        "shape": shape_text(value),
    }


def model_text(model: Model) -> str:
    """A readable multi-line summary (CLI `info`, terminal IPython)."""
    view = _view(model)
    lines = [f"Model {view['title']}"]
    width = max(len(k) for k, _ in view["facts"])
    lines += [f"  {k.ljust(width)}  {v}" for k, v in view["facts"]]
    for key, title in (("doc_string", "Description"), ("graph_doc_string", "Graph description")):
        if view[key]:
            lines += ["", title, *(f"  {line}" for line in view[key].splitlines())]
    if view["metadata_props"]:
        lines += ["", "Metadata"]
        lines += [f"  {k}: {v}" for k, v in view["metadata_props"].items()]
    for title in ("inputs", "outputs"):
        rows = view[title]
        lines += ["", f"{title.capitalize()} ({len(rows)})"]
        lines += _columns([[r["name"], r["type"], r["shape"]] for r in rows])
    lines += ["", f"Ops ({sum(model.ops.values()):,} nodes, {len(model.ops)} types)"]
    lines += [f"  {count:>6,}  {op}" for op, count in view["top_ops"]]
    kinds, nodes = view["other_ops"]
    if kinds:
        lines.append(f"  {nodes:>6,}  ({kinds} other op types)")
    if view["warnings"]:
        lines += ["", "Warnings"]
        lines += [f"  ! {w}" for w in view["warnings"]]
    return printable("\n".join(lines))


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(*rows, strict=True)]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]


def graph_text(model: Model, limit: int = 40) -> str:
    """The graph as text: inputs, outputs, and the first `limit` nodes in order."""
    graph = model.proto.graph
    lines = [
        f"Graph {model.metadata.graph_name or model.name}: {model.node_count:,} nodes "
        f"({len(model.ops)} op types), {len(model.inputs)} inputs, {len(model.outputs)} outputs",
        "  inputs:  " + ", ".join(f"{v.name} {v.type.text} {shape_text(v)}" for v in model.inputs),
        "  outputs: " + ", ".join(f"{v.name} {v.type.text} {shape_text(v)}" for v in model.outputs),
    ]
    for node in list(graph.node)[:limit]:
        op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}"
        name = f" {_decoded(node.name)}" if node.name else ""
        inputs, outputs = (", ".join(map(_decoded, names)) for names in (node.input, node.output))
        lines.append(f"  {op}{name}: {inputs} -> {outputs}")
    if len(graph.node) > limit:
        lines.append(f"  ... {len(graph.node) - limit:,} more nodes in the main graph")
    return printable("\n".join(lines))


def model_html(model: Model) -> str:
    """The notebook card: metadata, IO table, op histogram, warnings; everything escaped."""
    return render("model.html.j2", **_view(model))


def render(template: str, **context: Any) -> str:
    """Render a package template with autoescaping (every string is treated as untrusted)."""
    return _environment().get_template(template).render(**context)


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2  # noqa: PLC0415
    import markupsafe  # noqa: PLC0415  (installed with jinja2)

    def shown(value: Any) -> Any:
        # Control characters would hide or reorder text (bidi overrides): show them as escapes.
        # Markup (|tojson, |safe) is already encoded for its context and is left alone.
        plain = isinstance(value, str) and not isinstance(value, markupsafe.Markup)
        return printable(value) if plain else value

    return jinja2.Environment(
        loader=jinja2.PackageLoader("workbench", "templates"),
        autoescape=True,  # every string from a model file is untrusted
        finalize=shown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
