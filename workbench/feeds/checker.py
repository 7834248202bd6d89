"""Validation of the user's own feeds against a model's inputs, before onnxruntime sees them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.errors import FeedError
from workbench.model.dtypes import KNOWN_NAMES, numpy_dtype
from workbench.model.signature import ValueInfo
from workbench.ort.tensors import is_ortvalue
from workbench.text import did_you_mean, literal

# A synthetic input's values: (low, high), or a constant (a number, or text for strings).
Range = tuple[float, float] | float | int | str


@dataclass(frozen=True)
class _TensorSpec:
    """What one tensor input accepts, precomputed so each check is a few comparisons."""

    info: ValueInfo
    dtype: np.dtype[Any]
    rank: int | None  # None: unknown rank, any shape goes
    fixed: tuple[tuple[int, int], ...]  # (axis, size) of fixed dims
    symbols: tuple[tuple[int, str], ...]  # (axis, name) of symbolic dims


class FeedChecker:
    """Validates user feeds against a model's inputs before onnxruntime sees them.

    Built once per model; `check()` is cheap enough for every run (a few microseconds for
    a handful of inputs, plus one pass over float data for NaN/Inf).
    """

    def __init__(self, inputs: Sequence[ValueInfo], overridable: Sequence[str] = ()) -> None:
        self._inputs = {v.name: v for v in inputs}
        self._required = [v.name for v in inputs]
        self._overridable = set(overridable)
        self._specs = {
            v.name: _TensorSpec(
                info=v,
                dtype=numpy_dtype(v.dtype),
                rank=None if v.shape is None else len(v.shape),
                fixed=tuple((i, d) for i, d in enumerate(v.shape or ()) if isinstance(d, int)),
                symbols=tuple((i, d) for i, d in enumerate(v.shape or ()) if isinstance(d, str)),
            )
            for v in inputs
            # Element types numpy cannot hold go to onnxruntime as they are (OrtValues).
            if v.type.kind == "tensor" and v.dtype in KNOWN_NAMES
        }

    def check(self, feeds: Mapping[str, Any], *, allow_nonfinite: bool = False) -> dict[str, Any]:
        """Return the feeds (python lists and scalars turned into arrays) or raise FeedError.

        Any subset of the inputs may be given; `missing()` says which are not.
        """
        if not isinstance(feeds, dict) and not isinstance(feeds, Mapping):
            raise FeedError(
                f"Feeds must be a dict of input name -> array, not {type(feeds).__name__}.",
                f"E.g. {{{', '.join(repr(n) + ': array' for n in self._required)}}}.",
            )
        checked: dict[str, Any] = {}
        sizes: dict[str, tuple[int, str]] = {}
        for name, value in feeds.items():
            spec = self._specs.get(name)
            if spec is not None:
                checked[name] = self._check_tensor(spec, value, sizes, allow_nonfinite)
            elif name in self._inputs or name in self._overridable:
                checked[name] = value  # containers go to onnxruntime as they are
            else:
                raise FeedError(
                    f"Feed {name!r} is not an input of the model."
                    + did_you_mean(str(name), self._required),
                    f"Inputs: {self._listing()}.",
                )
        return checked

    def missing(self, feeds: Mapping[str, Any]) -> list[str]:
        """The inputs `feeds` leaves out (to be synthesized)."""
        if len(feeds) >= len(self._required) and all(n in feeds for n in self._required):
            return []  # the common case, checked without building a list
        return [n for n in self._required if n not in feeds]

    def value(self, name: str, value: Any, *, allow_nonfinite: bool = False) -> np.ndarray:
        """A value the user sets for an input (`values=`, `--value`) as an array of its dtype.

        Text is read as JSON for a numeric input (`"16000"`, `"[1, 2]"`) and taken as it is
        for a string input. A value a float would have to be rounded to fit an integer input,
        None, and NaN or Inf (unless `allow_nonfinite`) are refused.
        """
        spec = self._specs.get(name)
        if spec is None:
            if name not in self._inputs:
                raise FeedError(
                    f"values names {name!r}, which is not an input of the model."
                    + did_you_mean(str(name), self._required),
                    f"Inputs: {self._listing()}.",
                )
            raise FeedError(
                f"values= sets tensors; input {name!r} is a {self._inputs[name].type.text}.",
                "Pass it as a feed: feeds= (--inputs FILE in the CLI, --feeds VAR in %onnx).",
            )
        if isinstance(value, str) and spec.dtype.kind != "O":
            value = literal(value)
        example = _EXAMPLES.get(spec.dtype.kind, "1")
        fix = f"Give a value of type {spec.info.dtype}, e.g. values={{{name!r}: {example}}} " + (
            f"(--value {name}={example})."
        )
        wrong = FeedError(
            f"Input {name!r} is {spec.info.dtype}, and {value!r} is not a value of that type.",
            fix,
        )
        try:
            probe = np.asarray(value)
            array = np.asarray(value, dtype=spec.dtype)
        except (TypeError, ValueError, OverflowError):
            raise wrong from None
        rounded = probe.dtype.kind == "f" and spec.dtype.kind in "iub"
        if (rounded and not np.array_equal(array, probe)) or (
            probe.dtype.kind in "USO" and spec.dtype.kind != "O"
        ):
            raise wrong
        if array.ndim and spec.rank is not None and array.ndim != spec.rank:
            raise _rank_error(spec.info, array.shape)
        if not allow_nonfinite and array.dtype.kind == "f":
            _require_finite(spec.info, array)
        return array

    def split_values(
        self, values: Mapping[str, Any], *, allow_nonfinite: bool = False
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(whole, fills): values of an input's rank are feeds; scalars fill the input's shape.

        Each value is checked by `value()`.
        """
        whole, fills = {}, {}
        for name, value in values.items():
            array = self.value(name, value, allow_nonfinite=allow_nonfinite)
            rank = self._specs[name].rank
            if array.ndim == 0 and rank:
                fills[name] = array
            else:
                whole[name] = array
        return whole, fills

    def ranges(self, ranges: Mapping[str, Any]) -> dict[str, Range]:
        """The user's value ranges, checked, as plain Python numbers (they travel as JSON).

        Each is a (low, high) pair with low < high, or a constant (text for string inputs).
        """
        checked: dict[str, Range] = {}
        for name, span in ranges.items():
            if name not in self._inputs:
                raise FeedError(
                    f"ranges names {name!r}, which is not an input of the model."
                    + did_you_mean(str(name), self._required),
                    f"Inputs: {self._listing()}.",
                )
            spec = self._specs.get(name)
            if isinstance(span, str) and spec is not None and spec.dtype.kind != "O":
                raise FeedError(
                    f"ranges[{name!r}] is text, but input {name!r} is {spec.info.dtype}.",
                    _range_example(name),
                )
            checked[name] = _checked_range(name, span)
        return checked

    def _listing(self) -> str:
        return ", ".join(v.description for v in self._inputs.values())

    @staticmethod
    def _check_tensor(
        spec: _TensorSpec, value: Any, sizes: dict[str, tuple[int, str]], allow_nonfinite: bool
    ) -> Any:
        if type(value) is not np.ndarray:
            if is_ortvalue(value):
                return value  # device-resident: already in onnxruntime's hands
            value = _as_array(spec.info, value, spec.dtype)
        if spec.dtype.kind == "O" and value.dtype.kind == "U":
            value = value.astype(object)  # np.array(["red"]) is text too: lossless, as ORT wants
        if value.dtype != spec.dtype:
            raise FeedError(
                f"Input {spec.info.name!r} expects {spec.info.dtype}, got {_dtype_text(value)}.",
                _cast_hint(spec.info, value, spec.dtype),
            )
        shape = value.shape
        if spec.rank is not None:
            if len(shape) != spec.rank:
                raise _rank_error(spec.info, shape)
            for axis, size in spec.fixed:
                if shape[axis] != size:
                    raise _fixed_dim_error(spec.info, axis, size, shape)
            for axis, symbol in spec.symbols:
                seen = sizes.setdefault(symbol, (shape[axis], spec.info.name))
                if seen[0] != shape[axis]:
                    raise FeedError(
                        f"Inputs {seen[1]!r} and {spec.info.name!r} disagree on dim {symbol!r}: "
                        f"{seen[0]} vs {shape[axis]}.",
                        "Inputs sharing a symbolic dim must have the same size along it.",
                    )
        if not allow_nonfinite and value.dtype.kind == "f" and not _quickly_finite(value):
            _require_finite(spec.info, value)
        return value


