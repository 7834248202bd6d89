"""The Graph tab: the graph, or the graph with the profile or the placement drawn on it.

Around a node (a depth of hops along its tensors), only that part is drawn and measured: a
big model's neighbourhood, in a second.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
from traitlets import Instance, Unicode, observe

from workbench.errors import WorkbenchError
from workbench.graphview.show import show_graph
from workbench.model.model import Model
from workbench.render.templates import render
from workbench.run.profile import profile
from workbench.widgets.run_panel import RunPanel

VIEWS = ("Graph", "Profile", "Placement")
HEIGHT = 520
MAX_NODE_CHOICES = 5000  # node names offered as you type (more would weigh on the page)


class GraphPanel(widgets.VBox):
    """The model's graph; Profile and Placement measure on the Run tab's provider and inputs.

    Profile runs onnxruntime's profiler (10 runs) and draws time per node on the graph it
    ran; Placement draws which provider runs each node.
    """

    model = Instance(Model, allow_none=True)
    view = Unicode("Graph", help="What the tab shows: one of VIEWS.")
    around = Unicode("", help="A node to draw only the part around; empty: the whole graph.")

    def __init__(self, run_panel: RunPanel, **kwargs: Any) -> None:
        self.run_panel = run_panel
        self.switch = widgets.ToggleButtons(
            options=VIEWS,
            tooltips=[
                "The model's graph",
                "Time per node, profiled on the Run tab's provider and inputs",
                "Which provider runs each node, on the Run tab's provider",
            ],
            style={"button_width": "auto"},
        )
        self.node = widgets.Combobox(
            placeholder="a node name: draw only the part around it",
            description="Around",
            ensure_option=False,
            continuous_update=False,
            layout=widgets.Layout(width="28em"),
        )
        self.depth = widgets.BoundedIntText(
            value=2, min=0, max=50, description="Depth", layout=widgets.Layout(width="10em")
        )
        self.note = widgets.HTML()
        self.output = widgets.Output()
        part = widgets.HBox([self.node, self.depth])
        super().__init__([self.switch, part, self.note, self.output], **kwargs)
        widgets.link((self.switch, "value"), (self, "view"))
        widgets.link((self.node, "value"), (self, "around"))
        self.depth.observe(lambda _: self._show(None), "value")

    @observe("model")
    def _offer_nodes(self, _: Any) -> None:
        self.around = ""
        if self.model is not None:
            graph = self.model.named().proto.graph
            self.node.options = tuple(n.name for n in graph.node[:MAX_NODE_CHOICES])

    @observe("model", "view", "around")
    def _show(self, _: Any) -> None:
        self.output.outputs = ()
        self.note.value = ""
        if self.model is None:
            return
        try:
            shown = self._graph(self.model)
        except WorkbenchError as failure:
            self.note.value = render(
                "widget_error.html.j2", message=f"{failure.message} {failure.hint}"
            )
            return
        self.output.append_display_data(shown)

    def _graph(self, model: Model) -> Any:
        if self.around.strip():
            model = model.subgraph(around=self.around.strip(), depth=self.depth.value)
        provider = self.run_panel.provider
        if self.view == "Profile":
            measured = profile(model, provider, **self.run_panel.feed_options)
            return show_graph(model, overlay=measured, height=HEIGHT)
        if self.view == "Placement":
            return show_graph(model, overlay="placement", provider=provider, height=HEIGHT)
        return show_graph(model, height=HEIGHT)
