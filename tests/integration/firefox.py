"""Driving Debian's Firefox (firefox-esr) headless through Marionette, its built-in remote
protocol: enough to open a page, run a script in it and close. (Playwright drives only its
own patched Firefox builds, which cannot be downloaded here.)"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FIREFOX = os.environ.get("FIREFOX") or shutil.which("firefox-esr") or shutil.which("firefox")


class Marionette:
    """One connection: `command(name, params)` sends a WebDriver command, returns its value."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.next_id = 0
        self._read()  # the server's greeting

    def _read(self) -> Any:
        size = b""
        while not size.endswith(b":"):
            size += self._receive(1)
        data = b""
        while len(data) < int(size[:-1]):
            data += self._receive(int(size[:-1]) - len(data))
        return json.loads(data)

    def _receive(self, count: int) -> bytes:
        data = self.socket.recv(count)
        if not data:
            raise AssertionError("Firefox closed its Marionette connection (did it crash?)")
        return data

    def command(self, name: str, params: dict[str, Any] | None = None) -> Any:
        self.next_id += 1
        body = json.dumps([0, self.next_id, name, params or {}]).encode()
        self.socket.sendall(str(len(body)).encode() + b":" + body)
        while True:
            _, answer_id, error, result = self._read()
            if answer_id == self.next_id:
                if error:
                    raise RuntimeError(f"{name}: {error}")
                return result.get("value") if isinstance(result, dict) else result

    def run(self, script: str) -> Any:
        """The value of `script` (a function body, `return ...`) in the current page."""
        return self.command("WebDriver:ExecuteScript", {"script": script, "args": []})


@contextlib.contextmanager
def firefox() -> Iterator[Marionette]:
    """A headless Firefox with a fresh profile, on a free Marionette port."""
    if FIREFOX is None:
        raise AssertionError(
            "The Firefox tests need firefox-esr: sudo apt-get install -y firefox-esr "
            "(make test installs it where apt is usable), or set FIREFOX=/path/to/firefox"
        )
    profile = Path(tempfile.mkdtemp(prefix="firefox-profile-"))
    (profile / "user.js").write_text(
        'user_pref("marionette.port", 0);\n'  # a free port, written to MarionetteActivePort
        'user_pref("browser.shell.checkDefaultBrowser", false);\n'
        'user_pref("datareporting.policy.dataSubmissionEnabled", false);\n'
    )
    process = subprocess.Popen(
        [FIREFOX, "--headless", "--marionette", "--no-remote", "--profile", str(profile)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "MarionetteActivePort"
        deadline = time.monotonic() + 60
        while not port_file.is_file() or not port_file.read_text().strip():
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError("Firefox did not start its Marionette server")
            time.sleep(0.1)
        driver = Marionette(int(port_file.read_text()))
        driver.command("WebDriver:NewSession", {"capabilities": {}})
        yield driver
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)
