"""Driving JupyterLab in headless Chromium: open a notebook, run it, look inside outputs."""

from __future__ import annotations

import contextlib
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


class LabPage:
    """One JupyterLab tab, with every request it (and its iframes) makes recorded."""

    def __init__(self, browser: Any, server: JupyterServer, *, bypass_csp: bool = False) -> None:
        self.server = server
        self.context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, bypass_csp=bypass_csp
        )
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
