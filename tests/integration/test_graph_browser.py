"""The graph view in a real JupyterLab and a real Chromium: nodes drawn inside sandboxed
frames that cannot reach the page, its cookies or the Jupyter API, no request leaves the
machine, under a root and a JupyterHub-style base URL; the loopback fallback and the offline
file draw too, and the viewer keeps working long after the pinned netron release would have
expired."""

from __future__ import annotations

import contextlib
import datetime
import functools
import http.server
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import netron
import pytest

import workbench
from tests import models
from tests.integration.browser import LabPage, probe_script
from tests.integration.firefox import firefox
from tests.integration.jupyter import TOKEN, JupyterServer, notebook, running_server
from workbench.cli.main import main
from workbench.graphview import netron as viewer
from workbench.graphview.local_server import local_viewer
from workbench.graphview.view import GraphView, _Panel

pytestmark = pytest.mark.browser
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module", params=["/", "/user/alice/"], ids=["root", "hub-prefix"])
def lab(request, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    root = tmp_path_factory.mktemp("lab")
    models.large_chain(root / "large.onnx")
    notebook(
        root / "graph.ipynb",
        [
            "import workbench\nworkbench.show_graph(workbench.demo_model(), height=400)",
            "workbench.load('large.onnx').show_graph(height=400)",
            "workbench.show_graph(workbench.demo_model(), optimized='both', height=400)",
        ],
    )
    notebook(
        root / "overlay.ipynb",
        [
            "import workbench\nprofile = workbench.profile(workbench.demo_model(), runs=3)\n"
            "view = workbench.show_graph(workbench.demo_model(), overlay=profile, height=400)\n"
            "view",
            "view.reveal('head/Gemm')",
        ],
    )
    with running_server(root, tmp_path_factory.mktemp("work"), base_url=request.param) as server:
        yield server


def test_graphs_render_inside_jupyterlab_without_leaving_the_machine(lab, browser, request) -> None:
    tab = LabPage(browser, lab, probe=True)
    try:
        tab.open_notebook("graph.ipynb")
        ran = tab.run_all()
        demo_nodes, demo_seconds = tab.wait_for_graph(0, minimum=17)
        large_nodes, large_seconds = tab.wait_for_graph(1, minimum=1000)
        assert demo_nodes >= 17, tab.output_text()
        assert large_nodes >= 1000, tab.output_text()
        original, _ = tab.wait_for_graph(2, minimum=17)
        optimized, _ = tab.wait_for_graph(3, minimum=3)
        assert 3 <= optimized < original  # onnxruntime fused Conv+BatchNorm+Relu, and more
        assert tab.hosts() == {"127.0.0.1"}
        assert "Re-run this cell" not in tab.output_text()  # the live viewer replaced the hint
        # Every frame that draws is out of the page's reach, and the page out of its reach.
        assert tab.frames_readable() == [False] * 4
        _assert_locked_out(tab.probes(4), count=4)
        control = tab.page.evaluate(f"window.__probe({lab.address('')!r})")
        assert control["api"].startswith("read: 200"), control  # the probe can see access
        TIMINGS[request.node.callspec.id] = ran + large_seconds
        print(
            f"\n[{request.node.callspec.id}] cells ran in {ran:.2f} s; demo graph drawn "
            f"{demo_seconds:.2f} s later, the 100 MB graph {large_seconds:.2f} s later"
        )
    finally:
        tab.close()
        lab.delete_sessions()


def test_an_overlay_draws_in_jupyterlab_and_the_kernel_reveals_a_node(lab, browser) -> None:
    tab = LabPage(browser, lab)
    try:
        tab.open_notebook("overlay.ipynb")
        tab.run_all()
        nodes, _ = tab.wait_for_graph(0, minimum=11)
        assert nodes >= 11, tab.output_text()
        frame = tab.page.locator("iframe[title^='Netron']").first
        deadline = time.monotonic() + 20
        while frame.get_attribute("data-marked") is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert frame.get_attribute("data-marked") == "11"  # every profiled node is on screen
        inside = tab.page.frame_locator("iframe[title^='Netron']").first
        assert inside.locator(".wb-overlay-label").count() == 11
        assert inside.locator(".wb-overlay-row").count() == 10
        # The kernel's reveal arrived through the second cell's output, and the frame
        # selected the node (and showed its values beside the graph).
        selected = inside.locator("g.node.select")
        deadline = time.monotonic() + 20
        while not selected.count() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert selected.first.get_attribute("id") == "node-name-head/Gemm"
        assert "time per run" in inside.locator(".wb-overlay-details").inner_text()
        assert "Shown in the graph above: head/Gemm" in tab.output_text()
    finally:
        tab.close()
        lab.delete_sessions()


def _assert_locked_out(reports: list[dict[str, str]], count: int) -> None:
    """What the probe found inside each viewer frame: an opaque origin that can read no
    cookie, no storage, not the embedding page, not its URL, and not the Jupyter API."""
    assert len(reports) == count, reports
    for report in reports:
        assert report["origin"] == "null", report
        assert report["cookie"] == "SecurityError", report
        assert report["storage"] == "SecurityError", report
        assert report["parent"] == "SecurityError", report
        assert report["referrer"] == "", report  # the page's URL may carry the token
        for own in (report["base"], report["location"]):  # nor may the frame's own URLs
            assert "token" not in own and "_xsrf" not in own, report
        assert report["api"] == "TypeError", report  # the request failed: nothing read


def test_without_its_csp_the_sandbox_alone_keeps_the_frame_out(lab, browser) -> None:
    """Even with every Content-Security-Policy ignored (the viewer's own included), the
    frame's sandbox keeps it from the API: its request leaves from origin null, and the
    answer is not readable."""
    tab = LabPage(browser, lab, bypass_csp=True, probe=True)
    try:
        tab.open_notebook("graph.ipynb")
        tab.page.evaluate("window.jupyterapp.commands.execute('notebook:run-cell')")
        nodes, _ = tab.wait_for_graph(0, minimum=17)
        assert nodes >= 17
        _assert_locked_out(tab.probes(1), count=1)
    finally:
        tab.close()
        lab.delete_sessions()


def _build_date() -> datetime.datetime:
    html = (Path(netron.__file__).parent / "index.html").read_text()
    stamp = re.search(r'<meta name="date" content="([^"]+)">', html).group(1)
    return datetime.datetime.fromisoformat(stamp.replace(" ", "T") + "+00:00")


def _open_with_clock(browser, url: str, when: datetime.datetime):
    context = browser.new_context()
    context.clock.install(time=when)
    page = context.new_page()
    page.goto(url)
    return context, page


def _offline_file(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "graph.html"
    code = main(["graph", str(workbench.demo_model()), "--html", str(out), *args])
    assert code == 0 and out.is_file()
    return out


def test_the_offline_file_draws_from_disk_with_no_request(browser, tmp_path) -> None:
    out = _offline_file(tmp_path)
    context = browser.new_context()
    # A request the page's CSP blocks shows no `request` event: record the attempts too (on
    # the page itself, since netron's page refuses `eval`, which page.evaluate needs).
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', (event) => {"
        " const root = document.documentElement;"
        " root.dataset.blocked = (root.dataset.blocked || '') + event.blockedURI + ' '; });"
    )
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(out.as_uri())
        page.wait_for_selector("g.node", timeout=30000)
        assert page.locator("g.node").count() >= 17
        assert not page.locator("#onnx-workbench-note").count()  # the script ran
        assert page.title() == "tinynet.onnx"
        assert [u for u in requests if not u.startswith("blob:")] == [out.as_uri()]
        assert page.locator("html").get_attribute("data-blocked") is None
    finally:
        context.close()


def test_the_offline_files_overlay_draws_and_its_list_finds_nodes(browser, tmp_path) -> None:
    out = _offline_file(tmp_path, "--overlay", "profile", "--runs", "3")
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    try:
        page.goto(out.as_uri())
        page.wait_for_selector(".wb-overlay-row", timeout=30000)
        assert page.locator(".wb-overlay-label").count() == 11
        assert "% of run time is on the nodes drawn" in page.locator(".wb-overlay").inner_text()
        hottest = page.locator(".wb-overlay-name").first.inner_text()
        fill = page.locator(f"[id='node-name-{hottest}'] .node-item-type path").first
        assert fill.get_attribute("style") == "fill: rgb(68, 1, 84);"  # viridis' darkest
        row = page.locator(".wb-overlay-row").nth(4)
        name = row.locator(".wb-overlay-name").inner_text()
        row.click()
        page.wait_for_selector("g.node.select", timeout=5000)
        assert page.locator("g.node.select").get_attribute("id") == f"node-name-{name}"
        assert name in page.locator(".wb-overlay-details").inner_text()
        # Clicking a node in the graph shows its values too.
        page.locator("[id='node-name-head/Gemm'] .node-item-type").click()
        details = page.locator(".wb-overlay-details").inner_text()
        assert details.startswith("head/Gemm") and "fused from" not in details
        assert "original nodes\titself" in details
    finally:
        page.close()


def test_the_offline_file_draws_in_firefox_from_disk(tmp_path) -> None:
    out = _offline_file(tmp_path)
    with firefox() as driver:
        driver.command("WebDriver:Navigate", {"url": out.as_uri()})
        deadline = time.monotonic() + 60
        nodes = 0
        while nodes < 17 and time.monotonic() < deadline:
            nodes = driver.run("return document.querySelectorAll('g.node').length")
            time.sleep(0.2)
        assert nodes >= 17
        assert driver.command("WebDriver:GetTitle") == "tinynet.onnx"
        # Nothing fetched: no resource besides the page (the layout worker is a blob).
        fetched = driver.run(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".filter(n => !n.startsWith('blob:'))"
        )
        assert fetched == []


def test_the_offline_file_draws_in_jupyterlab_once_trusted_in_a_frame_of_its_own(
    lab, browser
) -> None:
    """JupyterLab shows an HTML file in a frame and runs its scripts once the user clicks
    Trust HTML, and then with the server's origin (its HTML viewer adds allow-same-origin):
    the file then moves the model into a sandboxed frame of its own before netron reads it.
    Until trusted, the file says what to do."""
    _offline_file(Path(lab.root))
    tab = LabPage(browser, lab, probe=True)
    try:
        tab.page.goto(lab.address(f"lab/tree/graph.html?reset&token={TOKEN}"))
        outer = tab.page.frame_locator(".jp-HTMLViewer iframe")
        outer.locator("#onnx-workbench-note").wait_for(timeout=60000)
        assert "Trust HTML" in outer.locator("#onnx-workbench-note").inner_text()
        tab.page.get_by_role("button", name="Trust HTML").first.click()
        inner = outer.frame_locator("iframe[title^='Netron']")
        deadline = time.monotonic() + 60
        count = 0
        while count < 17 and time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                count = inner.locator("g.node").count()
            time.sleep(0.2)
        assert count >= 17
        assert outer.locator("g.node").count() == 0  # netron never ran with the Lab's origin
        assert tab.frames_readable(".jp-HTMLViewer iframe") == [True]  # JupyterLab's choice
        _assert_locked_out(tab.probes(1), count=1)
        assert tab.hosts() == {"127.0.0.1"}
    finally:
        tab.close()


def test_the_viewer_still_works_two_years_after_the_netron_build(browser, tmp_path) -> None:
    later = _build_date() + datetime.timedelta(days=730)
    context, page = _open_with_clock(browser, _offline_file(tmp_path).as_uri(), later)
    try:
        page.wait_for_selector("g.node", timeout=30000)
        assert page.locator("g.node").count() >= 17
        shown = page.locator("body").inner_text()  # (netron's code, inlined, has the words)
        assert "Please update" not in shown
        assert "cookies" not in shown  # no consent dialog
    finally:
        context.close()


def test_the_stock_viewer_would_have_expired(browser, tmp_path) -> None:
    """The control for the test above: served unpatched, netron refuses at that date."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            """No request log in the test output."""

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, *args: object) -> None:
            """The page closes mid-download at the end: not worth a traceback."""

    handler = functools.partial(Quiet, directory=str(Path(netron.__file__).parent))
    server = Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    later = _build_date() + datetime.timedelta(days=730)
    context, page = _open_with_clock(
        browser, f"http://127.0.0.1:{server.server_address[1]}/index.html", later
    )
    try:
        deadline = time.monotonic() + 20
        while "Please update" not in page.content() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "Please update" in page.content()
    finally:
        context.close()
        server.shutdown()
        server.server_close()


def _local_output(tmp_path: Path, view) -> Path:
    """A local-mode output on a page of its own origin (a file), as VS Code shows one."""
    page_file = tmp_path / "output.html"
    page_file.write_text(f"<!doctype html><html><body>{view._html()}</body></html>")
    return page_file


@pytest.fixture
def loopback(tmp_path, monkeypatch):
    """The kernel side as in VS Code or plain IPython: no Jupyter server, the loopback one."""
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.delenv("JPY_PARENT_PID", raising=False)


def _status(page, timeout: float) -> str:
    """The first status line under a graph, once it says something other than loading."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        texts = [t for t in page.locator(".wb-panel-status").all_inner_texts() if t]
        text = texts[0] if texts else ""
        if text and not text.startswith(("Loading", "Drawing")):
            break
        time.sleep(0.2)
    return text


def test_the_loopback_fallback_draws_in_another_origin(browser, tmp_path, loopback) -> None:
    """Where no Jupyter server runs the kernel (VS Code, plain IPython): the output, shown
    by a front-end of another origin (here a file), fetches from the loopback server and
    hands the bytes to the same sandboxed frame."""
    view = workbench.show_graph(workbench.demo_model(), optimized="both", height=400)
    assert view.mode == "local"
    context = browser.new_context()
    context.add_init_script(probe_script(view.viewer_url.split("viewer/")[0]))
    page = context.new_page()
    try:
        page.goto(_local_output(tmp_path, view).as_uri())
        frames = page.frame_locator("iframe[title^='Netron']")
        deadline = time.monotonic() + 30
        counts = [0, 0]
        while min(counts) < 3 and time.monotonic() < deadline:
            counts = [frames.nth(i).locator("g.node").count() for i in range(2)]
            time.sleep(0.2)
        assert counts[0] >= 17 and 3 <= counts[1] < counts[0], counts
        sandboxes = page.evaluate(
            "Array.from(document.querySelectorAll('iframe')).map(f => f.getAttribute('sandbox'))"
        )
        assert sandboxes == [viewer.SANDBOX, viewer.SANDBOX]
        _assert_locked_out(page.evaluate("window.__probes"), count=2)
    finally:
        context.close()


def test_bytes_netron_cannot_read_get_its_message_under_the_graph(
    browser, tmp_path, loopback
) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00\xff\x13 not a model at all " * 50)
    shown = workbench.show_graph(workbench.demo_model())
    view = GraphView(
        shown.model,
        [_Panel("original", "bad.onnx", local_url=local_viewer().register(bad))],
        400,
        "local",
        viewer_url=shown.viewer_url,
    )
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(_local_output(tmp_path, view).as_uri())
        assert _status(page, 30).startswith("Netron could not open bad.onnx: ")
    finally:
        context.close()


def test_an_external_data_model_draws_without_its_weights_file(browser, tmp_path, loopback) -> None:
    path = models.write("external_weights", tmp_path)
    view = workbench.show_graph(path)
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(_local_output(tmp_path, view).as_uri())
        frame = page.frame_locator("iframe[title^='Netron']")
        assert _wait_count(frame.locator("g.node"), 1) >= 1
        assert _status(page, 2) == ""
    finally:
        context.close()


def test_a_frame_that_navigates_away_is_sent_back_and_draws_again(
    browser, tmp_path, loopback
) -> None:
    """A script smuggled in by a model could navigate the frame to a page of its own (a fake
    login prompt): the output sends it back to the viewer, which gets the model again."""
    view = workbench.show_graph(workbench.demo_model())
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(_local_output(tmp_path, view).as_uri())
        frame = page.frame_locator("iframe[title^='Netron']")
        assert _wait_count(frame.locator("g.node"), 17) >= 17
        (inner,) = [f for f in page.frames if f.url.startswith(view.viewer_url.split("?")[0])]
        inner.goto("data:text/html,<p id=phish>Your password, please</p>")  # it gets there
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and frame.locator("#phish").count():
            time.sleep(0.1)
        # The output sent it back (a new src, so that it navigates), and the graph drew again.
        assert page.evaluate("document.querySelector('iframe').getAttribute('src')").endswith("#1")
        assert _wait_count(frame.locator("g.node"), 17) >= 17
        assert frame.locator("#phish").count() == 0
    finally:
        context.close()


def test_a_model_the_loopback_no_longer_serves_says_to_re_run(browser, tmp_path, loopback) -> None:
    shown = workbench.show_graph(workbench.demo_model())
    gone = shown.panels[0].local_url.rsplit("/", 1)[0] + "/not-registered"
    view = GraphView(
        shown.model, [_Panel("original", "tinynet.onnx", local_url=gone)], 400, "local",
        viewer_url=shown.viewer_url,
    )  # fmt: skip
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(_local_output(tmp_path, view).as_uri())
        hint = page.locator(".wb-hint")
        deadline = time.monotonic() + 20
        while "no longer serves" not in hint.inner_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "re-run this cell" in hint.inner_text() and "no longer serves" in hint.inner_text()
        assert page.locator("iframe").count() == 0
    finally:
        context.close()


def test_a_frame_that_never_starts_is_reported_and_let_go(browser, tmp_path, loopback) -> None:
    shown = workbench.show_graph(workbench.demo_model())
    not_the_viewer = shown.viewer_url.replace("/viewer/", "/elsewhere/")  # a 404 page
    view = GraphView(shown.model, shown.panels, 400, "local", viewer_url=not_the_viewer)
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(_local_output(tmp_path, view).as_uri())
        assert _status(page, 40).startswith("The graph viewer did not start")
    finally:
        context.close()


def _wait_count(locator, minimum: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    count = 0
    while count < minimum and time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            count = locator.count()
        time.sleep(0.2)
    return count


def test_a_reopened_notebook_without_a_live_viewer_keeps_a_summary(lab, browser) -> None:
    """Registrations expire and servers restart: the saved output still says something."""
    import nbformat

    from tests.integration.jupyter import notebook as write_notebook

    view = workbench.show_graph(workbench.demo_model())
    html = view._html() if view.mode == "server" else None
    if html is None:  # outside a Jupyter kernel: build the server-mode output by hand
        from workbench.graphview.view import GraphView, _Panel

        html = GraphView(
            view.model, [_Panel("original", "tinynet.onnx", model_id="0" * 32)], 400, "server"
        )._html()
    path = Path(lab.root) / "stale.ipynb"
    write_notebook(path, ["# the live viewer's model id is not registered any more"])
    book = nbformat.read(path, as_version=4)
    book.cells[0].outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": html, "text/plain": "graph"})
    ]
    nbformat.write(book, path)
    tab = LabPage(browser, lab)
    try:
        tab.open_notebook("stale.ipynb")
        text = tab.output_text()
        assert "Graph tinynet" in text and "14 nodes" in text
        assert "re-run this cell" in text.lower()
        assert tab.page.locator("iframe[title^='Netron']").count() == 0
    finally:
        tab.close()
        lab.delete_sessions()


@pytest.mark.parametrize("base_url", ["/", "/user/alice/"], ids=["root", "hub-prefix"])
def test_notebook_7_shows_the_graph(browser, tmp_path, base_url) -> None:
    root = tmp_path / "root"
    root.mkdir()
    notebook(
        root / "graph.ipynb", ["import workbench\nworkbench.show_graph(workbench.demo_model())"]
    )
    with running_server(root, tmp_path / "work", base_url=base_url, app="notebook") as server:
        page = browser.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        try:
            page.goto(server.address(f"notebooks/graph.ipynb?token={TOKEN}"))
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60000)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:  # the kernel is ready once the app says so
                ready = page.evaluate(
                    "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                    " const k = w && w.sessionContext && w.sessionContext.session &&"
                    " w.sessionContext.session.kernel;"
                    " return !!k && k.connectionStatus === 'connected' && k.status === 'idle'; }"
                )
                if ready:
                    break
                time.sleep(0.25)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            frame = page.frame_locator("iframe[title^='Netron']").first
            count = 0
            drawn_by = time.monotonic() + 90  # its own deadline: a busy machine starts slowly
            while count < 17 and time.monotonic() < drawn_by:
                try:
                    count = frame.locator("g.node").count()
                except Exception:
                    count = 0
                time.sleep(0.2)
            assert count >= 17, page.locator(".jp-OutputArea-output").all_inner_texts()
            readable = page.evaluate(
                "Array.from(document.querySelectorAll(\"iframe[title^='Netron']\"))"
                ".map(f => f.contentDocument !== null)"
            )
            assert readable == [False]
            from urllib.parse import urlsplit

            assert {urlsplit(u).hostname for u in requests if u.startswith("http")} == {"127.0.0.1"}
        finally:
            page.close()
