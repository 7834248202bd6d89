"""The user's onnx-workbench cache folder (demo model, optimized graphs)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """`$XDG_CACHE_HOME/onnx-workbench/<parts>` (~/.cache by default), created on demand.

    Falls back to the temp folder when the home folder is read-only.
    """
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    for base in (Path(root) / "onnx-workbench", Path(tempfile.gettempdir()) / "onnx-workbench"):
        folder = base.joinpath(*parts)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue  # a read-only home: fall back to the temp folder
        if os.access(folder, os.W_OK):
            return folder
    raise OSError("no writable cache folder for onnx-workbench")
