"""Synthetic feeds, built from a model's signature, for every input the user did not give.

Each free dim takes the first of: the size a given feed has for its symbol, the input's
whole shape in `shapes`, `dims` for its symbol, `batch` for the batch dim, a size the model
suggests (`hints.py`: its metadata, its own fixed output dims), and the fallback (the batch
dim 1, any other free dim 64). A given feed that contradicts `shapes`, `dims` or `batch` is
an error, never resized. Every choice is recorded, so a failure deep inside the graph can
name the dims that were guessed.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from workbench.errors import FeedError
from workbench.feeds.checker import refuse_outside
from workbench.feeds.hints import DimKey, Hint
from workbench.model.dtypes import numpy_dtype
from workbench.model.signature import TypeInfo, ValueInfo
from workbench.ort.tensors import dtype_name_of, shape_of
from workbench.text import Dim, did_you_mean

if TYPE_CHECKING:
    from workbench.feeds.checker import FeedChecker, Range

DEFAULT_BATCH = 1
DEFAULT_FREE_DIM = 64  # 1 breaks convolutions and padding deep inside many real models
DEFAULT_SEQUENCE_LENGTH = 2
DEFAULT_INT_RANGE = (0, 2)  # small and non-negative: index-like inputs stay valid
MAX_SYNTHETIC_BYTES = 4 * 1024**3  # refuse to build feeds larger than this (a hostile dim)
# Where a dim's size came from, most binding first ("model": a size the model suggests).
Source = Literal["fixed", "given", "shapes", "dims", "batch", "model", "batch default", "default"]
_WORDS = ("alpha", "beta", "gamma", "delta", "epsilon")


@dataclass(frozen=True)
class DimChoice:
    """How one dim of one input got its size."""

    input: str
    index: int
    symbol: str | None  # the symbolic name, None for fixed or unnamed dims
    value: int
    source: Source
    note: str = ""  # for "given": which input; for "model": where the model says so

    @property
    def guessed(self) -> bool:
        """True when a default was used because nobody said what the dim should be."""
        return self.source in ("batch default", "default")

    def describe(self) -> str:
        """E.g. "tokens dim 1 ('seq') = 64", "images dim 2 ('h') = 640 (metadata 'imgsz')"."""
        symbol = f" ({self.symbol!r})" if self.symbol else ""
        note = f" ({self.note})" if self.note else ""
        return f"{self.input} dim {self.index}{symbol} = {self.value}{note}"


@dataclass(frozen=True)
class FeedPlan:
    """Concrete shapes for every tensor input, and how each dim was chosen."""

    shapes: dict[str, tuple[int, ...]]  # of the inputs to synthesize
    choices: tuple[DimChoice, ...]
    batch: int | None  # the batch size used, None when no input has a batch dim
    given: frozenset[str] = frozenset()  # inputs the user supplied (feeds or values)
    batch_symbols: frozenset[str] = frozenset()  # the symbols that stand for the batch

    @property
    def guesses(self) -> tuple[DimChoice, ...]:
        """Dims filled with defaults."""
        return tuple(c for c in self.choices if c.guessed)

    @property
    def suggested(self) -> tuple[DimChoice, ...]:
        """Dims the model itself suggested (metadata, its fixed output dims)."""
        return tuple(c for c in self.choices if c.source == "model")

    @property
    def batch_is_free(self) -> bool:
        """True when the batch size was chosen here (by default or by a given feed)."""
        return any(c.source == "batch default" or self._is_given_batch(c) for c in self.choices)

    def _is_given_batch(self, choice: DimChoice) -> bool:
        leads = choice.symbol is None and choice.index == 0
        return choice.source == "given" and (choice.symbol in self.batch_symbols or leads)

    def free_dims(self) -> dict[str, int]:
        """Name -> size of the free dims other than the batch: what a label names.

        A symbol names a named dim, `input[index]` an unnamed one. Dims `shapes` sets are left
        out (the shape says them already).
        """
        sizes: dict[str, int] = {}
        skip = set(self.batch_symbols)
        for choice in self.choices:
            unnamed_lead = choice.symbol is None and choice.index == 0
            if choice.source in ("fixed", "batch", "batch default") or unnamed_lead:
                continue
            name = choice.symbol or f"{choice.input}[{choice.index}]"
            if name in skip:
                continue
            if choice.source == "shapes" or sizes.get(name, choice.value) != choice.value:
                skip.add(name)
                sizes.pop(name, None)
            else:
                sizes[name] = choice.value
        return sizes


@dataclass(frozen=True)
class FeedRequest:
    """What the user said about a model's inputs for a whole sweep; the rest is synthesized.

    `feeds`: arrays for any subset of the inputs; `values`: a value per input (a scalar
    fills the input's shape); `ranges`: bounds (or a constant) for synthetic values.
    """

    feeds: Mapping[str, Any] | None = None
    values: Mapping[str, Any] | None = None
    ranges: Mapping[str, Range] | None = None

    @property
    def names(self) -> list[str]:
        """The inputs the user gave, by feed or by value."""
        return sorted({*(self.feeds or {}), *(self.values or {})})

    def checked(self, checker: FeedChecker, *, allow_nonfinite: bool = False) -> FeedRequest:
        """The request made ready to synthesize the rest, or a FeedError.

        Feeds are validated; values given whole join the feeds (`values` keeps the scalars
        that fill a shape); ranges are checked and made plain. A bad feed, value or range,
        an input given twice, or a value outside its range is refused: a sweep calls this
        once, before any configuration runs.
        """
        feeds = checker.check(self.feeds, allow_nonfinite=allow_nonfinite) if self.feeds else {}
        twice = sorted(set(feeds) & set(self.values or {}))
        if twice:
            raise FeedError(
                f"{', '.join(map(repr, twice))} given both as a feed and as a value.",
                "Give each input once: as a feed (an array) or as a value (values=, --value).",
            )
        whole, fills = checker.split_values(self.values or {}, allow_nonfinite=allow_nonfinite)
        if whole:  # arrays given as values are feeds: they must agree with the others
            feeds = checker.check({**feeds, **whole}, allow_nonfinite=allow_nonfinite)
        ranges = checker.ranges(self.ranges or {})
        for name, value in (*feeds.items(), *fills.items()):
            refuse_outside(name, value, ranges.get(name))
        return FeedRequest(feeds or None, fills or None, ranges or None)

    def given_shapes(self) -> dict[str, tuple[int, ...]]:
        """The shapes of the tensors given whole: the sizes they fix (a checked request)."""
        shapes = {name: shape_of(value) for name, value in (self.feeds or {}).items()}
        return {name: shape for name, shape in shapes.items() if shape is not None}


@dataclass(slots=True)  # made on every run: slots keep it cheap (a frozen one costs 2.5x)
class Feeds:
    """Arrays to feed, with the plan that shaped them (None for the user's own feeds)."""

    values: dict[str, Any]
    plan: FeedPlan | None = None

    def input_rows(self) -> list[dict[str, Any]]:
        """One row per input: name, dtype, shape, and `given` (else it was synthesized).

        What results report, so a reader knows which inputs were the user's.
        """
        given = self.plan.given if self.plan is not None else None
        rows = []
        for name, value in self.values.items():
            shape = shape_of(value)
            rows.append(
                {
                    "name": name,
                    "dtype": dtype_name_of(value),  # None for sequences and maps
                    "shape": list(shape) if shape is not None else None,
                    "given": given is None or name in given,
                }
            )
        return rows


def plan_shapes(
    inputs: Sequence[ValueInfo],
    *,
    dims: Mapping[str, int] | None = None,
    shapes: Mapping[str, Sequence[int]] | None = None,
    batch: int | None = None,
    batch_dim: str | None = None,
    given: Mapping[str, tuple[int, ...]] | None = None,
    hints: Mapping[DimKey, Hint] | None = None,
) -> FeedPlan:
    """Resolve the shape of every tensor input the user did not give.

    `given` holds the shapes of the feeds the user supplied; the rest come from the
    signature, `given`, `shapes`, `dims`, `batch` and `hints`, in that order.
    """
    dims = dict(dims or {})
    given = dict(given or {})
    exact: dict[str, tuple[int, ...]] = {
        name: tuple(int(d) for d in shape) for name, shape in (shapes or {}).items()
    }
    tensors = [v for v in inputs if v.type.kind in ("tensor", "sparse_tensor")]
    _check_names(dims, exact, tensors, batch_dim)
    _check_batch_is_possible(tensors, exact, batch, batch_dim)
    bound = _given_sizes(tensors, given)
    batch_symbols = _batch_symbols(tensors, batch_dim)
    _check_against_given(
        bound, dims, exact=exact, tensors=tensors, batch=batch, batch_symbols=batch_symbols
    )
    # A batch the given feeds set (named or not) is every synthetic input's batch too.
    given_batch = _given_batch(tensors, given, bound, batch_symbols, batch_dim)
    _check_given_whole(given, exact=exact, batch=batch, batch_dim=batch_dim, tensors=tensors)
    sizes = _symbol_sizes(
        tensors,
        dims,
        batch=batch,
        batch_symbols=batch_symbols,
        bound=bound,
        hints=hints or {},
        given_batch=given_batch,
    )
    resolved: dict[str, tuple[int, ...]] = {}
    choices: list[DimChoice] = []
    for value in tensors:
        if value.name in given:
            choices += [
                DimChoice(value.name, i, _symbol(d), size, "given", "given")
                for i, (d, size) in enumerate(
                    zip(value.shape or (), given[value.name], strict=False)
                )
                if not isinstance(d, int)
            ]
            continue
        if value.name in exact:
            resolved[value.name] = _checked_override(value, exact[value.name])
            choices += [
                DimChoice(value.name, i, _symbol(d), size, "shapes")
                for i, (d, size) in enumerate(
                    zip(value.shape or (), exact[value.name], strict=False)
                )
            ]
            continue
        shape: list[int] = []
        for index, dim in enumerate(value.shape or ()):
            if isinstance(dim, int):
                choice = DimChoice(value.name, index, None, dim, "fixed")
            elif isinstance(dim, str):
                size, source, note = sizes[dim]
                choice = DimChoice(value.name, index, dim, size, source, note)
            else:  # an unnamed free dim: the batch when it leads, else a hint or the default
                hint = (hints or {}).get((value.name, index))
                if index == 0 and batch_dim is None and batch is None and given_batch:
                    size, giver = given_batch
                    choice = DimChoice(value.name, index, None, size, "given", f"from {giver!r}")
                elif index == 0 and batch_dim is None:
                    size, kind = _free(True, batch)
                    choice = DimChoice(value.name, index, None, size, kind)
                elif hint is not None:
                    choice = DimChoice(value.name, index, None, hint.size, "model", hint.where)
                else:
                    choice = DimChoice(value.name, index, None, DEFAULT_FREE_DIM, "default")
            shape.append(choice.value)
            choices.append(choice)
        if value.shape is None:  # unknown rank: a vector is the least surprising guess
            shape = [DEFAULT_FREE_DIM]
            choices.append(DimChoice(value.name, 0, None, DEFAULT_FREE_DIM, "default"))
        resolved[value.name] = tuple(shape)
    used = batch if batch is not None else given_batch[0] if given_batch else None
    used = used or _batch_used(tensors, choices, batch_symbols)
    return FeedPlan(resolved, tuple(choices), used, frozenset(given), frozenset(batch_symbols))


def _given_batch(
    tensors: list[ValueInfo],
    given: Mapping[str, tuple[int, ...]],
    bound: Mapping[str, tuple[int, str]],
    batch_symbols: set[str],
    batch_dim: str | None,
) -> tuple[int, str] | None:
    """(size, input) of the batch a given feed sets, by a batch symbol or an unnamed lead."""
    for symbol in sorted(batch_symbols & set(bound)):
        return bound[symbol]
    for value in tensors:
        shape = given.get(value.name)
        if batch_dim is None and shape and value.shape and value.shape[0] is None:
            return shape[0], value.name
    return None


def _check_given_whole(
    given: Mapping[str, tuple[int, ...]],
    *,
    exact: Mapping[str, tuple[int, ...]],
    batch: int | None,
    batch_dim: str | None,
    tensors: list[ValueInfo],
) -> None:
    """Refuse `shapes` or `batch` that disagree with a given feed's whole shape.

    Its named dims are checked against `dims` by `_check_against_given`.
    """
    for value in tensors:
        shape = given.get(value.name)
        if shape is None:
            continue
        wanted = exact.get(value.name)
        if wanted is not None and tuple(wanted) != tuple(shape):
            raise FeedError(
                f"shapes[{value.name!r}] is {list(wanted)}, but the given input has shape "
                f"{list(shape)}.",
                f"Drop {value.name!r} from shapes (the given feed decides it), or give a feed "
                "of that shape.",
            )
        leads = batch_dim is None and value.shape and value.shape[0] is None and shape
        if batch is not None and leads and shape[0] != batch:
            raise FeedError(
                f"The batch size is {batch}, but the given input {value.name!r} has "
                f"{shape[0]} rows (shape {list(shape)}).",
                f"Give {value.name!r} at batch {batch}, or leave the batch out (the given feed "
                "sets it); a benchmark's batch sweep cannot resize the feeds you give.",
            )


def _given_sizes(
    tensors: list[ValueInfo], given: Mapping[str, tuple[int, ...]]
) -> dict[str, tuple[int, str]]:
    """Symbol -> (size, input) for the symbols the given feeds bind."""
    bound: dict[str, tuple[int, str]] = {}
    for value in tensors:
        shape = given.get(value.name)
        if shape is None or value.shape is None or len(shape) != len(value.shape):
            continue
        for dim, size in zip(value.shape, shape, strict=True):
            if isinstance(dim, str):
                bound.setdefault(dim, (int(size), value.name))
    return bound


def _batch_symbols(tensors: list[ValueInfo], batch_dim: str | None) -> set[str]:
    """The symbols that stand for the batch: `batch_dim`, else every leading symbol."""
    if batch_dim is not None:
        return {batch_dim}
    return {v.shape[0] for v in tensors if v.shape and isinstance(v.shape[0], str)}


def _check_against_given(
    bound: Mapping[str, tuple[int, str]],
    dims: Mapping[str, int],
    *,
    exact: Mapping[str, tuple[int, ...]],
    tensors: list[ValueInfo],
    batch: int | None,
    batch_symbols: set[str],
) -> None:
    """A given feed is what it is: `dims`, `shapes` or `batch` that disagree are errors."""
    for symbol, (size, source) in bound.items():
        if symbol in dims and int(dims[symbol]) != size:
            raise FeedError(
                f"dims sets {symbol!r} = {dims[symbol]}, but the given input {source!r} has "
                f"{symbol!r} = {size}.",
                f"Drop {symbol!r} from dims (the given feed decides it), or give {source!r} "
                f"with {symbol!r} = {dims[symbol]}.",
            )
        if batch is not None and symbol in batch_symbols and size != batch:
            raise FeedError(
                f"The batch size is {batch}, but the given input {source!r} has batch "
                f"{symbol!r} = {size}.",
                f"Give {source!r} at batch {batch}, or leave the batch out (the given feed "
                "sets it); a benchmark's batch sweep cannot resize the feeds you give.",
            )
    for value in tensors:
        shape = exact.get(value.name)
        if shape is None or value.shape is None:
            continue
        for dim, size in zip(value.shape, shape, strict=False):
            if isinstance(dim, str) and dim in bound and bound[dim][0] != size:
                raise FeedError(
                    f"shapes[{value.name!r}] sets {dim!r} = {size}, but the given input "
                    f"{bound[dim][1]!r} has {dim!r} = {bound[dim][0]}.",
                    "Inputs sharing a symbolic dim must agree on it: follow the given feed.",
                )


def _batch_used(
    tensors: list[ValueInfo], choices: list[DimChoice], batch_symbols: set[str]
) -> int | None:
    """The items per run when neither `batch` nor a given feed set it.

    The batch chosen by default, or a leading dim the inputs all fix.
    """
    batches = {
        c.value
        for c in choices
        if c.source in ("batch", "batch default")
        or (c.source == "given" and c.symbol in batch_symbols)
    }
    if batches:
        return min(batches)
    leading = {v.shape[0] for v in tensors if v.shape and isinstance(v.shape[0], int)}
    return leading.pop() if len(leading) == 1 else None


def _symbol_sizes(
    tensors: list[ValueInfo],
    dims: Mapping[str, int],
    *,
    batch: int | None,
    batch_symbols: set[str],
    bound: Mapping[str, tuple[int, str]],
    hints: Mapping[DimKey, Hint],
    given_batch: tuple[int, str] | None,
) -> dict[str, tuple[int, Source, str]]:
    """One size per symbolic dim, so every input sharing a symbol agrees on it."""
    sizes: dict[str, tuple[int, Source, str]] = {}
    for value in tensors:
        for dim in value.shape or ():
            if not isinstance(dim, str) or dim in sizes:
                continue
            hint = hints.get(dim)
            if dim in bound:
                sizes[dim] = (bound[dim][0], "given", f"from input {bound[dim][1]!r}")
            elif dim in dims:
                sizes[dim] = (int(dims[dim]), "dims", "")
            elif dim in batch_symbols and batch is None and given_batch:
                sizes[dim] = (given_batch[0], "given", f"from input {given_batch[1]!r}")
            elif dim in batch_symbols and (batch is not None or hint is None):
                sizes[dim] = (*_free(True, batch), "")
            elif hint is not None:
                sizes[dim] = (hint.size, "model", hint.where)
            else:
                sizes[dim] = (*_free(False, batch), "")
    return sizes


def _free(is_batch: bool, batch: int | None) -> tuple[int, Source]:
    if is_batch:
        return (batch, "batch") if batch is not None else (DEFAULT_BATCH, "batch default")
    return DEFAULT_FREE_DIM, "default"


def _symbol(dim: Dim) -> str | None:
    return dim if isinstance(dim, str) else None


def _check_names(
    dims: Mapping[str, int],
    shapes: Mapping[str, tuple[int, ...]],
    tensors: list[ValueInfo],
    batch_dim: str | None,
) -> None:
    symbols = sorted({str(d) for v in tensors for d in (v.shape or ()) if isinstance(d, str)})
    for name, size in dims.items():
        if name not in symbols:
            raise FeedError(
                f"dims names {name!r}, which no input uses.{did_you_mean(name, symbols)}",
                f"The model's symbolic dims: {', '.join(map(repr, symbols)) or 'none'}. "
                "For unnamed dims, give a whole shape: shapes={'input': [1, 512]}.",
            )
        if not isinstance(size, (int, np.integer)) or size < 0:
            raise FeedError(
                f"dims[{name!r}] must be a non-negative integer, got {size!r}.",
                "E.g. dims={'batch': 8, 'seq': 128}.",
            )
    names = [v.name for v in tensors]
    for name in shapes:
        if name not in names:
            raise FeedError(
                f"shapes names {name!r}, which is not a tensor input.{did_you_mean(name, names)}",
                f"Tensor inputs: {', '.join(map(repr, names))}.",
            )
    if batch_dim is not None and batch_dim not in symbols:
        raise FeedError(
            f"batch_dim={batch_dim!r} is not a symbolic dim of any input.",
            f"The model's symbolic dims: {', '.join(map(repr, symbols)) or 'none'}.",
        )


def _check_batch_is_possible(
    tensors: list[ValueInfo],
    shapes: Mapping[str, tuple[int, ...]],
    batch: int | None,
    batch_dim: str | None,
) -> None:
    if batch is None or batch_dim is not None:
        return
    if batch < 1:
        raise FeedError(f"batch must be at least 1, got {batch}.", "E.g. batch=8.")
    free = [v for v in tensors if v.shape and not isinstance(v.shape[0], int)]
    fixed = [v for v in tensors if v.shape and isinstance(v.shape[0], int) and v.name not in shapes]
    if free or not fixed:
        return
    sizes = {int(v.shape[0] or 0) for v in fixed if v.shape}
    if sizes != {batch}:
        first = fixed[0]
        raise FeedError(
            f"The model's batch dim is fixed: input {first.name!r} has shape "
            f"{list(first.shape or ())}, so the model runs only at batch "
            f"{'/'.join(map(str, sorted(sizes)))}, not {batch}.",
            "Use that batch size, or export the model again with a dynamic batch axis "
            "(torch.onnx.export(..., dynamic_axes={'input': {0: 'batch'}})).",
        )


def _checked_override(value: ValueInfo, shape: tuple[int, ...]) -> tuple[int, ...]:
    declared = value.shape
    if declared is None:
        return shape
    if len(declared) != len(shape):
        raise FeedError(
            f"shapes[{value.name!r}] has {len(shape)} dims, but the input has {len(declared)}: "
            f"{value.shape_text}.",
            f"Give {len(declared)} sizes, e.g. {_example(declared)}.",
        )
    for index, (want, got) in enumerate(zip(declared, shape, strict=True)):
        if isinstance(want, int) and want != got:
            raise FeedError(
                f"shapes[{value.name!r}] sets dim {index} to {got}, but the model fixes it at "
                f"{want}: {value.shape_text}.",
                f"Keep fixed dims as they are, e.g. {_example(declared)}.",
            )
    return shape


def synthesize(
    inputs: Sequence[ValueInfo],
    *,
    dims: Mapping[str, int] | None = None,
    shapes: Mapping[str, Sequence[int]] | None = None,
    batch: int | None = None,
    batch_dim: str | None = None,
    seed: int = 0,
    ranges: Mapping[str, Range] | None = None,
    given: Mapping[str, Any] | None = None,
    hints: Mapping[DimKey, Hint] | None = None,
    fills: Mapping[str, np.ndarray] | None = None,
) -> Feeds:
    """Seeded, reproducible feeds for every input not in `given`, shaped by `plan_shapes`.

    `given` holds the user's feeds, used as they are; `fills` the user's scalars for inputs
    whose shape the plan decides (`np.full`). Both are reported as given.

    Floats are uniform in [0, 1); integers in [0, 2); `ranges` overrides per input with
    `(low, high)` or a constant (e.g. `{"input_ids": (0, 30522), "sample_rate": 16000}`).
    """
    ranges = dict(ranges or {})
    given, fills = dict(given or {}), dict(fills or {})
    unknown = sorted(set(ranges) - {v.name for v in inputs})
    if unknown:
        raise FeedError(
            f"ranges names {', '.join(map(repr, unknown))}, not inputs of the model.",
            f"Inputs: {', '.join(repr(v.name) for v in inputs)}.",
        )
    shapes_given = {name: shape_of(v) for name, v in given.items()}
    plan = plan_shapes(
        inputs,
        dims=dims,
        shapes=shapes,
        batch=batch,
        batch_dim=batch_dim,
        given={name: shape for name, shape in shapes_given.items() if shape is not None},
        hints=hints,
    )
    missing = [v for v in inputs if v.name not in given]
    _check_sizes(missing, plan)
    values = dict(given)
    for value in missing:
        rng = np.random.default_rng([seed, zlib.crc32(value.name.encode())])
        shape = plan.shapes.get(value.name, ())
        try:
            fill = fills.get(value.name)
            values[value.name] = (
                np.full(shape, fill, dtype=fill.dtype)
                if fill is not None
                else _value_for(value.type, shape, rng, ranges.get(value.name))
            )
        except MemoryError:
            raise FeedError(
                f"Not enough memory to build synthetic input {value.name!r} of shape "
                f"{list(shape)}.",
                f"Set smaller dims (dims=... or shapes={{{value.name!r}: [...]}}), or pass feeds.",
            ) from None
    if fills:
        plan = dataclasses.replace(plan, given=plan.given | frozenset(fills))
    # In the model's order (results list the inputs so), then any initializers overridden.
    ordered = {v.name: values.pop(v.name) for v in inputs if v.name in values}
    return Feeds({**ordered, **values}, plan)


def _check_sizes(inputs: Sequence[ValueInfo], plan: FeedPlan) -> None:
    """Refuse negative dims and feeds too large to build, before allocating anything."""
    total = 0
    for value in inputs:
        shape = plan.shapes.get(value.name)
        if shape is None:
            continue
        if any(d < 0 for d in shape):
            raise FeedError(
                f"Input {value.name!r} declares a negative dim: {list(shape)}.",
                f"Give it a valid shape: shapes={{{value.name!r}: [...]}}, or pass feeds.",
            )
        itemsize = numpy_dtype(value.dtype).itemsize if value.dtype else 8
        # numpy refuses a shape whose nonzero dims overflow its size type, even with a 0 dim.
        if math.prod(d for d in shape if d) * 8 > sys.maxsize:
            raise FeedError(
                f"Input {value.name!r} has shape {list(shape)}: no array can have a dim that "
                "large.",
                f"Give it a valid shape: shapes={{{value.name!r}: [...]}}, or pass feeds.",
            )
        # numpy's generators draw 8-byte values first, then cast: count both at the peak.
        total += math.prod(shape) * (itemsize + 8)
        if total > MAX_SYNTHETIC_BYTES:
            raise FeedError(
                f"Synthetic feeds would need {total / 2**30:,.1f} GiB (input {value.name!r} has "
                f"shape {list(shape)}), more than the {MAX_SYNTHETIC_BYTES / 2**30:.0f} GiB limit.",
                f"Set smaller dims (dims=... or shapes={{{value.name!r}: [...]}}), or pass feeds.",
            )


def _value_for(
    info: TypeInfo, shape: tuple[int, ...], rng: np.random.Generator, span: Range | None
) -> Any:
    if info.kind in ("tensor", "sparse_tensor"):
        return _array(info.dtype or "float32", shape, rng, span)
    if info.kind == "sequence":
        element = info.element or TypeInfo("tensor", "float32", (DEFAULT_FREE_DIM,))
        inner_shape = _concrete(element.shape)
        return [_value_for(element, inner_shape, rng, span) for _ in range(DEFAULT_SEQUENCE_LENGTH)]
    if info.kind == "map":
        keys = list(_WORDS[:3]) if info.key_dtype == "string" else [int(k) for k in range(3)]
        element = info.element or TypeInfo("tensor", "float32", ())
        return {k: _array(element.dtype or "float32", (), rng, span).item() for k in keys}
    if info.kind == "optional":
        element = info.element or TypeInfo("tensor", "float32", (DEFAULT_FREE_DIM,))
        return _value_for(element, _concrete(element.shape), rng, span)
    raise FeedError(
        f"Cannot make synthetic values of type {info.text}.",
        "Pass feeds for this input yourself: model.run(feeds={...}).",
    )


def _concrete(shape: tuple[Dim, ...] | None) -> tuple[int, ...]:
    if shape is None:
        return (DEFAULT_FREE_DIM,)
    return tuple(d if isinstance(d, int) else DEFAULT_FREE_DIM for d in shape)


def _array(
    dtype: str, shape: tuple[int, ...], rng: np.random.Generator, span: Range | None
) -> np.ndarray:
    # numpy's generators return a bare scalar for shape (); onnxruntime wants an array.
    return np.asarray(_samples(dtype, shape, rng, span), dtype=numpy_dtype(dtype))


def _samples(
    dtype: str, shape: tuple[int, ...], rng: np.random.Generator, span: Range | None
) -> Any:
    target = numpy_dtype(dtype)
    if span is not None and not isinstance(span, tuple):  # a constant
        constant: Any = str(span) if dtype == "string" else span
        return np.full(shape, constant, dtype=object).astype(target)
    if dtype == "string":
        return rng.choice(np.array(_WORDS, dtype=object), size=shape)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if np.issubdtype(target, np.integer) or dtype.startswith(("int", "uint")):
        low, high = span if span is not None else DEFAULT_INT_RANGE
        return rng.integers(int(low), int(high), size=shape).astype(target)
    low, high = span if span is not None else (0.0, 1.0)
    samples = rng.random(shape, dtype=np.float64) * (high - low) + low
    return samples.astype(target)


def _example(shape: Sequence[Dim]) -> str:
    return "[" + ", ".join(str(d) if isinstance(d, int) else "1" for d in shape) + "]"
