"""`workbench.localize()`: where two models' numbers start to drift, over every sample.

A reference and a candidate (a re-export, an fp16 or int8 variant), or one model on two
providers, run on the same samples with every node output exposed; each tensor the two have
in common is compared over all the samples (not one random one): its largest and mean
absolute error, largest relative error, signal-to-quantization-noise ratio (SQNR, as
onnxruntime's QDQ debugging computes it), and the elements beyond tolerance. The first
tensor along the graph that exceeds tolerance is where the drift starts; the worst ten are
where it is largest.

Tensors are matched by name, and in QDQ-quantized candidates the way onnxruntime's
`qdq_loss_debug` matches them: the float tensor against what the next node reads after
quantize-dequantize. QOperator models rewrite tensor names, so they are refused. Both run
unoptimized: exposing every node's output blocks onnxruntime's fusions anyway, and the
figures are for the graph as written.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import psutil

from workbench.errors import FeedError, WorkbenchError
from workbench.model.model import Model, load
from workbench.ort import providers as provider_names
from workbench.ort.options import SessionConfig
from workbench.ort.quantized import (
    DEQUANT_OUTPUT_SUFFIX,
    QDQ_OPS,
    QOPERATOR_PREFIXES,
    QUANT_INPUT_SUFFIX,
    QUANTIZED_OPS,
)
from workbench.render.files import finite
from workbench.render.mixin import Rendered
from workbench.run.compare import (
    MISMATCH,
    PASS,
    Status,
    Tolerances,
    compare_values,
    with_every_node_output,
)
from workbench.run.samples import sample_feeds
from workbench.text import human_bytes, printable

if TYPE_CHECKING:
    import onnx

    from workbench.model import ModelLike

TOP = 10
# Quantized candidates: an element is off when it misses by more than 5% of the tensor's
# range. int8 steps are 1/255 of a tensor's range and a few layers add up several of them;
# float tolerances would flag every tensor from the first.
QUANTIZED_TOLERANCE = (0.0, 5e-2)
_FLOAT16, _BFLOAT16 = 10, 16  # onnx.TensorProto.FLOAT16, BFLOAT16


@dataclass(frozen=True)
class TensorError:
    """One tensor of the candidate against the reference's, over every sample."""

    tensor: str  # the reference's name for it
    node: str  # the candidate's node that produces it (`Model.named()` identity)
    op_type: str
    status: Status  # "pass" or "mismatch" (some element beyond tolerance)
    max_abs_error: float
    mean_abs_error: float
    max_rel_error: float
    sqnr_db: float  # 10·log10(Σ ref² / Σ (ref - candidate)²); inf when equal
    mismatches: int
    elements: int
    rtol: float
    atol: float
    worst_sample: int  # the sample with the largest absolute error

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready row (an infinite SQNR, no error at all, as null)."""
        row: dict[str, Any] = finite(asdict(self))
        return row


@dataclass(frozen=True)
class Localization(Rendered):
    """Per-tensor errors of a candidate against a reference, and where the drift starts."""

    template = "localize"
    title = "Where the error comes from"

    reference: dict[str, Any]  # name, sha256, path, provider
    candidate: dict[str, Any]
    samples: int
    data: str  # where the samples came from
    matching: str  # "name", or "qdq" (onnxruntime's QDQ matching)
    tensors: tuple[TensorError, ...]  # in the candidate's graph order
    notes: tuple[str, ...] = ()
    top: int = TOP
    # What `repro()` needs: the two models and the samples (not part of the results).
    models: tuple[Model, Model] | None = field(default=None, repr=False, compare=False)
    feeds: tuple[dict[str, Any], ...] = field(default=(), repr=False, compare=False)

    @property
    def first(self) -> TensorError | None:
        """The first tensor along the graph beyond tolerance: where the drift starts."""
        return next((t for t in self.tensors if t.status == MISMATCH), None)

    @property
    def worst(self) -> list[TensorError]:
        """The `top` tensors with the lowest SQNR (largest error for their size)."""
        return sorted(self.tensors, key=lambda t: (t.sqnr_db, -t.max_abs_error))[: self.top]

    @property
    def passed(self) -> bool:
        """True when every compared tensor is within tolerance."""
        return all(t.status == PASS for t in self.tensors)

    def worst_nodes(self, count: int = 3) -> list[str]:
        """The `count` candidate nodes that add the most error: what to leave unquantized.

        A node's added error is its output's noise-to-signal ratio less the largest of the
        tensors it reads (errors compound downstream, so the worst tensors alone would name
        the last nodes); quantize-dequantize nodes are not counted.
        """
        if self.models is None:
            return []
        graph = self.models[1].named().proto.graph
        noise = {t.tensor: _noise_ratio(t.sqnr_db) for t in self.tensors}
        inputs = {
            n.name: [i.removesuffix(DEQUANT_OUTPUT_SUFFIX) for i in n.input] for n in graph.node
        }
        added = {
            t.node: noise[t.tensor] - max((noise.get(i, 0.0) for i in inputs.get(t.node, [])),
                                          default=0.0)
            for t in self.tensors
            if t.op_type not in QDQ_OPS
        }  # fmt: skip
        ranked = sorted((n for n, v in added.items() if v > 0), key=lambda n: -added[n])
        return ranked[:count]

    def to_frame(self) -> Any:
        """One row per tensor, in graph order (a pandas DataFrame)."""
        import pandas as pd  # noqa: PLC0415  (heavy: loads on first use)

        return pd.DataFrame([t.as_dict() for t in self.tensors])

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what `onnx-workbench localize --json` prints)."""
        first = self.first
        return {
            "kind": "localization",
            "reference": self.reference,
            "candidate": self.candidate,
            "samples": self.samples,
            "data": self.data,
            "matching": self.matching,
            "passed": self.passed,
            "first": first.as_dict() if first else None,
            "worst": [t.as_dict() for t in self.worst],
            "tensors": [t.as_dict() for t in self.tensors],
            "notes": list(self.notes),
        }

    def repro(self, folder: str | os.PathLike[str]) -> Path:
        """Write the smallest part of the candidate around the first bad tensor, to share.

        `folder` gets `part.onnx` (the node that produces it, with the quantize-dequantize
        and constant nodes it reads through), `test_data_set_0` (its inputs as the
        reference computed them on the worst sample, and the reference's outputs) and a
        README.md whose command shows the difference. Returns the folder.
        """
        bad = self.first
        if bad is None:
            raise WorkbenchError(
                "Every tensor is within tolerance: there is no difference to reproduce.",
                "Pass tighter rtol=/atol= to localize() to look at smaller differences.",
            )
        if self.models is None or not self.feeds:
            raise WorkbenchError(
                "This localization was read back from a report: it holds no models or samples.",
                "Run workbench.localize(...) again, then .repro(folder).",
            )
        from workbench.run.repro import write_repro  # noqa: PLC0415  (only on demand)

        return write_repro(self, bad, Path(folder))

    def __repr__(self) -> str:
        first = self.first
        where = f"first beyond tolerance: {printable(first.tensor)!r}" if first else "all within"
        return (
            f"<Localization {self.candidate.get('name')} vs {self.reference.get('name')}: "
            f"{len(self.tensors)} tensors over {self.samples} samples, {where}>"
        )


