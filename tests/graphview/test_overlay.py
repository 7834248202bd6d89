"""Overlays: one node identity across profile, optimized graph and viewer; each kind drawn on
the graph it belongs to; bad keys, values and mismatched profiles said, never fatal."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest

import workbench
from tests import models
from tests.graphview.test_viewer_bundle import _embedded_model
from tests.run.test_compare import variant
from workbench.graphview import netron
from workbench.graphview.overlay import VIRIDIS, resolve
from workbench.graphview.show import save_graph, show_graph
from workbench.model import names
from workbench.ort.profiling import NodePlacement


@pytest.fixture
def runtime_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.delenv("JPY_PARENT_PID", raising=False)
    return tmp_path / "runtime"


@pytest.fixture(scope="module")
def demo() -> workbench.Model:
    return workbench.load(workbench.demo_model())


@pytest.fixture(scope="module")
def demo_profile(demo) -> workbench.ProfileResult:
    return workbench.profile(demo, runs=5)


def _ort_profile_names(path) -> set[str]:
    """Node names in a profile onnxruntime itself takes of the file (no workbench naming)."""
    options = ort.SessionOptions()
    options.enable_profiling = True
    options.profile_file_prefix = str(path.parent / "raw")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    session.run(None, {"x": np.ones((1, 3, 8, 8), np.float32)})
    events = json.loads(open(session.end_profiling()).read())  # noqa: PTH123, SIM115
    return {
        e["name"].removesuffix("_kernel_time")
        for e in events
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")
    }


# --- one identity -------------------------------------------------------------------------


def test_unnamed_nodes_get_onnxruntimes_names_in_a_private_copy(tmp_path) -> None:
    path = models.write("unnamed_nodes", tmp_path)
    before = path.read_bytes()
    model = workbench.load(path)
    named = model.named()
    assert named is not model and model.named() is named  # made once
    assert [n.name for n in named.proto.graph.node] == ["Conv_0", "Relu_1", "Reshape_2", "softmax"]
    assert [n.name for n in model.proto.graph.node] == ["", "", "", "softmax"]
    assert path.read_bytes() == before  # the user's file is never changed
    assert (named.name, named.label) == (model.name, model.label)
    # onnxruntime's own profile of the unnamed file names unnamed nodes the same way.
    assert "Reshape_2" in _ort_profile_names(path)


def test_a_name_two_nodes_share_stays_with_the_first() -> None:
    proto = models.build("unnamed_nodes")
    proto.graph.node[2].name = "softmax"  # onnxruntime refuses such a file; the copy runs
    names.name_nodes(proto)
    assert [n.name for n in proto.graph.node] == ["Conv_0", "Relu_1", "softmax", "softmax_1"]
    assert workbench.load(proto).run({"x": np.ones((1, 3, 8, 8), np.float32)})["y"].shape == (
        1,
        256,
    )


def test_a_fully_named_model_is_its_own_named_copy(demo) -> None:
    assert demo.named() is demo


def test_subgraph_nodes_get_names_unique_across_the_model() -> None:
    proto = models.build("control_flow")
    identities = names.name_nodes(proto)
    every = [n.name for _, g in names.graphs(proto) for n in g.node]
    assert len(every) == len(set(every)) == len(identities)
    assert all(every)
    by_name = {i.name: i for i in identities}
    assert by_name["If_2"].graph == ""
    inner = [i for i in identities if i.graph]
    assert {i.graph for i in inner} == {"If_2/then_branch", "If_2/else_branch", "Loop_3/body",
                                        "Scan_4/body"}  # fmt: skip
    assert not names.needs_names(proto)


def test_fused_nodes_name_the_original_nodes_they_came_from(demo) -> None:
    from workbench.graphview.view import optimized_graph
    from workbench.ort.options import SessionConfig

    _, optimized = optimized_graph(demo, SessionConfig.make("cpu"))
    origins = names.lineage(demo.named().proto.graph, optimized.graph)
    assert set(origins["stem.relu_nchwc"]) == {"stem/Conv", "stem/BatchNormalization", "stem/Relu"}
    assert origins["head/Gemm"] == ("head/Gemm",)
    assert origins["ReorderOutput"] == ()  # a layout change onnxruntime added
    # At the basic level the Conv absorbs the BatchNormalization and keeps its own name.
    _, basic = optimized_graph(demo, SessionConfig.make("cpu", opt_level="basic"))
    origins = names.lineage(demo.named().proto.graph, basic.graph)
    assert origins["stem/Conv"] == ("stem/Conv", "stem/BatchNormalization")
    assert origins["stem/Relu"] == ("stem/Relu",)


# --- profile ------------------------------------------------------------------------------


def test_a_profile_of_a_model_with_unnamed_nodes_matches_every_node(tmp_path) -> None:
    model = workbench.load(models.write("unnamed_nodes", tmp_path))
    profile = workbench.profile(model, runs=3)
    assert {r["node"] for r in profile.rows} >= {"Reshape_2", "softmax"}
    out, overlay = save_graph(model, tmp_path / "p.html", overlay=profile)
    assert overlay is not None
    assert overlay.matched == len(profile.rows) and overlay.unmatched == []
    assert overlay.graph == "optimized" and overlay.session["opt_level"] == "all"
    attributed = sum(r["total_ms"] for r in profile.rows) / sum(profile.model_run_ms)
    assert overlay.attributed_share == pytest.approx(attributed)
    assert 0 < overlay.attributed_share <= 1
    page = out.read_text()
    assert 'id="onnx-workbench-overlay"' in page and '"Reshape_2"' in page


def test_the_profile_overlay_fills_by_share_and_lists_the_hottest(demo, demo_profile) -> None:
    overlay, graph = resolve(demo, demo_profile, top=3)
    hottest = demo_profile.rows[0]["node"]
    assert overlay.top == [r["node"] for r in demo_profile.rows[:3]]
    assert overlay.marks[hottest].fill == VIRIDIS[-1]  # the most time: the darkest
    assert overlay.marks[hottest].ink == "#ffffff"
    assert re.fullmatch(r"[\d.e-]+ ms · [\d.]+%", overlay.marks[hottest].label)
    details = dict(overlay.marks["stem.relu_nchwc"].details)
    assert "stem/Conv" in details["fused from"]
    assert graph.label.startswith("optimized (all")
    assert "onnxruntime's own work" in overlay.summary[1]
    assert any("ReorderOutput" in note for note in overlay.notes)


def test_a_profile_is_drawn_on_the_graph_of_its_own_configuration(demo) -> None:
    profile = workbench.profile(demo, runs=2, opt_level="basic")
    overlay, graph = resolve(demo, profile, opt_level="all")
    assert graph.label == "optimized (basic, cpu)"
    assert overlay.matched == len(profile.rows) and not overlay.unmatched
    assert any("drawn on that graph" in note for note in overlay.notes)


def test_a_profile_of_another_model_is_said_and_still_drawn(tmp_path, demo_profile) -> None:
    other = workbench.load(models.write("unnamed_nodes", tmp_path))
    out, overlay = save_graph(other, tmp_path / "other.html", overlay=demo_profile)
    assert overlay is not None and out.is_file()
    assert any("another model" in note for note in overlay.notes)
    assert overlay.unmatched and overlay.matched + len(overlay.unmatched) == len(demo_profile.rows)


def test_a_profile_from_a_gpu_machine_is_drawn_here_on_the_cpus_graph(demo, demo_profile):
    from workbench.ort import providers

    if providers.probe("cuda").usable:
        pytest.skip("CUDA runs here")
    session = {**demo_profile.session, "provider": "CUDAExecutionProvider",
               "provider_options": {"trt_engine_cache_path": "/etc"}}  # fmt: skip
    taken = workbench.ProfileResult.from_dict({**demo_profile.as_dict(), "session": session})
    overlay, graph = resolve(demo, taken)
    assert graph.label == "optimized (all, cpu)" and overlay.matched == len(taken.rows)
    assert any("cannot run here" in note for note in overlay.notes)


def test_an_empty_profile_draws_the_graph_and_an_empty_scale(demo, demo_profile) -> None:
    empty = workbench.ProfileResult.from_dict({**demo_profile.as_dict(), "nodes": []})
    overlay, _ = resolve(demo, empty)
    assert overlay.matched == 0 and overlay.marks == {}
    assert overlay.legend["scale"]["high"] == "0%"


def test_an_old_profile_without_its_settings_is_drawn_with_a_note(demo, demo_profile) -> None:
    old = workbench.ProfileResult.from_dict({**demo_profile.as_dict(), "session": {}})
    overlay, _ = resolve(demo, old)
    assert overlay.matched == len(old.rows)
    assert any("does not record its session settings" in note for note in overlay.notes)


# --- placement ----------------------------------------------------------------------------


def test_session_placement_names_the_nodes_onnxruntime_runs(demo) -> None:
    placed = {p.node for p in demo.session("cpu").placement()}
    assert "stem.relu_nchwc" in placed and "stem/Relu" not in placed


def test_the_placement_overlay_colours_providers_and_marks_copies(demo) -> None:
    overlay, _ = resolve(demo, "placement")
    assert overlay.graph == "optimized" and overlay.unmatched == []
    assert (
        overlay.legend["categories"][0]["text"] == f"CPUExecutionProvider: {overlay.matched} nodes"
    )
    # A placement as a CUDA session reports it, on the CPU graph's node names: nodes left on
    # the CPU and copies are listed, a copy that is not in this graph is unmatched.
    placed = [NodePlacement(n, "Conv", "CUDAExecutionProvider") for n in
              ("stem.relu_nchwc", "stage1.relu_nchwc", "block.relu_nchwc")]  # fmt: skip
    placed += [
        NodePlacement("head/Softmax", "Softmax", "CPUExecutionProvider"),
        NodePlacement("ReorderOutput", "MemcpyToHost", "CPUExecutionProvider"),
        NodePlacement("Memcpy_token_1", "MemcpyFromHost", "CPUExecutionProvider"),
    ]
    overlay, _ = resolve(demo, placed)
    texts = [c["text"] for c in overlay.legend["categories"]]
    assert texts == [
        "CUDAExecutionProvider: 3 nodes",
        "CPUExecutionProvider: 1 node",
        "copies between devices: 1",
    ]
    assert overlay.marks["ReorderOutput"].label == "copy to host"
    assert overlay.top_caption == "Not on CUDAExecutionProvider"
    assert overlay.top == ["head/Softmax", "ReorderOutput"]
    assert overlay.unmatched == ["Memcpy_token_1"]
    assert overlay.payload()["notes"][-1] == "1 key named no node: 'Memcpy_token_1'"


def test_a_provider_that_cannot_run_here_is_refused_clearly(demo, tmp_path) -> None:
    from workbench.ort import providers

    if providers.probe("cuda").usable:
        pytest.skip("CUDA runs here")
    with pytest.raises(workbench.WorkbenchError, match="CUDAExecutionProvider was requested"):
        resolve(demo, "placement", provider="cuda")
    # Never the CPU's graph labelled as CUDA's:
    with pytest.raises(workbench.WorkbenchError, match="CUDAExecutionProvider was requested"):
        save_graph(demo, tmp_path / "never.html", optimized=True, provider="cuda")


# --- comparison ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def perturbed_comparison():
    """small_cnn against itself with conv6's weights shifted: the error starts at conv6."""
    image = np.random.default_rng(0).random((2, 3, 32, 32), dtype=np.float32)
    original = workbench.load(models.build("small_cnn"))
    perturbed = workbench.load(variant(lambda n, a: a + 0.5 if n == "conv6.weight" else a))
    return perturbed, workbench.compare(
        perturbed, ["cpu"], {"image": image}, expected=original, intermediates=True
    )


