"""Graph view timings (issues 5 and 16), in a real JupyterLab and Chromium.

- Run to drawn, for the demo model and a 98 MiB / 1,000-node model, in a notebook output and
  in the `.onnx` tab, both drawn by the sandboxed viewer from bytes the page hands over;
- the bare baseline, measured in the same run: stock netron as a plain page on loopback,
  fetching the same file itself (what the graph view did before the sandbox);
- the page's JavaScript memory while it loads the large model (the page should hold one
  copy of the bytes, transferred to the frame), and the Jupyter server's peak RSS;
- the offline file: its size for the demo model (goal < 10 MB), and for the large model,
  with the time each takes to draw from disk.

Run: python tests/perf/bench_graph.py
"""

from __future__ import annotations

import functools
import http.server
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import netron
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import workbench
from tests import models
from tests.integration.browser import LabPage, chromium
from tests.integration.jupyter import notebook, running_server
from workbench.cli.main import main as cli

MiB = 2**20


class PeakMemory:
    """Samples a process's RSS every 10 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.01)

    def stop(self) -> tuple[float, float]:
        self._stop.set()
        self._thread.join()
        return self.baseline / MiB, self.peak / MiB


class PageMemory:
    """The page's JavaScript heap and ArrayBuffer backing stores (CDP), sampled by `sample`."""

    def __init__(self, page) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.peak = 0.0
        self.baseline = self._used()

    def _used(self) -> float:
        usage = self.cdp.send("Runtime.getHeapUsage")
        return (usage["usedSize"] + usage.get("backingStorageSize", 0)) / MiB

    def sample(self) -> None:
        self.peak = max(self.peak, self._used())


def _wait_nodes(locator, minimum: int, timeout: float = 120, tick=None) -> int:
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        try:
            count = locator.count()
        except Exception:
            count = 0
        if count >= minimum:
            break
        if tick:
            tick()
        time.sleep(0.05)
    return count


