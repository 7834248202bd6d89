"""`workbench.show_graph()`: any model (a path, bytes, a ModelProto) in the embedded viewer.

Also `save_graph()`, the same graph (and overlay) as one offline HTML file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import WorkbenchError
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
    around: str | None = None,
    depth: int = 1,
    block: int | None = None,
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

    `around="node"` (with `depth`, hops along its tensors) or `block=i` (one of
    `model.blocks()`) draws only that part, a model of its own (`Model.subgraph`): a big
    graph's neighbourhood, in a second.

    A kernel that does not share the Jupyter server's filesystem (a remote kernel) uploads
    the model instead: pass the server's URL as the browser sees it, and a token
    (`server="https://hub/user/me/"`). The graph draws in a sandboxed frame that cannot
    reach the page, your cookies or the Jupyter API; `.save("graph.html")` writes it as one
    offline file to share.
    """
    model = part_of(load(model), around=around, depth=depth, block=block)
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
    around: str | None = None,
    depth: int = 1,
    block: int | None = None,
) -> tuple[Path, Overlay | None]:
    """Write the graph (and its overlay) as an offline HTML file (what `GraphView.save` does).

    Returns the file and the overlay drawn in it.
    """
    netron.viewer()  # first: nothing is optimized for a file that cannot be written
    model = part_of(model, around=around, depth=depth, block=block)
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


def part_of(model: Model, *, around: str | None, depth: int, block: int | None) -> Model:
    """The part of `model` asked for (around a node, or a block), or the whole model."""
    if around is None and block is None:
        return model
    if around is not None and block is not None:
        raise WorkbenchError("Pass around= or block=, not both.", "E.g. around='layer.3/MatMul'.")
    if block is not None:
        return model.subgraph(block=block)
    return model.subgraph(around=around, depth=depth)


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
