"""Model inputs and outputs: names and types, including ONNX-ML sequences, maps and optionals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from workbench.model.dtypes import element_type, onnx_dtype_name
from workbench.text import Dim, shape_text

if TYPE_CHECKING:
    import onnx

Kind = Literal["tensor", "sparse_tensor", "sequence", "map", "optional", "opaque", "unknown"]


@dataclass(frozen=True)
class TypeInfo:
    """A value's type. Tensors have `dtype` and `shape`; containers describe their contents.

    `shape` is None when the rank is unknown; a dim is an int (fixed), a str (symbolic) or
    None (unknown). Sequences and optionals hold `element`; maps hold `key_dtype` and `element`
    (the value type).
    """

    kind: Kind
    dtype: str | None = None
    shape: tuple[Dim, ...] | None = None
    key_dtype: str | None = None
    element: TypeInfo | None = None
    denotation: str = ""

    @property
    def text(self) -> str:
        """ONNX Runtime's spelling of the type, e.g. `seq(map(int64,tensor(float)))`."""
        if self.kind in ("tensor", "sparse_tensor"):
            return f"{self.kind}({onnx_dtype_name(self.dtype) if self.dtype else 'unknown'})"
        if self.kind == "sequence":
            return f"seq({self._element_text})"
        if self.kind == "map":
            return f"map({self.key_dtype},{self._element_text})"
        if self.kind == "optional":
            return f"optional({self._element_text})"
        return self.kind

    @property
    def _element_text(self) -> str:
        return self.element.text if self.element else "unknown"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready description; containers nest their element types."""
        out: dict[str, Any] = {"type": self.kind, "dtype": self.dtype, "shape": _shape_list(self)}
        if self.key_dtype is not None:
            out["key_dtype"] = self.key_dtype
        if self.element is not None:
            out["element"] = self.element.as_dict()
        if self.denotation:
            out["denotation"] = self.denotation
        out["type_str"] = self.text
        return out


@dataclass(frozen=True)
class ValueInfo:
    """A named graph input or output."""

    name: str
    type: TypeInfo
    doc_string: str = ""

    @property
    def dtype(self) -> str | None:
        """Element dtype for tensors, None for containers."""
        return self.type.dtype

    @property
    def shape(self) -> tuple[Dim, ...] | None:
        """Tensor shape with symbolic dims as str and unknown dims as None."""
        return self.type.shape

    @property
    def shape_text(self) -> str:
        """`[batch, 3, 224, 224]` with `?` for unknown dims; "" for containers."""
        return shape_text(self.shape, tensor=self.type.kind in ("tensor", "sparse_tensor"))

    @property
    def description(self) -> str:
        """`name tensor(float) [batch, 3]`: how messages list an input or output."""
        return f"{self.name} {self.type.text} {self.shape_text}".rstrip()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready description with `name`, `type`, `dtype` and `shape`."""
        return {"name": self.name, **self.type.as_dict()}


def _shape_list(info: TypeInfo) -> list[Dim] | None:
    return list(info.shape) if info.shape is not None else None


def type_info(proto: onnx.TypeProto) -> TypeInfo:
    """Describe an `onnx.TypeProto` faithfully, whatever its kind."""
    which = proto.WhichOneof("value")
    denotation = proto.denotation
    if which in ("tensor_type", "sparse_tensor_type"):
        tensor = getattr(proto, which)
        elem = element_type(tensor.elem_type) if tensor.elem_type else None
        shape = _shape(tensor.shape) if tensor.HasField("shape") else None
        return TypeInfo(
            kind="tensor" if which == "tensor_type" else "sparse_tensor",
            dtype=elem.name if elem else None,
            shape=shape,
            denotation=denotation,
        )
    if which == "sequence_type":
        return TypeInfo(
            "sequence", element=_nested(proto.sequence_type, "elem_type"), denotation=denotation
        )
    if which == "map_type":
        key = element_type(proto.map_type.key_type).name if proto.map_type.key_type else None
        return TypeInfo(
            "map",
            key_dtype=key,
            element=_nested(proto.map_type, "value_type"),
            denotation=denotation,
        )
    if which == "optional_type":
        return TypeInfo(
            "optional", element=_nested(proto.optional_type, "elem_type"), denotation=denotation
        )
    if which == "opaque_type":
        return TypeInfo("opaque", denotation=denotation)
    return TypeInfo("unknown", denotation=denotation)


def _nested(container: Any, field: str) -> TypeInfo | None:
    return type_info(getattr(container, field)) if container.HasField(field) else None


def _shape(shape: onnx.TensorShapeProto) -> tuple[Dim, ...]:
    dims: list[Dim] = []
    for dim in shape.dim:
        which = dim.WhichOneof("value")
        if which == "dim_value":
            dims.append(dim.dim_value)
        elif which == "dim_param":
            dims.append(dim.dim_param)
        else:
            dims.append(None)
    return tuple(dims)


def value_info(proto: onnx.ValueInfoProto) -> ValueInfo:
    """Describe a graph input or output."""
    return ValueInfo(proto.name, type_info(proto.type), proto.doc_string)
