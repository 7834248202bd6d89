"""What the Benchmark and Variants tabs share: a long call run off the kernel's main thread.

`BackgroundPanel` holds Start and Cancel, a progress bar, a message line, a live plot and
table, and the export of the result's report; a tab adds its own options and says how to
call the public API (`arguments()`, `call()`) and how to show a result (`refresh()`).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from IPython.display import FileLink
from traitlets import Bool, Instance, Int, Unicode, observe

from workbench.errors import WorkbenchError
from workbench.model.model import Model
from workbench.ort import providers
from workbench.render.mixin import Rendered
from workbench.render.templates import render
from workbench.widgets.inputs_form import InputsForm


def provider_boxes() -> list[widgets.Checkbox]:
    """A box per provider, the CPU ticked; unusable ones disabled, their reason as tooltip."""
    return [
        widgets.Checkbox(
            value=s.name == providers.CPU,
            description=s.alias,
            disabled=not s.usable,
            indent=False,
            layout=widgets.Layout(width="auto"),
            tooltip=s.reason or "usable",
        )
        for s in providers.all_statuses()
    ]


def ticked(boxes: list[widgets.Checkbox]) -> list[str]:
    """The descriptions of the ticked boxes that can be ticked."""
    return [box.description for box in boxes if box.value and not box.disabled]


class BackgroundPanel(widgets.VBox):
    """A tab that runs one long public-API call in a thread and shows it as it goes."""

    model = Instance(Model, allow_none=True)
    running = Bool(False)
    updates = Int(0, help="How many times the live plot and table were refreshed.")
    status = Unicode("")
    report_stem = "report"  # the exported files' names: MODEL-STEM-TIMESTAMP.html/.json

    def __init__(
        self,
        options: list[widgets.Widget],
        inputs: InputsForm | None,
        *,
        start: tuple[str, str],
        cancel_tooltip: str,
        **kwargs: Any,
    ) -> None:
        self.inputs = inputs or InputsForm()
        self.start_button = widgets.Button(
            description=start[0], button_style="primary", icon="play", tooltip=start[1],
            layout=widgets.Layout(width="auto"),
        )  # fmt: skip
        self.cancel_button = widgets.Button(
            description="Cancel", button_style="warning", icon="stop", disabled=True,
            tooltip=cancel_tooltip, layout=widgets.Layout(width="auto"),
        )  # fmt: skip
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="0/0")
        self.message = widgets.HTML()
        self.plot = widgets.Image(format="png", layout=widgets.Layout(max_width="760px"))
        self.table = widgets.HTML()
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
                *options,
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
        self.start_button.on_click(lambda _: self.start())
        self.cancel_button.on_click(lambda _: self.cancel())
        self.export_button.on_click(lambda _: self.export())
        widgets.dlink((self, "model"), (self.inputs, "model"))

    # --- what a tab defines ---

    def arguments(self) -> tuple[int, dict[str, Any]]:
        """The steps the progress bar counts, and the call's keyword arguments (validated)."""
        raise NotImplementedError

    def call(self, model: Model, arguments: dict[str, Any]) -> Any:
        """The public-API call, run in the thread."""
        raise NotImplementedError

    def refresh(self, result: Any) -> None:
        """Show `result` (the live one while running): the plot and the table."""
        raise NotImplementedError

    # --- shared ---

    def start(self) -> None:
        """Start the call in a background thread; the notebook stays responsive."""
        if self.running or self.model is None:
            return
        try:
            total, arguments = self.arguments()
        except WorkbenchError as failure:
            self.show_error(f"{failure.message} {failure.hint}")
            return
        self.message.value = ""
        self._cancel.clear()
        self.running = True
        self.updates = 0
        self.progress.max, self.progress.value, self.progress.description = total, 0, f"0/{total}"
        self._thread = threading.Thread(
            target=self._run, args=(self.model, arguments), daemon=True,
            name=f"onnx-workbench-{self.report_stem}",
        )  # fmt: skip
        self._thread.start()

    def cancel(self) -> None:
        """Stop after the step in progress; everything measured is kept."""
        self._cancel.set()
        self.status = "cancelling"

    def wait(self, timeout: float | None = None) -> None:
        """Block until the thread ends (for scripts and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def export(self) -> list[str]:
        """Write the last result as HTML and JSON into the export folder; link them below."""
        result = getattr(self, "result", None)
        if not isinstance(result, Rendered) or self.model is None:
            return []
        folder = Path(self.folder.value or ".").expanduser()
        stem = f"{self.model.name}-{self.report_stem}-{time.strftime('%Y%m%d-%H%M%S')}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            written = result.report(str(folder / stem), formats=("html", "json"))
        except (OSError, WorkbenchError) as failure:
            self.show_error(str(failure))
            return []
        # Set the outputs directly: safe from any thread, and with no kernel at all.
        self.link.outputs = ()
        for path in written:
            self.link.append_display_data(FileLink(path))
        return written

    def show_error(self, text: str) -> None:
        """Say what went wrong, under the buttons."""
        self.message.value = render("widget_error.html.j2", message=text)

    def _run(self, model: Model, arguments: dict[str, Any]) -> None:
        try:
            final = self.call(model, arguments)
        except WorkbenchError as failure:
            self.show_error(f"{failure.message} {failure.hint}")
        except Exception as failure:
            self.show_error(f"internal error: {failure!r}")
        else:
            self.refresh(final)
        finally:
            self.running = False

    @observe("running")
    def _buttons(self, change: dict[str, Any]) -> None:
        running = change["new"]
        self.start_button.disabled = running or self.model is None
        self.cancel_button.disabled = not running
        self.export_button.disabled = running or getattr(self, "result", None) is None
        if not running:
            self.status = "cancelled" if self._cancel.is_set() else "done"
            self.progress.value = self.progress.max

    @observe("model")
    def _new_model(self, change: dict[str, Any]) -> None:
        self.set_trait("result", None)
        self.table.value = ""
        self.plot.value = b""
        self.start_button.disabled = change["new"] is None or self.running
        self.export_button.disabled = True
