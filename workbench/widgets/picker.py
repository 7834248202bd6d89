"""The model picker: a path box that validates, recently used files, errors shown inline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as widgets
from traitlets import Instance, List, Unicode, observe

from workbench.errors import WorkbenchError
from workbench.model.model import Model, load
from workbench.render.templates import render

MAX_RECENT = 8


class ModelPicker(widgets.VBox):
    """Type or pick a path, press Load: `model` is set, or `error` says what went wrong."""

    path = Unicode("", help="The path in the box.")
    model = Instance(Model, allow_none=True, help="The loaded workbench.Model.")
    error = Unicode("", help="Why the last load failed (shown under the box).")
    recent = List(Unicode(), help="Recently loaded paths, newest first.")

    def __init__(self, **kwargs: Any) -> None:
        self.box = widgets.Text(
            placeholder="path/to/model.onnx",
            description="Model",
            layout=widgets.Layout(width="60%"),
        )
        self.load_button = widgets.Button(
            description="Load",
            button_style="primary",
            icon="folder-open",
            tooltip="Load the model at this path",
            layout=widgets.Layout(width="auto", flex="0 0 auto"),
        )
        self.history = widgets.Dropdown(
            options=[("recent files", "")], value="", layout=widgets.Layout(width="30%")
        )
        self.message = widgets.HTML()
        self._current = ""  # the path loaded or being loaded: the box echoing it is no new submit
        super().__init__(
            [widgets.HBox([self.box, self.load_button, self.history]), self.message], **kwargs
        )
        widgets.link((self.box, "value"), (self, "path"))
        self.load_button.on_click(lambda _: self.load())
        self.box.continuous_update = False
        self.box.observe(self._on_submit, names="value")
        self.history.observe(self._on_history, names="value")

    def load(self, path: str | None = None) -> Any:
        """Load `path` (or the box's), remembering it; on error, show the message inline."""
        target = (path or self.path).strip()
        self._current = target
        if path is not None:
            self.path = target
        if not target:
            self.error = "Type the path of an .onnx file, then press Load."
            return None
        try:
            model = load(Path(target).expanduser())
        except WorkbenchError as failure:
            self.error = f"{failure.message} {failure.hint}".strip()
            return None
        self.error = ""
        self.recent = [target, *[p for p in self.recent if p != target]][:MAX_RECENT]
        self.model = model
        return model

    def use(self, model: Model) -> None:
        """Show a model loaded elsewhere (no second read from disk)."""
        self._current = str(model.path or "")
        self.path = self._current
        self.error = ""
        self.model = model

    def _on_submit(self, change: dict[str, Any]) -> None:
        if change["new"].strip() and change["new"].strip() != self._current:
            self.load()

    def _on_history(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.load(change["new"])

    @observe("error")
    def _show_error(self, change: dict[str, Any]) -> None:
        self.message.value = (
            render("widget_error.html.j2", message=change["new"]) if change["new"] else ""
        )

    @observe("recent")
    def _show_recent(self, change: dict[str, Any]) -> None:
        self.history.options = [("recent files", ""), *[(Path(p).name, p) for p in change["new"]]]
        self.history.value = ""
