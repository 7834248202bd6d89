"""`GraphView`: a model's graph in Netron, embedded in the notebook output.

`Model.show_graph()` and `workbench.show_graph()` (graphview/show.py) build one here.

The graph draws in a sandboxed frame with an opaque origin (graphview/netron.py); the
output's own script fetches the model's bytes and hands them to the frame. Where the kernel
runs under a Jupyter server with the extension, the model is registered by id and the
browser builds every URL from its own page's base URL, so it works behind JupyterHub
prefixes, SSH tunnels and proxies. `save()` writes the same viewer, with the model inside,
as one offline HTML file. Elsewhere, each fallback says so in one plain sentence:
- no extension reachable (VS Code, plain IPython): a loopback server, in an IFrame;
- no display at all: a text summary of the graph;
- a reopened notebook whose viewer cannot come back: the static summary it was saved with,
  and a one-line hint to re-run the cell.
"""

from __future__ import annotations

import hashlib
import html
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.cache import cache_dir
from workbench.errors import SessionError, WorkbenchError
from workbench.graphview import netron, registry
from workbench.graphview.discovery import find_server
from workbench.graphview.local_server import local_viewer
from workbench.model import names
from workbench.ort import providers
from workbench.ort.options import SessionConfig
from workbench.ort.session import save_optimized
from workbench.render.templates import render
from workbench.text import did_you_mean, printable

if TYPE_CHECKING:
    import onnx

    from workbench.graphview.overlay import Overlay
    from workbench.model.model import Model

_SUMMARY_OPS = 8
_INLINE_WEIGHT_BYTES = 1024  # smaller ones (shapes, scalars) stay: the viewer shows them
API = "onnx-workbench/api/models"  # the server extension's routes, under its base URL


@dataclass
class _Panel:
    """One graph shown: its label, its name, and how the browser reaches its bytes."""

    label: str
    name: str
    model_id: str = ""  # registered with a Jupyter server
    local_url: str = ""  # or served by the loopback fallback

    @property
    def model_url(self) -> str:
        """Where the output's script fetches the bytes (relative to the server's base URL)."""
        return self.local_url or f"{API}/{self.model_id}"


@dataclass
class GraphView:
    """A display object: renders as the embedded viewer, or as text where HTML cannot show."""

    model: Model
    panels: list[_Panel]
    height: int
    mode: str  # "server", "local" or "text"
    note: str = ""  # the plain sentence announcing a fallback
    files: list[GraphFile] = field(default_factory=list)  # the graphs shown
    viewer_url: str = ""  # the loopback fallback's page; the server's is netron.SERVED_AT
    overlay: Overlay | None = None  # drawn on the (one) graph shown
    _nodes: tuple[set[str], set[str]] | None = field(default=None, repr=False)  # on demand
    # Unique across kernels and notebooks: the output's script finds its root by this id.
    element_id: str = field(default_factory=lambda: f"onnx-wb-graph-{uuid.uuid4().hex[:16]}")

    def __repr__(self) -> str:
        lines = [self.note] if self.note else []
        lines.append(self.model.graph_text())
        return printable("\n".join(lines))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        bundle = {"text/plain": repr(self)}
        if self.mode != "text":
            bundle["text/html"] = self._html()
        return bundle

    def _html(self) -> str:
        model = self.model
        summary = {
            "name": model.name,
            "nodes": model.node_count,
            "ops": list(model.ops.items())[:_SUMMARY_OPS],
            "inputs": [(v.name, v.type.text) for v in model.inputs],
            "outputs": [(v.name, v.type.text) for v in model.outputs],
        }
        data = {
            "height": self.height,
            "local": self.mode == "local",
            "viewer": self.viewer_url or f"{netron.SERVED_AT}{netron.viewer().query}",
            "sandbox": netron.SANDBOX,
            "panels": [
                {"label": p.label, "name": p.name, "model": p.model_url} for p in self.panels
            ],
            "overlay": self.overlay.payload() if self.overlay else None,
        }
        return render("graph.html.j2", view=self, summary=summary, data=data)

    def reveal(self, node: str) -> Reveal:
        """Centre and select `node` in this graph, shown above in a live notebook.

        Returns a small display object: as a cell's result (or passed to `display()`), its
        script finds this view's frames in the page by id and sends them the node. The
        view is itself an output whose script runs, so this reaches it wherever it draws
        (JupyterLab, Notebook 7, the loopback fallback) with no widget or comm; a reopened
        notebook's graph is static until its cell runs again.
        """
        main, inner = self._node_names()
        if node in inner:
            raise WorkbenchError(
                f"Node {printable(node)!r} is inside a subgraph, which the viewer draws only "
                "once you open the node that holds it.",
                "Reveal the node that holds the subgraph, then open it in the viewer.",
            )
        if node not in main:
            close = did_you_mean(node, sorted(main))
            raise WorkbenchError(
                f"This graph has no node named {printable(node)!r}.{close}",
                "Node names are those the viewer shows (view.overlay.top lists the overlay's).",
            )
        return Reveal(self, node)

    def _node_names(self) -> tuple[set[str], set[str]]:
        """Node names of the graphs shown: in their main graphs, and inside subgraphs."""
        if self._nodes is None:
            import onnx  # noqa: PLC0415  (heavy: loads on first use)

            shown = [onnx.load(str(f.path), load_external_data=False) for f in self.files]
            every = [(path, n.name) for p in shown for path, g in names.graphs(p) for n in g.node]
            main = {name for path, name in every if not path}
            self._nodes = (main, {name for path, name in every if path} - main)
        return self._nodes

    def save(self, path: str | Path) -> Path:
        """Write the graph as one HTML file: the viewer and the model inside, nothing fetched.

        It opens from disk in a browser, offline, and can be shared as is; in JupyterLab it
        draws once trusted ("Trust HTML"). One graph per file, of a model up to
        `netron.MAX_OFFLINE_BYTES`.
        """
        netron.viewer()  # a missing viewer is the error to report, not the count
        one_graph(len(self.files))
        return write_offline(self.files[0], path, self.overlay)