def localize(
    reference: ModelLike,
    candidate: ModelLike | None = None,
    data: Any = None,
    providers: str | Sequence[str] = "cpu",
    *,
    samples: int = 16,
    rtol: float | None = None,
    atol: float | None = None,
    top: int = TOP,
    memory_limit: int | None = None,
    dims: Mapping[str, int] | None = None,
    values: Mapping[str, Any] | None = None,
    ranges: Mapping[str, Any] | None = None,
    batch: int | None = None,
) -> Localization:
    """Compare every intermediate tensor of `candidate` with `reference`'s, on every sample.

    Two models (`candidate` given), run on `providers` (one for both, or the reference's
    and the candidate's), or one model on two providers (`providers=("cpu", "cuda")`).
    `data`: feeds (a dict or a list of dicts), an .npz file, a test_data_set folder or a
    folder of them; without it, `samples` synthetic ones (a note says they prove nothing
    about real data). Tolerances are by dtype and provider as in `compare`, or 5% of each
    tensor's range for a quantized candidate; `rtol`/`atol` override them. A run whose
    exposed tensors would need more than `memory_limit` bytes (default: half the memory
    available) is refused before it starts, with the estimate.
    """
    ref = load(reference)
    cand = load(candidate) if candidate is not None else ref
    names = [provider_names.resolve(p) for p in ([providers] if isinstance(providers, str)
                                                  else providers)]  # fmt: skip
    if len(names) not in (1, 2):
        raise WorkbenchError(
            f"localize() takes one provider or two, not {len(names)}.",
            "E.g. providers='cpu' (both models on it) or ('cpu', 'cuda') (reference, candidate).",
        )
    ref_provider, cand_provider = names[0], names[-1]
    if candidate is None and ref_provider == cand_provider:
        raise WorkbenchError(
            "One model on one provider has nothing to compare against.",
            "Pass a candidate model (localize(reference, candidate)) or two providers "
            "(providers=('cpu', 'cuda')).",
        )
    _refuse_qoperator(cand)
    _check_inputs(ref, cand)
    feeds, label, notes = sample_feeds(
        ref, data, count=samples, dims=dims, values=values, ranges=ranges, batch=batch
    )
    _check_fits(cand, feeds, ref.label)
    ops = _ops(cand)
    # QDQ matching pairs a float tensor with its dequantized twin: for a quantized variant of
    # a float model, not for one model (quantized or not) against itself on two providers.
    qdq = candidate is not None and bool(ops & set(QDQ_OPS)) and not _ops(ref) & set(QDQ_OPS)
    quantized = bool(ops & QUANTIZED_OPS) and not _ops(ref) & QUANTIZED_OPS
    tolerances = Tolerances(rtol, atol, None)

    half = _half_precision(cand)

    def tolerance(dtype: str) -> tuple[float, float]:
        if quantized and rtol is None and atol is None:
            return QUANTIZED_TOLERANCE
        # An fp16 candidate's float32 tensors (its casts back) carry half-precision error.
        return tolerances.for_output(cand_provider, half if half and dtype == "float32" else dtype)

    marked = (with_every_node_output(ref.named()), with_every_node_output(cand.named()))
    try:
        _check_memory(marked, feeds[0], memory_limit)
        stats = _measure(marked, feeds, (ref_provider, cand_provider), qdq=qdq, tolerance=tolerance)
    finally:
        for model in marked:
            model.close()
    tensors = _rows(cand.named().proto.graph, stats)
    notes += [
        "Compared on the unoptimized graphs: exposing every node's output blocks onnxruntime's "
        "fusions, so these figures are for the graph as written."
    ]
    if not tensors:
        notes.append(
            "No intermediate tensor has the same name in both models: there is nothing to "
            "compare along the graph (diff_models(reference, candidate) shows what changed)."
        )
    return Localization(
        _identity(ref, ref_provider),
        _identity(cand, cand_provider),
        len(feeds),
        label,
        "qdq" if qdq else "name",
        tuple(tensors),
        tuple(notes),
        top,
        (ref, cand),
        tuple(feeds),
    )


