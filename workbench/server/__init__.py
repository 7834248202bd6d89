"""The onnx-workbench Jupyter server extension: the graph viewer and the models it shows.

Enabled on install by `etc/jupyter/jupyter_server_config.d/onnx-workbench.json`.
"""

from __future__ import annotations

import atexit
import os
from typing import Any

from workbench.errors import optional_import

# Jupyter loads this module; anyone else importing it learns which extra brings the server.
optional_import("jupyter_server", feature="The Jupyter server extension", extra="jupyter")

from workbench.errors import WorkbenchError  # noqa: E402
from workbench.graphview import netron, registry  # noqa: E402
from workbench.server.config import OnnxWorkbench  # noqa: E402
from workbench.server.handlers import PREFIX, handlers  # noqa: E402


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Add the routes under the server's base URL and announce the server to kernels."""
    config = OnnxWorkbench(parent=serverapp)
    base_url = serverapp.web_app.settings.get("base_url", "/")
    serverapp.web_app.add_handlers(".*$", handlers(base_url, config))
    # The JupyterLab and Notebook 7 front-end reads this (and knows the extension is on).
    page_config = serverapp.web_app.settings.setdefault("page_config_data", {})
    page_config["onnxWorkbenchMaxViewBytes"] = str(config.max_view_bytes)
    page_config["onnxWorkbenchSandbox"] = netron.SANDBOX
    try:
        page_config["onnxWorkbenchViewer"] = f"{netron.SERVED_AT}{netron.viewer().query}"
    except WorkbenchError as error:  # the .onnx tab says the viewer is missing
        serverapp.log.warning("onnx-workbench: %s %s", error.message, error.hint)
    removed = registry.sweep(config.keep_registrations_days * 24 * 3600)
    mark = registry.mark_server(
        os.getpid(), serverapp.connection_url, base_url, str(serverapp.root_dir)
    )
    atexit.register(lambda: mark.unlink(missing_ok=True))
    serverapp.log.info(
        "onnx-workbench: graph viewer at %s%s/viewer/ (%d stale registrations removed)",
        base_url,
        PREFIX,
        removed,
    )