def test_a_comparison_draws_every_node_error_and_outlines_the_first(perturbed_comparison):
    model, comparison = perturbed_comparison
    assert comparison.baseline == "reference" and not comparison.passed
    assert [e.node for e in comparison.node_errors][:2] == ["conv0", "relu0"]
    assert comparison.divergences[0].node == "conv6"
    overlay, graph = resolve(model, comparison)
    assert graph.label == "original" and overlay.graph == "original"
    assert overlay.matched == model.node_count and overlay.unmatched == []
    assert overlay.marks["conv6"].outline and not overlay.marks["conv5"].outline
    assert overlay.marks["conv5"].label.startswith("abs 0")
    assert overlay.marks["conv6"].label.startswith("✗ ")
    assert overlay.top[0] in {"conv6", "relu6", "conv7", "relu7", "pool", "flatten"}
    assert "unoptimized graph" in overlay.summary[0]


def test_a_comparison_without_intermediates_says_how_to_get_them(demo) -> None:
    comparison = workbench.compare(demo, ["cpu", "cuda"])
    overlay, _ = resolve(demo, comparison)
    assert overlay.matched == 0
    assert "intermediates=True" in overlay.notes[-1]


def test_a_comparison_with_expected_outputs_says_they_have_no_intermediates(demo) -> None:
    outputs = demo.run().outputs
    comparison = workbench.compare(demo, ["cpu"], expected=outputs, intermediates=True)
    overlay, _ = resolve(demo, comparison)
    assert overlay.matched == 0 and "expected outputs have none" in overlay.notes[-1]


