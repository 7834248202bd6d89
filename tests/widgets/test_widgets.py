"""The explorer app with a dummy comm (no frontend): traits, validation, background work."""

from __future__ import annotations

import threading

import ipywidgets
import pytest
from onnx import TensorProto, helper

import workbench
from tests import models
from workbench.ort import providers
from workbench.widgets.bench_panel import BenchPanel
from workbench.widgets.explorer import TABS, Explorer, explore
from workbench.widgets.picker import MAX_RECENT, ModelPicker


@pytest.fixture(autouse=True)
def _chdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))


def test_explorer_has_its_tabs_and_shares_the_model() -> None:
    app = explore(workbench.demo_model())
    assert [app.tabs.get_title(i) for i in range(len(TABS))] == list(TABS)
    assert app.model is app.picker.model is app.run_panel.model is app.bench_panel.model
    assert app.variants_panel.model is app.model
    assert "tinynet" in app.overview.value and "ai.onnx 17" in app.overview.value
    (graph,) = app.graph.output.outputs
    assert "text/html" in graph["data"] and "Graph tinynet" in graph["data"]["text/plain"]
    assert "explorer: tinynet" in repr(app)


def test_the_graph_tab_switches_to_profile_and_placement_overlays() -> None:
    app = explore(workbench.demo_model())
    app.run_panel.batch.value = 2
    app.graph.switch.value = "Profile"
    (shown,) = app.graph.output.outputs
    assert '"title": "Profile: share of run time"' in shown["data"]["text/html"]
    app.graph.switch.value = "Placement"
    (shown,) = app.graph.output.outputs
    assert "Placement: execution provider per node" in shown["data"]["text/html"]
    if not providers.probe(providers.CUDA).usable:  # listed, not usable: said, not raised
        app.run_panel.choose.value = providers.CUDA
        app.graph.switch.value = "Profile"
        assert "CUDAExecutionProvider" in app.graph.note.value and not app.graph.output.outputs
    app.graph.switch.value = "Graph"
    assert app.graph.note.value == "" and len(app.graph.output.outputs) == 1


