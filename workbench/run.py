"""`Model.run()`: one inference with named outputs, the providers applied and the wall time."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.display import printable, render
from workbench.inputs import FeedPlan, Range, synthesize

if TYPE_CHECKING:
    import pandas as pd

    from workbench.model import Model
    from workbench.session import Session


@dataclass(slots=True)  # built on every run: slots keep construction cheap
class RunResult:
    """Outputs by name, plus where and how long the run took. Index it like a dict."""

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
        import pandas as pd  # noqa: PLC0415

        return pd.DataFrame(self.summary_rows()).set_index("output")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the arrays)."""
        return {
            "provider": self.provider,
            "applied_providers": self.applied_providers,
            "fallback": self.fallback,
            "seconds": self.seconds,
            "outputs": self.summary_rows(),
            "guessed_dims": [c.describe() for c in self.plan.guesses] if self.plan else [],
        }

    def __repr__(self) -> str:
        names = printable(", ".join(self.outputs))
        return f"<RunResult on {self.applied_providers[0]}: {names} in {self.seconds * 1e3:.2f} ms>"

    def text(self) -> str:
        """The output summary as a table, for terminals."""
        lines = [f"Ran on {self.applied_providers[0]} in {self.seconds * 1e3:.3f} ms"]
        if self.fallback:
            lines.append(f"! {self.fallback}")
        for row in self.summary_rows():
            stats = ""
            if "min" in row:
                stats = (
                    f"  min {row['min']:.4g}  max {row['max']:.4g}  mean {row['mean']:.4g}"
                    f"  std {row['std']:.4g}  nan {row['nan']}"
                )
            lines.append(f"  {row['output']}  {row['type']} {row['shape']} {row['dtype']}{stats}")
        return printable("\n".join(lines))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text())

    def _repr_html_(self) -> str:
        return render("run.html.j2", result=self, rows=self.summary_rows())


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


def run_model(
    model: Model,
    session: Session,
    feeds: Mapping[str, Any] | None,
    *,
    outputs: Sequence[str] | None,
    dims: Mapping[str, int] | None,
    shapes: Mapping[str, Sequence[int]] | None,
    batch: int | None,
    seed: int,
    ranges: Mapping[str, Range] | None,
    allow_nonfinite: bool,
    io_binding: bool = False,
) -> RunResult:
    """Validate or synthesize feeds, run once, and name the outputs."""
    plan = None
    if feeds is None:
        synthetic = synthesize(
            model.inputs, dims=dims, shapes=shapes, batch=batch, seed=seed, ranges=ranges
        )
        values, plan = synthetic.values, synthetic.plan
    else:
        values = model.feed_checker.check(feeds, allow_nonfinite=allow_nonfinite)
    if outputs:
        names = [outputs] if isinstance(outputs, str) else list(outputs)  # one name, or several
        model.check_output_names(names)
    else:
        names = model.output_names
    if io_binding:
        binding = session.bind(values, names)
        start = time.perf_counter()
        binding.run()
        seconds = time.perf_counter() - start
        results = binding.outputs()
    else:
        start = time.perf_counter()
        results = session.run(values, names, plan=plan)
        seconds = time.perf_counter() - start
    return RunResult(
        outputs=dict(zip(names, results, strict=True)),
        provider=session.provider,
        applied_providers=session.applied_providers,
        fallback=session.fallback,
        seconds=seconds,
        feeds=values,
        plan=plan,
    )
