"""`workbench.show_graph()`: any model (a path, bytes, a ModelProto) in the embedded viewer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.graphview.view import GraphView, graph_view
from workbench.model.model import load

if TYPE_CHECKING:
    from workbench.model import ModelLike


def show_graph(
    model: ModelLike,
    *,
    height: int = 600,
    optimized: bool | str = False,
    provider: str = "cpu",
    opt_level: str = "all",
    server: str | None = None,
    token: str | None = None,
) -> GraphView:
    """The model's graph in Netron, embedded in the notebook.

    `optimized=True` shows the graph after onnxruntime's optimizations on `provider` (what
    it fused); `optimized="both"` shows both, side by side. A kernel that does not share the
    Jupyter server's filesystem (a remote kernel) uploads the model instead: pass the
    server's URL as the browser sees it, and a token (`server="https://hub/user/me/"`).
    The graph draws in a sandboxed frame that cannot reach the page, your cookies or the
    Jupyter API; `.save("graph.html")` writes it as one offline file to share.
    """
    return graph_view(
        load(model),
        height=height,
        optimized=optimized,
        provider=provider,
        opt_level=opt_level,
        server=server,
        token=token,
    )
