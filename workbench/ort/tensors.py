"""numpy <-> onnxruntime for every element type, including those numpy lacks.

onnxruntime's Python API takes and returns numpy arrays only for numpy's own types. bfloat16,
float8, int4, uint4, float4, int2 and uint2 travel as OrtValues: inputs are packed into an
OrtValue's buffer, outputs are read back from raw bytes into ml_dtypes arrays.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

import numpy as np

from workbench.model.dtypes import NUMPY_NATIVE, ElementType, element_type, numpy_dtype
from workbench.ort.runtime import ort


def is_ortvalue(value: Any) -> bool:
    """True for an onnxruntime OrtValue (checked by name: onnxruntime is imported lazily)."""
    return type(value).__name__ == "OrtValue"


def shape_of(value: Any) -> tuple[int, ...] | None:
    """The shape of an array or an OrtValue; None for sequences, maps and the like."""
    if is_ortvalue(value):
        return tuple(value.shape()) if value.is_tensor() else None
    if isinstance(value, np.ndarray | np.generic):
        return tuple(value.shape)
    return None


def dtype_name_of(value: Any) -> str | None:
    """The workbench dtype name of an array or OrtValue ("float32", "string"), else None."""
    if is_ortvalue(value):
        code = _CODE_BY_ORT_TYPE.get(value.data_type()) if value.is_tensor() else None
        return element_type(code).name if code else None
    if isinstance(value, np.ndarray | np.generic):
        return "string" if value.dtype.kind in "OUS" else value.dtype.name
    return None


def needs_ortvalue(name: str | None) -> bool:
    """True for element types onnxruntime cannot exchange as numpy arrays."""
    return name is not None and name not in NUMPY_NATIVE and name != "string"


def to_ortvalue(array: np.ndarray, dtype: str, device: str = "cpu", device_id: int = 0) -> Any:
    """An OrtValue holding `array` as workbench dtype `dtype` (packing sub-byte types)."""
    code = _CODE_BY_NAME[dtype]
    packed = _pack(np.ascontiguousarray(array), element_type(code))
    value = ort().OrtValue.ortvalue_from_shape_and_type(list(array.shape), code, "cpu", 0)
    if packed.nbytes:
        ctypes.memmove(value.data_ptr(), packed.ctypes.data, packed.nbytes)
    if device != "cpu":
        on_device = ort().OrtValue.ortvalue_from_shape_and_type(
            list(array.shape), code, device, device_id
        )
        on_device.update_inplace(value)
        return on_device
    return value


def from_ortvalue(value: Any) -> Any:
    """A CPU OrtValue's content as numpy (ml_dtypes arrays for types numpy lacks)."""
    info = _SPECIAL_BY_ORT_TYPE.get(value.data_type()) if value.is_tensor() else None
    if info is None:
        return value.numpy()
    # numpy() refuses these types, or (float8) returns their raw bits as uint8.
    raw = ctypes.string_at(value.data_ptr(), value.tensor_size_in_bytes())
    return _unpack(np.frombuffer(raw, np.uint8), info, tuple(value.shape()))


def needs_ortvalue_type(value: Any) -> bool:
    """True for an OrtValue whose element type numpy lacks."""
    return value.is_tensor() and value.data_type() in _SPECIAL_BY_ORT_TYPE


def onnx_code_for(dtype: np.dtype[Any]) -> int:
    """The TensorProto.DataType code of a numpy (or ml_dtypes) dtype."""
    name = "string" if dtype == np.dtype(object) else np.dtype(dtype).name
    return _CODE_BY_NAME[name]


def onnx_code_of(value: Any) -> int:
    """The TensorProto.DataType code of an OrtValue's elements."""
    return _CODE_BY_ORT_TYPE[value.data_type()]


_CODE_BY_NAME = {element_type(code).name: code for code in range(1, 64)}
_CODE_BY_ORT_TYPE = {f"tensor({element_type(code).onnx_name})": code for code in range(1, 64)}
_SPECIAL_BY_ORT_TYPE = {
    f"tensor({info.onnx_name})": info
    for info in map(element_type, range(1, 64))
    if info.bits and needs_ortvalue(info.name)
}


def _pack(array: np.ndarray, info: ElementType) -> np.ndarray:
    """Bytes in ONNX's layout: sub-byte elements packed low bits first."""
    if info.bits >= 8:
        return array.view(np.uint8)
    per_byte = 8 // info.bits
    codes = array.view(np.uint8).reshape(-1) & ((1 << info.bits) - 1)
    padded = np.zeros(math.ceil(codes.size / per_byte) * per_byte, np.uint8)
    padded[: codes.size] = codes
    lanes = padded.reshape(-1, per_byte).astype(np.uint8)
    shifts = np.arange(per_byte, dtype=np.uint8) * info.bits
    packed: np.ndarray = np.bitwise_or.reduce(lanes << shifts, axis=1).astype(np.uint8)
    return packed


def _unpack(raw: np.ndarray, info: ElementType, shape: tuple[int, ...]) -> np.ndarray:
    dtype = numpy_dtype(info.name)
    count = math.prod(shape)
    if info.bits >= 8:
        return raw.view(dtype)[:count].reshape(shape)
    per_byte = 8 // info.bits
    shifts = np.arange(per_byte, dtype=np.uint8) * info.bits
    codes = ((raw[:, None] >> shifts) & ((1 << info.bits) - 1)).reshape(-1)[:count]
    # ml_dtypes keeps one sub-byte element per byte, sign-extended for signed integers.
    if info.name.startswith("int"):
        sign = 1 << (info.bits - 1)
        codes = ((codes.astype(np.int16) ^ sign) - sign).astype(np.int8)
        return codes.astype(dtype).reshape(shape)
    return codes.astype(np.uint8).view(dtype).reshape(shape)
