"""The explorer in a real JupyterLab: tabs, a run, a live benchmark, a cancel, an export, the
history."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import models
from tests.integration.browser import LabPage
from tests.integration.jupyter import JupyterServer, notebook, running_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    root = tmp_path_factory.mktemp("widgets")
    notebook(
        root / "explore.ipynb",
        [
            "import workbench\napp = workbench.explore(workbench.demo_model())\napp",
        ],
    )
    models.write("vad_like", root)  # a free dim and a scalar input: the inputs form has fields
    notebook(
        root / "explore_vad.ipynb",
        ["import workbench\napp = workbench.explore('vad_like.onnx')\napp"],
    )
    with running_server(root, tmp_path_factory.mktemp("work")) as server:
        yield server


def _tab(page, title: str) -> None:
    page.locator(".jupyter-widgets .lm-TabBar-tab", has_text=title).first.click()


def _button(page, text: str):
    return page.locator(".jupyter-widgets button", has_text=text).first


def _wait(predicate, timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _output_text(page) -> str:
    return page.locator(".jp-OutputArea-output").first.inner_text()


def _field(page, label: str):
    return page.locator(".jupyter-widgets .widget-text", has_text=label).locator("input:visible")


def _set(page, label: str, value: str) -> None:
    field = _field(page, label)
    field.fill(value)
    field.press("Enter")


def _cut_labels(page) -> list[str]:
    """Visible buttons whose label does not fit (CSS cuts it with an ellipsis)."""
    return page.evaluate(
        "() => [...document.querySelectorAll('.jupyter-widgets button')]"
        ".filter(b => b.offsetParent !== null && b.scrollWidth > b.clientWidth + 1)"
        ".map(b => b.textContent.trim())"
    )


def _check_live_benchmark(page) -> None:
    """Start a benchmark, switch tabs while it runs, and see the table change as it goes.

    Four batch sizes up to 256: each row stops when its median's CI is tight, which for
    batch 1 and 8 alone can take under a second, too short to show several states.
    """
    _set(page, "Batch sizes", "1,8,64,256")
    _set(page, "Seconds per config", "3")
    _button(page, "Start").click()
    seen: list[str] = []
    switched = False
    start = time.monotonic()
    while time.monotonic() - start < 90:
        text = _output_text(page)
        if "configuration" in text.lower() and (not seen or seen[-1] != text):
            seen.append(text)
        if not switched and seen:
            _tab(page, "Overview")  # the UI stays usable while the benchmark runs
            assert "ONNX model tinynet" in _output_text(page)
            _tab(page, "Benchmark")
            switched = True
        if _button(page, "Start").is_enabled() and seen and time.monotonic() - start > 1:
            break
        time.sleep(0.1)
    assert len(set(seen)) >= 3, f"expected live updates, saw {len(set(seen))} states"
    assert "cpu b1 host" in _output_text(page) and "cpu b8 host" in _output_text(page)


def _check_cancel(page) -> None:
    _set(page, "Batch sizes", "1,2,4,8,16,32,64,128")
    _set(page, "Seconds per config", "30")
    _button(page, "Start").click()
    _wait(lambda: _button(page, "Cancel").is_enabled(), 10, "a running benchmark")
    _button(page, "Cancel").click()
    _wait(lambda: _button(page, "Start").is_enabled(), 30, "the cancel")
    assert "cancelled" in _output_text(page)  # the rest were not run; completed runs are kept


def test_explorer_end_to_end(lab, browser, tmp_path) -> None:
    tab = LabPage(browser, lab)
    page = tab.page
    try:
        tab.open_notebook("explore.ipynb")
        tab.run_all()
        page.wait_for_selector(".jupyter-widgets .lm-TabBar-tab", timeout=30000)
        assert "ONNX model tinynet" in _output_text(page)

        _tab(page, "Graph")
        frame = page.frame_locator("iframe[title^='Netron']").first
        _wait(lambda: frame.locator("g.node").count() >= 17, 30, "the graph in the Graph tab")
        assert tab.frames_readable() == [False]  # the sandboxed viewer, here too

        _tab(page, "Run")
        _button(page, "Run").click()
        seconds = _wait(
            lambda: "Ran on CPUExecutionProvider" in _output_text(page), 30, "run results"
        )
        print(f"\nclick Run -> results shown: {seconds:.2f} s")
        assert _cut_labels(page) == []

        _tab(page, "Benchmark")
        assert _cut_labels(page) == []
        _check_live_benchmark(page)
        _check_cancel(page)

        _button(page, "Export report").click()
        links = page.locator(".jp-OutputArea-output a", has_text=".html")
        _wait(lambda: links.count() > 0, 20, "the report link")
        assert (Path(lab.root) / links.first.inner_text()).is_file()

        _tab(page, "History")  # what the Benchmark tab recorded, read back from the store
        _button(page, "Refresh").click()
        _wait(lambda: "Latest p50 ms" in _output_text(page), 30, "the History tab's table")
        assert "cpu b1 host" in _output_text(page)
        assert page.locator(".jp-OutputArea-output img[alt='History plot']").count() == 1
    except AssertionError:
        shot = tmp_path / "explorer-failure.png"
        page.screenshot(path=str(shot), full_page=True)
        raise AssertionError(f"see the screenshot at {shot}") from None
    finally:
        tab.close()
        lab.delete_sessions()


def test_the_inputs_form_is_shared_by_the_run_and_benchmark_tabs(lab, browser, tmp_path) -> None:
    # Typed in the Run tab, used by a run and by a benchmark whose label names them.
    tab = LabPage(browser, lab)
    page = tab.page
    try:
        tab.open_notebook("explore_vad.ipynb")
        tab.run_all()
        page.wait_for_selector(".jupyter-widgets .lm-TabBar-tab", timeout=30000)
        _tab(page, "Run")
        _set(page, "samples", "40")
        _set(page, "sr", "16000")
        _button(page, "Run").click()
        _wait(lambda: "sr given" in _output_text(page), 30, "the run with the value typed")
        assert "audio synthetic [1, 40]" in _output_text(page)
        _tab(page, "Benchmark")
        assert _field(page, "samples").input_value() == "40"  # the same form
        _set(page, "Batch sizes", "2")
        _set(page, "Seconds per config", "0.3")
        _button(page, "Start").click()
        _wait(lambda: "cpu b2 samples=40 host" in _output_text(page), 60, "the labelled row")
        assert _cut_labels(page) == []
    except AssertionError:
        shot = tmp_path / "inputs-form-failure.png"
        page.screenshot(path=str(shot), full_page=True)
        raise AssertionError(f"see the screenshot at {shot}") from None
    finally:
        tab.close()
        lab.delete_sessions()


def test_explorer_renders_in_notebook_7(browser, tmp_path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    notebook(
        root / "explore.ipynb", ["import workbench\nworkbench.explore(workbench.demo_model())"]
    )
    with running_server(root, tmp_path / "work", app="notebook") as server:
        from tests.integration.jupyter import TOKEN

        page = browser.new_page()
        try:
            page.goto(server.address(f"notebooks/explore.ipynb?token={TOKEN}"))
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60000)
            _wait(
                lambda: page.evaluate(
                    "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                    " const k = w && w.sessionContext && w.sessionContext.session &&"
                    " w.sessionContext.session.kernel;"
                    " return !!k && k.connectionStatus === 'connected' && k.status === 'idle'; }"
                ),
                90,
                "the kernel",
            )
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_selector(".jupyter-widgets .lm-TabBar-tab", timeout=60000)
            titles = page.locator(".jupyter-widgets .lm-TabBar-tab").all_inner_texts()
            assert [t.strip() for t in titles][:4] == ["Overview", "Graph", "Run", "Benchmark"]
            _tab(page, "Run")
            _button(page, "Run").click()
            _wait(
                lambda: (
                    "Ran on CPUExecutionProvider"
                    in page.locator(".jp-OutputArea-output").first.inner_text()
                ),
                30,
                "run results",
            )
        finally:
            page.close()