def _ops(model: Model) -> set[str]:
    """The op types the model uses, without their domains."""
    return {op.rpartition("::")[2] for op in model.ops}


def _half_precision(model: Model) -> str:
    """The half-precision float the model computes in (its weights or casts), or "" if none."""
    graph = model.proto.graph
    types = {t.data_type for t in graph.initializer}
    types |= {a.i for n in graph.node if n.op_type == "Cast" for a in n.attribute if a.name == "to"}
    return "float16" if _FLOAT16 in types else "bfloat16" if _BFLOAT16 in types else ""


# --- checks ------------------------------------------------------------------------------


def _refuse_qoperator(model: Model) -> None:
    found = sorted(op for op in _ops(model) if op.startswith(QOPERATOR_PREFIXES))
    if found:
        raise WorkbenchError(
            f"{model.label} is quantized in the QOperator format ({', '.join(found[:3])}): "
            "its tensors are renamed and hold integers, so they match nothing in the "
            "reference and localization is not available.",
            "Quantize in the QDQ format (variants(model, ['int8-static']) does by default) "
            "to localize the error.",
        )


def _check_inputs(reference: Model, candidate: Model) -> None:
    """Both models read the same inputs (the candidate's are the reference's)."""
    ref_inputs = {v.name for v in reference.inputs}
    cand_inputs = [v.name for v in candidate.inputs]
    if not ref_inputs & set(cand_inputs):
        raise WorkbenchError(
            f"{candidate.label} and {reference.label} have no input in common, so they "
            "cannot run on the same samples.",
            f"The reference reads {', '.join(sorted(ref_inputs))}; the candidate "
            f"{', '.join(cand_inputs)}. diff_models(a, b) still shows what changed.",
        )
    missing = [n for n in cand_inputs if n not in ref_inputs]
    if missing:
        raise WorkbenchError(
            f"{candidate.label} reads inputs the reference does not: {', '.join(missing)}.",
            "Localize models with the same inputs (e.g. a model and its variants).",
        )


