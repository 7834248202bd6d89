"""The Load tab: a serving scenario in the background, its latency-throughput curve live.

Scenario, providers, rate, duration, bound, workers and batching; Start and Cancel (every
completed request is kept); the curve and the table fill in as runs (a peak search's
probes) finish; Export writes the report. Dims and values come from the inputs form the
Run and Benchmark tabs share. Runs happen in a worker process, as `load_test` does by
default, so the kernel's own work does not disturb the arrivals.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
from traitlets import Instance

from workbench import plots
from workbench.errors import WorkbenchError
from workbench.loadtest.engine import load_test
from workbench.loadtest.result import LoadResult
from workbench.loadtest.spec import SCENARIOS, make_spec, parse_batching
from workbench.model.model import Model
from workbench.widgets.controls import BackgroundPanel, provider_boxes, ticked
from workbench.widgets.inputs_form import InputsForm

_WIDE = {"description_width": "initial"}


class LoadPanel(BackgroundPanel):
    """Run `workbench.load_test` in a background thread and show it as it goes."""

    result = Instance(LoadResult, allow_none=True, help="The last LoadResult (live while running).")
    report_stem = "load-test"

    def __init__(self, inputs: InputsForm | None = None, **kwargs: Any) -> None:
        self.scenario = widgets.Dropdown(options=SCENARIOS, value="peak", description="Scenario")
        self.provider_boxes = provider_boxes()
        self.qps = widgets.BoundedFloatText(
            value=100, min=0.001, max=1e7, description="Server QPS", style=_WIDE,
            tooltip="The server scenario's target rate",
        )  # fmt: skip
        self.duration = widgets.BoundedFloatText(
            value=5, min=0.1, max=3600, description="Seconds per run", style=_WIDE
        )
        self.bound = widgets.Text(
            value="20ms", description="p99 bound", style=_WIDE, placeholder="e.g. 20ms"
        )
        self.workers = widgets.BoundedIntText(
            value=1, min=1, max=256, description="Workers", style=_WIDE,
            tooltip="Threads serving the queue (model instances)",
        )  # fmt: skip
        self.batching = widgets.Text(
            value="none", description="Batching", style=_WIDE,
            placeholder="none, dynamic:8:2ms, or both: none,dynamic:8:2ms",
        )  # fmt: skip
        super().__init__(
            [
                widgets.HBox([self.scenario, self.qps, self.duration]),
                widgets.HBox([widgets.Label("Providers"), *self.provider_boxes]),
                widgets.HBox([self.bound, self.workers, self.batching]),
            ],
            inputs,
            start=("Start", "Run the scenario on each provider ticked, in a worker process"),
            cancel_tooltip="Stop now; every completed request is kept",
            **kwargs,
        )

    @property
    def chosen_providers(self) -> list[str]:
        """Aliases of the ticked (usable) providers."""
        return ticked(self.provider_boxes)

    def arguments(self) -> tuple[int, dict[str, Any]]:
        """The scenario's settings (checked as `load_test` checks them), a row per run."""
        if not self.chosen_providers:
            raise WorkbenchError("Tick at least one provider.", "Then Start.")
        policies = [p.strip() for p in self.batching.value.split(",") if p.strip()] or ["none"]
        for policy in policies:
            parse_batching(policy)
        options = {
            "scenario": self.scenario.value,
            "qps": self.qps.value if self.scenario.value == "server" else None,
            "duration": self.duration.value,
            "bound": self.bound.value.strip() or None,
            "workers": self.workers.value,
        }
        spec = make_spec(**options)
        per_policy = len(spec.concurrency) if spec.scenario == "concurrency" else 1
        total = len(self.chosen_providers) * len(policies) * per_policy
        return total, {
            **options,
            "providers": self.chosen_providers,
            "batching": policies,
            "dims": self.inputs.dims,
            "values": self.inputs.values,
            "cancel": self._cancel,
            "on_update": self.refresh,
        }

    def call(self, model: Model, arguments: dict[str, Any]) -> LoadResult:
        """`workbench.load_test`."""
        return load_test(model, **arguments)

    def refresh(self, result: Any) -> None:
        """The table and the latency-throughput curve so far (after each run or probe)."""
        self.result = result
        done = sum(r.verdict != "running" for r in result.rows)
        self.progress.value = min(done, self.progress.max)
        self.progress.description = f"{self.progress.value}/{self.progress.max}"
        self.table.value = result._repr_html_()
        if any((r.achieved_qps and r.percentile_ms) or r.probes for r in result.rows):
            try:
                picture = plots.picture(lambda ax: result.plot(ax=ax), 1, "latency-throughput")
            except WorkbenchError:
                pass  # nothing measured yet
            else:
                self.plot.value = picture._repr_png_()
        self.updates += 1
