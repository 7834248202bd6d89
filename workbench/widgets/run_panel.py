"""The Run tab: pick a provider (usable ones first), set the symbolic dims, run or compare."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import ipywidgets as widgets
from traitlets import Bool, Dict, Float, Instance, Unicode, observe

from workbench.errors import WorkbenchError
from workbench.feeds.synthetic import plan_shapes
from workbench.model.model import Model
from workbench.ort import providers
from workbench.render.templates import render
from workbench.run.compare import Comparison, compare
from workbench.run.result import RunResult

Shown = TypeVar("Shown", RunResult, Comparison)


def provider_options() -> list[tuple[str, str]]:
    """Dropdown options: usable providers first; the others labelled with why they cannot run."""
    statuses = providers.all_statuses()
    usable = [(s.alias, s.name) for s in statuses if s.usable]
    unusable = [(f"{s.alias} (not usable here)", s.name) for s in statuses if not s.usable]
    return usable + unusable


class RunPanel(widgets.VBox):
    """Run the model once on a provider, or compare every usable provider."""

    model = Instance(Model, allow_none=True)
    provider = Unicode(providers.CPU)
    dims = Dict(help="Symbolic dim -> size, from the fields.")
    busy = Bool(False)
    last_seconds = Float(0.0, help="Seconds from the click to the results shown.")

    def __init__(self, **kwargs: Any) -> None:
        self.choose = widgets.Dropdown(
            options=provider_options(), description="Provider", layout=widgets.Layout(width="70%")
        )
        self.note = widgets.HTML()
        self.fields = widgets.HBox()
        self.run_button = widgets.Button(description="Run", button_style="primary", icon="play")
        self.compare_button = widgets.Button(
            description="Compare across providers", icon="balance-scale"
        )
        self.results = widgets.HTML()
        super().__init__(
            [
                self.choose,
                self.note,
                self.fields,
                widgets.HBox([self.run_button, self.compare_button]),
                self.results,
            ],
            **kwargs,
        )
        widgets.link((self.choose, "value"), (self, "provider"))
        self.run_button.on_click(lambda _: self.run())
        self.compare_button.on_click(lambda _: self.compare())

    @observe("model")
    def _build_fields(self, change: dict[str, Any]) -> None:
        model = change["new"]
        # Each field starts at the size the core would guess (batch 1, other free dims 64).
        defaults = (
            {c.symbol: c.value for c in plan_shapes(model.inputs).choices if c.symbol}
            if model
            else {}
        )
        fields = []
        for symbol, size in sorted(defaults.items()):
            field = widgets.BoundedIntText(
                value=size,
                min=0,
                max=1 << 30,
                description=symbol,
                style={"description_width": "initial"},
                layout=widgets.Layout(width="180px"),
            )
            field.observe(self._collect_dims, names="value")
            fields.append(field)
        self.fields.children = fields
        self._collect_dims()
        self.results.value = ""

    def _collect_dims(self, _: Any = None) -> None:
        self.dims = {f.description: f.value for f in self.fields.children}

    @observe("provider", "busy", "model")
    def _update_buttons(self, _: Any) -> None:
        status = providers.probe(self.provider)
        self.note.value = (
            render("widget_error.html.j2", message=f"{status.reason} {status.hint}")
            if not status.usable
            else ""
        )
        self.run_button.disabled = self.busy or not status.usable or self.model is None
        self.compare_button.disabled = self.busy or self.model is None

    def run(self) -> RunResult | None:
        """Run once with synthetic feeds; the output table replaces the previous one."""
        return self._work(lambda model: model.run(provider=self.provider, dims=self.dims))

    def compare(self) -> Comparison | None:
        """Compare every provider (the first is the baseline); unusable ones are skipped rows."""
        names = [name for _, name in self.choose.options]
        return self._work(lambda model: compare(model, names, dims=self.dims))

    def _work(self, action: Callable[[Model], Shown]) -> Shown | None:
        """Do `action` on the model, showing its result (or the error) below the buttons."""
        if self.model is None:
            return None
        start = time.perf_counter()
        self.busy = True
        try:
            result = action(self.model)
        except WorkbenchError as failure:
            self.results.value = render(
                "widget_error.html.j2", message=f"{failure.message} {failure.hint}"
            )
            return None
        finally:
            self.busy = False
        self.results.value = result._repr_html_()
        self.last_seconds = time.perf_counter() - start
        return result
