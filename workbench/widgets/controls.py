"""Controls the Benchmark and Variants tabs share: provider boxes, the report export."""

from __future__ import annotations

import time
from pathlib import Path

import ipywidgets as widgets
from IPython.display import FileLink

from workbench.ort import providers
from workbench.render.mixin import Rendered


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


def export_report(result: Rendered, folder: str, stem: str, link: widgets.Output) -> list[str]:
    """Write `result` as HTML and JSON into `folder` (stem and a timestamp); link them."""
    target = Path(folder or ".").expanduser()
    target.mkdir(parents=True, exist_ok=True)
    written = result.report(
        str(target / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"), formats=("html", "json")
    )
    # Set the outputs directly: safe from any thread, and with no kernel at all.
    link.outputs = ()
    for path in written:
        link.append_display_data(FileLink(path))
    return written
