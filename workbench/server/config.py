"""Settings of the onnx-workbench server extension (`c.OnnxWorkbench.<name>` in Jupyter config)."""

from __future__ import annotations

from traitlets import Int
from traitlets.config import Configurable

from workbench.graphview.netron import MAX_VIEW_BYTES


class OnnxWorkbench(Configurable):
    """The graph viewer's server-side limits."""

    max_upload_bytes = Int(
        4 * 1024**3,
        config=True,
        help="Largest model accepted by the upload route (for kernels that share no filesystem).",
    )
    chunk_bytes = Int(
        1024**2,
        config=True,
        help="Model bytes are streamed from disk in chunks of this size (memory stays bounded).",
    )
    max_view_bytes = Int(
        MAX_VIEW_BYTES,
        config=True,
        help="Largest file the Netron viewer is given; a larger one gets a message instead.",
    )
    keep_registrations_days = Int(
        7, config=True, help="Registrations older than this are removed when the server starts."
    )