def _check_fits(candidate: Model, feeds: list[dict[str, Any]], reference: str) -> None:
    checker = candidate.session_source.checker
    wanted = {v.name for v in candidate.inputs}
    for index, sample in enumerate(feeds):
        try:
            checker.check({k: v for k, v in sample.items() if k in wanted})
        except FeedError as error:
            raise FeedError(
                f"Sample {index} fits {reference} but not {candidate.label}: {error.message}",
                error.hint,
            ) from None


def _check_memory(marked: tuple[Model, Model], feeds: Mapping[str, Any], limit: int | None) -> None:
    """Refuse a run whose exposed tensors would not fit, before it starts."""
    limit = _available_memory() // 2 if limit is None else limit
    if limit <= 0:
        return
    sizes = [_exposed_bytes(m.proto, feeds) for m in marked]
    largest = max((s[1] for s in sizes), default=0)
    # Both runs' tensors are held at once, and a tensor is compared in float64 (a few copies).
    needed = sum(s[0] for s in sizes) + 4 * largest
    if needed > limit:
        raise WorkbenchError(
            f"Exposing every intermediate tensor needs about {human_bytes(needed)} for one "
            f"sample of both models, more than the {human_bytes(limit)} allowed.",
            "Localize a part: localize(model.subgraph(around=NODE, depth=3), ...) or "
            "subgraph(between=(A, B)); or raise memory_limit= (bytes).",
        )


def _available_memory() -> int:
    """Memory available to this process (page cache that can be reclaimed included)."""
    return int(psutil.virtual_memory().available)


def _exposed_bytes(proto: onnx.ModelProto, feeds: Mapping[str, Any]) -> tuple[int, int]:
    """Bytes of every node output for these feeds (shape inference's estimate), the largest.

    Float tensors count as 8 bytes an element: they are compared in float64.
    """
    import onnx  # noqa: PLC0415  (heavy: loaded already, the model is parsed)

    light = onnx.ModelProto()
    light.ir_version, light.producer_name = proto.ir_version, proto.producer_name
    light.opset_import.extend(proto.opset_import)
    light.functions.extend(proto.functions)
    light.graph.node.extend(proto.graph.node)
    for value in proto.graph.input:
        fed = feeds.get(value.name)
        shape = np.shape(fed) if isinstance(fed, np.ndarray) else None
        light.graph.input.append(
            onnx.helper.make_tensor_value_info(
                value.name, value.type.tensor_type.elem_type, list(shape)
            )
            if shape is not None and value.type.HasField("tensor_type")
            else value
        )
    for weight in proto.graph.initializer:  # small ones stay: shape inference reads them
        if weight.data_location or int(np.prod(weight.dims, dtype=np.int64)) > 256:
            light.graph.input.append(
                onnx.helper.make_tensor_value_info(weight.name, weight.data_type, weight.dims)
            )
        else:
            light.graph.initializer.append(weight)
    try:
        inferred = onnx.shape_inference.infer_shapes(light, data_prop=True).graph
    except Exception:  # shape inference refuses some models: nothing known, nothing refused
        return 0, 0
    total, largest = 0, 0
    for value in (*inferred.value_info, *inferred.output):
        tensor = value.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim]
        if not value.type.HasField("tensor_type") or any(d < 0 for d in dims):
            continue
        size = int(np.prod(dims, dtype=np.int64)) * 8
        total, largest = total + size, max(largest, size)
    return total, largest


# --- the runs ----------------------------------------------------------------------------


@dataclass
class _Stats:
    """Running statistics of one tensor over the samples."""

    rtol: float = 0.0
    atol: float = 0.0
    max_abs: float = 0.0
    max_rel: float = 0.0
    mismatches: int = 0
    elements: int = 0
    worst_sample: int = 0
    sum_abs: float = 0.0
    sum_ref2: float = 0.0  # Σ reference², Σ (reference - candidate)²: the SQNR
    sum_err2: float = 0.0


Tolerance = Callable[[str], tuple[float, float]]  # the candidate's dtype -> (rtol, atol)


def _measure(
    marked: tuple[Model, Model],
    feeds: list[dict[str, Any]],
    providers: tuple[str, str],
    *,
    qdq: bool,
    tolerance: Tolerance,
) -> dict[str, _Stats]:
    """Run both on every sample; statistics per matched tensor (keyed by reference name)."""
    stats: dict[str, _Stats] = {}
    wanted = {v.name for v in marked[1].inputs}
    sessions = [m.open_session(SessionConfig.make(p, opt_level="disabled"))
                for m, p in zip(marked, providers, strict=True)]  # fmt: skip
    try:
        for index, sample in enumerate(feeds):
            ran = sessions[0].run(sample)
            other = sessions[1].run({k: v for k, v in ran.feeds.items() if k in wanted})
            for name, (want, got) in _matched(ran.outputs, other.outputs, qdq=qdq).items():
                _accumulate(stats.setdefault(name, _Stats()), index, want, got, tolerance)
    finally:
        for session in sessions:
            session.close()
    return stats