def _baseline(browser, folder: Path, model: Path) -> float:
    """Stock netron as a plain page on loopback, opening `model` by URL itself."""

    class Page(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            """Quiet."""

        def end_headers(self) -> None:
            self.send_header("Set-Cookie", f"consent={int(time.time() * 1000)}; Path=/")
            super().end_headers()

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, *args: object) -> None:
            """A closed page is not an error here."""

    site = folder / "stock"
    shutil.copytree(Path(netron.__file__).parent, site)
    shutil.copy(model, site / "large.onnx")
    server = Server(("127.0.0.1", 0), functools.partial(Page, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        page.goto(f"{url}/index.html")  # sets the consent cookie first
        start = time.monotonic()
        page.goto(f"{url}/index.html?url=large.onnx")
        _wait_nodes(page.locator("g.node"), 1000)
        return time.monotonic() - start
    finally:
        context.close()
        server.shutdown()
        server.server_close()


def _notebook(browser, server, name: str, minimum: int) -> tuple[tuple, float]:
    """Run `name`.ipynb: its row, and the seconds from its frame showing to the graph drawn."""
    tab = LabPage(browser, server)
    tab.open_notebook(f"{name}.ipynb")
    memory = PeakMemory(server.process.pid)
    page_memory = PageMemory(tab.page)
    start = time.monotonic()
    tab.page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    frame = tab.page.frame_locator("iframe[title^='Netron']").first
    shown: list[float] = []  # when the output's frame appeared, after Run

    def tick() -> None:
        page_memory.sample()
        if not shown and tab.page.locator("iframe[title^='Netron']").count():
            shown.append(time.monotonic() - start)

    nodes = _wait_nodes(frame.locator("g.node"), minimum, tick=tick)
    seconds = time.monotonic() - start
    server_base, server_peak = memory.stop()
    tab.close()
    server.delete_sessions()
    row = (f"notebook, {name}", nodes, seconds, page_memory.baseline, page_memory.peak,
           server_base, server_peak)  # fmt: skip
    return row, seconds - (shown[0] if shown else 0.0)


def _tab(browser, server) -> tuple:
    """Double-click large.onnx in JupyterLab: its row."""
    tab = LabPage(browser, server)
    tab.open_lab()
    page_memory = PageMemory(tab.page)
    start = time.monotonic()
    tab.file_item("large.onnx").dblclick()
    frame = tab.page.frame_locator("iframe.jp-OnnxWorkbench-frame")
    nodes = _wait_nodes(frame.locator("g.node"), 1000, tick=page_memory.sample)
    seconds = time.monotonic() - start
    tab.close()
    return (".onnx tab, large", nodes, seconds, page_memory.baseline, page_memory.peak, 0.0, 0.0)


def _offline(browser, files: dict[str, Path]) -> list[tuple[str, float, int, float]]:
    """Open each offline file from disk: its size, nodes drawn and seconds."""
    rows = []
    for name, path in files.items():
        context = browser.new_context()
        page = context.new_page()
        start = time.monotonic()
        page.goto(path.as_uri())
        nodes = _wait_nodes(page.locator("g.node"), 17 if name == "demo" else 1000)
        rows.append((name, path.stat().st_size / 1e6, nodes, time.monotonic() - start))
        context.close()
    return rows


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root, work = Path(tmp) / "root", Path(tmp) / "work"
        root.mkdir()
        large = models.large_chain(root / "large.onnx")
        large_mib = large.stat().st_size / MiB
        notebook(
            root / "demo.ipynb", ["import workbench\nworkbench.show_graph(workbench.demo_model())"]
        )
        notebook(root / "large.ipynb", ["import workbench\nworkbench.show_graph('large.onnx')"])
        offline = {}
        for name, source in (("demo", workbench.demo_model()), ("large", large)):
            offline[name] = Path(tmp) / f"{name}.html"
            cli(["graph", str(source), "--html", str(offline[name])])
        with running_server(root, work) as server, chromium() as browser:
            baseline = _baseline(browser, Path(tmp), large)
            demo, demo_viewer = _notebook(browser, server, "demo", 17)
            big, big_viewer = _notebook(browser, server, "large", 1000)
            rows = [demo, big, _tab(browser, server)]
            files = _offline(browser, offline)
    print(f"model file: {large_mib:.0f} MiB, 1,000 nodes, 750 initializers")
    print(f"bare baseline, stock netron on loopback fetching it itself: {baseline:.2f} s")
    for name, nodes, seconds, page_base, page_peak, server_base, server_peak in rows:
        line = (
            f"{name:>18}: {nodes:>5} nodes drawn {seconds:.2f} s after Run; page JS memory "
            f"{page_base:.0f} -> peak {page_peak:.0f} MiB (+{page_peak - page_base:.0f})"
        )
        if server_peak:
            line += f"; server RSS +{server_peak - server_base:.0f} MiB"
        print(line)
    for name, megabytes, nodes, seconds in files:
        print(f"offline file, {name:>5}: {megabytes:.1f} MB, {nodes} nodes, {seconds:.2f} s")
    print(
        "the viewer's own part in the notebook (its frame shown -> drawn): "
        f"demo {demo_viewer:.2f} s, large {big_viewer:.2f} s"
    )
    ratios = {
        "notebook viewer part / bare": big_viewer / baseline,
        ".onnx tab / bare": rows[2][2] / baseline,
        "notebook / before the sandbox (2.4 s)": rows[1][2] / 2.4,
        ".onnx tab / before the sandbox (2.4 s)": rows[2][2] / 2.4,
    }
    for label, ratio in ratios.items():
        print(f"  {label}: {ratio:.2f}x")
    met = max(rows[1][2], rows[2][2]) / 2.4 <= 1.2
    small = files[0][1] < 10
    print(
        f"goal: the large graph within 1.2x of before the sandbox: {'ok' if met else 'MISSED'}; "
        f"offline demo file < 10 MB: {'ok' if small else 'MISSED'}"
    )
    return 0 if met and small else 1


if __name__ == "__main__":
    raise SystemExit(main())
