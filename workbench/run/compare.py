"""Compare outputs across providers (or with expected outputs) using dtype-aware tolerances.

An element passes when |a - b| <= atol * scale + rtol * |b|, where b is the baseline and
scale = max |b| over the output (1 for an all-zero output): absolute noise grows with the
output's range, as it does in real kernels, and shrinks with it. Defaults depend on the
dtype and on TF32, which CUDA uses for float32 convolutions and matmuls unless
`use_tf32=False`.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.errors import ProviderFallbackError, WorkbenchError
from workbench.feeds.files import load_outputs
from workbench.feeds.synthetic import FeedRequest, Feeds
from workbench.model.model import Model, load
from workbench.ort import providers as provider_names
from workbench.render.mixin import Rendered

if TYPE_CHECKING:
    import pandas as pd

    from workbench.feeds.checker import Range
    from workbench.model import ModelLike

EXPECTED = "expected"
REFERENCE = "reference"  # the baseline is a reference model's run
# (rtol, atol) by dtype; atol is scaled by max |baseline|.
TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-9),
    "float32": (1e-4, 1e-5),
    "float16": (1e-2, 1e-3),
    "bfloat16": (5e-2, 1e-2),
}
# TF32 keeps 10 mantissa bits in convolutions and matmuls: errors of a few 1e-3 relative,
# which accumulate over deep networks (1.6e-2 absolute on ResNet-50 logits on an H200).
TF32_TOLERANCE = (1e-2, 5e-3)
# float32 on an accelerator without TF32: different kernels and reduction orders.
ACCELERATOR_FP32_TOLERANCE = (1e-3, 1e-4)
_TF32_PROVIDERS = (provider_names.CUDA, provider_names.TENSORRT)


class Status(str):
    """A comparison row's status: "pass", "mismatch", "skipped" or "failed".

    "skipped": the provider cannot run here; "failed": it ran and failed.

    Until 0.3, "fail" (the old spelling of "mismatch") still compares equal, with a warning.
    """

    __slots__ = ()
    _RENAMED: dict[str, str] = {"fail": "mismatch"}  # noqa: RUF012  (a class constant)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str) and self._RENAMED.get(other) == str(self):
            warnings.warn(
                f"Comparison status {other!r} is now {str(self)!r}; the old name goes in 0.3.",
                DeprecationWarning,
                stacklevel=2,
            )
            return True
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__


PASS, MISMATCH, SKIPPED, FAILED = map(Status, ("pass", "mismatch", "skipped", "failed"))


@dataclass(frozen=True)
class OutputComparison:
    """One output of one provider against the baseline."""

    provider: str
    output: str
    status: Status
    max_abs_error: float = math.nan
    max_rel_error: float = math.nan
    mismatches: int = 0
    elements: int = 0
    rtol: float = math.nan
    atol: float = math.nan
    reason: str = ""

    @property
    def mismatch_fraction(self) -> float:
        """Share of elements outside tolerance."""
        return self.mismatches / self.elements if self.elements else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready row."""
        return {**asdict(self), "mismatch_fraction": self.mismatch_fraction}


@dataclass(frozen=True)
class Divergence:
    """The first node whose output differs beyond tolerance, in graph order."""

    provider: str
    node: str
    op_type: str
    output: str
    max_abs_error: float
    max_rel_error: float


@dataclass(frozen=True)
class NodeError:
    """One node's output against the baseline's, where intermediate tensors were compared.

    `node` is the node's identity (`Model.named()`: unnamed nodes named as onnxruntime
    names them).
    """

    provider: str
    node: str
    op_type: str
    output: str
    status: Status
    max_abs_error: float
    max_rel_error: float
    mismatches: int
    elements: int


@dataclass(frozen=True)
class Comparison(Rendered):
    """Per-output comparisons of each provider with the baseline."""

    template = "compare"
    title = "Provider comparison"

    baseline: str
    rows: tuple[OutputComparison, ...]
    divergences: tuple[Divergence, ...] = ()
    inputs: tuple[dict[str, Any], ...] = ()  # what every provider ran on (Feeds.input_rows)
    # Every node output compared, per provider, in graph order (when intermediates were).
    node_errors: tuple[NodeError, ...] = ()
    model_sha256: str = ""  # the model compared (a reference model's run is the baseline)

    @property
    def passed(self) -> bool:
        """True when every compared output is within tolerance (skipped providers excluded)."""
        compared = [r for r in self.rows if r.status != SKIPPED]
        return bool(compared) and all(r.status == PASS for r in compared)

    @property
    def skipped(self) -> list[str]:
        """Providers that could not run here."""
        return [r.provider for r in self.rows if r.status == SKIPPED]

    def to_frame(self) -> pd.DataFrame:
        """One row per (provider, output)."""
        import pandas as pd  # noqa: PLC0415  (heavy: loads on first use)

        return pd.DataFrame([r.as_dict() for r in self.rows])

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "baseline": self.baseline,
            "passed": self.passed,
            "rows": [r.as_dict() for r in self.rows],
            "divergences": [asdict(d) for d in self.divergences],
            "inputs": list(self.inputs),
            "node_errors": [asdict(e) for e in self.node_errors],
            "model_sha256": self.model_sha256,
        }

    def __repr__(self) -> str:
        verdict = "all within tolerance" if self.passed else "differences or problems"
        return f"<Comparison with {self.baseline}: {len(self.rows)} rows, {verdict}>"