def test_compare_takes_a_reference_model_by_path(tmp_path) -> None:
    path = models.write("small_cnn", tmp_path)
    same = workbench.compare(path, ["cpu"], expected=str(path), intermediates=True)
    assert same.passed and same.baseline == "reference"
    assert len(same.node_errors) == 18 and all(e.max_abs_error == 0 for e in same.node_errors)


# --- your own data ------------------------------------------------------------------------


def test_user_data_colours_numbers_and_reports_what_matched(demo) -> None:
    data = {"stem/Conv": np.float32(3), "head/Gemm": 1, "no such node": 2.0, "stem/Relu": math.nan}
    overlay, graph = resolve(demo, data)
    assert graph.label == "original" and overlay.kind == "data"
    assert overlay.matched == 3 and overlay.unmatched == ["no such node"]
    assert overlay.marks["stem/Conv"].fill == VIRIDIS[-1]
    assert overlay.marks["head/Gemm"].fill == VIRIDIS[0]
    assert overlay.marks["stem/Relu"].fill == ""  # NaN: no colour, and a note
    assert any("NaN" in note for note in overlay.notes)
    assert overlay.top == ["stem/Conv", "head/Gemm"]


def test_a_dataframe_gives_a_heat_column_and_labels(demo) -> None:
    frame = pd.DataFrame(
        {
            "node": ["stem/Conv", "head/Gemm"],
            "flops": [-5.0, 10.0],
            "note": ["first", "last"],
            "ok": [True, False],
        }
    )
    overlay, _ = resolve(demo, frame)
    assert overlay.title == "Your data: flops"
    assert overlay.marks["stem/Conv"].label == "-5 · first · True"
    assert dict(overlay.marks["head/Gemm"].details)["note"] == "last"
    assert any("negative" in note for note in overlay.notes)
    labels_only, _ = resolve(demo, pd.Series({"stem/Conv": "slow"}, name="why"))
    assert (
        labels_only.marks["stem/Conv"].label == "slow" and labels_only.marks["stem/Conv"].fill == ""
    )
    assert any("No column holds numbers" in note for note in labels_only.notes)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "empty"),
        (pd.DataFrame({"v": [1, 2]}, index=["a", "a"]), "more than once"),
        (42, "cannot be made from int"),
        ("heat", "Unknown overlay 'heat'"),
    ],
)
def test_unusable_overlay_data_gets_a_clear_error(demo, data, message) -> None:
    with pytest.raises(workbench.WorkbenchError, match=message):
        resolve(demo, data)