def refuse_outside(name: str, value: Any, span: Range | None) -> None:
    """Refuse a given feed or value outside the range the user set for the same input."""
    if not isinstance(span, tuple) or not isinstance(value, np.ndarray):
        return
    if value.dtype.kind not in "biuf" or not value.size:
        return
    low, high = span
    if value.min() < low or value.max() >= high:
        shown = value.tolist() if value.size <= 8 else f"min {value.min()}, max {value.max()}"
        raise FeedError(
            f"The value given for input {name!r} ({shown!r}) is outside its range [{low}, {high}).",
            "Give a value inside the range, or widen the range.",
        )


def _checked_range(name: str, span: Any) -> Range:
    """`span` as a plain number, or a (low, high) pair of plain numbers with low < high."""
    example = _range_example(name)
    if isinstance(span, str):
        return span  # a constant for a string input
    if isinstance(span, np.generic):
        span = span.item()
    if isinstance(span, bool) or not isinstance(span, int | float | tuple | list):
        raise FeedError(f"ranges[{name!r}] must be (low, high) or a number, got {span!r}.", example)
    if isinstance(span, int | float):
        if not math.isfinite(span):
            raise FeedError(f"ranges[{name!r}] must be finite, got {span!r}.", example)
        return span
    pair = [p.item() if isinstance(p, np.generic) else p for p in span]
    if len(pair) != 2 or not all(
        isinstance(p, int | float) and not isinstance(p, bool) and math.isfinite(p) for p in pair
    ):
        raise FeedError(f"ranges[{name!r}] must be two finite numbers, got {span!r}.", example)
    low, high = pair
    if not low < high:
        raise FeedError(
            f"ranges[{name!r}] = {span!r}: the low bound must be below the high.", example
        )
    return (low, high)