def tolerance(dtype: str, *, tf32: bool = False, accelerator: bool = False) -> tuple[float, float]:
    """Default (rtol, atol) for comparing values of `dtype`; integers and strings are exact."""
    if dtype == "float32" and tf32:
        return TF32_TOLERANCE
    if dtype == "float32" and accelerator:
        return ACCELERATOR_FP32_TOLERANCE
    if dtype in TOLERANCES:
        return TOLERANCES[dtype]
    if dtype.startswith("float8") or dtype.startswith("float4"):
        return (0.25, 0.1)
    if dtype.startswith("complex"):
        return TOLERANCES["float64" if dtype == "complex128" else "float32"]
    return (0.0, 0.0)


@dataclass(frozen=True)
class _Metrics:
    max_abs: float
    max_rel: float
    mismatches: int
    elements: int


def compare_values(actual: Any, expected: Any, rtol: float, atol: float) -> _Metrics:
    """Metrics for one output: tensors, sequences (element-wise) and maps (key-wise)."""
    if isinstance(expected, list | dict) or expected is None or actual is None:
        return _compare_containers(actual, expected, rtol, atol)
    a, b = np.atleast_1d(np.asarray(actual)), np.atleast_1d(np.asarray(expected))
    if a.shape != b.shape:
        return _MISMATCH if b.size <= 1 else _Metrics(math.inf, math.inf, b.size, b.size)
    if b.dtype.kind in "OUSb" or (rtol == 0 and atol == 0):
        unequal = int(np.count_nonzero(a != b))
        return _Metrics(float(unequal > 0), float(unequal > 0), unequal, b.size)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(invalid="ignore"):
        diff = np.abs(a64 - b64)
    diff[(np.isnan(a64) & np.isnan(b64)) | (np.isinf(a64) & (a64 == b64))] = 0.0
    diff[np.isnan(diff)] = np.inf  # NaN on one side only
    finite = np.abs(b64[np.isfinite(b64)])
    scale = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    bound = atol * scale + rtol * np.abs(np.nan_to_num(b64, posinf=0, neginf=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(np.abs(b64) > 0, diff / np.abs(b64), np.where(diff > 0, np.inf, 0.0))
    return _Metrics(
        float(diff.max()) if diff.size else 0.0,
        float(np.nanmax(relative)) if relative.size else 0.0,
        int(np.count_nonzero(diff > bound)),
        int(b.size),
    )


_MISMATCH = _Metrics(math.inf, math.inf, 1, 1)
_SAME = _Metrics(0.0, 0.0, 0, 1)


def _compare_containers(actual: Any, expected: Any, rtol: float, atol: float) -> _Metrics:
    if expected is None or actual is None:
        return _SAME if actual is None and expected is None else _MISMATCH
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return _MISMATCH
        return _combine(
            [compare_values(a, e, rtol, atol) for a, e in zip(actual, expected, strict=True)]
        )
    if not isinstance(actual, dict) or set(actual) != set(expected):
        return _MISMATCH
    return _combine([compare_values(actual[k], expected[k], rtol, atol) for k in expected])


def _combine(parts: Sequence[_Metrics]) -> _Metrics:
    if not parts:
        return _Metrics(0.0, 0.0, 0, 0)
    return _Metrics(
        max(p.max_abs for p in parts),
        max(p.max_rel for p in parts),
        sum(p.mismatches for p in parts),
        sum(p.elements for p in parts),
    )


def compare(
    model: ModelLike,
    providers: Sequence[str] = ("cpu", "cuda"),
    feeds: Mapping[str, Any] | None = None,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    expected: Mapping[str, Any] | str | os.PathLike[str] | Model | None = None,
    dims: Mapping[str, int] | None = None,
    shapes: Mapping[str, Sequence[int]] | None = None,
    batch: int | None = None,
    seed: int = 0,
    values: Mapping[str, Any] | None = None,
    ranges: Mapping[str, Range] | None = None,
    use_tf32: bool | None = None,
    find_divergence: bool = True,
    intermediates: bool = False,
    **session_options: Any,
) -> Comparison:
    """Run the same feeds on each provider and compare every output with the baseline.

    The baseline is the first provider, or `expected`: a dict of arrays, an .npz file, a
    test_data_set folder, or a reference model (a `Model` or an .onnx path, run on the
    first provider: e.g. the fp32 original of a quantized model). An unusable provider
    becomes a `skipped` row with the doctor's reason; it never runs silently on the CPU.
    Where outputs diverge, the first diverging node is found by comparing every
    intermediate tensor; `intermediates=True` compares them always and keeps every node's
    error (`node_errors`, what `show_graph(overlay=comparison)` draws). Intermediates are
    compared on the unoptimized graph: exposing every node's output would block
    onnxruntime's fusions anyway. `feeds` may be any subset of the inputs; `values`,
    `dims`, `ranges` and the rest shape the others as in `Model.run`.
    """
    if "allow_fallback" in session_options:
        raise WorkbenchError(
            "compare() never falls back to another provider.",
            "Drop allow_fallback: an unusable provider becomes a skipped row with its reason.",
        )
    model = load(model)
    names = [provider_names.resolve(p) for p in providers]
    if not names:
        raise WorkbenchError(
            "compare() needs at least one provider.", "E.g. providers=['cpu', 'cuda']."
        )
    reference = _reference_model(expected)
    # A bad feed, value or range is refused once, before any run.
    request = FeedRequest(feeds, values, ranges).checked(model.session_source.checker)
    if use_tf32 is not None:
        session_options = {**session_options, "use_tf32": use_tf32}
    # Synthetic feeds are made by each run from the same seed: identical on every provider,
    # and a failure can name the dims that were guessed.
    outputs, rows, used = _run_each(
        model,
        names,
        request.feeds,
        session_options,
        values=request.values,
        dims=dims,
        shapes=shapes,
        batch=batch,
        seed=seed,
        ranges=request.ranges,
    )
    if reference is not None:
        baseline_name = REFERENCE
        baseline = reference.run(used.values, provider=names[0], **session_options).outputs
    elif isinstance(expected, Mapping):
        baseline_name, baseline = EXPECTED, dict(expected)
    elif expected is not None and not isinstance(expected, Model):
        baseline_name, baseline = EXPECTED, load_outputs(expected, model)
    else:
        baseline_name = names[0]
        baseline = outputs.pop(baseline_name, {})
        if not baseline:
            rows.append(
                OutputComparison(
                    baseline_name, "", SKIPPED, reason="the baseline provider did not run"
                )
            )
    tolerances = Tolerances(rtol, atol, use_tf32)
    divergences: list[Divergence] = []
    node_errors: list[NodeError] = []
    for name, produced in outputs.items():
        checked = [
            _compare_output(name, output, value, baseline[output], tolerances)
            for output, value in produced.items()
            if output in baseline
        ]
        rows.extend(checked)
        diverged = find_divergence and any(r.status == MISMATCH for r in checked)
        if baseline_name == EXPECTED or not (intermediates or diverged):
            continue
        errors = intermediate_errors(
            (reference or model, names[0] if reference else baseline_name),
            (model, name),
            used.values,
            tolerances=tolerances,
            session_options=session_options,
        )
        if intermediates:
            node_errors.extend(errors)
        first = next((e for e in errors if e.status == MISMATCH), None)
        if find_divergence and first is not None:
            divergences.append(_divergence(first))
    return Comparison(
        baseline_name,
        tuple(rows),
        tuple(divergences),
        tuple(used.input_rows()),
        tuple(node_errors),
        model.sha256,
    )


def _reference_model(expected: object) -> Model | None:
    """`expected` as a reference model, if it is one (a Model, or a path to an .onnx file)."""
    if isinstance(expected, Model):
        return expected
    if isinstance(expected, str | os.PathLike) and os.fspath(expected).endswith(".onnx"):
        return load(expected)
    return None


def _run_each(
    model: Model,
    names: list[str],
    feeds: Mapping[str, Any] | None,
    session_options: Mapping[str, Any],
    **synthetic: Any,
) -> tuple[dict[str, dict[str, Any]], list[OutputComparison], Feeds]:
    """Outputs of every provider that runs, skipped/failed rows for the others, the feeds.

    `synthetic` shapes the inputs `feeds` leaves out; the feeds returned are those run on.
    """
    outputs: dict[str, dict[str, Any]] = {}
    rows: list[OutputComparison] = []
    used = Feeds(dict(feeds or {}))
    for name in names:
        options = dict(session_options)
        if name != provider_names.CUDA:
            options.pop("use_tf32", None)
        try:
            result = model.run(feeds, provider=name, **synthetic, **options)
        except ProviderFallbackError as exc:
            rows.append(OutputComparison(name, "", SKIPPED, reason=exc.reason))
        except WorkbenchError as exc:
            rows.append(OutputComparison(name, "", FAILED, reason=exc.message))
        else:
            outputs[name], used = result.outputs, Feeds(result.feeds, result.plan)
    return outputs, rows, used


@dataclass(frozen=True)
class Tolerances:
    """The user's tolerances, else the defaults for each output's dtype and provider."""

    rtol: float | None
    atol: float | None
    use_tf32: bool | None

    def for_output(self, provider: str, dtype: str) -> tuple[float, float]:
        """(rtol, atol) for an output of `dtype` computed on `provider`."""
        tf32 = provider in _TF32_PROVIDERS and self.use_tf32 is not False
        rtol, atol = tolerance(dtype, tf32=tf32, accelerator=provider != provider_names.CPU)
        return (rtol if self.rtol is None else self.rtol, atol if self.atol is None else self.atol)


def _compare_output(
    provider: str, output: str, actual: Any, expected: Any, tolerances: Tolerances
) -> OutputComparison:
    rtol, atol = tolerances.for_output(provider, _dtype_of(expected))
    metrics = compare_values(actual, expected, rtol, atol)
    return OutputComparison(
        provider=provider,
        output=output,
        status=PASS if metrics.mismatches == 0 else MISMATCH,
        max_abs_error=metrics.max_abs,
        max_rel_error=metrics.max_rel,
        mismatches=metrics.mismatches,
        elements=metrics.elements,
        rtol=rtol,
        atol=atol,
    )


def _dtype_of(value: Any) -> str:
    if isinstance(value, list | dict) or value is None:
        return ""
    return str(np.asarray(value).dtype)


def first_divergence(
    baseline: tuple[Model, str],
    candidate: tuple[Model, str],
    feeds: Mapping[str, Any],
    *,
    tolerances: Tolerances | None = None,
    session_options: Mapping[str, Any] | None = None,
) -> Divergence | None:
    """The first node, in graph order, whose output differs beyond tolerance.

    `baseline` and `candidate` are (model, provider) pairs: one model on two providers, or
    two versions of a graph with the same node outputs (see `intermediate_errors`).
    """
    errors = intermediate_errors(
        baseline, candidate, feeds, tolerances=tolerances, session_options=session_options
    )
    first = next((e for e in errors if e.status == MISMATCH), None)
    return _divergence(first) if first is not None else None


def intermediate_errors(
    baseline: tuple[Model, str],
    candidate: tuple[Model, str],
    feeds: Mapping[str, Any],
    *,
    tolerances: Tolerances | None = None,
    session_options: Mapping[str, Any] | None = None,
) -> list[NodeError]:
    """Every node output of the candidate's main graph against the baseline's, in graph order.

    `baseline` and `candidate` are (model, provider) pairs. Every node output is marked as
    a model output (as Polygraphy does), both run unoptimized on the same feeds, and
    tensors are matched by name; nodes are named by `Model.named()`. Empty where either
    run fails.
    """
    tolerances = tolerances or Tolerances(None, None, None)
    options = {**(session_options or {}), "opt_level": "disabled"}
    runs = []
    for model, provider in (baseline, candidate):
        marked = with_every_node_output(model.named())
        try:
            outputs, _, _ = _run_each(marked, [provider], feeds, options)
        finally:
            marked.close()
        if provider not in outputs:
            return []
        runs.append(outputs[provider])
    expected, actual = runs
    errors = []
    for node in candidate[0].named().proto.graph.node:
        for output in node.output:
            if output in expected and output in actual:
                result = _compare_output(
                    candidate[1], output, actual[output], expected[output], tolerances
                )
                errors.append(
                    NodeError(
                        candidate[1],
                        node.name,
                        node.op_type,
                        output,
                        result.status,
                        result.max_abs_error,
                        result.max_rel_error,
                        result.mismatches,
                        result.elements,
                    )
                )
    return errors


def _divergence(error: NodeError) -> Divergence:
    return Divergence(
        error.provider,
        error.node,
        error.op_type,
        error.output,
        error.max_abs_error,
        error.max_rel_error,
    )


def with_every_node_output(model: Model) -> Model:
    """A copy of `model` whose main graph outputs every node's outputs (as Polygraphy does)."""
    import onnx  # noqa: PLC0415  (heavy: imported on first use)

    proto = onnx.ModelProto()
    proto.CopyFrom(model.proto)
    existing = {o.name for o in proto.graph.output}
    for node in proto.graph.node:
        for output in node.output:
            if output and output not in existing:
                proto.graph.output.append(onnx.ValueInfoProto(name=output))
                existing.add(output)
    return Model(proto, base_dir=model.external_data.base_dir)