def test_the_variants_tab_evaluates_in_the_background_and_cancels(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    app = explore(workbench.demo_model())
    panel = app.variants_panel
    assert panel.chosen_recipes == ["ort-optimized", "fp16", "int8-dynamic"]
    for box in panel.recipe_boxes:
        box.value = box.description == "int8-dynamic"
    panel.samples.value, panel.budget.value = 2, 0.1
    panel.start()
    panel.wait(120)
    assert not panel.running and panel.updates >= 2  # a refresh per row
    rows = panel.result.rows
    assert [(r.variant, r.status) for r in rows] == [("reference", "ok"), ("int8-dynamic", "ok")]
    assert "int8-dynamic" in panel.table.value and panel.plot.value[:4] == b"\x89PNG"
    assert panel.progress.value == panel.progress.max == 2
    written = panel.export()
    assert [p.rsplit(".", 1)[1] for p in written] == ["html", "json"]
    panel._cancel.set()  # a cancel already asked for: nothing is measured, every row says so
    arguments = {"variants": ["fp16"], "samples": 1, "cancel": panel._cancel}
    from workbench.variant.evaluate import evaluate

    cancelled = evaluate(app.model, **arguments)
    assert {r.status for r in cancelled.rows} == {"skipped"}
    assert "cancelled" in cancelled.rows[0].reason
    for box in panel.recipe_boxes:
        box.value = False
    panel.start()
    assert "Tick at least one variant" in panel.message.value and not panel.running


def test_picker_validates_and_remembers(tmp_path) -> None:
    picker = ModelPicker()
    assert picker.load("") is None and "Type the path" in picker.error
    assert picker.load(str(tmp_path / "nope.onnx")) is None
    assert "No model file at" in picker.error and "No model file at" in picker.message.value
    (tmp_path / "bad.onnx").write_bytes(b"\x89PNG\r\n\x1a\n....")
    assert picker.load(str(tmp_path / "bad.onnx")) is None and "PNG image" in picker.error
    assert picker.load(str(workbench.demo_model())) is not None
    assert picker.error == "" and picker.message.value == ""
    assert picker.recent == [str(workbench.demo_model())]
    for index in range(MAX_RECENT + 2):
        path = tmp_path / f"m{index}.onnx"
        path.write_bytes(workbench.demo_model().read_bytes())
        picker.load(str(path))
    assert len(picker.recent) == MAX_RECENT and picker.recent[0].endswith(f"m{MAX_RECENT + 1}.onnx")
    picker.history.value = picker.recent[3]
    assert str(picker.model.path).endswith(picker.recent[0].rsplit("/", 1)[-1])


def test_each_way_of_picking_a_model_reads_it_once(monkeypatch, tmp_path) -> None:
    import workbench.model.model

    reads: list[object] = []
    real_parse = workbench.model.model.parse_model
    real_load = workbench.load

    def counting_parse(data, label):  # every model read from a file is parsed once
        reads.append(label)
        return real_parse(data, label)

    monkeypatch.setattr(workbench.model.model, "parse_model", counting_parse)
    demo = str(workbench.demo_model())
    picker = ModelPicker()
    picker.load(demo)  # Load button / explore(path)
    assert len(reads) == 1
    picker.box.value = demo  # the same path submitted again: nothing new to read
    assert len(reads) == 1
    other = tmp_path / "other.onnx"
    other.write_bytes(workbench.demo_model().read_bytes())
    picker.box.value = str(other)  # a new path typed and submitted
    assert len(reads) == 2 and str(picker.model.path) == str(other)
    picker.history.value = demo  # picked from the recent files
    assert len(reads) == 3 and str(picker.model.path) == demo
    loaded = real_load(demo)
    assert len(reads) == 4
    app = explore(loaded)  # an already loaded model: shown, not read again
    assert len(reads) == 4 and app.model is loaded


def test_error_messages_are_escaped(tmp_path) -> None:
    picker = ModelPicker()
    picker.load(str(tmp_path / "<img src=x onerror=alert(1)>.onnx"))
    assert "<img" not in picker.message.value and "&lt;img" in picker.message.value


def test_run_panel_fields_follow_symbolic_dims() -> None:
    app = explore(models.build("two_inputs_shared_dims"))
    fields = {f.description: f.value for f in app.inputs.dim_fields.children}
    assert fields == {"seq": 64}  # the batch has a field of its own
    assert app.inputs.has_batch and app.run_panel.batch.layout.display == ""
    app.inputs.dim_fields.children[0].value = 5
    app.run_panel.batch.value = 2
    result = app.run_panel.run()
    assert result["masked"].shape == (2, 5)
    assert "masked" in app.run_panel.results.value and app.run_panel.last_seconds > 0


def test_the_run_and_benchmark_tabs_share_dims_and_values() -> None:
    # Set in the Run tab, measured in the Benchmark tab: the labels name what was measured.
    app = explore(models.build("two_inputs_shared_dims"))
    assert app.inputs in app.bench_panel.children
    app.inputs.dim_fields.children[0].value = 7
    app.bench_panel.batches.value, app.bench_panel.budget.value = "2", 0.1
    app.bench_panel.start()
    app.bench_panel.wait(60)
    (row,) = app.bench_panel.result.results
    assert row.status == "ok" and row.config.label == "cpu b2 seq=7 host"
    assert "cpu b2 seq=7 host" in app.bench_panel.table.value


def test_dims_start_where_the_model_suggests() -> None:
    proto = models.make(
        [helper.make_node("Relu", ["images"], ["out"])],
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, "h", "w"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, "h", "w"])],
    )
    helper.set_model_props(proto, {"imgsz": "[320, 256]"})
    app = explore(proto)
    fields = {f.description: f for f in app.inputs.dim_fields.children}
    assert {k: f.value for k, f in fields.items()} == {"h": 320, "w": 256}
    assert "metadata 'imgsz'" in fields["h"].tooltip
    assert not app.inputs.has_batch and app.run_panel.batch.layout.display == "none"
    assert app.run_panel.run()["out"].shape == (1, 3, 320, 256)


