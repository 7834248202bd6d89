"""Third-party-style models (tests/models/thirdparty.py) through every surface: info, run with
default and partial feeds, compare, bench, the graph view and the CLI."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest

import workbench
from tests.models import thirdparty
from workbench.cli.main import main
from workbench.graphview.show import save_graph, show_graph

NAMES = list(thirdparty.MODELS)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The model called `name`, built once per session (skipped where its exporter is absent)."""
    folder = tmp_path_factory.mktemp("thirdparty")

    @functools.cache
    def build(name: str) -> Path:
        return thirdparty.MODELS[name].build(folder)

    def get(name: str) -> Path:
        absent = thirdparty.missing(name)
        if absent is not None:
            if os.environ.get("CI"):
                pytest.fail(f"CI installs the examples extra, but {absent} is missing")
            pytest.skip(f"building {name} needs {absent}: pip install -e '.[examples]'")
        with warnings.catch_warnings(), _quiet("root"):
            warnings.simplefilter("ignore")  # exporters' and the quantizer's own notes
            return build(name)

    return get


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _weights(graph: onnx.GraphProto) -> int:
    """Elements of every initializer, Constant tensor and ONNX-ML float attribute, subgraphs
    included (an oracle written apart from the workbench's own walk)."""
    total = sum(int(np.prod(t.dims)) for t in graph.initializer)
    for node in graph.node:
        for attribute in node.attribute:
            if node.op_type == "Constant" and attribute.name == "value":
                total += int(np.prod(attribute.t.dims))
            if node.domain == "ai.onnx.ml":
                total += len(attribute.floats)
            total += sum(_weights(g) for g in (*attribute.graphs, attribute.g) if g.node)
    return total


@pytest.mark.parametrize("name", NAMES)
def test_info_counts_every_weight_and_shows_every_input(name, built) -> None:
    path = built(name)
    model = workbench.load(path)
    proto = onnx.load(path, load_external_data=False)
    assert model.parameter_count == _weights(proto.graph)
    assert model.parameter_count > 0 or name == "scalar_config"  # its inputs are its knobs
    text, page = model.text(), model._repr_html_()
    for value in (*model.inputs, *model.outputs):
        assert value.name in text and value.name in page
    json.dumps(model.as_dict())  # JSON-ready whatever the exporter put in it


@pytest.mark.parametrize("name", NAMES)
def test_run_with_default_and_partial_feeds(name, built) -> None:
    model, spec = workbench.load(built(name)), thirdparty.MODELS[name]
    default = model.run()
    assert set(default.outputs) == {v.name for v in model.outputs}
    assert not any(row["given"] for row in default.input_rows())
    partial = model.run(spec.partial or None, values=spec.values or None)
    given = {row["name"] for row in partial.input_rows() if row["given"]}
    assert given == set(spec.partial) | set(spec.values)
    for input_name, value in spec.partial.items():
        assert np.array_equal(partial.feeds[input_name], value)
    for input_name, value in spec.values.items():  # a scalar fills the input's shape
        fed = partial.feeds[input_name]
        assert (fed == np.asarray(value, dtype=fed.dtype)).all(), input_name


@pytest.mark.parametrize("name", NAMES)
def test_compare_and_bench_take_the_same_feeds(name, built) -> None:
    model, spec = workbench.load(built(name)), thirdparty.MODELS[name]
    feeds, values = spec.partial or None, spec.values or None
    expected = model.run(feeds, values=values).outputs
    comparison = workbench.compare(model, ["cpu"], feeds, values=values, expected=expected)
    assert comparison.passed, comparison.text()
    result = workbench.benchmark(
        model, ["cpu"], feeds=feeds, values=values, runs=3, warmup=1, progress=False
    )
    (row,) = result.results
    assert row.status == "ok" and row.stats is not None and row.stats.n == 3, row.reason


@pytest.mark.parametrize("name", NAMES)
def test_the_graph_view_shows_the_model_and_its_optimized_graph(name, built, monkeypatch) -> None:
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(built(name).parent / "runtime"))
    monkeypatch.delenv("JPY_PARENT_PID", raising=False)
    view = show_graph(built(name), optimized="both")
    assert view.mode == "local" and [p.label.split(" ")[0] for p in view.panels] == [
        "original",
        "optimized",
    ]
    html = view._repr_mimebundle_()["text/html"]
    data = json.loads(html.split('class="wb-graph-data">')[1].split("</script>")[0])
    assert [p["model"] for p in data["panels"]] == [p.local_url for p in view.panels]
    assert repr(view).splitlines()[1].startswith("Graph ")


