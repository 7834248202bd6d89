"""Which Jupyter server runs this kernel, and whether it has the onnx-workbench extension.

A kernel started by a Jupyter server carries its pid in `JPY_PARENT_PID` (POSIX) and is its
descendant; servers running the extension announce themselves in the shared registry
folder. With several servers, the one that launched the kernel is chosen; any of the user's
servers with the extension can serve a registered model, since the registry is shared.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass

import psutil

from workbench.graphview import registry


@dataclass(frozen=True)
class Discovery:
    """The server to use, or why there is none (one plain sentence)."""

    server: registry.ServerMark | None
    reason: str


def find_server() -> Discovery:
    """The extension-enabled Jupyter server that launched this kernel, if any."""
    try:
        marks = {mark.pid: mark for mark in registry.active_servers()}
    except ImportError:  # jupyter_core missing: not running under Jupyter at all
        marks = {}
    for pid in _launcher_pids():
        if pid in marks:
            return Discovery(marks[pid], "")
    if os.environ.get("JPY_SESSION_NAME") or os.environ.get("JPY_PARENT_PID"):
        return Discovery(
            None,
            "The Jupyter server running this kernel does not have the onnx-workbench "
            "extension enabled (run: jupyter server extension enable workbench, then "
            "restart it)",
        )
    return Discovery(None, "This kernel was not started by a Jupyter server")


def _launcher_pids() -> list[int]:
    """JPY_PARENT_PID first (POSIX: the launching server's pid), then every ancestor."""
    pids = []
    parent = os.environ.get("JPY_PARENT_PID", "")
    if sys.platform != "win32" and parent.isdigit():  # on Windows it is a handle, not a pid
        pids.append(int(parent))
    with contextlib.suppress(Exception):  # a process we may not inspect: the env var decides
        pids += [process.pid for process in psutil.Process().parents()]
    return pids
