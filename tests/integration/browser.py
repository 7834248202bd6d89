"""Driving JupyterLab in headless Chromium: open a notebook, run it, look inside outputs."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from tests.integration.jupyter import CHROMIUM, CHROMIUM_ARGS, TOKEN, JupyterServer

_NUMBERED = re.compile(r"^\[\d+\]:$")


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium from Debian's package (Playwright never downloads one here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


# A test-only hook, run in every frame of a page before its own scripts. In the graph
# viewer's frames (an opaque origin; the served page, or an offline file's own) it tries
# what a script smuggled in by a hostile model would try (read the server's cookies, call
# the Jupyter API at BASE with the user's credentials, reach the page that embeds it, learn
# its URL or anything secret from its own) and posts what happened to the top page, which
# collects the reports in `window.__probes`. `window.__probe(base)` is the same attempt, for
# a control run elsewhere.
PROBE = r"""
window.__probe = async (base) => {
  const report = {
    type: 'onnx-workbench-test:probe', origin: self.origin, referrer: document.referrer,
    base: document.baseURI, location: location.href,
  };
  const attempt = (what) => {
    try { return 'read: ' + what(); } catch (error) { return error.name; }
  };
  report.cookie = attempt(() => document.cookie);
  report.parent = attempt(() => window.parent.document.title);
  report.storage = attempt(() => localStorage.length);
  report.api = await fetch(base + 'api/contents', { credentials: 'include' }).then(
    (response) => response.text().then((text) => `read: ${response.status} ${text.slice(0, 60)}`),
    (error) => error.name);
  return report;
};
if (window === window.top) {
  window.__probes = [];
  window.addEventListener('message', (event) => {
    if (event.data && event.data.type === 'onnx-workbench-test:probe') {
      window.__probes.push(event.data);
    }
  });
} else if (self.origin === 'null' && (location.protocol === 'blob:'
           || location.pathname.endsWith('/netron-viewer.html'))) {
  window.__probe(BASE).then((report) => window.top.postMessage(report, '*'));
}
"""


def probe_script(base: str) -> str:
    """PROBE, aimed at the Jupyter server at `base` (its URL, ending in /)."""
    return PROBE.replace("BASE", json.dumps(base))


class LabPage:
    """One JupyterLab tab, with every request it (and its iframes) makes recorded."""

    def __init__(
        self, browser: Any, server: JupyterServer, *, bypass_csp: bool = False, probe: bool = False
    ) -> None:
        self.server = server
        self.context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, bypass_csp=bypass_csp
        )
        if probe:
            self.context.add_init_script(probe_script(server.address("")))
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))

    def close(self) -> None:
        self.context.close()

    def hosts(self) -> set[str]:
        """Every host any frame of the page asked for (data: and blob: URLs excluded)."""
        return {
            urlsplit(url).hostname or ""
            for url in self.requests
            if not url.startswith(("data:", "blob:"))
        }

    def open_lab(self, timeout: float = 90) -> None:
        """JupyterLab on the server's root, with a fresh workspace, its file browser listed."""
        self.page.goto(self.server.address(f"lab?reset&token={TOKEN}"))
        self.page.wait_for_selector(".jp-DirListing-item", timeout=timeout * 1000)

    def file_item(self, name: str) -> Any:
        """The file browser's entry for `name`."""
        return self.page.locator(f".jp-DirListing-item[title^='Name: {name}']")

    def open_notebook(self, name: str, timeout: float = 90) -> None:
        self.page.goto(self.server.address(f"lab/tree/{name}?reset&token={TOKEN}"))
        self.page.wait_for_selector(".jp-NotebookPanel", timeout=timeout * 1000)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            kernel = self.page.locator(".jp-KernelName").first
            status = self.page.locator("#jp-main-statusbar").inner_text()
            if kernel.count() and "Python" in kernel.inner_text() and "| Idle" in status:
                return
            time.sleep(0.25)
        raise AssertionError("the notebook's kernel did not become idle")

    def run_all(self, timeout: float = 120) -> float:
        """Run every cell; return the seconds until all prompts are numbered and idle."""
        start = time.monotonic()
        self.page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        deadline = start + timeout
        while time.monotonic() < deadline:
            prompts = [
                p.strip()
                for p in self.page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
            ]
            status = self.page.locator("#jp-main-statusbar").inner_text()
            if prompts and all(_NUMBERED.match(p) for p in prompts) and "| Idle" in status:
                return time.monotonic() - start
            time.sleep(0.2)
        raise AssertionError(f"cells did not finish: prompts {prompts}")

    def output_text(self) -> str:
        return "\n".join(self.page.locator(".jp-OutputArea-output").all_inner_texts())

    def probes(self, count: int, timeout: float = 30) -> list[dict[str, str]]:
        """The reports of `count` viewer frames' probes (PROBE), once they all arrived."""
        deadline = time.monotonic() + timeout
        reports: list[dict[str, str]] = []
        while time.monotonic() < deadline:
            reports = self.page.evaluate("window.__probes || []")
            if len(reports) >= count:
                break
            time.sleep(0.2)
        return reports

    def frames_readable(self, selector: str = "iframe[title^='Netron']") -> list[bool]:
        """Whether this page can read each graph frame's document (same-origin frames only)."""
        return self.page.evaluate(
            f"Array.from(document.querySelectorAll({selector!r}))"
            ".map(f => f.contentDocument !== null)"
        )

    def wait_for_graph(self, index: int, minimum: int, timeout: float = 60) -> tuple[int, float]:
        """Nodes drawn in the `index`-th Netron iframe, and the seconds it took to reach
        `minimum` of them."""
        start = time.monotonic()
        frames = self.page.frame_locator("iframe[title^='Netron']")
        deadline = start + timeout
        count = 0
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                count = frames.nth(index).locator("g.node").count()
                if count >= minimum:
                    return count, time.monotonic() - start
            time.sleep(0.1)
        return count, time.monotonic() - start