def _range_example(name: str) -> str:
    return f"E.g. ranges={{{name!r}: (0, 30522)}} (--range {name}=0:30522), or a constant."


def _quickly_finite(array: np.ndarray) -> bool:
    """Whether one reduction says every element is finite (NaN and Inf propagate into a sum).

    A False here (a NaN, an Inf, or finite values whose sum overflowed) is settled by the
    exact element-wise check.
    """
    return math.isfinite(array.sum())


def _rank_error(info: ValueInfo, shape: tuple[int, ...]) -> FeedError:
    declared = info.shape or ()
    return FeedError(
        f"Input {info.name!r} expects {len(declared)} dims {info.shape_text}, "
        f"got shape {tuple(shape)}.",
        "Add or drop axes to match (e.g. x[None] adds a leading batch axis).",
    )


def _fixed_dim_error(info: ValueInfo, axis: int, size: int, shape: tuple[int, ...]) -> FeedError:
    return FeedError(
        f"Input {info.name!r} dim {axis} must be {size}, got {shape[axis]} "
        f"(expected {info.shape_text}, got {tuple(shape)}).",
        "Only symbolic dims may vary; resize or crop the data to the fixed dims.",
    )


def _require_finite(info: ValueInfo, array: np.ndarray) -> None:
    if not np.isfinite(array).all():
        raise FeedError(
            f"Input {info.name!r} holds {int(np.isnan(array).sum())} NaN and "
            f"{int(np.isinf(array).sum())} infinite values (of {array.size}).",
            "Clean the data (np.nan_to_num), or pass allow_nonfinite=True if that "
            "is what you mean to test.",
        )


def _as_array(info: ValueInfo, value: Any, expected: np.dtype[Any]) -> np.ndarray:
    """Python scalars and lists become arrays of the expected dtype, when they fit it."""
    probe = np.asarray(value)
    if probe.dtype.kind in "USO" and expected != np.dtype(object):
        raise FeedError(
            f"Input {info.name!r} expects {info.dtype} numbers, got text ({probe.dtype}).",
            "Convert the strings to numbers first, e.g. np.asarray(values, dtype=float).",
        )
    try:
        return np.asarray(value, dtype=expected)
    except (TypeError, ValueError) as exc:
        raise FeedError(
            f"Input {info.name!r} expects {info.dtype}; the value cannot be converted: {exc}.",
            f"Pass a numpy array of dtype {info.dtype}.",
        ) from None


# An example value per numpy kind, for messages.
_EXAMPLES = {"b": "true", "i": "16000", "u": "16000", "f": "0.5", "c": "1", "O": "'text'"}


def _dtype_text(array: np.ndarray) -> str:
    kind = array.dtype.kind
    names = {"U": f"text ({array.dtype})", "S": f"bytes ({array.dtype})", "O": "Python objects"}
    return names.get(kind, str(array.dtype))


def _cast_hint(info: ValueInfo, array: np.ndarray, expected: np.dtype[Any]) -> str:
    if array.dtype.kind in "USO" and expected.kind not in "USO":
        return "Strings cannot feed a numeric input; convert them to numbers first."
    if info.dtype == "string":
        return "Pass an array of str, e.g. np.array([['red']]) (bytes: decode them first)."
    return (
        f"Cast it: x.astype(np.{expected.name})"
        if expected.kind != "V"
        else (f"Cast it with ml_dtypes: x.astype(ml_dtypes.{expected.name})")
    )
