"""`RunResult`: one inference's named outputs, the providers applied and the wall time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.feeds.synthetic import Feeds
from workbench.render.mixin import Rendered
from workbench.text import printable

if TYPE_CHECKING:
    import pandas as pd

    from workbench.feeds.synthetic import FeedPlan


@dataclass(slots=True)  # built on every run: slots keep construction cheap
class RunResult(Rendered):
    """Outputs by name, plus where and how long the run took. Index it like a dict."""

    template = "run"
    title = "Run result"

    outputs: dict[str, Any]
    provider: str  # requested
    applied_providers: list[str]
    fallback: str
    seconds: float  # wall time of the run call (device-resident with io_binding: no copies)
    feeds: dict[str, Any] = field(repr=False)
    plan: FeedPlan | None = field(default=None, repr=False)  # set for synthetic feeds
    # A notebook renders text and HTML: the statistics (a float64 pass over every output)
    # are computed once, on first use.
    _rows: list[dict[str, Any]] | None = field(default=None, init=False, repr=False)

    def __getitem__(self, name: str) -> Any:
        return self.outputs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.outputs)

    def __len__(self) -> int:
        return len(self.outputs)

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per output: type, shape, dtype and basic statistics."""
        if self._rows is None:
            self._rows = [describe_value(name, value) for name, value in self.outputs.items()]
        return list(self._rows)

    def to_frame(self) -> pd.DataFrame:
        """The output summary as a DataFrame."""
        import pandas as pd  # noqa: PLC0415  (heavy: imported on first use)

        return pd.DataFrame(self.summary_rows()).set_index("output")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the arrays)."""
        return {
            "provider": self.provider,
            "applied_providers": self.applied_providers,
            "fallback": self.fallback,
            "seconds": self.seconds,
            "inputs": self.input_rows(),
            "outputs": self.summary_rows(),
            "guessed_dims": [c.describe() for c in self.plan.guesses] if self.plan else [],
            "suggested_dims": [c.describe() for c in self.plan.suggested] if self.plan else [],
        }

    def input_rows(self) -> list[dict[str, Any]]:
        """One row per input: name, dtype, shape, and `given` (else it was synthesized)."""
        return Feeds(self.feeds, self.plan).input_rows()

    def render_context(self) -> dict[str, Any]:
        """The result and its per-output rows."""
        return {"result": self, "rows": self.summary_rows(), "inputs": self.input_rows()}

    def __repr__(self) -> str:
        names = printable(", ".join(self.outputs))
        return f"<RunResult on {self.applied_providers[0]}: {names} in {self.seconds * 1e3:.2f} ms>"


def describe_value(name: str, value: Any) -> dict[str, Any]:
    """Type, shape, dtype and (for numbers) min/max/mean/std and NaN count of one value."""
    row: dict[str, Any] = {"output": name}
    if isinstance(value, list):
        return {**row, "type": f"sequence of {len(value)}", "shape": "", "dtype": ""}
    if isinstance(value, dict):
        return {**row, "type": f"map of {len(value)}", "shape": "", "dtype": ""}
    if value is None:
        return {**row, "type": "optional (empty)", "shape": "", "dtype": ""}
    array = np.asarray(value)
    row.update(type="tensor", shape=str(tuple(array.shape)), dtype=str(array.dtype))
    if array.size and (array.dtype.kind in "biuf" or array.dtype.kind == "V"):
        numbers = array.astype(np.float64)
        finite = numbers[np.isfinite(numbers)]
        row.update(
            min=float(finite.min()) if finite.size else float("nan"),
            max=float(finite.max()) if finite.size else float("nan"),
            mean=float(finite.mean()) if finite.size else float("nan"),
            std=float(finite.std()) if finite.size else float("nan"),
            nan=int(np.isnan(numbers).sum()),
        )
    return row
