"""HTTP handlers of the server extension.

The sandboxed viewer page (public: it holds no secret), and, behind Jupyter's own auth,
registered model bytes, registration and uploads, and model files read through the
server's contents root.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import ensure_async, url_path_join
from tornado import web
from tornado.iostream import StreamClosedError

from workbench.errors import WorkbenchError
from workbench.graphview import netron, registry
from workbench.model.parsing import is_model_file
from workbench.server.config import OnnxWorkbench

PREFIX = "onnx-workbench"


class ViewerPageHandler(JupyterHandler):
    """The sandboxed viewer page: public, like JupyterLab's own static files.

    It holds no secret and no model: the notebook output or the `.onnx` tab fetches the
    model with the user's credentials and hands it over by message. Cached for good, since
    its URL names its build.
    """

    @allow_unauthenticated
    async def get(self) -> None:
        """The page, with its sandbox and framing policy."""
        try:
            built = netron.viewer()
        except WorkbenchError as error:  # the detail (paths) goes to the log, not to anyone
            self.log.warning("onnx-workbench: %s %s", error.message, error.hint)
            raise web.HTTPError(404, "The graph viewer is not built on this server.") from None
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Content-Length", str(len(built.page)))
        self.set_header("Cache-Control", "public, max-age=31536000, immutable")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        # The headers on their own: sent with a first body chunk, tornado would join them into
        # a new copy of the 7 MB page per request (50 at once held 350 MB).
        await self.flush()
        self.finish(built.page)

    @property
    def content_security_policy(self) -> str:
        """Jupyter's default CSP, replaced.

        The page's own <meta> policy allows nothing outward; this header adds the sandbox
        and lets only the server's pages frame it.
        """
        return netron.content_security_policy(framed_by_self=True)


class _StreamingHandler(APIHandler):
    """Streams a file in chunks: a large model never sits whole in the server's memory."""

    config_holder: OnnxWorkbench

    def initialize(self, config: OnnxWorkbench) -> None:
        """Receive the extension's settings."""
        self.config_holder = config

    async def stream(self, path: Path, name: str, include_body: bool = True) -> None:
        """Send `path` in chunks (or only its headers); refuse one too large to view."""
        size = path.stat().st_size
        if size > self.config_holder.max_view_bytes:
            self.fail(
                413,
                f"{name} is {size:,} bytes, more than the graph viewer opens "
                f"({self.config_holder.max_view_bytes:,}; c.OnnxWorkbench.max_view_bytes).",
            )
            return
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Length", str(size))
        self.set_header("Cache-Control", "no-store")
        if not include_body:
            self.finish()
            return
        chunk = max(self.config_holder.chunk_bytes, 64 * 1024)
        with path.open("rb") as stream:
            while data := stream.read(chunk):
                self.write(data)
                try:
                    await self.flush()
                except StreamClosedError:
                    return  # the browser went away (tab closed, reload): nothing to report
        self.finish()

    def fail(self, status: int, message: str) -> None:
        """Finish with a JSON error message."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message}))


class ModelBytesHandler(_StreamingHandler):
    """GET/HEAD onnx-workbench/api/models/<id>: a registered model's bytes, by id only."""

    @web.authenticated
    async def get(self, model_id: str) -> None:
        """The model's bytes, streamed."""
        await self._serve(model_id, include_body=True)

    @web.authenticated
    async def head(self, model_id: str) -> None:
        """Whether the id is registered, and the model's size, without its bytes."""
        await self._serve(model_id, include_body=False)

    async def _serve(self, model_id: str, *, include_body: bool) -> None:
        entry = registry.lookup(model_id)
        if entry is None:
            self.fail(
                404,
                "No model is registered under this id (the server may have "
                "restarted since): re-run the cell that showed the graph.",
            )
            return
        path = Path(entry.path)
        if not path.is_file() or not is_model_file(path):
            self.fail(404, "The registered model file is gone or is no longer a model.")
            return
        await self.stream(path, entry.name, include_body)