def test_a_scalar_input_gets_a_value_field() -> None:
    app = explore(models.build("vad_like"))
    (field,) = app.inputs.value_fields.children
    assert field.description == "sr" and "int64" in field.tooltip
    result = app.run_panel.run()  # empty: synthetic
    assert [row["given"] for row in result.input_rows()] == [False, False]
    field.value = "16000"
    result = app.run_panel.run()
    assert [row["given"] for row in result.input_rows()] == [False, True]
    assert result.feeds["sr"] == 16000
    field.value = "fast"
    assert app.run_panel.run() is None
    assert "Input &#39;sr&#39; is int64" in app.run_panel.results.value


def test_every_button_label_fits_or_has_a_tooltip() -> None:
    app = explore(workbench.demo_model())
    seen, todo = [], [app]
    while todo:  # every widget the explorer shows
        widget = todo.pop()
        seen.append(widget)
        todo.extend(getattr(widget, "children", ()))
    buttons = [w for w in seen if isinstance(w, ipywidgets.Button)]
    assert {b.description for b in buttons} >= {"Run", "Compare across providers", "Start"}
    for button in buttons:
        assert button.layout.width == "auto" or button.tooltip, button.description


def test_unusable_providers_come_last_and_disable_run() -> None:
    app = explore(workbench.demo_model())
    options = app.run_panel.choose.options
    usable = [name for _, name in options if providers.probe(name).usable]
    assert [name for _, name in options][: len(usable)] == usable
    unusable = [name for _, name in options if not providers.probe(name).usable]
    if not unusable:
        pytest.skip("every compiled-in provider is usable here")
    app.run_panel.choose.value = unusable[0]
    assert app.run_panel.run_button.disabled
    assert providers.probe(unusable[0]).reason.split(":")[0] in app.run_panel.note.value
    app.run_panel.choose.value = providers.CPU
    assert not app.run_panel.run_button.disabled and app.run_panel.note.value == ""


def test_compare_button_shows_skipped_rows() -> None:
    app = explore(workbench.demo_model())
    comparison = app.run_panel.compare()
    names = [name for _, name in app.run_panel.choose.options]
    unusable = [name for name in names if not providers.probe(name).usable]
    # Every provider that cannot run here is a skipped row, and the panel shows each one.
    assert comparison.skipped == unusable
    shown = app.run_panel.results.value
    assert shown.count('class="wb-skip">skipped') == len(unusable)
    for name in unusable:
        assert f"<code>{name}</code>" in shown


def test_run_failures_show_inline() -> None:
    app = explore(models.build("reshape_baked"))
    assert app.run_panel.run() is None
    assert "encoder/Reshape" in app.run_panel.results.value
    assert not app.run_panel.busy


def test_benchmark_runs_in_the_background_and_updates_live() -> None:
    panel = Explorer().bench_panel
    panel.model = workbench.load(workbench.demo_model())
    panel.batches.value, panel.budget.value = "1,2", 0.6
    main = threading.get_ident()
    worker_threads = []
    original = panel._on_update
    panel._on_update = lambda live, current: (
        worker_threads.append(threading.get_ident()),
        original(live, current),
    )[1]
    panel.start()
    assert panel.running and panel.cancel_button.disabled is False
    panel.wait(60)
    assert not panel.running and panel.status == "done"
    assert worker_threads and main not in worker_threads  # off the kernel's main thread
    assert panel.updates >= 2 and panel.plot.value and "cpu b2 host" in panel.table.value
    assert panel.progress.value == panel.progress.max == 2
    written = panel.export()
    assert [w.rsplit(".", 1)[1] for w in written] == ["html", "json"]
    assert panel.link.outputs


def test_the_benchmark_tab_runs_on_the_executor_chosen() -> None:
    panel = Explorer().bench_panel
    panel.model = workbench.load(workbench.demo_model())
    panel.batches.value, panel.budget.value, panel.executor.value = "1,2", 0.2, "pool"
    assert list(panel.executor.options) == ["inprocess", "worker", "pool", "ray"]
    panel.start()
    panel.wait(60)
    assert panel.status == "done" and panel.result.settings["executor"] == "pool"
    assert [r.status for r in panel.result.results] == ["ok", "ok"]
    assert panel.progress.value == 2


