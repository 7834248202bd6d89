"""A runnable model whose every text field is an HTML, script, template and terminal attack.

Each payload marks the document (`<html data-xss="field">`) if any markup in it ever runs
(a DOM mark, since Netron's page forbids the eval tests use to read variables), and asks the
`sentinel` URL for `/<field>` if any markup is ever parsed as HTML (an image, a stylesheet,
a frame). The `$...$` and `{{ }}` parts probe matplotlib's mathtext and template engines; the
ANSI and bidi parts probe terminals.
"""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

from tests import models

FIELDS = (
    "doc_string", "producer_name", "producer_version", "domain", "graph_name", "graph_doc",
    "metadata_key", "metadata_value", "input", "output", "dim", "node",
)  # fmt: skip


def live_markup(sentinel: str) -> tuple[str, ...]:
    """Fragments of the payloads that only appear in HTML where they were not escaped."""
    return (
        "<img src=x", "<script>window", "<svg onload", f'<iframe src="{sentinel}',
        f'<link rel=stylesheet href="{sentinel}', f'<img src="{sentinel}',
    )  # fmt: skip


def payload(field: str, sentinel: str) -> str:
    """Text that does harm in `field`'s name wherever it is not escaped."""
    mark = f"document.documentElement.dataset.xss='{field}'"
    return (
        f'{field}<img src=x onerror="{mark}"><script>{mark}</script>'
        f'<svg onload="{mark}"></svg>"\'><iframe src="{sentinel}/{field}-frame"></iframe>'
        f'<link rel=stylesheet href="{sentinel}/{field}-css">'
        f'<img src="{sentinel}/{field}-img"> $\\frac{{a}}{{b}}$ {{{{7*7}}}} '
        "\x1b[31mred\x1b]0;title\x07 \u202eevil"
    )


def hostile_text_model(sentinel: str, plain: tuple[str, ...] = ()) -> onnx.ModelProto:
    """Relu on one input; every name, doc string and metadata entry is a payload, except
    the `plain` fields, which hold just their name."""
    text = {field: field if field in plain else payload(field, sentinel) for field in FIELDS}
    x = helper.make_tensor_value_info(text["input"], TensorProto.FLOAT, [text["dim"], 4])
    y = helper.make_tensor_value_info(text["output"], TensorProto.FLOAT, [text["dim"], 4])
    node = helper.make_node("Relu", [text["input"]], [text["output"]], name=text["node"])
    proto = models.make(
        [node], [x], [y], name=text["graph_name"], doc_string=text["doc_string"],
        producer_name=text["producer_name"], producer_version=text["producer_version"],
        domain=text["domain"],
    )  # fmt: skip
    proto.graph.doc_string = text["graph_doc"]
    helper.set_model_props(proto, {text["metadata_key"]: text["metadata_value"]})
    return proto
