"""`workbench.evaluate()`: variants side by side, latency against accuracy, on every sample.

For each variant and provider: latency from the benchmark engine (the same stats and CIs),
the speed-up against the reference on the same provider (with a CI from the two medians'
CIs), accuracy against the reference's outputs on every sample of `data` (max and mean
absolute error, cosine similarity, top-1 agreement for classifier-like outputs, or your
metric), the file's size, its nodes and ops, peak memory, and the share of its nodes on the
provider asked for. A recipe that does not apply or a provider that cannot run it is a row
with its reason; the others go on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from workbench import plots
from workbench.bench.engine import Cancel, benchmark, cancel_check
from workbench.errors import WorkbenchError
from workbench.model.model import Model, load
from workbench.ort import providers as provider_names
from workbench.ort.doctor import fingerprint
from workbench.render.files import finite
from workbench.render.mixin import Rendered
from workbench.run.profile import profile
from workbench.run.samples import sample_feeds
from workbench.text import human_bytes
from workbench.tracking.store import record
from workbench.variant.recipes import (
    Recipe,
    VariantSkipped,
    build,
    recipe_list,
    recipe_of,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from workbench.model import ModelLike

REFERENCE = "reference"
KIND = "evaluation"  # what an evaluation's JSON report says it is (benchmarks say nothing)
SCHEMA_VERSION = 1
MIN_COSINE = 0.99  # the default accuracy bar: outputs point the same way
COLUMNS = [
    "variant", "provider", "status", "reason", "p50_ms", "ci95_ms", "speedup", "speedup_ci",
    "max_abs_error", "mean_abs_error", "cosine", "top1_agreement", "metric", "accurate",
    "size_bytes", "nodes", "on_provider", "time_on_provider", "peak_rss_mb", "runs",
]  # fmt: skip
Metric = Callable[[Mapping[str, Any], Mapping[str, Any]], float]


@dataclass
class VariantRow:
    """One variant on one provider: speed, accuracy, size, and whether it ran."""

    variant: str
    provider: str
    status: str  # "ok", "skipped" or "failed"
    reason: str = ""
    recipe: dict[str, Any] = field(default_factory=dict)
    p50_ms: float | None = None
    ci95_ms: tuple[float, float] | None = None
    runs: int = 0  # measured runs behind p50_ms
    speedup: float | None = None  # the reference's p50 on this provider / this p50
    speedup_ci: tuple[float, float] | None = None
    max_abs_error: float | None = None
    mean_abs_error: float | None = None
    cosine: float | None = None  # the lowest over samples and outputs
    top1_agreement: float | None = None  # classifier-like outputs only
    metric: float | None = None  # your metric, averaged over samples
    accurate: bool | None = None
    size_bytes: int = 0
    nodes: int = 0
    ops: dict[str, int] = field(default_factory=dict)
    on_provider: float | None = None  # share of the nodes run on the provider asked for
    time_on_provider: float | None = None  # share of their kernel time
    peak_rss_mb: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready row (NaN and infinities as null)."""
        row: dict[str, Any] = finite(asdict(self))
        return row