def _matched(
    reference: Mapping[str, Any], candidate: Mapping[str, Any], *, qdq: bool
) -> dict[str, tuple[Any, Any]]:
    """Reference name -> (reference value, candidate value).

    In a QDQ candidate, the candidate's value is what the next node reads (after
    quantize-dequantize), as onnxruntime's `qdq_loss_debug` compares them.
    """
    found: dict[str, tuple[Any, Any]] = {}
    if qdq:
        from onnxruntime.quantization.qdq_loss_debug import (  # noqa: PLC0415  (QDQ only)
            create_activation_matching,
        )

        matching = create_activation_matching(
            {k: [v] for k, v in candidate.items()}, {k: [v] for k, v in reference.items()}
        )
        for name, values in matching.items():
            if "float" in values:
                found[name] = (values["float"][0], values["post_qdq"][0])
    for name, value in reference.items():
        if name not in found and name in candidate:
            found[name] = (value, candidate[name])
    return found


def _accumulate(stats: _Stats, index: int, want: Any, got: Any, tolerance: Tolerance) -> None:
    stats.rtol, stats.atol = tolerance(_dtype(got))
    metrics = compare_values(got, want, stats.rtol, stats.atol)
    if metrics.max_abs > stats.max_abs or index == 0:
        stats.worst_sample = index
    stats.max_abs = max(stats.max_abs, metrics.max_abs)
    stats.max_rel = max(stats.max_rel, metrics.max_rel)
    stats.mismatches += metrics.mismatches
    stats.elements += metrics.elements
    a, b = _floats(got), _floats(want)
    if a is None or b is None or a.shape != b.shape:
        return
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - b)
        kept = np.isfinite(diff)
        stats.sum_abs += float(diff[kept].sum())
        stats.sum_ref2 += float(np.square(b[np.isfinite(b)]).sum())
        stats.sum_err2 += float(np.square(diff[kept]).sum())


def _rows(graph: onnx.GraphProto, stats: Mapping[str, _Stats]) -> list[TensorError]:
    """A row per matched tensor, in the order the candidate's graph computes them."""
    rows, seen = [], set()
    for node in graph.node:
        for output in node.output:
            name = output.removesuffix(QUANT_INPUT_SUFFIX)  # a QDQ graph output's producer
            found = stats.get(name)
            if found is None or not output or name in seen:
                continue
            seen.add(name)
            rows.append(
                TensorError(
                    tensor=name,
                    node=node.name,
                    op_type=node.op_type,
                    status=MISMATCH if found.mismatches else PASS,
                    max_abs_error=found.max_abs,
                    mean_abs_error=found.sum_abs / found.elements if found.elements else 0.0,
                    max_rel_error=found.max_rel,
                    sqnr_db=_sqnr(found.sum_ref2, found.sum_err2),
                    mismatches=found.mismatches,
                    elements=found.elements,
                    rtol=found.rtol,
                    atol=found.atol,
                    worst_sample=found.worst_sample,
                )
            )
    return rows


def _noise_ratio(sqnr_db: float) -> float:
    """Noise power over signal power, from an SQNR in dB (0 for an exact tensor)."""
    return 0.0 if math.isinf(sqnr_db) and sqnr_db > 0 else 10 ** (-sqnr_db / 10)


def _sqnr(signal2: float, noise2: float) -> float:
    """10·log10(signal / noise) in dB, as onnxruntime's qdq_loss_debug (inf: no noise)."""
    if noise2 == 0:
        return math.inf
    return 10 * math.log10(max(signal2, 1e-300) / noise2)


def _dtype(value: Any) -> str:
    if value is None or isinstance(value, list | dict):
        return ""
    return str(np.asarray(value).dtype)


def _floats(value: Any) -> np.ndarray | None:
    if value is None or isinstance(value, list | dict):
        return None
    array = np.asarray(value)
    return array.astype(np.float64) if array.dtype.kind in "fiub" else None


def _identity(model: Model, provider: str) -> dict[str, Any]:
    return {"name": model.name, "sha256": model.sha256, "path": str(model.path or ""),
            "provider": provider}  # fmt: skip
