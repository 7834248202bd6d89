"""`workbench.explore()`: pick a model; Overview, Graph, Run, Benchmark, Variants, Load, History."""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from traitlets import Instance, observe

from workbench.model.model import Model, load
from workbench.ort.doctor import ProviderNotes

if TYPE_CHECKING:
    from workbench.model import ModelLike
from workbench.widgets.bench_panel import BenchPanel
from workbench.widgets.graph_panel import GraphPanel
from workbench.widgets.history_panel import HistoryPanel
from workbench.widgets.inputs_form import InputsForm
from workbench.widgets.load_panel import LoadPanel
from workbench.widgets.picker import ModelPicker
from workbench.widgets.run_panel import RunPanel
from workbench.widgets.variants_panel import VariantsPanel

TABS = ("Overview", "Graph", "Run", "Benchmark", "Variants", "Load", "History")


class Explorer(widgets.VBox):
    """The explorer app. Its parts share one trait, `model`; every action is a public-API call.

    The Run and Benchmark tabs share one inputs form: the dims and values set in one are
    those the other uses.
    """

    model = Instance(Model, allow_none=True, help="The workbench.Model being explored.")

    def __init__(self, **kwargs: Any) -> None:
        self.picker = ModelPicker()
        self.overview = widgets.HTML()
        self.inputs = InputsForm()
        self.run_panel = RunPanel(self.inputs)
        self.graph = GraphPanel(self.run_panel)
        self.bench_panel = BenchPanel(self.inputs)
        self.variants_panel = VariantsPanel(self.inputs)
        self.load_panel = LoadPanel(self.inputs)
        self.history_panel = HistoryPanel()
        self.tabs = widgets.Tab(
            children=[
                self.overview,
                self.graph,
                self.run_panel,
                self.bench_panel,
                self.variants_panel,
                self.load_panel,
                self.history_panel,
            ]
        )
        for index, title in enumerate(TABS):
            self.tabs.set_title(index, title)
        super().__init__([self.picker, self.tabs], **kwargs)
        widgets.dlink((self.picker, "model"), (self, "model"))
        panels = (self.graph, self.run_panel, self.bench_panel, self.variants_panel,
                  self.load_panel, self.history_panel)  # fmt: skip
        for panel in panels:
            widgets.dlink((self, "model"), (panel, "model"))

    @observe("model")
    def _show_model(self, change: dict[str, Any]) -> None:
        model = change["new"]
        if model is None:
            return
        notes = ProviderNotes()
        self.overview.value = model._repr_html_() + (notes._repr_html_() if notes.unusable else "")

    def __repr__(self) -> str:
        name = self.model.name if self.model is not None else "no model"
        return f"<onnx-workbench explorer: {name}; needs a notebook with ipywidgets to show>"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            bundle["text/plain"] = repr(self)
        return bundle


def explore(model: ModelLike | None = None, *, model_or_path: ModelLike | None = None) -> Explorer:
    """An ipywidgets app to explore a model (or pick one) and compare providers without code.

    `model_or_path` is the parameter's name until 0.2, deprecated.
    """
    if model_or_path is not None:
        warnings.warn(
            "explore(model_or_path=...) is now explore(model=...); the old name goes in 0.3.",
            DeprecationWarning,
            stacklevel=2,
        )
        model = model if model is not None else model_or_path
    app = Explorer()
    if isinstance(model, (str, os.PathLike)):
        app.picker.load(os.fspath(model))  # a path: the picker shows it and remembers it
    elif model is not None:  # a Model, bytes or an onnx.ModelProto
        app.picker.use(load(model))
    return app
