"""The Netron web app, made fit to serve from a Jupyter server or a loopback fallback.

Served stock, netron's page asks for cookie consent, sends usage analytics, looks up the
visitor's IP, and stops working about 180 days after its build date. Three edits to its
index.html fix that, without touching its scripts:
- the `version` meta goes: netron treats the page as an unpackaged build and never starts
  telemetry;
- the `date` meta goes: the age check then measures from the current time, so the pinned
  release never expires;
- the Content-Security-Policy becomes `connect-src 'self'` (no outbound request at all).
The consent dialog is skipped by a `consent` cookie the server sets with the page.
"""

from __future__ import annotations

import functools
import re
import time
import urllib.parse
from pathlib import Path

from workbench.errors import WorkbenchError, optional_import

NETRON_VERSION = "9.3.3"  # the viewer's edits are checked against this release's files
# Largest file the viewer is asked to open. No single-file ONNX protobuf can be larger, and
# netron drew a 1.9 GB one in 18 s in headless Chromium; bigger files would only freeze it.
MAX_VIEW_BYTES = 2**31
_POLICY = [
    "default-src 'self'",
    "script-src 'self'",
    "connect-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "worker-src 'self' blob:",
    "frame-src 'none'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
]
# The page's own <meta> copy, and the HTTP header (which alone may restrict framing).
META_CONTENT_SECURITY_POLICY = "; ".join(_POLICY)
CONTENT_SECURITY_POLICY = "; ".join([*_POLICY, "frame-ancestors 'self'"])
CONSENT_COOKIE = "consent"
_EDITS = (
    (re.compile(r'<meta name="version" content="[^"]*">\n?'), ""),
    (re.compile(r'<meta name="date" content="[^"]*">\n?'), ""),
    (
        re.compile(r'<meta http-equiv="Content-Security-Policy" content="[^"]*">'),
        f'<meta http-equiv="Content-Security-Policy" content="{META_CONTENT_SECURITY_POLICY}">',
    ),
)


def netron_dir() -> Path:
    """The installed netron package's web app folder."""
    netron = optional_import("netron", feature="The graph view", extra="jupyter")
    folder = Path(str(netron.__file__)).parent
    if not (folder / "index.html").is_file():
        raise WorkbenchError(
            f"The installed netron package at {folder} has no web app (index.html).",
            f'Reinstall the pinned release: pip install "netron=={NETRON_VERSION}".',
        )
    return folder


@functools.cache
def patched_index() -> bytes:
    """Netron's index.html with the edits above; fails loudly if its layout changed."""
    html = (netron_dir() / "index.html").read_text(encoding="utf-8")
    for pattern, replacement in _EDITS:
        html, count = pattern.subn(replacement, html)
        if count != 1:
            raise WorkbenchError(
                f"netron's index.html does not have the layout onnx-workbench edits "
                f"({pattern.pattern!r} matched {count} times).",
                "Install the release the graph view is built for: "
                f'pip install "netron=={NETRON_VERSION}".',
            )
    return html.encode("utf-8")


def consent_cookie_value() -> str:
    """What netron stores after consent: the time, in milliseconds."""
    return str(int(time.time() * 1000))


def viewer_query(model_url: str, identifier: str) -> str:
    """The query string that makes the viewer open `model_url` (relative URLs work)."""
    return "?" + urllib.parse.urlencode({"url": model_url, "identifier": identifier})
