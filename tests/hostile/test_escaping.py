"""Text from a model file never becomes markup, script, a template or a terminal command.

Every HTML view, text view, repr, plot and report is built from a model whose every name,
doc string and metadata entry is an attack (tests/hostile/payloads.py). In HTML the payloads
must appear only escaped; in text, control characters only as visible escapes. The same
outputs in a real browser are checked in tests/integration/test_hostile_browser.py.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import matplotlib
import pytest

import workbench
from tests.hostile.payloads import FIELDS, hostile_text_model, live_markup, payload

matplotlib.use("Agg")
SENTINEL = "http://127.0.0.1:9"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def model():
    return workbench.load(hostile_text_model(SENTINEL).SerializeToString())


@pytest.fixture(scope="module")
def bench(model):
    return workbench.benchmark(model, providers=["cpu"], runs=3, warmup=1, profile=True)


def assert_escaped(markup: str, shows: tuple[str, ...]) -> None:
    """No payload's markup is live, and the fields in `shows` are there, escaped."""
    for fragment in live_markup(SENTINEL):
        at = markup.find(fragment)
        assert at < 0, f"live {fragment!r} in HTML: ...{markup[max(at - 150, 0) : at + 150]}..."
    for field in shows:
        assert html.escape(f"{field}<img src=x", quote=False) in markup, f"{field} not shown"
    if shows:
        assert "{{7*7}}" in markup  # shown as written: never evaluated as a template
    found = CONTROL.search(markup)
    assert not found, f"control character {found.group()!r} in HTML"


def assert_plain(text: str) -> None:
    found = CONTROL.search(text)
    assert not found, f"control character {found.group()!r} in {text[:300]!r}"


def test_model_views(model) -> None:
    assert_escaped(model._repr_html_(), tuple(f for f in FIELDS if f != "node"))
    for text in (repr(model), model.text(), model.graph_text(), str(model.as_dict())):
        assert_plain(text)
    assert "input<img src=x" in model.text()  # shown, as plain text


def test_run_views(model) -> None:
    result = model.run()
    assert_escaped(result._repr_html_(), ("output",))
    assert_plain(repr(result))
    assert_plain(result.text())


def test_compare_views(model) -> None:
    comparison = workbench.compare(model, providers=["cpu"], expected=model.run().outputs)
    assert_escaped(comparison._repr_html_(), ("output",))
    assert_plain(comparison.text())


def test_benchmark_views_and_plots(bench) -> None:
    assert_escaped(bench._repr_html_(), ())
    assert_plain(bench.text())
    assert_plain(repr(bench))
    for kind in ("p50", "distribution"):
        bench.plot(kind).figure.canvas.draw()
    profile = bench.profile
    assert_escaped(profile._repr_html_(), ())
    profile.plot(by="node").figure.canvas.draw()  # mathtext in a node name must not break it


def test_report_file_and_diff(bench, tmp_path: Path) -> None:
    (page,) = bench.report(str(tmp_path / "report.html"))
    assert_escaped(Path(page).read_text(), ())
    again = workbench.load_report(page)  # the embedded data round-trips unharmed
    nodes = again.profile.to_frame()["node"]
    assert nodes.str.startswith(payload("node", SENTINEL)[:40]).any()
    diff = workbench.diff_reports(bench, again)
    assert_escaped(diff._repr_html_(), ())
    assert_plain(diff.text())


def test_graph_view_summary(model) -> None:
    bundle = model.show_graph()._repr_mimebundle_()
    assert_escaped(bundle["text/html"], ("graph_name", "input", "output"))
    assert_plain(bundle["text/plain"])


def test_payload_builder_covers_every_field() -> None:
    serialized = hostile_text_model(SENTINEL).SerializeToString().decode("utf-8", "replace")
    assert all(payload(field, SENTINEL) in serialized for field in FIELDS)
