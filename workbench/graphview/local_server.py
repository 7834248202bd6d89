"""The fallback viewer: the same sandboxed viewer page served on 127.0.0.1 by this process.

Used where no Jupyter server with the extension runs this kernel (VS Code, plain IPython).
Only a browser on this machine can reach it. Models sit under a random secret path, so
other local users cannot fetch them. The notebook output's script (another origin: VS
Code's webview) fetches the model's bytes, so those answer with CORS. The viewer page holds
no secret and sits outside that path, so the frame that shows it (sandboxed, in an opaque
origin) does not learn the secret either.
"""

from __future__ import annotations

import functools
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
        self.models: dict[str, Path] = {}
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

    @property
    def viewer_url(self) -> str:
        """The viewer page."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/viewer/{netron.PAGE}{netron.viewer().query}"

    def register(self, path: Path) -> str:
        """Serve `path` under a fresh id; returns the URL of its bytes."""
        model_id = secrets.token_urlsafe(16)
        self.models[model_id] = path
        return f"{self.url}models/{model_id}"

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
        if parts == ["", "viewer", netron.PAGE]:
            page = netron.viewer().page
            self._headers(len(page), "text/html; charset=UTF-8")
            self.send_header(
                "Content-Security-Policy", netron.content_security_policy(framed_by_self=False)
            )
            self.end_headers()
            self.wfile.write(page)
        elif len(parts) == 4 and parts[1:3] == [self.owner.secret, "models"]:
            self._model(self.owner.models.get(parts[3]))
        else:
            self.send_error(404)

    def _model(self, path: Path | None) -> None:
        if path is None or not path.is_file():
            # Readable by the output's script (it says "re-run this cell"), like the bytes.
            message = b'{"message": "This kernel does not serve that model (any more)."}'
            self._headers(len(message), "application/json", status=404)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(message)
            return
        self._headers(path.stat().st_size, "application/octet-stream")
        # The output's script runs in the notebook front-end's origin, not this one.
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        with path.open("rb") as stream:
            while data := stream.read(CHUNK):
                self.wfile.write(data)

    def _headers(self, size: int, kind: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(size))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
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