def test_overlay_text_from_the_model_is_escaped_in_every_output(runtime_dir, tmp_path) -> None:
    from tests.hostile.payloads import hostile_text_model

    hostile = hostile_text_model("http://127.0.0.1:9", plain=("producer_name",))
    name = hostile.graph.node[0].name
    model = workbench.load(hostile)
    profile = workbench.profile(model, runs=2)
    out, overlay = save_graph(model, tmp_path / "h.html", overlay=profile)
    assert overlay is not None and overlay.matched == 1 and overlay.top == [name]
    for page in (
        out.read_text(),
        show_graph(model, overlay=profile)._repr_mimebundle_()["text/html"],
    ):
        assert "<img src=x" not in page and "<script>document" not in page
        assert "\\u003cimg src=x" in page  # the name is there, as JSON text
    assert "\x1b" not in overlay.text()  # terminal escapes shown, not sent
    demo = workbench.load(workbench.demo_model())
    labelled, _ = resolve(demo, pd.DataFrame({"v": [1.0], "why": [name]}, index=["stem/Conv"]))
    payload = netron.script_json(labelled.payload())
    label = json.loads(payload)["nodes"]["stem/Conv"]["label"]
    assert "<" not in payload and label.startswith("1 · node<img src=x")


# --- show_graph and the view ---------------------------------------------------------------