def test_cancel_keeps_completed_samples() -> None:
    panel = BenchPanel()
    panel.model = workbench.load(workbench.demo_model())
    panel.batches.value, panel.budget.value = "1,2,4", 30
    panel.start()
    while not panel.result or not any(r.samples_ns for r in panel.result.results):
        threading.Event().wait(0.05)
    panel.cancel()
    panel.wait(30)
    assert panel.status == "cancelled"
    first = panel.result.results[0]
    assert first.status == "partial" and first.stats.n > 0


@pytest.mark.parametrize(
    ("text", "fragment"), [("1,x", "whole numbers"), ("0", "at least one"), ("", "at least one")]
)
def test_bad_batch_sizes_show_a_message(text, fragment) -> None:
    panel = BenchPanel()
    panel.model = workbench.load(workbench.demo_model())
    panel.batches.value = text
    panel.start()
    assert not panel.running and fragment in panel.message.value


def test_no_provider_ticked() -> None:
    panel = BenchPanel()
    panel.model = workbench.load(workbench.demo_model())
    for box in panel.provider_boxes:
        box.value = False
    panel.start()
    assert "Tick at least one provider" in panel.message.value


def test_the_graph_tab_draws_and_profiles_the_part_around_a_node() -> None:
    app = explore(workbench.demo_model())
    assert "block/Conv" in app.graph.node.options
    app.graph.node.value = "block/Conv"
    app.graph.depth.value = 1
    (shown,) = app.graph.output.outputs
    assert "Graph tinynet_part: 3 nodes" in shown["data"]["text/plain"]
    app.graph.switch.value = "Profile"  # measured on the part, not the whole model
    (shown,) = app.graph.output.outputs
    assert '"title": "Profile: share of run time"' in shown["data"]["text/html"]
    assert "stem/Conv" not in shown["data"]["text/html"]
    app.graph.node.value = "block/Cnv"
    assert "Did you mean &#39;block/Conv&#39;" in app.graph.note.value  # escaped
    assert not app.graph.output.outputs
    app.graph.node.value = ""
    app.graph.switch.value = "Graph"
    assert "Graph tinynet: 14 nodes" in app.graph.output.outputs[0]["data"]["text/plain"]


def test_the_load_tab_runs_a_peak_search_live_and_cancels(tmp_path) -> None:
    app = explore(workbench.demo_model())
    panel = app.load_panel
    assert app.tabs.get_title(5) == "Load" and panel.model is app.model
    panel.scenario.value = "server"
    panel.qps.value, panel.duration.value = 200, 1
    panel.start()
    panel.wait(120)
    assert not panel.running and panel.result is not None, panel.message.value
    (row,) = panel.result.rows
    assert row.verdict == "ok" and "CPU server" in panel.table.value
    assert panel.plot.value[:4] == b"\x89PNG" and panel.updates >= 1
    assert [p.rsplit(".", 1)[1] for p in panel.export()] == ["html", "json"]
    panel.scenario.value, panel.bound.value, panel.duration.value = "peak", "5ms", 0.3
    panel.start()
    while panel.running and panel.updates < 3:  # the search shows its probes as they come
        threading.Event().wait(0.05)
    panel.cancel()
    panel.wait(120)
    assert panel.status == "cancelled" and panel.result.rows[0].verdict in ("partial", "ok")
    panel.bound.value, panel.scenario.value = "fast", "peak"
    panel.start()
    assert "Cannot read the bound &#39;fast&#39;" in panel.message.value  # escaped
    assert not panel.running


def test_the_history_tab_shows_what_the_other_tabs_recorded(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ONNX_WORKBENCH_HISTORY", str(tmp_path / "h.sqlite"))
    app = Explorer()
    app.model = workbench.load(workbench.demo_model())
    assert "Nothing is stored for tinynet yet" in app.history_panel.view.value
    panel = app.bench_panel
    panel.batches.value, panel.budget.value = "1", 0.2
    panel.start()
    panel.wait(60)
    app.history_panel.refresh_button.click()
    assert len(app.history_panel.shown) == 1
    assert "cpu b1 host" in app.history_panel.view.value
