"""The fallback viewer: the same patched Netron app served on 127.0.0.1 by this process.

Used where no Jupyter server with the extension runs this kernel (VS Code, plain IPython).
Only a browser on this machine can reach it. Every route sits under a random secret path,
so other local users cannot fetch the models.
"""

from __future__ import annotations

import functools
import mimetypes
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from workbench.graphview import netron

CHUNK = 1024 * 1024


class LocalViewer:
    """A loopback HTTP server for the viewer and registered model files."""

    def __init__(self) -> None:
        self.secret = secrets.token_urlsafe(16)
        self.models: dict[str, tuple[Path, str]] = {}
        self._assets = netron.netron_dir()
        handler = functools.partial(_Handler, self)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        thread = threading.Thread(
            target=self.server.serve_forever, daemon=True, name="onnx-workbench-viewer"
        )
        thread.start()

    @property
    def url(self) -> str:
        """Root of this viewer's routes, e.g. http://127.0.0.1:PORT/SECRET/."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/{self.secret}/"

    def register(self, path: Path, name: str) -> str:
        """Serve `path` under a fresh id; returns the viewer URL that opens it."""
        model_id = secrets.token_urlsafe(16)
        self.models[model_id] = (path, name)
        return f"{self.url}netron/index.html{netron.viewer_query(f'../models/{model_id}', name)}"

    def stop(self) -> None:
        """Shut the server down."""
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    def __init__(self, owner: LocalViewer, *args: object) -> None:
        self.owner = owner
        super().__init__(*args)  # type: ignore[arg-type]

    def log_message(self, format: str, *args: object) -> None:
        """Keep the notebook quiet."""

    def do_GET(self) -> None:
        parts = urlsplit(self.path).path.split("/")
        if len(parts) < 3 or parts[1] != self.owner.secret:
            self.send_error(404)
            return
        route, rest = parts[2], "/".join(parts[3:])
        if route == "netron" and rest in ("", "index.html"):
            self._send(netron.patched_index(), "text/html; charset=UTF-8", consent=True)
        elif route == "netron":
            self._asset(rest)
        elif route == "models" and rest in self.owner.models:
            self._model(*self.owner.models[rest])
        else:
            self.send_error(404)

    def _asset(self, name: str) -> None:
        folder = self.owner._assets.resolve()
        target = (folder / name).resolve()
        if not target.is_relative_to(folder) or not target.is_file():
            self.send_error(404)
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if target.suffix == ".js":
            kind = "text/javascript"
        self._send(target.read_bytes(), kind)

    def _model(self, path: Path, name: str) -> None:
        if not path.is_file():
            self.send_error(404)
            return
        self.send_response(200)
        self._security_headers()
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(path.stat().st_size))
        self.end_headers()
        with path.open("rb") as stream:
            while data := stream.read(CHUNK):
                self.wfile.write(data)

    def _send(self, body: bytes, kind: str, *, consent: bool = False) -> None:
        self.send_response(200)
        self._security_headers()
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if consent:
            self.send_header(
                "Set-Cookie",
                f"{netron.CONSENT_COOKIE}={netron.consent_cookie_value()}; "
                f"Path=/{self.owner.secret}/netron/; SameSite=Strict",
            )
        self.end_headers()
        self.wfile.write(body)

    def _security_headers(self) -> None:
        self.send_header("Content-Security-Policy", netron.CONTENT_SECURITY_POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")


_instance: LocalViewer | None = None
_lock = threading.Lock()


def local_viewer() -> LocalViewer:
    """The process-wide fallback viewer, started on first use."""
    global _instance  # noqa: PLW0603  (one server per kernel)
    with _lock:
        if _instance is None:
            _instance = LocalViewer()
        return _instance
