"""Where kernels register models for the Jupyter server to serve, by opaque id.

Kernel and server share the user's Jupyter runtime folder (private to the user), so a
kernel registers a model by writing a small JSON entry there; no credentials are needed
and it works whatever the server's auth scheme (token, password, JupyterHub OAuth). The
server serves the bytes only to authenticated requests, and only for ids in this registry:
no request parameter ever names a path.

Layout under `<jupyter runtime dir>/onnx-workbench/`:
    servers/<pid>.json   written by each server running the extension (so kernels know)
    models/<id>.json     one per registered model: {"path", "name", "size", "created"}
    uploads/<id>.onnx    bytes uploaded over HTTP, for kernels that share no filesystem
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
KEEP_SECONDS = 7 * 24 * 3600  # registrations older than this are swept at server start


@dataclass(frozen=True)
class Entry:
    """A registered model: an id and the file it stands for."""

    id: str
    path: str
    name: str
    size: int
    created: float


@dataclass(frozen=True)
class ServerMark:
    """A running Jupyter server that has the onnx-workbench extension loaded."""

    pid: int
    url: str
    base_url: str
    root_dir: str


def root() -> Path:
    """The registry folder inside the user's Jupyter runtime folder."""
    from jupyter_core.paths import jupyter_runtime_dir  # noqa: PLC0415  (the jupyter extra: absent from a core install)

    return Path(jupyter_runtime_dir()) / "onnx-workbench"


def new_id() -> str:
    """An unguessable id (32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def register(path: Path, name: str) -> Entry:
    """Record `path` under a fresh id (kernel side, or the server's registration route)."""
    entry = Entry(new_id(), str(path.resolve()), name, path.stat().st_size, time.time())
    _write_json(root() / "models" / f"{entry.id}.json", asdict(entry))
    return entry


def lookup(model_id: str) -> Entry | None:
    """The entry for an id, or None for anything not registered (or not an id at all)."""
    if not ID_PATTERN.match(model_id):
        return None
    try:
        data = json.loads((root() / "models" / f"{model_id}.json").read_text())
        entry = Entry(**{k: data[k] for k in Entry.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return entry if entry.id == model_id else None


def upload_path(model_id: str) -> Path:
    """Where uploaded bytes for `model_id` are kept."""
    folder = root() / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / f"{model_id}.onnx"


def mark_server(pid: int, url: str, base_url: str, root_dir: str) -> Path:
    """Announce a server running the extension; returns the mark's path (removed at exit)."""
    path = root() / "servers" / f"{pid}.json"
    _write_json(path, asdict(ServerMark(pid, url, base_url, root_dir)))
    return path


def active_servers() -> list[ServerMark]:
    """Servers with the extension whose process is still alive."""
    found = []
    for path in sorted((root() / "servers").glob("*.json")):
        try:
            mark = ServerMark(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            continue
        if psutil.pid_exists(mark.pid):
            found.append(mark)
    return found


def sweep(max_age: float = KEEP_SECONDS) -> int:
    """Remove registrations and uploads older than `max_age` seconds; returns how many."""
    cutoff = time.time() - max_age
    removed = 0
    for folder in (root() / "models", root() / "uploads"):
        for path in folder.glob("*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
    return removed


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic, private (0600) JSON write."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    with os.fdopen(handle, "w") as stream:
        json.dump(data, stream)
    os.chmod(temporary, 0o600)  # noqa: PTH101  (on the descriptor's file, before it is visible)
    Path(temporary).replace(path)
