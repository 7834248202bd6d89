"""The Benchmark tab: choose, start, watch, cancel, export.

Providers, batch sizes, modes, a time budget and the dims and values of the inputs form
(shared with the Run tab); Start and Cancel; a progress bar, a plot
and a table that update while the benchmark runs off the kernel's main thread; and an
export of the report.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import ipywidgets as widgets
from traitlets import Bool, Instance, Int, Unicode, observe

from workbench import plots
from workbench.bench.config import MODE_LABELS, MODES
from workbench.bench.engine import benchmark
from workbench.bench.results import BenchmarkResult
from workbench.errors import WorkbenchError
from workbench.model.model import Model
from workbench.render.templates import render
from workbench.widgets.controls import export_report, provider_boxes, ticked
from workbench.widgets.inputs_form import InputsForm

REFRESH_SECONDS = 0.5  # live plot/table refresh: often enough to watch, rare enough to be cheap


class BenchPanel(widgets.VBox):
    """Run `workbench.benchmark` in a background thread and show it as it goes.

    `inputs` is the form of dims and values (the explorer shares one with its Run tab).
    """

    model = Instance(Model, allow_none=True)
    running = Bool(False)
    updates = Int(0, help="How many times the live plot and table were refreshed.")
    status = Unicode("")
    result = Instance(
        BenchmarkResult, allow_none=True, help="The last BenchmarkResult (live while running)."
    )

    def __init__(self, inputs: InputsForm | None = None, **kwargs: Any) -> None:
        self.inputs = inputs or InputsForm()
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
        self.start_button = widgets.Button(
            description="Start",
            button_style="primary",
            icon="play",
            tooltip="Measure every combination of the providers, modes and batch sizes ticked",
            layout=widgets.Layout(width="auto"),
        )
        self.cancel_button = widgets.Button(
            description="Cancel",
            button_style="warning",
            icon="stop",
            disabled=True,
            tooltip="Stop after the run in progress; every completed sample is kept",
            layout=widgets.Layout(width="auto"),
        )
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="0/0")
        self.message = widgets.HTML()
        self.plot = widgets.Image(format="png", layout=widgets.Layout(max_width="760px"))
        self.table = widgets.HTML()
        self.folder = widgets.Text(
            value="reports", description="Export to", style={"description_width": "initial"}
        )
        self.export_button = widgets.Button(
            description="Export report",
            icon="download",
            disabled=True,
            tooltip="Write the report as HTML and JSON into the folder",
            layout=widgets.Layout(width="auto"),
        )
        self.link = widgets.Output()
        super().__init__(
            [
                widgets.HBox([widgets.Label("Providers"), *self.provider_boxes]),
                widgets.HBox([widgets.Label("Modes"), *self.mode_boxes]),
                widgets.HBox([self.batches, self.budget]),
                self.inputs,
                widgets.HBox([self.start_button, self.cancel_button, self.progress]),
                self.message,
                self.plot,
                self.table,
                widgets.HBox([self.folder, self.export_button]),
                self.link,
            ],
            **kwargs,
        )
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_refresh = 0.0
        self.start_button.on_click(lambda _: self.start())
        self.cancel_button.on_click(lambda _: self.cancel())
        self.export_button.on_click(lambda _: self.export())
        widgets.dlink((self, "model"), (self.inputs, "model"))

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

    def start(self) -> None:
        """Start a benchmark in a background thread; the UI stays responsive."""
        if self.running or self.model is None:
            return
        try:
            sizes = self.batch_sizes()
            if not self.chosen_providers or not self.chosen_modes:
                raise WorkbenchError(
                    "Tick at least one provider and one mode.", "Then press Start."
                )
        except WorkbenchError as failure:
            self.message.value = render(
                "widget_error.html.j2", message=f"{failure.message} {failure.hint}"
            )
            return
        self.message.value = ""
        self._cancel.clear()
        self.running = True
        self.updates = 0
        total = len(self.chosen_providers) * len(self.chosen_modes) * len(sizes)
        self.progress.max, self.progress.value, self.progress.description = total, 0, f"0/{total}"
        arguments = {
            "providers": self.chosen_providers,
            "batch_sizes": sizes,
            "modes": self.chosen_modes,
            "dims": self.inputs.dims,
            "values": self.inputs.values,
            "time_budget": self.budget.value,
            "cancel": self._cancel,
            "progress": False,
            "on_update": self._on_update,
        }
        self._thread = threading.Thread(
            target=self._run,
            args=(self.model, arguments),
            daemon=True,
            name="onnx-workbench-benchmark",
        )
        self._thread.start()

    def cancel(self) -> None:
        """Stop after the run in progress; every completed sample is kept."""
        self._cancel.set()
        self.status = "cancelling"

    def wait(self, timeout: float | None = None) -> None:
        """Block until the benchmark thread ends (for scripts and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def export(self) -> list[str]:
        """Write the last result as HTML and JSON into the export folder; link them below."""
        if self.result is None or self.model is None:
            return []
        try:
            stem = f"{self.model.name}-benchmark"
            return export_report(self.result, self.folder.value, stem, self.link)
        except (OSError, WorkbenchError) as failure:
            self.message.value = render("widget_error.html.j2", message=str(failure))
            return []

    def _run(self, model: Model, arguments: dict[str, Any]) -> None:
        try:
            self.result = benchmark(model, **arguments)
        except WorkbenchError as failure:
            self.message.value = render(
                "widget_error.html.j2", message=f"{failure.message} {failure.hint}"
            )
        except Exception as failure:
            self.message.value = render(
                "widget_error.html.j2", message=f"internal error: {failure!r}"
            )
        finally:
            if self.result is not None:
                self._refresh(self.result)
            self.running = False

    def _on_update(self, live: Any, current: Any) -> None:
        """Called by the engine about every 50 ms; refreshes the view every REFRESH_SECONDS."""
        self.result = live
        done = sum(1 for r in live.results if r is not current or r.stop_reason)
        self.progress.value = min(done, self.progress.max)
        self.progress.description = f"{self.progress.value}/{self.progress.max}"
        self.status = f"measuring {current.config.label}: {len(current.samples_ns)} runs"
        now = time.monotonic()
        if now - self._last_refresh >= REFRESH_SECONDS:
            self._last_refresh = now
            self._refresh(live)

    def _refresh(self, result: Any) -> None:
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

    @observe("running")
    def _buttons(self, change: dict[str, Any]) -> None:
        running = change["new"]
        self.start_button.disabled = running or self.model is None
        self.cancel_button.disabled = not running
        self.export_button.disabled = running or self.result is None
        if not running:
            self.status = "cancelled" if self._cancel.is_set() else "done"
            self.progress.value = self.progress.max

    @observe("model")
    def _new_model(self, change: dict[str, Any]) -> None:
        self.result = None
        self.table.value = ""
        self.plot.value = b""
        self.start_button.disabled = change["new"] is None or self.running
        self.export_button.disabled = True
