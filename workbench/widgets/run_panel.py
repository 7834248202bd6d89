"""The Run tab: pick a provider (usable ones first), set dims and values, run or compare."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import ipywidgets as widgets
from traitlets import Bool, Float, Instance, Unicode, observe

from workbench.errors import WorkbenchError
from workbench.model.model import Model
from workbench.ort import providers
from workbench.render.templates import render
from workbench.run.compare import Comparison, compare
from workbench.run.result import RunResult
from workbench.widgets.inputs_form import InputsForm

Shown = TypeVar("Shown", RunResult, Comparison)


def provider_options() -> list[tuple[str, str]]:
    """Dropdown options: usable providers first; the others labelled with why they cannot run."""
    statuses = providers.all_statuses()
    usable = [(s.alias, s.name) for s in statuses if s.usable]
    unusable = [(f"{s.alias} (not usable here)", s.name) for s in statuses if not s.usable]
    return usable + unusable


class RunPanel(widgets.VBox):
    """Run the model once on a provider, or compare every usable provider.

    `inputs` is the form of dims and values (the explorer shares one with its Benchmark tab).
    """

    model = Instance(Model, allow_none=True)
    provider = Unicode(providers.CPU)
    busy = Bool(False)
    last_seconds = Float(0.0, help="Seconds from the click to the results shown.")

    def __init__(self, inputs: InputsForm | None = None, **kwargs: Any) -> None:
        self.choose = widgets.Dropdown(
            options=provider_options(), description="Provider", layout=widgets.Layout(width="70%")
        )
        self.note = widgets.HTML()
        self.inputs = inputs or InputsForm()
        self.batch = widgets.BoundedIntText(
            value=1,
            min=1,
            max=1 << 20,
            description="Batch",
            tooltip="batch size of the synthetic feeds",
            layout=widgets.Layout(width="160px"),
        )
        self.run_button = widgets.Button(
            description="Run",
            button_style="primary",
            icon="play",
            tooltip="Run once on the chosen provider",
            layout=widgets.Layout(width="auto"),
        )
        self.compare_button = widgets.Button(
            description="Compare across providers",
            icon="balance-scale",
            tooltip="Run on every provider and compare the outputs with the first",
            layout=widgets.Layout(width="auto"),
        )
        self.results = widgets.HTML()
        super().__init__(
            [
                self.choose,
                self.note,
                widgets.HBox(
                    [self.batch, self.inputs], layout=widgets.Layout(flex_flow="row wrap")
                ),
                widgets.HBox([self.run_button, self.compare_button]),
                self.results,
            ],
            **kwargs,
        )
        widgets.link((self.choose, "value"), (self, "provider"))
        widgets.dlink((self, "model"), (self.inputs, "model"))
        widgets.dlink((self.inputs, "has_batch"), (self.batch.layout, "display"), _shown)
        self.run_button.on_click(lambda _: self.run())
        self.compare_button.on_click(lambda _: self.compare())

    @observe("model")
    def _clear(self, _: Any) -> None:
        self.results.value = ""

    @property
    def feed_options(self) -> dict[str, Any]:
        """What the fields say, as `Model.run` and `compare` keyword arguments."""
        return {
            "batch": self.batch.value if self.inputs.has_batch else None,
            "dims": self.inputs.dims,
            "values": self.inputs.values,
        }

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
        """Run once (values typed, the rest synthetic); the output table replaces the last."""
        return self._work(lambda model: model.run(provider=self.provider, **self.feed_options))

    def compare(self) -> Comparison | None:
        """Compare every provider (the first is the baseline); unusable ones are skipped rows."""
        names = [name for _, name in self.choose.options]
        return self._work(lambda model: compare(model, names, **self.feed_options))

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


def _shown(visible: bool) -> str:
    """A layout's `display` for a widget shown only when it applies."""
    return "" if visible else "none"
