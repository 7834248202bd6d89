"""`workbench.show_graph()`: any model (a path, bytes, a ModelProto) in the embedded viewer.

Also `save_graph()`, the same graph (and overlay) as one offline HTML file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.graphview import netron
from workbench.graphview.overlay import TOP, Overlay, resolve
from workbench.graphview.view import (
    GraphFile,
    GraphView,
    check_optimized,
    graph_files,
    one_graph,
    show,
    write_offline,
)
from workbench.model.model import Model, load

if TYPE_CHECKING:
    from workbench.model import ModelLike


def show_graph(
    model: ModelLike,
    *,
    height: int = 600,
    optimized: bool | str = False,
    provider: str | None = None,
    opt_level: str | None = None,
    overlay: Any = None,
    top: int = TOP,
    server: str | None = None,
    token: str | None = None,
) -> GraphView:
    """The model's graph in Netron, embedded in the notebook.

    `optimized=True` shows the graph after onnxruntime's optimizations on `provider`
    (default cpu) at `opt_level` (default all): what it fused; `optimized="both"` shows
    both, side by side.

    `overlay=` draws measurements on the graph: a `ProfileResult` (time per node, on the
    graph the profile ran: its own provider and optimization level), `"placement"` or a
    session (the provider of each node), `"profile"` (profiles once, on `provider`), a
    `Comparison` made with `intermediates=True` (error per node, on the original graph),
    or your own data: a dict, pandas Series or DataFrame keyed by node name (a numeric
    column colours, the others label). The `top` hottest nodes are listed beside the
    graph; `view.overlay` says what matched (`matched`, `unmatched`, `attributed_share`).

    A kernel that does not share the Jupyter server's filesystem (a remote kernel) uploads
    the model instead: pass the server's URL as the browser sees it, and a token
    (`server="https://hub/user/me/"`). The graph draws in a sandboxed frame that cannot
    reach the page, your cookies or the Jupyter API; `.save("graph.html")` writes it as one
    offline file to share.
    """
    model = load(model)
    return show(
        model,
        lambda: _graphs(
            model,
            optimized=optimized,
            provider=provider,
            opt_level=opt_level,
            overlay=overlay,
            top=top,
        ),
        height=height,
        optimized=optimized,
        server=server,
        token=token,
    )


def save_graph(
    model: Model,
    path: str | Path,
    *,
    optimized: bool | str = False,
    provider: str | None = None,
    opt_level: str | None = None,
    overlay: Any = None,
    top: int = TOP,
) -> tuple[Path, Overlay | None]:
    """Write the graph (and its overlay) as an offline HTML file (what `GraphView.save` does).

    Returns the file and the overlay drawn in it.
    """
    netron.viewer()  # first: nothing is optimized for a file that cannot be written
    check_optimized(optimized)
    one_graph(2 if optimized == "both" and overlay is None else 1)
    (graph,), drawn = _graphs(
        model,
        optimized=optimized,
        provider=provider,
        opt_level=opt_level,
        overlay=overlay,
        top=top,
    )
    return write_offline(graph, path, drawn), drawn


def _graphs(
    model: Model,
    *,
    optimized: bool | str,
    provider: str | None,
    opt_level: str | None,
    overlay: Any,
    top: int,
) -> tuple[list[GraphFile], Overlay | None]:
    """The graphs to draw, and the overlay on them (overlays choose their graph)."""
    if overlay is None:
        files = graph_files(
            model, optimized=optimized, provider=provider or "cpu", opt_level=opt_level or "all"
        )
        return files, None
    drawn, graph = resolve(
        model, overlay, provider=provider, opt_level=opt_level, optimized=optimized, top=top
    )
    return [graph], drawn
