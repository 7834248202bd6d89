"""The History tab: what the results history holds for the model, and where it changed."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
from traitlets import Instance, observe

from workbench.errors import WorkbenchError
from workbench.model.model import Model
from workbench.render.templates import render
from workbench.tracking.query import History, history
from workbench.tracking.store import default_path


class HistoryPanel(widgets.VBox):
    """`workbench.history(model)`: its changes, plot and latest results; Refresh reads again.

    Every benchmark, variant evaluation and load test run from the other tabs is recorded, so
    Refresh after one shows it here.
    """

    model = Instance(Model, allow_none=True)
    shown = Instance(History, allow_none=True, help="The History on display.")

    def __init__(self, **kwargs: Any) -> None:
        self.refresh_button = widgets.Button(
            description="Refresh", icon="refresh", layout=widgets.Layout(width="auto"),
            tooltip="Read the history again (every benchmark, evaluation and load test of "
            "this model is added to it)",
        )  # fmt: skip
        self.view = widgets.HTML()
        self.refresh_button.on_click(lambda _: self.refresh())
        super().__init__([self.refresh_button, self.view], **kwargs)

    @observe("model")
    def _model_changed(self, change: dict[str, Any]) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Show what the history holds for the model now (a clear message if it cannot)."""
        if self.model is None:
            self.shown, self.view.value = None, ""
            return
        store = default_path()
        try:
            self.shown = None if store and not store.exists() else history(self.model)
        except WorkbenchError as failure:
            self.shown = None
            self.view.value = render("widget_error.html.j2",
                                     message=f"{failure.message} {failure.hint}")  # fmt: skip
            return
        if self.shown is None or not len(self.shown):  # no store yet, or nothing of the model
            self.view.value = render("widget_error.html.j2", message=(
                f"Nothing is stored for {self.model.name} yet: run a benchmark (Benchmark tab), "
                "then Refresh."))  # fmt: skip
            return
        self.view.value = self.shown._repr_html_()
