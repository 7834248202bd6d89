"""The Variants tab: choose recipes and providers, evaluate in the background, watch, cancel.

The table and the speed/accuracy plot fill in row by row; Cancel stops after the row being
measured (the rows measured are kept); Export writes the report. Dims and values come from
the inputs form the Run and Benchmark tabs share.
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as widgets
from traitlets import Bool, Instance, Int, observe

from workbench import plots
from workbench.errors import WorkbenchError
from workbench.model.model import Model
from workbench.render.templates import render
from workbench.variant.evaluate import Evaluation, evaluate
from workbench.variant.recipes import RECIPES
from workbench.widgets.controls import export_report, provider_boxes, ticked
from workbench.widgets.inputs_form import InputsForm

DEFAULT_RECIPES = ("ort-optimized", "fp16", "int8-dynamic")


class VariantsPanel(widgets.VBox):
    """Run `workbench.evaluate` in a background thread and show it as it goes."""

    model = Instance(Model, allow_none=True)
    running = Bool(False)
    updates = Int(0, help="How many times the live table and plot were refreshed.")
    result = Instance(Evaluation, allow_none=True, help="The last Evaluation (live while running).")

    def __init__(self, inputs: InputsForm | None = None, **kwargs: Any) -> None:
        self.inputs = inputs or InputsForm()
        self.recipe_boxes = [
            widgets.Checkbox(
                value=name in DEFAULT_RECIPES,
                description=name,
                indent=False,
                layout=widgets.Layout(width="auto"),
            )
            for name in RECIPES
        ]
        self.provider_boxes = provider_boxes()
        self.samples = widgets.BoundedIntText(
            value=16, min=1, max=10_000, description="Synthetic samples",
            style={"description_width": "initial"},
            tooltip="Accuracy is compared on these (no evidence of accuracy on real data)",
        )  # fmt: skip
        self.budget = widgets.BoundedFloatText(
            value=1.0, min=0.05, max=3600, step=0.5, description="Seconds per row",
            style={"description_width": "initial"},
        )  # fmt: skip
        self.start_button = widgets.Button(
            description="Evaluate", button_style="primary", icon="play",
            tooltip="Make the variants ticked and measure each on each provider",
            layout=widgets.Layout(width="auto"),
        )  # fmt: skip
        self.cancel_button = widgets.Button(
            description="Cancel", button_style="warning", icon="stop", disabled=True,
            tooltip="Stop after the row being measured; rows measured are kept",
            layout=widgets.Layout(width="auto"),
        )  # fmt: skip
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="0/0")
        self.message = widgets.HTML()
        self.table = widgets.HTML()
        self.plot = widgets.Image(format="png", layout=widgets.Layout(max_width="760px"))
        self.folder = widgets.Text(
            value="reports", description="Export to", style={"description_width": "initial"}
        )
        self.export_button = widgets.Button(
            description="Export report", icon="download", disabled=True,
            tooltip="Write the report as HTML and JSON into the folder",
            layout=widgets.Layout(width="auto"),
        )  # fmt: skip
        self.link = widgets.Output()
        super().__init__(
            [
                widgets.HBox(
                    [widgets.Label("Variants"), *self.recipe_boxes],
                    layout=widgets.Layout(flex_flow="row wrap"),
                ),
                widgets.HBox([widgets.Label("Providers"), *self.provider_boxes]),
                widgets.HBox([self.samples, self.budget]),
                self.inputs,
                widgets.HBox([self.start_button, self.cancel_button, self.progress]),
                self.message,
                self.table,
                self.plot,
                widgets.HBox([self.folder, self.export_button]),
                self.link,
            ],
            **kwargs,
        )
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.start_button.on_click(lambda _: self.start())
        self.cancel_button.on_click(lambda _: self._cancel.set())
        self.export_button.on_click(lambda _: self.export())
        widgets.dlink((self, "model"), (self.inputs, "model"))

    @property
    def chosen_recipes(self) -> list[str]:
        """The recipes ticked."""
        return ticked(self.recipe_boxes)

    @property
    def chosen_providers(self) -> list[str]:
        """Aliases of the ticked (usable) providers."""
        return ticked(self.provider_boxes)

    def start(self) -> None:
        """Evaluate in a background thread; the notebook stays responsive."""
        if self.running or self.model is None:
            return
        if not self.chosen_recipes or not self.chosen_providers:
            self.message.value = render(
                "widget_error.html.j2", message="Tick at least one variant and one provider."
            )
            return
        self.message.value = ""
        self._cancel.clear()
        self.running = True
        total = (len(self.chosen_recipes) + 1) * len(self.chosen_providers)
        self.progress.max, self.progress.value, self.progress.description = total, 0, f"0/{total}"
        arguments = {
            "variants": self.chosen_recipes,
            "providers": self.chosen_providers,
            "samples": self.samples.value,
            "time_budget": self.budget.value,
            "dims": self.inputs.dims,
            "values": self.inputs.values,
            "cancel": self._cancel,
            "on_update": self._refresh,
        }
        self._thread = threading.Thread(
            target=self._run, args=(self.model, arguments), daemon=True,
            name="onnx-workbench-variants",
        )  # fmt: skip
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the evaluation thread ends (for scripts and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def export(self) -> list[str]:
        """Write the last result as HTML and JSON into the export folder; link them below."""
        if self.result is None or self.model is None:
            return []
        try:
            return export_report(self.result, self.folder.value, f"{self.model.name}-variants",
                                 self.link)  # fmt: skip
        except (OSError, WorkbenchError) as failure:
            self.message.value = render("widget_error.html.j2", message=str(failure))
            return []

    def _run(self, model: Model, arguments: dict[str, Any]) -> None:
        try:
            self._refresh(evaluate(model, **arguments))
        except WorkbenchError as failure:
            self.message.value = render(
                "widget_error.html.j2", message=f"{failure.message} {failure.hint}"
            )
        except Exception as failure:
            self.message.value = render(
                "widget_error.html.j2", message=f"internal error: {failure!r}"
            )
        finally:
            self.running = False

    def _refresh(self, result: Evaluation) -> None:
        """The table and the plot so far (called after each row)."""
        self.result = result
        self.progress.value = min(len(result.rows), self.progress.max)
        self.progress.description = f"{self.progress.value}/{self.progress.max}"
        self.table.value = result._repr_html_()
        if any(r.status == "ok" and r.max_abs_error is not None for r in result.rows):
            picture = plots.picture(lambda ax: result.plot(ax=ax), 4, "speed against accuracy")
            self.plot.value = picture._repr_png_()
        self.updates += 1

    @observe("running")
    def _buttons(self, change: dict[str, Any]) -> None:
        running = change["new"]
        self.start_button.disabled = running or self.model is None
        self.cancel_button.disabled = not running
        self.export_button.disabled = running or self.result is None

    @observe("model")
    def _new_model(self, change: dict[str, Any]) -> None:
        self.result = None
        self.table.value = ""
        self.plot.value = b""
        self.start_button.disabled = change["new"] is None or self.running
        self.export_button.disabled = True