@web.stream_request_body
class ModelRegistryHandler(APIHandler):
    """POST {"path", "name"}: register a file; PUT ?name=: upload a model's bytes."""

    config_holder: OnnxWorkbench

    def initialize(self, config: OnnxWorkbench) -> None:
        """Per-request state: the upload being written, or the JSON body being read."""
        self.config_holder = config
        self._received = 0
        self._upload: Any = None
        self._upload_id = ""
        self._body = bytearray()

    async def prepare(self) -> None:  # type: ignore[override]
        """Authenticate first; an authenticated upload gets a file to stream into."""
        await super().prepare()
        if self.request.method == "PUT" and self.current_user:
            declared = int(self.request.headers.get("Content-Length", "0") or 0)
            if declared > self.config_holder.max_upload_bytes:
                raise web.HTTPError(413, "The model is larger than OnnxWorkbench.max_upload_bytes.")
            connection: Any = self.request.connection
            connection.set_max_body_size(self.config_holder.max_upload_bytes)
            self._upload_id = registry.new_id()
            self._upload = registry.upload_path(self._upload_id).open("wb")

    def data_received(self, chunk: bytes) -> None:
        """Write upload chunks to disk as they arrive; keep a small JSON body in memory."""
        self._received += len(chunk)
        if self._upload is not None:
            self._upload.write(chunk)
        elif len(self._body) < 64 * 1024:
            self._body.extend(chunk)

    @web.authenticated
    def post(self) -> None:
        """Register a model file by path (for clients sharing the server's filesystem)."""
        try:
            body = json.loads(bytes(self._body) or b"{}")
            path = Path(str(body["path"]))
        except (ValueError, KeyError, TypeError):
            raise web.HTTPError(
                400, 'Send JSON {"path": "/absolute/model.onnx", "name": "..."}.'
            ) from None
        if not path.is_absolute() or not path.is_file() or not is_model_file(path):
            raise web.HTTPError(400, "The path must be an absolute path to an ONNX model file.")
        entry = registry.register(path, str(body.get("name") or path.name))
        self.finish(json.dumps({"id": entry.id}))

    @web.authenticated
    def put(self) -> None:
        """Register uploaded bytes (for kernels that share no filesystem with the server)."""
        if self._upload is None:
            raise web.HTTPError(400, "No upload in progress.")
        self._upload.close()
        path = registry.upload_path(self._upload_id)
        if not is_model_file(path):
            path.unlink(missing_ok=True)
            raise web.HTTPError(400, "The uploaded bytes are not an ONNX model.")
        entry = registry.register(path, self.get_argument("name", "model.onnx"))
        self.finish(json.dumps({"id": entry.id}))

    def on_finish(self) -> None:
        """Drop the partial file of an upload that failed."""
        if self._upload is not None and not self._upload.closed:
            self._upload.close()
            registry.upload_path(self._upload_id).unlink(missing_ok=True)


class ContentsModelHandler(_StreamingHandler):
    """GET onnx-workbench/api/files/<path>: a file under the server's contents root only."""

    auth_resource = "contents"

    @web.authenticated
    async def get(self, path: str) -> None:
        """The file's bytes, streamed."""
        await self.stream(await self._os_path(path), path.rsplit("/", 1)[-1])

    @web.authenticated
    async def head(self, path: str) -> None:
        """The file's headers."""
        await self.stream(await self._os_path(path), path.rsplit("/", 1)[-1], include_body=False)

    async def _os_path(self, path: str) -> Path:
        manager = self.contents_manager
        root = getattr(manager, "root_dir", None)
        if root is None:
            raise web.HTTPError(501, "The contents manager has no folder on disk to read from.")
        base = Path(root).resolve()
        target = (base / path.lstrip("/")).resolve()
        if not target.is_relative_to(base) or ".." in Path(path).parts:
            raise web.HTTPError(404, "No such file under the server's root folder.")
        hidden = await ensure_async(manager.is_hidden(path))
        if hidden and not getattr(manager, "allow_hidden", False):
            raise web.HTTPError(404, "No such file under the server's root folder.")
        if not target.is_file():
            raise web.HTTPError(404, "No such file under the server's root folder.")
        return target


def handlers(base_url: str, config: OnnxWorkbench) -> list[tuple[str, Any, dict[str, Any]]]:
    """Routes, all under `<base_url>onnx-workbench/`."""
    prefix = url_path_join(base_url, PREFIX)
    return [
        (url_path_join(base_url, netron.SERVED_AT), ViewerPageHandler, {}),
        (url_path_join(prefix, "api", "models"), ModelRegistryHandler, {"config": config}),
        (url_path_join(prefix, "api", "models", "([^/]+)"), ModelBytesHandler, {"config": config}),
        (url_path_join(prefix, "api", "files", "(.*)"), ContentsModelHandler, {"config": config}),
    ]
