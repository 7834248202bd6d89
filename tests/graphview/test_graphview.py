"""The graph view's kernel side: registration, server discovery, display modes, fallbacks."""

from __future__ import annotations

import os
import urllib.error
import urllib.request

import onnx
import pytest

import workbench
from tests import models
from workbench.graphview import discovery, registry
from workbench.graphview import netron as viewer
from workbench.graphview.show import show_graph
from workbench.graphview.view import GraphView, optimized_model_file


@pytest.fixture
def runtime_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.delenv("JPY_PARENT_PID", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    return tmp_path / "runtime"


def test_registration_round_trip_and_private_files(runtime_dir) -> None:
    entry = registry.register(workbench.demo_model(), "tinynet.onnx")
    assert registry.ID_PATTERN.match(entry.id)
    assert registry.lookup(entry.id) == entry
    stored = runtime_dir / "onnx-workbench" / "models" / f"{entry.id}.json"
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    for bad in ("../" + entry.id, entry.id + "/..", "/etc/passwd", "x", entry.id[:-1] + "!"):
        assert registry.lookup(bad) is None


def test_old_registrations_are_swept(runtime_dir) -> None:
    entry = registry.register(workbench.demo_model(), "tinynet.onnx")
    assert registry.sweep(max_age=3600) == 0
    assert registry.sweep(max_age=-1) == 1
    assert registry.lookup(entry.id) is None


def test_discovery_finds_the_launching_server(runtime_dir, monkeypatch) -> None:
    registry.mark_server(os.getpid(), "http://127.0.0.1:1/", "/", "/tmp")
    monkeypatch.setenv("JPY_PARENT_PID", str(os.getpid()))
    found = discovery.find_server()
    assert found.server is not None and found.server.pid == os.getpid()


def test_discovery_explains_a_server_without_the_extension(runtime_dir, monkeypatch) -> None:
    monkeypatch.setenv("JPY_PARENT_PID", "1")
    found = discovery.find_server()
    assert found.server is None and "jupyter server extension enable workbench" in found.reason


def test_dead_servers_are_ignored(runtime_dir, monkeypatch) -> None:
    registry.mark_server(2**22 + 12345, "http://127.0.0.1:1/", "/", "/tmp")  # no such pid
    assert registry.active_servers() == []
    assert discovery.find_server().reason == "This kernel was not started by a Jupyter server"


def test_server_mode_output_keeps_a_summary_and_escapes_names(runtime_dir, monkeypatch) -> None:
    registry.mark_server(os.getpid(), "http://127.0.0.1:1/", "/", "/tmp")
    monkeypatch.setenv("JPY_PARENT_PID", str(os.getpid()))
    proto = models.build("mixed_io")
    proto.graph.input[0].name = "</script><script>window.__pwned=1</script>"
    proto.graph.node[0].input[0] = proto.graph.input[0].name
    view = show_graph(proto)
    assert view.mode == "server" and len(view.panels) == 1
    html = view._repr_mimebundle_()["text/html"]
    assert "<script>window.__pwned" not in html
    assert html.count("<script") == 2  # the JSON data and the loader, nothing injected
    assert "Re-run this cell" in html and "Graph" in html
    assert registry.lookup(view.panels[0].model_id) is not None


def test_local_fallback_is_announced_and_serves_the_viewer(runtime_dir) -> None:
    view = show_graph(workbench.demo_model())
    assert view.mode == "local"
    assert view.note.startswith(
        "This kernel was not started by a Jupyter server, so the graph is served from 127.0.0.1:"
    )
    html = view._repr_mimebundle_()["text/html"]
    assert view.note in html and view.viewer_url in html and view.panels[0].local_url in html
    with urllib.request.urlopen(view.viewer_url) as page:
        policy = page.headers["Content-Security-Policy"]
        assert policy == f"sandbox {viewer.SANDBOX}" and "allow-same-origin" not in policy
        assert page.read() == viewer.viewer().page
    # The output's script runs in the front-end's origin: the bytes answer with CORS.
    with urllib.request.urlopen(view.panels[0].local_url) as model:
        assert model.headers["Access-Control-Allow-Origin"] == "*"
        assert model.read() == workbench.demo_model().read_bytes()
    # The page holds no secret and is served outside the secret path: its frame cannot learn it.
    assert loopback_secret(view) not in view.viewer_url
    base = view.panels[0].local_url.split("models/")[0]
    root = base.split(loopback_secret(view))[0]
    for path in (
        f"{base}models/unknown",
        f"{base}models/../../../etc/passwd",
        f"{base}viewer/{viewer.PAGE}",
        f"{root}viewer/x.js",
        f"{root}models/{view.panels[0].local_url.rsplit('/', 1)[1]}",  # no secret, no model
        f"{root}wrong/models/{view.panels[0].local_url.rsplit('/', 1)[1]}",
    ):
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(path)


def loopback_secret(view: GraphView) -> str:
    return view.panels[0].local_url.split("/")[3]


def test_text_summary_where_nothing_can_display(runtime_dir) -> None:
    text = repr(show_graph(workbench.demo_model()))
    assert "Graph tinynet: 14 nodes" in text
    assert "Conv stem/Conv: image, stem.conv.weight, stem.conv.bias -> stem.conv" in text


def test_an_unbuilt_viewer_means_text_with_the_build_hint(
    runtime_dir, monkeypatch, tmp_path
) -> None:
    monkeypatch.setattr(viewer, "BUNDLE", tmp_path / "no-bundle")
    viewer.viewer.cache_clear()
    try:
        view = show_graph(workbench.demo_model())
        assert view.mode == "text"
        assert "The graph viewer is not built" in view.note and "make" in view.note
        assert "text/html" not in view._repr_mimebundle_()
        # Nothing to show it in: the optimized model is not even built.
        built: list[object] = []
        monkeypatch.setattr(
            "workbench.graphview.view.optimized_model_file", lambda *a, **k: built.append(a)
        )
        assert show_graph(workbench.demo_model(), optimized="both").mode == "text"
        assert built == []
        with pytest.raises(workbench.WorkbenchError, match="The graph viewer is not built"):
            view.save(tmp_path / "graph.html")
    finally:
        viewer.viewer.cache_clear()


def test_optimized_graph_shows_what_onnxruntime_fused() -> None:
    path = optimized_model_file(workbench.load(workbench.demo_model()), opt_level="extended")
    optimized = onnx.load(str(path), load_external_data=False)  # weights left out
    assert "BatchNormalization" not in {n.op_type for n in optimized.graph.node}  # in the Conv
    assert len(optimized.graph.node) < 14
    assert (
        optimized_model_file(workbench.load(workbench.demo_model()), opt_level="extended") == path
    )


def test_both_graphs_side_by_side(runtime_dir) -> None:
    view = show_graph(workbench.demo_model(), optimized="both")
    assert [p.label for p in view.panels] == ["original", "optimized (all, cpu)"]
    with pytest.raises(workbench.WorkbenchError, match="optimized must be"):
        show_graph(workbench.demo_model(), optimized="yes")


def test_upload_to_an_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(workbench.WorkbenchError, match="Could not reach the Jupyter server"):
        show_graph(workbench.demo_model(), server="http://127.0.0.1:9/", token="x")


def test_model_show_graph_passes_options() -> None:
    view = workbench.load(workbench.demo_model()).show_graph(height=321)
    assert isinstance(view, GraphView) and view.height == 321


def test_a_file_too_large_for_the_viewer_gets_the_summary_and_says_why(
    runtime_dir, monkeypatch
) -> None:
    monkeypatch.setattr(viewer, "MAX_VIEW_BYTES", 1000)
    view = show_graph(workbench.demo_model())
    assert view.mode == "text"
    assert "more than the graph viewer opens" in view.note
    assert "Graph tinynet: 14 nodes" in repr(view)


def test_the_optimized_graph_leaves_its_weights_out(tmp_path) -> None:
    # The viewer draws without them: a large model's optimized graph stays small enough to
    # send to the browser and to fit an offline file. Shapes and scalars stay.
    path = models.large_chain(tmp_path / "large.onnx", blocks=20, width=256)
    optimized = optimized_model_file(workbench.load(path))
    assert optimized.stat().st_size < 50_000 < path.stat().st_size
    assert list(optimized.parent.glob(f"{optimized.name}.*")) == []  # the side file is gone
    graph = onnx.load(str(optimized), load_external_data=False).graph
    assert len(graph.node) == 40  # MatMul+Add fused, Relu into it; Mul stays
    assert all(t.data_location == onnx.TensorProto.EXTERNAL for t in graph.initializer
               if t.dims and t.dims[0] >= 256)  # fmt: skip
