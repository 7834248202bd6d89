"""A model whose every text field is a script, `img onerror` and resource-loading payload,
shown every way the workbench can show it in a real JupyterLab and a real Chromium: the
HTML repr, a run, a benchmark and its profile, the %onnx magic, the explorer widget, the
Netron viewer (with its model-properties sidebar open, and with its error page: Netron
refuses a producer name like that) and the exported report. No payload may run (each would
mark the document with its field) or load anything (each would request the loopback
sentinel). Pages run with their Content-Security-Policy bypassed: escaping alone must hold.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import workbench
from tests.hostile.payloads import hostile_text_model
from tests.integration.browser import LabPage
from tests.integration.jupyter import JupyterServer, notebook, running_server

pytestmark = pytest.mark.browser


class Sentinel:
    """A loopback HTTP server that records every request a payload makes."""

    def __init__(self) -> None:
        hits = self.hits = []

        class Record(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Record)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def sentinel() -> Iterator[Sentinel]:
    server = Sentinel()
    yield server
    server.close()


@pytest.fixture(scope="module")
def lab(sentinel, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    root = tmp_path_factory.mktemp("hostile")
    (root / "hostile.onnx").write_bytes(hostile_text_model(sentinel.url).SerializeToString())
    viewable = hostile_text_model(sentinel.url, plain=("producer_name", "producer_version"))
    (root / "viewable.onnx").write_bytes(viewable.SerializeToString())
    notebook(
        root / "hostile.ipynb",
        [
            "import workbench\nmodel = workbench.load('hostile.onnx')\nmodel",
            "model.run()",
            "result = workbench.benchmark(model, ['cpu'], runs=5, warmup=1, profile=True, "
            "progress=False)\nresult",
            "result.profile",
            "result.report('report.html')",
            "%load_ext workbench\n%onnx load hostile.onnx\n%onnx info",
            "workbench.explore(model)",
            "model.show_graph(height=300)",
            "workbench.show_graph('viewable.onnx', height=300)",
            "viewable = workbench.load('viewable.onnx')\n"
            "workbench.show_graph(viewable, overlay=workbench.profile(viewable, runs=2), "
            "height=300)",
        ],
    )
    with running_server(root, tmp_path_factory.mktemp("work")) as server:
        yield server


def _fired(page) -> dict[str, str]:
    """The payload marks on the page and on every frame inside it."""
    found = {}
    for frame in page.frames:
        mark = frame.locator("html").get_attribute("data-xss")
        if mark is not None:
            found[frame.url] = mark
    return found


def _viewer(page, index: int):
    """The `index`-th graph frame (0: the explorer's hidden Graph tab, 1: hostile.onnx,
    2: viewable.onnx, 3: viewable.onnx with its profile drawn on it). Sandboxed frames share
    one URL; the model came by message."""
    return page.frame_locator("iframe[title^='Netron']").nth(index)


def test_no_payload_runs_or_loads_anything_in_jupyterlab(lab, browser, sentinel) -> None:
    tab = LabPage(browser, lab, bypass_csp=True)
    try:
        tab.open_notebook("hostile.ipynb")
        tab.run_all(timeout=180)
        nodes, _ = tab.wait_for_graph(2, minimum=1)  # 0: the explorer's hidden graph tab
        assert nodes >= 1, tab.output_text()
        text = tab.output_text()
        for shown in ("doc_string<img src=x", "input<img src=x", "metadata_value<img src=x"):
            assert shown in text  # the payloads are there, as text
        refused = _viewer(tab.page, 1)
        refused.locator("text=Invalid model producer name").wait_for(
            state="attached", timeout=20_000
        )
        deadline = time.monotonic() + 20  # and the output says so under the frame, as text
        while "Netron could not open hostile.onnx" not in tab.output_text():
            assert time.monotonic() < deadline, tab.output_text()
            time.sleep(0.2)
        viewer = _viewer(tab.page, 2)
        viewer.locator("#sidebar-model-button").click()  # doc string and metadata
        viewer.locator("text=metadata_value").first.wait_for(timeout=20_000)
        # The overlay names the node in its list, its label and its details: as text.
        overlay = _viewer(tab.page, 3)
        overlay.locator(".wb-overlay-row").first.wait_for(timeout=30_000)
        assert overlay.locator(".wb-overlay-name").first.inner_text().startswith("node<img src=x")
        overlay.locator(".wb-overlay-row").first.click()
        assert "node<img src=x" in overlay.locator(".wb-overlay-details").inner_text()
        assert overlay.locator(".wb-overlay-label").count() == 1
        time.sleep(1)  # let any injected image or frame start loading
        assert _fired(tab.page) == {}
        assert sentinel.hits == []
        assert not [url for url in tab.requests if url.startswith(sentinel.url)]
        assert tab.page.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0
    finally:
        tab.close()
        lab.delete_sessions()


def test_the_exported_report_runs_no_payload(browser, sentinel, tmp_path: Path) -> None:
    model = workbench.load(hostile_text_model(sentinel.url).SerializeToString())
    result = workbench.benchmark(model, ["cpu"], runs=5, profile=True, progress=False)
    (report,) = result.report(str(tmp_path / "report.html"))
    context = browser.new_context()
    try:
        page = context.new_page()
        requests = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(Path(report).as_uri())
        page.wait_for_selector("text=Per-operator profile")
        time.sleep(1)
        assert _fired(page) == {}
        assert sentinel.hits == []
        assert all(url.startswith(("file:", "data:")) for url in requests), requests
        assert "graph_name<img src=x" in page.inner_text("body")  # shown, as text
    finally:
        context.close()
