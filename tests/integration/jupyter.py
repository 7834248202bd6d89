"""A real Jupyter server (JupyterLab) in a subprocess, isolated in temp folders, and a real
headless Chromium driven by Playwright. Used by the server, browser and notebook tests."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

TOKEN = "onnx-workbench-test-token"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # Every cell and output stays in the page (no virtual scrolling): tests look inside them.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "autoStartDefaultKernel": True,
        "windowingMode": "none",
    },
}


class JupyterServer:
    """`jupyter lab` on 127.0.0.1, port 0, a fixed token, private config/data/runtime dirs."""

    def __init__(
        self,
        root: Path,
        work: Path,
        base_url: str = "/",
        app: str = "lab",
        args: tuple[str, ...] = (),
    ) -> None:
        self.root, self.work, self.base_url, self.app = root, work, base_url, app
        self.args = args  # more command-line options, e.g. --OnnxWorkbench.max_view_bytes=N
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.env: dict[str, str] = {}

    def start(self, timeout: float = 60) -> JupyterServer:
        dirs = {
            name: self.work / name for name in ("config", "data", "runtime", "ipython", "settings")
        }
        for folder in dirs.values():
            folder.mkdir(parents=True, exist_ok=True)
        for name, values in _SETTINGS.items():
            target = dirs["settings"] / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        self.env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "IPYTHONDIR": str(dirs["ipython"]),
            "JUPYTER_PLATFORM_DIRS": "1",
        }
        command = [
            sys.executable,
            "-m",
            "jupyter",
            self.app,
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            "--port=0",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={self.root}",
            f"--ServerApp.base_url={self.base_url}",
        ]
        if self.app == "lab":
            command += [
                "--LabApp.expose_app_in_browser=True",
                f"--LabApp.user_settings_dir={dirs['settings']}",
            ]
        elif self.app == "notebook":
            command += ["--JupyterNotebookApp.expose_app_in_browser=True"]
        command += self.args
        self.log = (self.work / "server.log").open("wb")
        self.process = subprocess.Popen(
            command,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        info = dirs["runtime"] / f"jpserver-{self.process.pid}.json"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter exited early:\n{self.server_log()}")
            if info.is_file():
                # The file can be half written, or written before the port accepts.
                with contextlib.suppress(ValueError, OSError):
                    self.url = json.loads(info.read_text())["url"]
                    if self.get("api/status")[0] == 200:
                        return self
            time.sleep(0.2)
        raise RuntimeError(f"jupyter did not start in {timeout} s:\n{self.server_log()}")

    def server_log(self) -> str:
        return (self.work / "server.log").read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()

    def address(self, path: str) -> str:
        return self.url.rstrip("/") + "/" + path.lstrip("/")

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        body: bytes | None = None,
        token: bool = True,
        headers: dict[str, str] | None = None,
        follow: bool = True,
    ) -> tuple[int, Message, bytes]:
        """(status, headers, body) of one HTTP request (never raises for HTTP errors)."""
        request = urllib.request.Request(
            self.address(path), data=body, method=method, headers=dict(headers or {})
        )
        if token:
            request.add_header("Authorization", f"token {TOKEN}")
        opener = urllib.request.build_opener(*([] if follow else [_NoRedirect()]))
        try:
            with opener.open(request, timeout=60) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def get(self, path: str, **kwargs: Any) -> tuple[int, Message, bytes]:
        return self.request(path, **kwargs)

    def delete_sessions(self) -> None:
        """Shut down every kernel session (closing a browser tab leaves them running)."""
        status, _, body = self.get("api/sessions")
        if status == 200:
            for session in json.loads(body):
                self.request(f"api/sessions/{session['id']}", method="DELETE")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@contextlib.contextmanager
def running_server(
    root: Path, work: Path, base_url: str = "/", app: str = "lab", args: tuple[str, ...] = ()
) -> Iterator[JupyterServer]:
    server = JupyterServer(root, work, base_url, app, args).start()
    try:
        yield server
    finally:
        server.delete_sessions()
        server.stop()


def chromium_available() -> bool:
    return shutil.which(CHROMIUM) is not None or Path(CHROMIUM).is_file()


def notebook(path: Path, sources: list[str]) -> Path:
    """Write a notebook (python3 kernelspec, no outputs) with one code cell per source."""
    import nbformat

    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    book.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(book, path)
    return path
