"""The Variants tab: choose recipes and providers, evaluate in the background, watch, cancel.

The table and the speed/accuracy plot fill in row by row; Cancel stops after the row being
measured (the rows measured are kept); Export writes the report. Dims and values come from
the inputs form the Run and Benchmark tabs share.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
from traitlets import Instance

from workbench import plots
from workbench.errors import WorkbenchError
from workbench.model.model import Model
from workbench.variant.evaluate import Evaluation, evaluate
from workbench.variant.recipes import RECIPES
from workbench.widgets.controls import BackgroundPanel, provider_boxes, ticked
from workbench.widgets.inputs_form import InputsForm

DEFAULT_RECIPES = ("ort-optimized", "fp16", "int8-dynamic")


class VariantsPanel(BackgroundPanel):
    """Run `workbench.evaluate` in a background thread and show it row by row."""

    result = Instance(Evaluation, allow_none=True, help="The last Evaluation (live while running).")
    report_stem = "variants"

    def __init__(self, inputs: InputsForm | None = None, **kwargs: Any) -> None:
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
        super().__init__(
            [
                widgets.HBox(
                    [widgets.Label("Variants"), *self.recipe_boxes],
                    layout=widgets.Layout(flex_flow="row wrap"),
                ),
                widgets.HBox([widgets.Label("Providers"), *self.provider_boxes]),
                widgets.HBox([self.samples, self.budget]),
            ],
            inputs,
            start=("Evaluate", "Make the variants ticked and measure each on each provider"),
            cancel_tooltip="Stop after the row being measured; rows measured are kept",
            **kwargs,
        )

    @property
    def chosen_recipes(self) -> list[str]:
        """The recipes ticked."""
        return ticked(self.recipe_boxes)

    @property
    def chosen_providers(self) -> list[str]:
        """Aliases of the ticked (usable) providers."""
        return ticked(self.provider_boxes)

    def arguments(self) -> tuple[int, dict[str, Any]]:
        """The recipes and providers ticked: a row each, the reference's included."""
        if not self.chosen_recipes or not self.chosen_providers:
            raise WorkbenchError("Tick at least one variant and one provider.", "Then Evaluate.")
        total = (len(self.chosen_recipes) + 1) * len(self.chosen_providers)
        return total, {
            "variants": self.chosen_recipes,
            "providers": self.chosen_providers,
            "samples": self.samples.value,
            "time_budget": self.budget.value,
            "dims": self.inputs.dims,
            "values": self.inputs.values,
            "cancel": self._cancel,
            "on_update": self.refresh,
        }

    def call(self, model: Model, arguments: dict[str, Any]) -> Evaluation:
        """`workbench.evaluate`."""
        return evaluate(model, **arguments)

    def refresh(self, result: Any) -> None:
        """The table and the speed/accuracy plot so far (after each row)."""
        self.result = result
        self.progress.value = min(len(result.rows), self.progress.max)
        self.progress.description = f"{self.progress.value}/{self.progress.max}"
        self.table.value = result._repr_html_()
        if any(r.status == "ok" and r.max_abs_error is not None for r in result.rows):
            picture = plots.picture(lambda ax: result.plot(ax=ax), 4, "speed against accuracy")
            self.plot.value = picture._repr_png_()
        self.updates += 1