@dataclass(frozen=True)
class Reveal:
    """`GraphView.reveal()`: displayed, it centres and selects a node in the view."""

    view: GraphView
    node: str

    def __repr__(self) -> str:
        return f"Reveal {printable(self.node)!r} in the graph of {self.view.model.name}"

    def _repr_html_(self) -> str:
        if self.view.mode == "text":
            return f"<div>{html.escape(repr(self))}: the graph is shown as text here.</div>"
        return render("graph_reveal.html.j2", element_id=self.view.element_id, node=self.node)


@dataclass(frozen=True)
class GraphFile:
    """One graph to show: its label, its file, and the name the viewer gives it."""

    label: str
    path: Path
    name: str  # netron picks the format from its extension


def graph_files(
    model: Model,
    *,
    optimized: bool | str = False,
    provider: str = "cpu",
    opt_level: str = "all",
    named: bool = False,
) -> list[GraphFile]:
    """The graphs to show: the original, the optimized one, or both.

    `named=True` shows the original with every node named (`Model.named()`), as overlays
    key them; the optimized graph always is.
    """
    check_optimized(optimized)
    files = []
    if optimized in (False, "both"):
        shown = model.named() if named else model
        source = _model_file(shown)
        name = source.name if _own_file(model) and shown is model else f"{_stem(model)}.onnx"
        files.append(GraphFile("original", source, name))
    if optimized:
        config = SessionConfig.make(provider, opt_level=opt_level)
        files.append(optimized_graph(model, config)[0])
    return files


def optimized_graph(model: Model, config: SessionConfig) -> tuple[GraphFile, onnx.ModelProto]:
    """The graph onnxruntime runs with `config` (every node named), and its protobuf."""
    import onnx  # noqa: PLC0415  (heavy: loads on first use)

    path = optimized_model_file(model, config=config)
    label = f"optimized ({config.opt_level}, {providers.short_name(config.provider)})"
    graph = GraphFile(label, path, f"{_stem(model)}.optimized.onnx")
    return graph, onnx.load(str(path), load_external_data=False)


def _own_file(model: Model) -> bool:
    """Whether the model came from an .onnx or .ort file the viewer can name it by."""
    return model.path is not None and model.path.suffix in (".onnx", ".ort")


def _stem(model: Model) -> str:
    return model.path.stem if _own_file(model) and model.path is not None else model.name


def check_optimized(optimized: object) -> None:
    """Refuse an `optimized=` that is not False, True or "both"."""
    if optimized not in (False, True, "both"):
        raise WorkbenchError(
            f"optimized must be False, True or 'both', not {optimized!r}.",
            "Use optimized='both' to compare the graphs side by side.",
        )


def one_graph(count: int) -> None:
    """Refuse to write `count` graphs into an offline file, which holds one."""
    if count != 1:
        raise WorkbenchError(
            f"This view shows {count} graphs, and an offline file holds one.",
            "Save each on its own: show_graph(model).save(...) and "
            "show_graph(model, optimized=True).save(...).",
        )


def write_offline(graph: GraphFile, path: str | Path, overlay: Overlay | None = None) -> Path:
    """Write `graph` (and `overlay`) as one offline HTML file at `path`."""
    target = Path(path)
    page = netron.offline_page(graph.path, graph.name, overlay.payload() if overlay else None)
    try:
        target.write_bytes(page)
    except OSError as error:
        raise WorkbenchError(
            f"Could not write {target}: {error.strerror or error}.",
            "Choose a path in a folder you can write to.",
        ) from None
    return target