def test_show_graph_carries_the_overlay_to_the_output(runtime_dir, demo, demo_profile) -> None:
    view = show_graph(demo, overlay=demo_profile)
    assert view.overlay is not None and view.overlay.matched == len(demo_profile.rows)
    assert [f.label for f in view.files] == ["optimized (all, cpu)"]
    html = view._repr_mimebundle_()["text/html"]
    data = json.loads(re.search(r'class="wb-graph-data">(.*?)</script>', html).group(1))
    assert set(data["overlay"]["nodes"]) == {r["node"] for r in demo_profile.rows}
    assert view.reveal("stem.relu_nchwc")._repr_html_().count(view.element_id) == 1
    with pytest.raises(workbench.WorkbenchError, match=r"Did you mean 'stem\.relu_nchwc'"):
        view.reveal("stem.relu_nchw")


def test_an_overlay_on_two_graphs_or_the_wrong_one_is_refused(demo, demo_profile) -> None:
    for overlay in ({"stem/Conv": 1.0}, demo_profile):
        with pytest.raises(workbench.WorkbenchError, match="drawn on one graph"):
            resolve(demo, overlay, optimized="both")
    comparison = workbench.compare(demo, ["cpu"], expected=demo, intermediates=True)
    with pytest.raises(workbench.WorkbenchError, match="drawn on the original graph"):
        resolve(demo, comparison, optimized=True)


def test_the_offline_file_keeps_the_overlay_beside_the_model(demo, demo_profile, tmp_path) -> None:
    out, overlay = save_graph(demo, tmp_path / "o.html", overlay=demo_profile)
    page = out.read_text()
    found = re.search(r'id="onnx-workbench-overlay">(.*?)</script>', page)
    assert found is not None
    assert json.loads(found.group(1)) == overlay.payload()
    assert page.count('id="onnx-workbench-model"') == 1


# --- a localization and a diff ------------------------------------------------------------


