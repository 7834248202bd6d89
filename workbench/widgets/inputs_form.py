"""The inputs form: sizes of the free dims and values of scalar inputs.

One form is shown in both the Run and the Benchmark tab, so a run and a benchmark use the
same dims: a detector set to 320x320 is not benchmarked at the 64x64 fallback. The batch
is not here (the Run tab has a batch field, the Benchmark tab sweeps batch sizes).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
from traitlets import Bool, Dict, Instance, observe

from workbench.feeds.synthetic import FeedPlan, plan_shapes
from workbench.model.model import Model

_WRAP = widgets.Layout(flex_flow="row wrap")


class InputsForm(widgets.VBox):
    """A field per free dim (but the batch) and per scalar input; what they say as traits."""

    model = Instance(Model, allow_none=True)
    dims = Dict(help="Free dim (not the batch) -> size, from the fields.")
    values = Dict(help="Scalar input -> the value typed; empty fields stay synthetic.")
    has_batch = Bool(False, help="True when the model has a free batch dim to set.")

    def __init__(self, **kwargs: Any) -> None:
        self.dim_fields = widgets.HBox(layout=_WRAP)
        self.value_fields = widgets.HBox(layout=_WRAP)
        super().__init__([self.dim_fields, self.value_fields], **kwargs)

    @observe("model")
    def _build_fields(self, change: dict[str, Any]) -> None:
        model = change["new"]
        plan = plan_shapes(model.inputs, hints=model.session_source.hints.found) if model else None
        self.dim_fields.children = _dim_fields(plan) if plan else ()
        scalars = (
            [v for v in model.inputs if v.type.kind == "tensor" and v.shape == ()] if model else []
        )
        self.value_fields.children = [
            widgets.Text(
                description=value.name,
                placeholder="synthetic",
                tooltip=f"{value.dtype} scalar: type a value (e.g. 16000), or leave it empty "
                "for a synthetic one",
                style={"description_width": "initial"},
                layout=widgets.Layout(width="220px"),
            )
            for value in scalars
        ]
        for field in (*self.dim_fields.children, *self.value_fields.children):
            field.observe(self._collect, names="value")
        self.has_batch = plan is not None and plan.batch_is_free
        self._collect()

    def _collect(self, _: Any = None) -> None:
        self.dims = {f.description: f.value for f in self.dim_fields.children}
        # The text as typed: the input's type reads it (JSON for numbers, verbatim for text).
        self.values = {f.description: f.value for f in self.value_fields.children if f.value}


def _dim_fields(plan: FeedPlan) -> list[widgets.BoundedIntText]:
    """A field per named free dim, starting where the core would (the model's hint, else 64)."""
    fields: dict[str, widgets.BoundedIntText] = {}
    for choice in plan.choices:
        symbol = choice.symbol
        if symbol is None or symbol in plan.batch_symbols or symbol in fields:
            continue
        fields[symbol] = widgets.BoundedIntText(
            value=choice.value,
            min=0,
            max=1 << 30,
            description=symbol,
            tooltip=f"size of dim {symbol!r}" + (f" ({choice.note})" if choice.note else ""),
            style={"description_width": "initial"},
            layout=widgets.Layout(width="180px"),
        )
    return [fields[name] for name in sorted(fields)]