def show(
    model: Model,
    graphs: Callable[[], tuple[list[GraphFile], Overlay | None]],
    *,
    height: int = 600,
    optimized: bool | str = False,
    server: str | None = None,
    token: str | None = None,
) -> GraphView:
    """The view of the graphs `graphs()` makes, once the viewer is known to be there.

    Without the viewer, a text view says why, and `graphs()` (which may optimize or
    profile the model) is not called.
    """
    try:
        netron.viewer()
    except WorkbenchError as error:
        check_optimized(optimized)
        return GraphView(model, [], height, "text", f"{error.message} {error.hint}")
    files, overlay = graphs()
    return graph_view(model, files, height=height, server=server, token=token, overlay=overlay)


def graph_view(
    model: Model,
    files: list[GraphFile],
    *,
    height: int = 600,
    server: str | None = None,
    token: str | None = None,
    overlay: Overlay | None = None,
) -> GraphView:
    """The display object for `files`, graphs of `model`; `workbench.show_graph` documents it."""
    too_large = [f.path for f in files if f.path.stat().st_size > netron.MAX_VIEW_BYTES]
    if too_large:
        note = (
            f"{too_large[0].name} is {too_large[0].stat().st_size / 1e9:.1f} GB, more than the "
            f"graph viewer opens ({netron.MAX_VIEW_BYTES / 1e9:.1f} GB): the summary below "
            "stands in."
        )
        return GraphView(model, [], height, "text", note, files, overlay=overlay)
    if server is not None:
        panels = [
            _Panel(f.label, f.name, model_id=upload(f.path, f.name, server, token)) for f in files
        ]
        return GraphView(model, panels, height, "server", files=files, overlay=overlay)
    discovery = find_server()
    if discovery.server is not None:
        panels = [
            _Panel(f.label, f.name, model_id=registry.register(f.path, f.name).id) for f in files
        ]
        return GraphView(model, panels, height, "server", files=files, overlay=overlay)
    loopback = local_viewer()
    panels = [_Panel(f.label, f.name, local_url=loopback.register(f.path)) for f in files]
    note = (
        f"{discovery.reason}, so the graph is served from {loopback.url.split('/', 3)[2]} on "
        "this machine, which only a browser on this machine can reach."
    )
    return GraphView(
        model, panels, height, "local", note, files, loopback.viewer_url, overlay=overlay
    )


def upload(path: Path, name: str, server: str, token: str | None) -> str:
    """PUT the model's bytes to a server's onnx-workbench upload route; returns the id."""
    url = f"{server.rstrip('/')}/{API}?{urllib.parse.urlencode({'name': name})}"
    headers = {
        "Content-Length": str(path.stat().st_size),
        "Content-Type": "application/octet-stream",
    }
    if token:
        headers["Authorization"] = f"token {token}"
    with path.open("rb") as stream:
        request = urllib.request.Request(url, data=stream, method="PUT", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                return str(json.loads(response.read())["id"])
        except urllib.error.HTTPError as error:
            raise WorkbenchError(
                f"The Jupyter server at {server} refused the upload ({error.code} {error.reason}).",
                "Check the URL (as your browser shows it) and the token, and that the server "
                "has onnx-workbench installed.",
            ) from None
        except (urllib.error.URLError, OSError) as error:
            raise WorkbenchError(
                f"Could not reach the Jupyter server at {server}: {error}.",
                "Check the URL and that this kernel can reach it.",
            ) from None


def _model_file(model: Model) -> Path:
    """The model on disk: its own file, or its bytes cached once by content hash."""
    if model.path is not None:
        return model.path
    data = model.serialized()
    path = cache_dir("graphs") / f"{hashlib.sha256(data).hexdigest()[:32]}.onnx"
    if not path.is_file():
        path.write_bytes(data)
    return path


def optimized_model_file(
    model: Model,
    *,
    provider: str = "cpu",
    opt_level: str = "all",
    config: SessionConfig | None = None,
) -> Path:
    """The graph onnxruntime runs after its optimizations, every node named (`Model.named()`).

    Saved through `SessionOptions.optimized_model_filepath` with `config` (else `provider`
    and `opt_level`), cached by model hash and the settings that shape the graph. Weights
    over 1 KiB are left out (onnxruntime writes them to a side file, deleted at once): the
    viewer draws the graph without them, so a large model's optimized graph stays small
    enough to send to the browser and to hold in an offline file.
    """
    config = config or SessionConfig.make(provider, opt_level=opt_level)
    named = model.named()
    settings = f"{config.provider}|{config.provider_options}|{config.opt_level}"
    shape = f"named, light|{named.sha256}|{settings}"
    key = hashlib.sha256(shape.encode()).hexdigest()[:32]
    path = cache_dir("graphs", "optimized") / f"{key}.onnx"
    if path.is_file():
        return path
    named.ensure_runnable()
    weights = path.with_name(f"{path.name}.weights")
    error = save_optimized(named.session_source, config, path, weights=weights.name,
                           min_external_bytes=_INLINE_WEIGHT_BYTES)  # fmt: skip
    weights.unlink(missing_ok=True)
    if error:
        path.unlink(missing_ok=True)
        raise SessionError(
            f"onnxruntime could not optimize {model.label}: {error}",
            "Show the original graph instead: show_graph(model).",
        )
    return path