@dataclass
class Evaluation(Rendered):
    """Every variant on every provider, with the reference first."""

    template = "evaluate"
    title = "Variants: speed against accuracy"
    report_formats: ClassVar[tuple[str, ...]] = ("html", "json", "csv", "md")

    model: dict[str, Any]
    rows: list[VariantRow]
    samples: int
    data: str  # where the samples came from
    notes: list[str] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # its run id in the history

    def to_frame(self) -> pd.DataFrame:
        """One row per variant and provider (see COLUMNS)."""
        import pandas as pd  # noqa: PLC0415  (heavy: loads on first use)

        return pd.DataFrame([{c: getattr(r, c) for c in COLUMNS} for r in self.rows])

    def plot(self, ax: Axes | None = None) -> Axes:
        """Latency against error, one marker per variant and provider, the frontier drawn."""
        return plots.pareto(self, ax=ax)

    def history_rows(self) -> list[dict[str, Any]]:
        """Each variant on each provider as the history store keeps it (`workbench.history`)."""
        return [
            {
                "config": json.dumps(["variant", r.variant, r.provider]),
                "config_label": f"{r.variant} on {r.provider}",
                "provider": r.provider,
                "variant": r.variant,
                "status": r.status,
                "n": r.runs,
                "p50_ms": finite(r.p50_ms),
                "ci_low_ms": finite(r.ci95_ms[0]) if r.ci95_ms else None,
                "ci_high_ms": finite(r.ci95_ms[1]) if r.ci95_ms else None,
                "hostname": self.environment.get("hostname"),
                "cpu": self.environment.get("cpu"),
            }
            for r in self.rows
        ]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: the rows, the model, where the samples came from, the notes."""
        return {
            "kind": KIND,
            "schema_version": SCHEMA_VERSION,
            "model": self.model,
            "samples": self.samples,
            "data": self.data,
            "notes": self.notes,
            "rows": [r.as_dict() for r in self.rows],
            "environment": self.environment,
            "settings": self.settings,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        """Inverse of `as_dict()` (a report's JSON)."""
        rows = []
        for row in data.get("rows", []):
            values = {k: row[k] for k in VariantRow.__dataclass_fields__ if k in row}
            for pair in ("ci95_ms", "speedup_ci"):
                if values.get(pair) is not None:
                    values[pair] = tuple(values[pair])
            rows.append(VariantRow(**values))
        return cls(
            dict(data.get("model") or {}),
            rows,
            int(data.get("samples") or 0),
            str(data.get("data") or ""),
            list(data.get("notes") or []),
            dict(data.get("environment") or {}),
            dict(data.get("settings") or {}),
        )

    def render_context(self) -> dict[str, Any]:
        """Each row with its cells formatted: p50 (CI), speed-up (CI), errors, size..."""
        rows = [(r, _cells(r)) for r in self.rows]
        table = [[r.variant, r.provider.removesuffix("ExecutionProvider"), r.status,
                  c[0], c[1], c[2], c[3], c[4], c[5], c[7]] for r, c in rows]  # fmt: skip
        return {"result": self, "rows": rows, "table": table}

    def __repr__(self) -> str:
        ok = sum(r.status == "ok" for r in self.rows)
        return f"<Evaluation of {self.model.get('name')}: {len(self.rows)} rows, {ok} ok>"


def evaluate(
    model: ModelLike,
    variants: Sequence[str] | Mapping[str, Any] | str = ("ort-optimized", "fp16", "int8-dynamic"),
    providers: Sequence[str] = ("cpu",),
    data: Any = None,
    *,
    metric: Metric | None = None,
    min_cosine: float = MIN_COSINE,
    atol: float | None = None,
    samples: int = 16,
    calibration: Any = None,
    folder: str | os.PathLike[str] | None = None,
    dims: Mapping[str, int] | None = None,
    values: Mapping[str, Any] | None = None,
    ranges: Mapping[str, Any] | None = None,
    batch: int | None = None,
    time_budget: float = 1.0,
    runs: int | None = None,
    executor: str = "inprocess",
    progress: bool = False,
    cancel: Cancel = None,
    on_update: Callable[[Evaluation], None] | None = None,
    history: bool | str | os.PathLike[str] = True,
    label: str | None = None,
    model_key: str | None = None,
    **recipe_options: Any,
) -> Evaluation:
    """Every variant on every provider against the reference (the model as given).

    `variants`: recipe names or a dict (see `workbench.variants`), or variants already made
    (a dict name -> Model). `data`: the samples accuracy is measured on (a list of feed
    dicts, an .npz file, a test_data_set folder or a folder of them); without it,
    `samples` synthetic feeds, and a note says that agreement on them is no accuracy
    evidence. A row is accurate when its lowest cosine similarity is at least `min_cosine`
    (and its largest absolute error at most `atol`, if given). `metric(reference_outputs,
    outputs) -> float` adds your own, averaged over samples. Latency is measured on the
    first sample, for `time_budget` seconds (or `runs`) per row, by `executor` (as in
    `benchmark`: "inprocess", "worker", "pool" or "ray"). `calibration` and
    `recipe_options` (opt_level, per_channel, quant_format, fp16_block_list,
    nodes_to_exclude) go to the
    recipes. `cancel` (an Event or a callable) stops after the row being measured: the rest
    are `skipped` rows saying so, the rows measured are kept; `on_update(result)` is called
    after each row (the explorer's live table). The evaluation is added to the history
    (`history=False` or a path; `label` and `model_key` as in `benchmark`).
    """
    reference = load(model)
    names = [provider_names.resolve(p) for p in providers]
    if not names:
        raise WorkbenchError("evaluate() needs at least one provider.", "E.g. providers=['cpu'].")
    feeds, source, notes = sample_feeds(
        reference, data, count=samples, dims=dims, values=values, ranges=ranges, batch=batch
    )
    expected = [reference.run(f, provider=provider_names.CPU).outputs for f in feeds]
    # Each row's benchmark is part of this evaluation, recorded once as a whole (below).
    options = {"time_budget": time_budget, "runs": runs, "progress": progress,
               "executor": executor, "history": False}  # fmt: skip
    cancelled = cancel_check(cancel)
    rows: list[VariantRow] = []
    result = Evaluation(
        {"name": reference.name, "sha256": reference.sha256, "path": str(reference.path or "")},
        rows,
        len(feeds),
        source,
        notes,
        fingerprint(),
    )
    candidates: list[tuple[str, Model | None, Recipe | None, str, str]] = [
        (REFERENCE, reference, None, "", "")
    ]
    made_variants = _variants(reference, variants, calibration, folder, recipe_options)
    candidates += made_variants
    notes += _recipe_notes(made_variants)
    for name, made, recipe, status, reason in candidates:
        for provider in names:
            if made is None or cancelled():
                why = reason if made is None else "cancelled before it was measured"
                rows.append(VariantRow(name, provider, status if made is None else "skipped",
                                       why, _recipe(recipe)))  # fmt: skip
                continue
            rows.append(
                _row(
                    name,
                    made,
                    provider,
                    feeds=feeds,
                    expected=expected,
                    metric=metric,
                    options=options,
                    recipe=recipe,
                    mismatch=_signature_mismatch(reference, made),
                )
            )
            _speedups(rows)
            if on_update is not None:
                on_update(result)
    _speedups(rows)
    for row in rows:
        if row.cosine is not None:
            row.accurate = row.cosine >= min_cosine and (
                atol is None or (row.max_abs_error or 0.0) <= atol
            )
    record(result, history, kind="evaluation", label=label, model_key=model_key)
    return result


def _variants(
    reference: Model,
    variants: Sequence[str] | Mapping[str, Any] | str,
    calibration: Any,
    folder: str | os.PathLike[str] | None,
    recipe_options: Mapping[str, Any],
) -> list[tuple[str, Model | None, Recipe | None, str, str]]:
    """(name, the variant or None, its recipe, status, reason) for each variant asked for."""
    if isinstance(variants, Mapping) and all(isinstance(v, Model) for v in variants.values()):
        return [(str(n), m, None, "ok", "") for n, m in variants.items()]
    found: list[tuple[str, Model | None, Recipe | None, str, str]] = []
    for recipe in recipe_list(variants, **recipe_options):
        try:
            made = build(reference, recipe, calibration=calibration, folder=folder)
        except VariantSkipped as error:
            found.append((recipe.name, None, recipe, "skipped", error.message))
        except WorkbenchError as error:  # VariantFailed, a bad file, a feed error...
            found.append((recipe.name, None, recipe, "failed", error.message))
        else:
            found.append((recipe.name, made, recipe, "ok", ""))
    return found


def _recipe_notes(rows: Sequence[tuple[str, Model | None, Recipe | None, str, str]]) -> list[str]:
    """What each variant's recipe says to know of it (a skipped step, synthetic calibration)."""
    notes = []
    for name, made, _, _, _ in rows:
        recorded = recipe_of(made) if made is not None else None
        notes += [f"{name}: {note}" for note in (recorded or {}).get("notes", [])]
    return notes


def _row(
    name: str,
    model: Model,
    provider: str,
    *,
    feeds: list[dict[str, Any]],
    expected: list[dict[str, Any]],
    metric: Metric | None,
    options: Mapping[str, Any],
    recipe: Recipe | None,
    mismatch: str,
) -> VariantRow:
    row = VariantRow(name, provider, "ok", recipe=_recipe(recipe), nodes=model.node_count,
                     ops=dict(model.ops), size_bytes=_size(model))  # fmt: skip
    try:  # another signature gets synthetic feeds of its own
        measured = benchmark(model, [provider], feeds=None if mismatch else feeds[0], **options)
    except WorkbenchError as error:
        row.status, row.reason = "failed", error.message
        return row
    (config,) = measured.results
    if config.status in ("skipped", "failed") or config.stats is None:
        row.status = "skipped" if config.status == "skipped" else "failed"
        row.reason = config.reason
        return row
    row.p50_ms, row.ci95_ms = config.stats.p50_ms, config.stats.ci95_ms
    row.runs = config.stats.n
    row.peak_rss_mb = config.peak_rss_mb
    row.on_provider, row.time_on_provider = _share_on(
        model, provider, None if mismatch else feeds[0]
    )
    if mismatch:
        row.reason = f"not compared for accuracy: {mismatch}"
        return row
    try:
        outputs = [model.run(f, provider=provider).outputs for f in feeds]
    except WorkbenchError as error:
        row.status, row.reason = "failed", error.message
        return row
    _accuracy(row, expected, outputs, metric)
    return row


def _accuracy(
    row: VariantRow,
    expected: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
    metric: Metric | None,
) -> None:
    """Max and mean abs error, the lowest cosine, top-1 agreement, and the user's metric."""
    largest, total, count, lowest = 0.0, 0.0, 0, 1.0
    agree, rows_compared = 0, 0
    for reference, produced in zip(expected, outputs, strict=True):
        for name, want in reference.items():
            a, b = _floats(produced.get(name)), _floats(want)
            if a is None or b is None or a.shape != b.shape:
                continue
            diff = np.abs(a - b)
            largest = max(largest, float(np.nanmax(diff)) if diff.size else 0.0)
            total, count = total + float(np.nansum(diff)), count + diff.size
            lowest = min(lowest, _cosine(a, b))
            if b.ndim == 2 and b.shape[1] > 1:  # [rows, classes]: a classifier's scores
                agree += int(np.sum(a.argmax(axis=1) == b.argmax(axis=1)))
                rows_compared += b.shape[0]
    if count:
        row.max_abs_error, row.mean_abs_error, row.cosine = largest, total / count, lowest
    if rows_compared:
        row.top1_agreement = agree / rows_compared
    if metric is not None:
        scores = [float(metric(r, p)) for r, p in zip(expected, outputs, strict=True)]
        row.metric = sum(scores) / len(scores)


def _floats(value: Any) -> np.ndarray | None:
    if value is None or isinstance(value, list | dict):
        return None
    array = np.asarray(value)
    return array.astype(np.float64) if array.dtype.kind in "fiub" else None


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    x, y = a.ravel(), b.ravel()
    norms = float(np.linalg.norm(x) * np.linalg.norm(y))
    if norms == 0:
        return 1.0 if not np.any(x) and not np.any(y) else 0.0
    return float(np.dot(x, y) / norms)


def _speedups(rows: list[VariantRow]) -> None:
    """Speed-up against the reference on the same provider, with a CI from both medians'."""
    base = {r.provider: r for r in rows if r.variant == REFERENCE and r.p50_ms}
    for row in rows:
        ref = base.get(row.provider)
        if ref is None or not row.p50_ms or ref.p50_ms is None:
            continue
        row.speedup = ref.p50_ms / row.p50_ms
        if ref.ci95_ms and row.ci95_ms and row.ci95_ms[0] > 0:
            row.speedup_ci = (ref.ci95_ms[0] / row.ci95_ms[1], ref.ci95_ms[1] / row.ci95_ms[0])


def _share_on(
    model: Model, provider: str, feeds: Mapping[str, Any] | None
) -> tuple[float | None, float | None]:
    """Shares of the nodes run, and of their kernel time, on `provider` (one short profile).

    A strict session refuses a provider that is missing; this catches the int8 node that
    quietly runs on the CPU beside it.
    """
    try:
        rows = profile(model, provider, feeds, runs=3, warmup=1).rows
    except WorkbenchError:
        return None, None
    total = sum(r["total_ms"] for r in rows)
    here = [r for r in rows if r["provider"] == provider]
    nodes = len(here) / len(rows) if rows else None
    time = sum(r["total_ms"] for r in here) / total if total else None
    return nodes, time


def _signature_mismatch(reference: Model, variant: Model) -> str:
    """Why outputs of `variant` cannot be compared with the reference's ("" when they can)."""
    want = {v.name: v.type.text for v in reference.inputs}
    got = {v.name: v.type.text for v in variant.inputs}
    if set(want) != set(got):
        return f"its inputs are {sorted(got)}, the reference's {sorted(want)}"
    outputs = {v.name for v in reference.outputs} - {v.name for v in variant.outputs}
    if outputs:
        return f"it lacks the reference's outputs {sorted(outputs)}"
    return ""


def _size(model: Model) -> int:
    own = model.path.stat().st_size if model.path is not None else len(model.serialized())
    return own + model.external_data.total_bytes


def _recipe(recipe: Recipe | None) -> dict[str, Any]:
    return {"kind": recipe.kind, **recipe.options} if recipe is not None else {}


def _cells(row: VariantRow) -> list[str]:
    """p50 (CI), speed-up (CI), max abs error, cosine, top-1, size, nodes, on provider (time)."""
    p50 = "" if row.p50_ms is None else f"{row.p50_ms:.3f}"
    if p50 and row.ci95_ms:
        p50 += f" ({row.ci95_ms[0]:.3f}-{row.ci95_ms[1]:.3f})"
    speed = "" if row.speedup is None else f"{row.speedup:.2f}x"
    if speed and row.speedup_ci:
        speed += f" ({row.speedup_ci[0]:.2f}-{row.speedup_ci[1]:.2f})"
    return [
        p50,
        speed,
        "" if row.max_abs_error is None else f"{row.max_abs_error:.3g}",
        "" if row.cosine is None else f"{row.cosine:.6f}",
        "" if row.top1_agreement is None else f"{100 * row.top1_agreement:.1f}%",
        human_bytes(row.size_bytes) if row.size_bytes else "",
        str(row.nodes) if row.nodes else "",
        ""
        if row.on_provider is None
        else f"{100 * row.on_provider:.0f}%"
        + ("" if row.time_on_provider is None else f" ({100 * row.time_on_provider:.0f}% of time)"),
    ]
