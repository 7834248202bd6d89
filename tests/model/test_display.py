"""The HTML and text views show everything and let no model string act as markup or escapes."""

from __future__ import annotations

import html.parser

import onnx
import pytest

import workbench
from tests import models
from workbench.text import printable, shortened

SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '<img src=x onerror="window.__pwned = 2">'


def hostile_model() -> onnx.ModelProto:
    proto = models.build("symbolic_dims")
    proto.doc_string = SCRIPT
    proto.producer_name = IMG
    proto.graph.name = "</table><b>graph</b>"
    proto.graph.input[0].name = f"in{SCRIPT}"
    proto.graph.node[0].input[0] = f"in{SCRIPT}"
    onnx.helper.set_model_props(proto, {IMG: SCRIPT, "long": "x" * 500 + SCRIPT})
    return proto


class _TagCollector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]


def test_html_escapes_every_model_string() -> None:
    page = workbench.load(hostile_model())._repr_html_()
    parser = _TagCollector()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags and "b" not in parser.tags
    assert "onerror" not in parser.attributes
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=" in page


def test_html_shows_the_facts() -> None:
    page = workbench.load(workbench.demo_model())._repr_html_()
    for fact in (
        "tinynet",
        "image",
        "[batch, 3, 32, 32]",
        "probabilities",
        "Conv",
        "MIT",
        "ai.onnx 17",
    ):
        assert fact in page


def test_html_and_text_show_compatibility_warnings(model_path, load_quietly) -> None:
    model = load_quietly(model_path("ir_stamped_too_new"))
    assert "with_ir_version" in model._repr_html_()
    assert "with_ir_version" in model.text()


def test_text_neutralizes_terminal_escapes() -> None:
    proto = models.build("mixed_io")
    proto.doc_string = "\x1b[2J\x1b[31mred\u202eevil"
    text = workbench.load(proto).text()
    assert "\x1b" not in text and "\u202e" not in text
    assert "\\x1b[2J" in text and "\\u202e" in text


@pytest.mark.parametrize("text", ["plain", "tab\tand\nnewline", "unicode é 中"])
def test_printable_leaves_ordinary_text_alone(text: str) -> None:
    assert printable(text) == text


def test_text_summary_lists_io_and_ops() -> None:
    text = workbench.load(models.build("control_flow")).text()
    assert "Inputs (2)" in text and "Outputs (4)" in text
    assert "12 nodes" in text
    assert repr(workbench.load(models.build("control_flow"))).startswith("<Model 'test'")


def test_a_model_without_inputs_has_no_stray_blank_lines() -> None:
    proto = models.make(
        [
            onnx.helper.make_node(
                "Constant", [], ["y"], value=onnx.helper.make_tensor("c", 1, [1], [1.0])
            )
        ],
        [],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])],
    )
    text = workbench.load(proto).text()
    assert "Inputs (0)\n\nOutputs (1)\n  y" in text and "\n\n\n" not in text


def test_long_descriptions_wrap_and_long_data_is_cut() -> None:
    prose = " ".join(["word"] * 60)  # 299 characters on one line
    text, cut = shortened(prose, lines=8, width=100, wrap=True)
    assert not cut and text.replace("\n", " ") == prose
    assert max(map(len, text.splitlines())) <= 100
    data = "x" * 300  # a JSON config on one line: cut, with its size
    text, cut = shortened(data)
    assert cut and text.endswith("\N{HORIZONTAL ELLIPSIS} (300 characters)")
    text, cut = shortened("\n".join(map(str, range(1000))))
    assert cut and text.splitlines() == ["0", "1", "... 998 more lines (3.8 KiB)"]
    assert shortened("short") == ("short", False)