def test_a_localization_is_drawn_on_the_candidate_with_the_first_outlined(demo, tmp_path):
    from tests.run.test_localize import _broken

    broken = workbench.load(_broken(tmp_path / "broken.onnx"))
    result = workbench.localize(demo, broken, samples=2)
    overlay, _ = resolve(broken, result)
    assert overlay.kind == "localize" and overlay.graph == "original"
    assert overlay.matched == demo.node_count and overlay.top[0] == "stage1/Conv"
    assert overlay.marks["stage1/Conv"].outline and not overlay.marks["stem/Conv"].outline
    assert overlay.marks["stage1/Conv"].label.startswith("✗")
    assert any("SQNR" in value for _, value in overlay.marks["stage1/Conv"].details)
    assert not overlay.notes
    on_reference, _ = resolve(demo, result)  # drawn where names match, and said
    assert on_reference.matched and "another model" in on_reference.notes[0]
    with pytest.raises(workbench.WorkbenchError, match="drawn on the original graph"):
        resolve(broken, result, optimized=True)


def test_a_diff_is_drawn_on_either_model(demo, tmp_path) -> None:
    from tests.run.test_localize import _broken

    broken = workbench.load(_broken(tmp_path / "broken.onnx"))
    difference = workbench.diff_models(demo, broken)
    overlay, _ = resolve(broken, difference)
    assert overlay.kind == "diff" and set(overlay.marks) == {"stage1/Conv"}
    assert overlay.marks["stage1/Conv"].label == "changed"
    assert any("weight stage1.conv.weight" in k for k, _ in overlay.marks["stage1/Conv"].details)
    int8 = workbench.variants(demo, ["int8-dynamic"], folder=tmp_path)["int8-dynamic"]
    to_int8 = workbench.diff_models(demo, int8)
    on_b, _ = resolve(int8, to_int8)
    on_a, _ = resolve(demo, to_int8)
    assert {m.label for m in on_b.marks.values()} >= {"added"}
    assert on_a.marks["stem/Conv"].label == "removed" and "only in model b" in on_a.notes[0]
    assert "only in model a" in on_b.notes[0]
    # Unnamed nodes ("#0" in the diff) are drawn under the names show_graph gives them.
    plain = models.build("unnamed_nodes")
    changed = models.build("unnamed_nodes")
    changed.graph.node[0].attribute[0].ints[:] = [0, 0, 0, 0]  # the unnamed Conv's pads
    difference = workbench.diff_models(workbench.load(plain), workbench.load(changed))
    assert difference.nodes_changed[0]["b"] == "#0"
    overlay, _ = resolve(workbench.load(changed), difference)
    assert overlay.marks["Conv_0"].label == "changed" and not overlay.unmatched


def test_show_graph_draws_a_part_around_a_node_or_a_block(runtime_dir, demo, tmp_path) -> None:
    view = show_graph(demo, around="block/Conv", depth=1)
    shown = workbench.load(view.files[0].path)
    assert {n.name for n in shown.proto.graph.node} == {"stage1/MaxPool", "block/Conv",
                                                       "block/Relu"}  # fmt: skip
    chain = workbench.load(models.large_chain(tmp_path / "chain.onnx", blocks=12, width=8))
    out, _ = save_graph(chain, tmp_path / "b.html", block=3)
    drawn = _embedded_model(out)
    assert [n.name for n in drawn.graph.node] == ["block3/MatMul", "block3/Add", "block3/Relu",
                                                  "block3/Mul"]  # fmt: skip
    with pytest.raises(workbench.WorkbenchError, match="around= or block="):
        show_graph(chain, around="block3/Add", block=3)


def test_the_cli_draws_a_diff_and_a_localization(tmp_path) -> None:
    from tests.cli import cli
    from tests.run.test_localize import _broken

    broken = _broken(tmp_path / "broken.onnx")
    demo = str(workbench.demo_model())
    for kind in ("diff", "localize"):
        done = cli("graph", str(broken), "--overlay", kind, "--expected", demo, "--top", "5",
                   "--html", str(tmp_path / f"{kind}.html"), "--json")  # fmt: skip
        assert done.returncode == 0, done.stderr
        drawn = json.loads(done.stdout)["overlay"]
        assert drawn["kind"] == kind and drawn["top"][0]["node"] == "stage1/Conv"
    lonely = cli("graph", str(broken), "--overlay", "diff")
    assert lonely.returncode != 0 and "needs the reference model" in lonely.stderr
