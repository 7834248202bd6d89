"""The JupyterLab extension in a real JupyterLab, Notebook 7 and Chromium: double-click opens
a .onnx file in a Netron tab, "Open With > Netron" does too, a file over the viewer's limit
gets a message instead of a frozen tab, and the command palette explores a model in a new
notebook. The server is started with a 1 MB viewer limit so that a small file can exceed it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import workbench
from tests import models
from tests.integration.browser import LabPage
from tests.integration.jupyter import TOKEN, JupyterServer, running_server
from tests.integration.test_graph_browser import _assert_locked_out

pytestmark = pytest.mark.browser
LIMIT = 1_000_000


@pytest.fixture(scope="module", autouse=True)
def _extension_installed() -> None:
    installed = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "onnx-workbench"
    if not (installed / "package.json").is_file():
        pytest.fail(
            "The JupyterLab extension is not installed in this environment: its build needs "
            "node and npm. Run `make test`, which installs them where missing, or "
            "`make labextension`."
        )


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("files")
    (folder / "models").mkdir()
    (folder / "models" / "demo.onnx").write_bytes(workbench.demo_model().read_bytes())
    models.large_chain(folder / "models" / "big.onnx", blocks=10, width=256)  # about 2.6 MB
    subprocess.run(  # an ONNX Runtime format (.ort) copy of the demo, made by onnxruntime
        [sys.executable, "-m", "onnxruntime.tools.convert_onnx_models_to_ort", "demo.onnx"],
        cwd=folder / "models", check=True, capture_output=True,
    )  # fmt: skip
    for extra in (folder / "models").glob("*.config"):
        extra.unlink()
    return folder


@pytest.fixture(scope="module")
def lab(root, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    with running_server(
        root, tmp_path_factory.mktemp("work"), args=(f"--OnnxWorkbench.max_view_bytes={LIMIT}",)
    ) as server:
        yield server


@pytest.fixture
def tab(lab, browser) -> Iterator[LabPage]:
    page = LabPage(browser, lab)
    page.open_lab()
    page.file_item("models").dblclick()
    page.file_item("demo.onnx").wait_for()
    yield page
    page.close()
    lab.delete_sessions()


def _graph_nodes(page, minimum: int, timeout: float = 60) -> int:
    """Nodes Netron drew in the tab's frame, once there are `minimum` (or the time is up)."""
    frame = page.frame_locator("iframe.jp-OnnxWorkbench-frame")
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        count = frame.locator("g.node").count()
        if count >= minimum:
            break
        time.sleep(0.2)
    return count


def test_double_click_opens_the_graph_in_a_netron_tab(lab, browser) -> None:
    tab = LabPage(browser, lab, probe=True)
    try:
        tab.open_lab()
        tab.file_item("models").dblclick()
        tab.file_item("demo.onnx").wait_for()
        tab.file_item("demo.onnx").dblclick()
        assert _graph_nodes(tab.page, 17) >= 17
        title = tab.page.locator(
            "#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel"
        )
        assert title.inner_text() == "demo.onnx"
        assert tab.hosts() == {"127.0.0.1"}
        # The tab fetched the bytes once, through the files route, and handed them over.
        model_requests = [u for u in tab.requests if "/onnx-workbench/api/files/" in u]
        # (JupyterLab adds a cache-busting query to every GET)
        assert [u.split("/onnx-workbench/")[1].split("?")[0] for u in model_requests] == [
            "api/files/models/demo.onnx"
        ]
        # The document model never downloaded the content through the contents API.
        assert not [
            u for u in tab.requests if "api/contents/models/demo.onnx" in u and "content=1" in u
        ]
        # The frame is sandboxed: the page cannot read it, it cannot read the page or the API.
        assert tab.frames_readable("iframe.jp-OnnxWorkbench-frame") == [False]
        _assert_locked_out(tab.probes(1), count=1)
    finally:
        tab.close()
        lab.delete_sessions()


def test_an_ort_format_model_opens_too(tab) -> None:
    tab.file_item("demo.ort").dblclick()
    assert _graph_nodes(tab.page, 5) >= 5


def test_open_with_netron_from_the_context_menu(tab) -> None:
    tab.file_item("demo.onnx").click(button="right")
    tab.page.locator(".lm-Menu-item", has_text="Open With").hover()
    tab.page.locator(".lm-Menu-item", has_text="Netron").click()
    assert _graph_nodes(tab.page, 17) >= 17


def test_a_file_over_the_limit_gets_a_message_not_a_frozen_tab(tab) -> None:
    tab.file_item("big.onnx").dblclick()
    message = tab.page.locator(".jp-OnnxWorkbench-message")
    message.wait_for(timeout=30_000)
    text = message.inner_text()
    assert "big.onnx is 2." in text and "up to 1.0 MB" in text
    assert "workbench.load" in text and "max_view_bytes" in text
    assert tab.page.locator("iframe.jp-OnnxWorkbench-frame").count() == 0


def test_the_palette_explores_the_selected_model_in_a_new_notebook(tab, root) -> None:
    tab.file_item("demo.onnx").click()
    tab.page.keyboard.press("Control+Shift+C")
    tab.page.locator(".lm-CommandPalette-input").fill("Explore ONNX Model in a New Notebook")
    tab.page.keyboard.press("Enter")
    output = tab.page.locator(".jp-NotebookPanel .jp-OutputArea-output")
    output.filter(has_text="tinynet").first.wait_for(timeout=90_000)
    notebooks = list((root / "models").glob("*.ipynb"))
    assert len(notebooks) == 1
    cells = json.loads(notebooks[0].read_text())["cells"]
    assert 'workbench.explore("demo.onnx")' in "".join(cells[0]["source"])
    notebooks[0].unlink()


def test_the_context_menu_explores_the_model_in_a_new_console(tab) -> None:
    tab.file_item("demo.onnx").click(button="right")
    tab.page.locator(".lm-Menu-item", has_text="Explore ONNX Model in a New Console").click()
    output = tab.page.locator(".jp-CodeConsole .jp-OutputArea-output")
    output.filter(has_text="tinynet").first.wait_for(timeout=90_000)


def test_the_files_route_refuses_a_file_over_the_limit(lab) -> None:
    status, _, body = lab.get("onnx-workbench/api/files/models/big.onnx")
    assert status == 413
    assert "more than the graph viewer opens" in json.loads(body)["message"]
    assert lab.get("onnx-workbench/api/files/models/demo.onnx")[0] == 200


def test_notebook_7_opens_the_file_in_netron(root, browser, tmp_path) -> None:
    with running_server(root, tmp_path, app="notebook") as server:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.goto(server.address(f"tree/models?token={TOKEN}"))
            item = page.locator(".jp-DirListing-item[title^='Name: demo.onnx']")
            with context.expect_page() as opened:
                item.dblclick()
            viewer = opened.value
            viewer.wait_for_load_state()
            assert _graph_nodes(viewer, 17) >= 17, viewer.url
        finally:
            context.close()
            server.delete_sessions()
