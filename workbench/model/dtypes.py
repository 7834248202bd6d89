"""ONNX tensor element types: numpy names and dtypes, sizes, and the IR that added them."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.errors import FeedError


@dataclass(frozen=True)
class ElementType:
    """One `TensorProto.DataType`, as the workbench names and sizes it."""

    code: int
    name: str  # numpy / ml_dtypes spelling, e.g. "float32", "bfloat16", "float8_e4m3fn"
    onnx_name: str  # ONNX Runtime's spelling inside "tensor(...)", e.g. "float", "float16"
    bits: int  # storage bits per element; 0 for variable-size strings
    since_ir: int  # first IR version that defines the type


_TYPES = (
    ElementType(1, "float32", "float", 32, 3),
    ElementType(2, "uint8", "uint8", 8, 3),
    ElementType(3, "int8", "int8", 8, 3),
    ElementType(4, "uint16", "uint16", 16, 3),
    ElementType(5, "int16", "int16", 16, 3),
    ElementType(6, "int32", "int32", 32, 3),
    ElementType(7, "int64", "int64", 64, 3),
    ElementType(8, "string", "string", 0, 3),
    ElementType(9, "bool", "bool", 8, 3),
    ElementType(10, "float16", "float16", 16, 3),
    ElementType(11, "float64", "double", 64, 3),
    ElementType(12, "uint32", "uint32", 32, 3),
    ElementType(13, "uint64", "uint64", 64, 3),
    ElementType(14, "complex64", "complex64", 64, 3),
    ElementType(15, "complex128", "complex128", 128, 3),
    ElementType(16, "bfloat16", "bfloat16", 16, 4),
    ElementType(17, "float8_e4m3fn", "float8e4m3fn", 8, 9),
    ElementType(18, "float8_e4m3fnuz", "float8e4m3fnuz", 8, 9),
    ElementType(19, "float8_e5m2", "float8e5m2", 8, 9),
    ElementType(20, "float8_e5m2fnuz", "float8e5m2fnuz", 8, 9),
    ElementType(21, "uint4", "uint4", 4, 10),
    ElementType(22, "int4", "int4", 4, 10),
    ElementType(23, "float4_e2m1fn", "float4e2m1", 4, 11),
    ElementType(24, "float8_e8m0fnu", "float8e8m0", 8, 12),
    ElementType(25, "uint2", "uint2", 2, 13),
    ElementType(26, "int2", "int2", 2, 13),
    ElementType(27, "float6_e2m3fn", "float6e2m3", 6, 14),
    ElementType(28, "float6_e3m2fn", "float6e3m2", 6, 14),
)
_BY_CODE = {t.code: t for t in _TYPES}
KNOWN_NAMES = frozenset(t.name for t in _TYPES)
_ONNX_NAME_BY_NAME = {t.name: t.onnx_name for t in _TYPES}
_NEWEST_KNOWN_IR = max(t.since_ir for t in _TYPES)


def element_type(code: int) -> ElementType:
    """Describe a `TensorProto.DataType` code; unknown codes get a placeholder name."""
    known = _BY_CODE.get(code)
    if known is not None:
        return known
    # A newer writer may use codes this table predates: name them rather than fail, and
    # assume they need an IR newer than any we know.
    return ElementType(code, f"dtype{code}", f"dtype{code}", 0, _NEWEST_KNOWN_IR + 1)


def tensor_nbytes(code: int, element_count: int) -> int:
    """Bytes needed to store `element_count` packed elements (strings count as 0)."""
    return (element_type(code).bits * element_count + 7) // 8


def onnx_dtype_name(name: str) -> str:
    """ONNX Runtime's spelling of a workbench dtype name ("float32" -> "float")."""
    return _ONNX_NAME_BY_NAME.get(name, name)


# ONNX element types numpy handles natively, by workbench dtype name.
NUMPY_NATIVE = frozenset(
    {
        "float32",
        "float64",
        "float16",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "bool",
        "complex64",
        "complex128",
    }
)


@functools.cache
def numpy_dtype(name: str) -> np.dtype[Any]:
    """The numpy dtype for a workbench dtype name ("string" -> object, "bfloat16" -> ml_dtypes)."""
    if name == "string":
        return np.dtype(object)
    if name in NUMPY_NATIVE:
        return np.dtype(name)
    if name not in KNOWN_NAMES:
        raise FeedError(
            f"The model uses an element type onnx-workbench does not know ({name}): no numpy "
            "array can hold its values.",
            "The model was written by a newer ONNX; pass its feeds as OrtValues, or upgrade "
            "onnx-workbench.",
        )
    import ml_dtypes  # noqa: PLC0415  (comes with onnx; only exotic types need it)

    dtype: np.dtype[Any] = np.dtype(getattr(ml_dtypes, name))
    return dtype
