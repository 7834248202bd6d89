"""The graph viewer: Netron, bundled into one page that runs in an opaque origin.

Netron parses untrusted files in JavaScript, so its page must never run with the Jupyter
server's origin (a parser bug would then hold the user's credentials). `hatch_build.py`
bundles the pinned netron release with esbuild (extensions/viewer/) into bundle/: one HTML
page with netron's view, its ONNX reader, its layout worker (started from a blob) and a host
that takes the model's bytes by message (extensions/viewer/src/host.js has the protocol).
The page loads nothing and connects nowhere (its own Content-Security-Policy), has no
telemetry, consent dialog or expiry, and is served with a CSP `sandbox`, so it gets an
opaque origin even when opened directly. The same page, with a model inside, is the
offline file (`GraphView.save`): a `file://` page is an opaque origin too, and where it is
not (JupyterLab shows a trusted HTML file with the server's origin) the page moves the
model into a sandboxed frame of its own before netron reads it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.text import human_bytes

NETRON_VERSION = "9.3.3"  # the release the bundle is built from (also pinned in pyproject.toml)
# Largest file the viewer is asked to open. No single-file ONNX protobuf can be larger, and
# netron drew a 1.9 GB one in 18 s in headless Chromium; bigger files would only freeze it.
MAX_VIEW_BYTES = 2**31
# Largest model an offline file carries. The file holds it as base64 (4/3 of its size), which
# the browser keeps as text and decodes in memory at once: past this, opening the file takes
# long enough, and memory enough, that a user would think it broken.
MAX_OFFLINE_BYTES = 128 * 2**20
BUNDLE = Path(__file__).parent / "bundle"
PAGE = "netron-viewer.html"
# Where the server extension serves it, relative to the server's base URL (server/handlers.py).
SERVED_AT = f"onnx-workbench/viewer/{PAGE}"
# The frame's sandbox: scripts (netron) and downloads (its PNG/SVG export); never
# allow-same-origin, which would give the frame the server's origin back.
SANDBOX = "allow-scripts allow-downloads"
_MODEL_SLOT = "<!-- onnx-workbench:model -->"
_TITLE = "<title>Netron</title>"
_REBUILD = (
    "Reinstall onnx-workbench (pip install onnx-workbench). In a source checkout run `make` "
    "or `pip install -e .`, which build it with Node.js 20+ and npm."
)


@dataclass(frozen=True)
class Viewer:
    """The built page, and what identifies it."""

    page: bytes
    version: str  # changes with the page: a cache key for its URL

    @property
    def query(self) -> str:
        """The query string that names this build (browsers may cache the page for good)."""
        return f"?v={self.version}"


@functools.cache
def viewer() -> Viewer:
    """The bundled page, checked against the pinned netron release and its own manifest."""
    try:
        manifest = json.loads((BUNDLE / "manifest.json").read_text(encoding="utf-8"))
        page = (BUNDLE / PAGE).read_bytes()
    except (OSError, ValueError):
        raise WorkbenchError(
            f"The graph viewer is not built (no {BUNDLE / PAGE}).", _REBUILD
        ) from None
    if manifest.get("netron") != NETRON_VERSION:
        raise WorkbenchError(
            f"The graph viewer was built from netron {manifest.get('netron')}, but this "
            f"onnx-workbench is made for netron {NETRON_VERSION}.",
            _REBUILD,
        )
    digest = hashlib.sha256(page).hexdigest()
    if digest != manifest.get("page"):
        raise WorkbenchError(
            f"The graph viewer's page {BUNDLE / PAGE} does not match its manifest "
            "(changed or partly written).",
            _REBUILD,
        )
    return Viewer(page, digest[:16])


def content_security_policy(*, framed_by_self: bool) -> str:
    """The page's Content-Security-Policy header.

    Its own <meta> policy already allows no request; the header adds what only a header
    can: the sandbox, and who may frame it.
    """
    policy = f"sandbox {SANDBOX}"
    return f"{policy}; frame-ancestors 'self'" if framed_by_self else policy


def script_json(data: Any) -> str:
    """JSON that is safe inside a <script> element: no `<`, `>`, `&` or line separators."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def offline_page(source: Path, name: str, overlay: dict[str, Any] | None = None) -> bytes:
    """The viewer with the model file `source` (and an overlay) inside: it draws offline."""
    size = source.stat().st_size
    if size > MAX_OFFLINE_BYTES:  # checked before anything is read
        raise WorkbenchError(
            f"{name} is {human_bytes(size)}; an offline graph file holds models up to "
            f"{human_bytes(MAX_OFFLINE_BYTES)}, since the browser decodes the whole model in "
            "memory as it opens the file, and a larger one would take minutes or fail.",
            "Show it in the notebook instead (show_graph), or share a smaller part of it.",
        )
    page = viewer().page.decode("utf-8")
    data = source.read_bytes()
    slot = (
        '<div id="onnx-workbench-note" style="position: fixed; top: 8px; left: 8px; right: 8px; '
        'z-index: 10; padding: 8px; background: #fff6d6; color: #333; font-size: 13px;">'
        f"The graph of {html.escape(name)} is drawn by the script in this file, and it has not "
        "run. In JupyterLab, click <b>Trust HTML</b> in this tab's toolbar; elsewhere, open "
        "the file in a browser with scripts on. Nothing in it connects to the network, and "
        "the model is only ever read where nothing else can be reached (an opaque origin).</div>\n"
        '<script type="application/octet-stream" id="onnx-workbench-model" '
        f'data-name="{html.escape(name, quote=True)}">'
        f"{base64.b64encode(data).decode('ascii')}</script>"
    )
    if overlay is not None:
        slot += (
            f'\n<script type="application/json" id="onnx-workbench-overlay">'
            f"{script_json(overlay)}</script>"
        )
    if page.count(_MODEL_SLOT) != 1 or page.count(_TITLE) != 1:
        raise WorkbenchError(
            f"The graph viewer's page lacks the places a model goes ({BUNDLE / PAGE}).", _REBUILD
        )
    page = page.replace(_TITLE, f"<title>{html.escape(name)}</title>")  # before any script runs
    return page.replace(_MODEL_SLOT, slot).encode("utf-8")
