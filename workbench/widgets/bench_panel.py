"""The Benchmark tab: choose, start, watch, cancel, export.

Providers, batch sizes, modes, a time budget, the executor and the dims and values of the
inputs form (shared with the Run tab); Start and Cancel; a progress bar, a plot
and a table that update while the benchmark runs off the kernel's main thread; and an
export of the report.
"""

from __future__ import annotations

import time
from typing import Any

import ipywidgets as widgets
from traitlets import Instance

from workbench import plots
from workbench.bench.config import EXECUTORS, MODE_LABELS, MODES
from workbench.bench.engine import benchmark
from workbench.bench.results import BenchmarkResult
from workbench.errors import WorkbenchError
from workbench.model.model import Model
from workbench.widgets.controls import BackgroundPanel, provider_boxes, ticked
from workbench.widgets.inputs_form import InputsForm

REFRESH_SECONDS = 0.5  # live plot/table refresh: often enough to watch, rare enough to be cheap


class BenchPanel(BackgroundPanel):
    """Run `workbench.benchmark` in a background thread and show it as it goes.

    `inputs` is the form of dims and values (the explorer shares one with its Run tab).
    """

    result = Instance(
        BenchmarkResult, allow_none=True, help="The last BenchmarkResult (live while running)."
    )
    report_stem = "benchmark"

    def __init__(self, inputs: InputsForm | None = None, **kwargs: Any) -> None:
        self.provider_boxes = provider_boxes()
        self.mode_boxes = [
            widgets.Checkbox(
                value=mode == "host",
                description=mode,
                tooltip=MODE_LABELS[mode],
                indent=False,
                layout=widgets.Layout(width="auto"),
            )
            for mode in MODES
        ]
        self.batches = widgets.Text(
            value="1,8", description="Batch sizes", style={"description_width": "initial"}
        )
        self.budget = widgets.BoundedFloatText(
            value=2.0,
            min=0.05,
            max=3600,
            step=0.5,
            description="Seconds per config",
            style={"description_width": "initial"},
        )
        self.executor = widgets.Dropdown(
            options=EXECUTORS,
            value="inprocess",
            description="Executor",
            tooltip="inprocess: this kernel; worker/pool: a child process (a crash cannot take "
            "the kernel down); ray: the Ray cluster this kernel joined, several nodes at once",
        )
        self._last_refresh = 0.0
        super().__init__(
            [
                widgets.HBox([widgets.Label("Providers"), *self.provider_boxes]),
                widgets.HBox([widgets.Label("Modes"), *self.mode_boxes]),
                widgets.HBox([self.batches, self.budget, self.executor]),
            ],
            inputs,
            start=("Start", "Measure every combination of the providers, modes and batch sizes "
                   "ticked"),
            cancel_tooltip="Stop after the run in progress; every completed sample is kept",
            **kwargs,
        )  # fmt: skip

    @property
    def chosen_providers(self) -> list[str]:
        """Aliases of the ticked (usable) providers."""
        return ticked(self.provider_boxes)

    @property
    def chosen_modes(self) -> list[str]:
        """The ticked timing modes."""
        return [box.description for box in self.mode_boxes if box.value]

    def batch_sizes(self) -> list[int]:
        """The batch sizes typed, validated (a clear message rather than an exception)."""
        try:
            sizes = [int(part) for part in self.batches.value.replace(" ", "").split(",") if part]
        except ValueError:
            raise WorkbenchError(
                f"Batch sizes must be whole numbers, like 1,8,32 (got {self.batches.value!r}).",
                "Fix the Batch sizes field.",
            ) from None
        if not sizes or min(sizes) < 1:
            raise WorkbenchError("Give at least one batch size of 1 or more.", "E.g. 1,8,32.")
        return sizes

    def arguments(self) -> tuple[int, dict[str, Any]]:
        """Every combination of the providers, modes and batch sizes ticked."""
        sizes = self.batch_sizes()
        if not self.chosen_providers or not self.chosen_modes:
            raise WorkbenchError("Tick at least one provider and one mode.", "Then press Start.")
        total = len(self.chosen_providers) * len(self.chosen_modes) * len(sizes)
        return total, {
            "providers": self.chosen_providers,
            "batch_sizes": sizes,
            "modes": self.chosen_modes,
            "dims": self.inputs.dims,
            "values": self.inputs.values,
            "time_budget": self.budget.value,
            "executor": self.executor.value,
            "cancel": self._cancel,
            "progress": False,
            "on_update": self._on_update,
        }

    def call(self, model: Model, arguments: dict[str, Any]) -> BenchmarkResult:
        """`workbench.benchmark`."""
        return benchmark(model, **arguments)

    def _on_update(self, live: Any, current: Any) -> None:
        """Called by the engine about every 50 ms; refreshes the view every REFRESH_SECONDS."""
        self.result = live
        # Finished rows (several may be measuring at once on a Ray cluster).
        done = sum(1 for r in live.results if r.stats is not None or r.status != "ok")
        self.progress.value = min(done, self.progress.max)
        self.progress.description = f"{self.progress.value}/{self.progress.max}"
        self.status = f"measuring {current.config.label}: {len(current.samples_ns)} runs"
        now = time.monotonic()
        if now - self._last_refresh >= REFRESH_SECONDS:
            self._last_refresh = now
            self.refresh(live)

    def refresh(self, result: Any) -> None:
        """The table and the p50 bars so far."""
        self.result = result
        for entry in result.results:
            if entry.samples_ns:
                entry.finish()  # the configuration being measured: statistics so far
        self.table.value = result._repr_html_()
        if result.measured:
            picture = plots.picture(
                lambda ax: plots.p50_bars(result, ax=ax), len(result.measured), "median latency"
            )
            self.plot.value = picture._repr_png_()
        self.updates += 1