@pytest.mark.parametrize("name", NAMES)
def test_its_profile_and_placement_are_drawn_on_the_graph_it_ran(name, built, tmp_path) -> None:
    """Every profiled node is found on the optimized graph (subgraphs, unnamed nodes, fused
    and quantized ones included), and the CLI writes the overlay's offline file."""
    model, spec = workbench.load(built(name)), thirdparty.MODELS[name]
    profile = workbench.profile(model, feeds=spec.partial or None, values=spec.values or None,
                                runs=2, warmup=1)  # fmt: skip
    _, overlay = save_graph(model, tmp_path / "profile.html", overlay=profile)
    assert overlay is not None and overlay.unmatched == [], overlay.text()
    assert overlay.matched == len(profile.rows) > 0
    assert 0 < overlay.attributed_share <= 1
    placed = workbench.load(built(name))
    _, placement = save_graph(placed, tmp_path / "placement.html", overlay="placement")
    assert placement is not None and placement.matched > 0, placement.text()
    if not spec.partial and not spec.values:  # the CLI synthesizes every input
        done = main(["graph", str(built(name)), "--overlay", "profile", "--runs", "2",
                     "--html", str(tmp_path / "cli.html")])  # fmt: skip
        assert done == 0 and (tmp_path / "cli.html").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_its_variants_are_made_or_skipped_with_the_reason(name, built, tmp_path) -> None:
    """fp16 and int8-dynamic on every model: made and measured, or skipped saying why
    (nothing to quantize, already quantized); never a failure, never a silent row."""
    model, spec = workbench.load(built(name)), thirdparty.MODELS[name]
    result = workbench.evaluate(model, ["fp16", "int8-dynamic"], samples=2, time_budget=0.1,
                                values=spec.values or None, folder=tmp_path)  # fmt: skip
    rows = {r.variant: r for r in result.rows}
    assert {r.status for r in result.rows} <= {"ok", "skipped"}, result.text()
    assert all(r.reason for r in result.rows if r.status == "skipped")
    if name == "transformer_encoder":  # weights worth quantizing: a quarter of the size
        int8 = rows["int8-dynamic"]
        assert int8.status == "ok" and int8.size_bytes < rows["reference"].size_bytes / 2
        assert int8.cosine is not None and int8.cosine > 0.99


@pytest.mark.browser
def test_each_model_draws_in_its_offline_file(built, tmp_path) -> None:
    """Our viewer bundles netron's ONNX reader only: every third-party model still draws,
    subgraphs, ONNX-ML and quantized contrib ops included, with no error from Netron."""
    from tests.integration.browser import chromium

    with chromium() as browser:
        context = browser.new_context()
        for name in NAMES:
            out = show_graph(built(name)).save(tmp_path / f"{name}.html")
            page = context.new_page()
            page.goto(out.as_uri())
            nodes = 0
            deadline = time.monotonic() + 30
            while nodes < 1 and time.monotonic() < deadline:
                nodes = page.locator("g.node").count()
                time.sleep(0.1)
            assert nodes >= 1, (name, page.locator("#message-text").inner_text())
            page.close()


@pytest.mark.browser
def test_each_models_profile_overlay_draws_offline(built, tmp_path) -> None:
    """The profile painted on every third-party model's optimized graph: one label per
    profiled node of its main graph (nodes inside subgraphs show once opened)."""
    from tests.integration.browser import chromium

    with chromium() as browser:
        context = browser.new_context()
        for name in NAMES:
            model, spec = workbench.load(built(name)), thirdparty.MODELS[name]
            profile = workbench.profile(model, feeds=spec.partial or None,
                                        values=spec.values or None, runs=2, warmup=1)  # fmt: skip
            out, overlay = save_graph(model, tmp_path / f"{name}.html", overlay=profile)
            assert overlay is not None
            page = context.new_page()
            page.goto(out.as_uri())
            page.wait_for_selector(".wb-overlay-row", timeout=30_000)
            labels = page.locator(".wb-overlay-label").count()
            assert 1 <= labels <= overlay.matched, (name, labels, overlay.matched)
            assert page.locator("html").get_attribute("data-xss") is None
            page.close()


@pytest.mark.parametrize("name", NAMES)
def test_the_cli_shows_runs_and_benchmarks_it_with_what_the_user_gives(
    name, built, tmp_path, capsys
) -> None:
    # In this process (a subprocess per model would cost a second each); tests/cli runs the
    # console script itself.
    spec, path = thirdparty.MODELS[name], str(built(name))
    flags = [f"--value={n}={json.dumps(np.asarray(v).tolist())}" for n, v in spec.values.items()]
    if spec.partial:
        np.savez(tmp_path / "inputs.npz", **spec.partial)
        flags += ["--inputs", str(tmp_path / "inputs.npz")]

    def printed(*args: str) -> dict:
        assert main(list(args)) == 0, capsys.readouterr().err
        return json.loads(capsys.readouterr().out)

    assert (
        printed("info", path, "--json")["parameter_count"] == workbench.load(path).parameter_count
    )
    rows = printed("run", path, *flags, "--json")["inputs"]
    assert {r["name"] for r in rows if r["given"]} == set(spec.partial) | set(spec.values)
    (row,) = printed("bench", path, *flags, "--runs", "2", "--json")["results"]
    assert row["status"] == "ok", row["reason"]


@pytest.mark.parametrize("name", NAMES)
def test_the_explorer_offers_its_dims_and_scalars_and_runs_it(name, built, monkeypatch) -> None:
    pytest.importorskip("ipywidgets", reason="the explorer needs the jupyter extra")
    from workbench.widgets.explorer import explore

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(built(name).parent / "runtime"))
    app = explore(built(name))
    model = app.model
    scalars = {v.name for v in model.inputs if v.type.kind == "tensor" and v.shape == ()}
    assert {f.description for f in app.inputs.value_fields.children} == scalars
    for field in app.inputs.value_fields.children:
        value = thirdparty.MODELS[name].values.get(field.description)
        field.value = "" if value is None else json.dumps(value)
    result = app.run_panel.run()
    assert result is not None, app.run_panel.results.value
    typed = scalars & set(thirdparty.MODELS[name].values)
    assert {r["name"] for r in result.input_rows() if r["given"]} == typed
    for input_name in typed:
        fed = result.feeds[input_name]
        assert fed == np.asarray(thirdparty.MODELS[name].values[input_name], dtype=fed.dtype)
