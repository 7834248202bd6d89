"""Sizes a model suggests for its own free input dims, and where it says so.

Exporters often leave the size a model was made for in plain sight:
- metadata: Ultralytics writes `imgsz: [640, 640]`, others `image_size`, `input_size`...;
- its signature: a free input dim that onnx's shape inference carries to an output (or an
  annotated intermediate) which the exporter wrote with a fixed size, e.g. input
  [N, 3, H, W] and output [N, 21, 512, 512]: then H = W = 512.

These are defaults, below anything the user sets (feeds, values, shapes, dims, batch) and
above the fallback (batch 1, other dims 64). Reading them costs a shape-inference pass, so
it happens once per model and only when feeds are synthesized.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.model.signature import ValueInfo

if TYPE_CHECKING:
    import onnx

# Metadata keys exporters use for the image size a model was trained at, compared lowered.
_IMAGE_SIZE_KEYS = ("imgsz", "img_size", "image_size", "imagesize", "input_size", "resolution")
_SIZE_TEXT = re.compile(r"[\s\[\](),xX*0-9]+")  # numbers and separators, nothing else
_MAX_SIDE = 16384
_SMALL_INITIALIZER_BYTES = 1024  # copied whole for inference (shape constants); others as stubs
# A dim a hint may set: a named symbol, or (input name, dim index) for an unnamed one.
DimKey = str | tuple[str, int]


@dataclass(frozen=True)
class Hint:
    """A size the model suggests for one free dim, and where it says so."""

    size: int
    where: str  # e.g. "metadata 'imgsz'", "output 'masks' dim 2"


class DimHints:
    """The hints of one model, found on first use (a shape-inference pass) and kept."""

    def __init__(
        self, proto: onnx.ModelProto, metadata: Mapping[str, str], inputs: Sequence[ValueInfo]
    ) -> None:
        self._proto = proto
        self._metadata = metadata
        self._inputs = tuple(inputs)

    @functools.cached_property
    def found(self) -> dict[DimKey, Hint]:
        """Hints by symbol (or by input and index for unnamed dims); metadata wins."""
        found = _from_signature(self._proto, self._inputs)
        found.update(_from_metadata(self._metadata, self._inputs))
        return found


def _from_metadata(metadata: Mapping[str, str], inputs: Sequence[ValueInfo]) -> dict[DimKey, Hint]:
    """An image size in the metadata, applied to the free spatial dims of image inputs.

    `640`, `[640, 480]` (height, width, as YOLO's `imgsz`), `(1, 3, 224, 192)` (NCHW), or
    `640x480` (width x height, as a resolution is written). Anything else (`72 dpi`, a zero,
    a side over 16384) suggests nothing.
    """
    entry = next(((k, v) for k, v in metadata.items() if k.lower() in _IMAGE_SIZE_KEYS), None)
    if entry is None or not _SIZE_TEXT.fullmatch(entry[1]):
        return {}
    key, text = entry
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    if not numbers or len(numbers) > 4 or not all(0 < n <= _MAX_SIDE for n in numbers):
        return {}
    if len(numbers) == 2 and "x" in text.lower():
        width, height = numbers
    else:
        height, width = (numbers[-2], numbers[-1]) if len(numbers) > 1 else (numbers[0],) * 2
    found: dict[DimKey, Hint] = {}
    for value in inputs:
        shape = value.shape
        if shape is None or len(shape) != 4:
            continue
        # NCHW (channels fixed at 1 or 3 in dim 1), else NHWC (in dim 3).
        spatial = (2, 3) if shape[1] in (1, 3) else (1, 2) if shape[3] in (1, 3) else None
        if spatial is None:
            continue
        for index, size in zip(spatial, (height, width), strict=True):
            dim = shape[index]
            if not isinstance(dim, int):
                found[dim if isinstance(dim, str) else (value.name, index)] = Hint(
                    size, f"metadata {key!r}"
                )
    return found


def _from_signature(proto: onnx.ModelProto, inputs: Sequence[ValueInfo]) -> dict[DimKey, Hint]:
    """Input symbols that shape inference carries to a dim the exporter wrote fixed."""
    symbols = {d for v in inputs for d in (v.shape or ()) if isinstance(d, str)}
    declared = _fixed_dims(proto)
    if not symbols or not declared:
        return {}
    try:
        inferred = _inferred_dims(proto)
    except Exception:  # inference is a bonus: a model it cannot read just gets no hints
        return {}
    found: dict[DimKey, Hint] = {}
    for (tensor, index), size in declared.items():
        symbol = inferred.get((tensor, index))
        if symbol in symbols and symbol not in found:
            found[symbol] = Hint(size, f"{tensor!r} dim {index} is {size} in the model")
    return found


def _fixed_dims(proto: onnx.ModelProto) -> dict[tuple[str, int], int]:
    """(tensor, dim index) -> size, for every fixed dim of the outputs and annotated values."""
    fixed = {}
    for value in (*proto.graph.output, *proto.graph.value_info):
        for index, dim in enumerate(value.type.tensor_type.shape.dim):
            if dim.WhichOneof("value") == "dim_value" and dim.dim_value > 0:
                fixed[(value.name, index)] = dim.dim_value
    return fixed


def _inferred_dims(proto: onnx.ModelProto) -> dict[tuple[str, int], str]:
    """(tensor, dim index) -> input symbol, as shape inference derives them from the inputs.

    Inference runs on a copy without the exporter's own annotations (so it cannot echo them)
    and without large weights (only their shapes matter; small ones hold shape constants).
    """
    import onnx  # noqa: PLC0415  (heavy: loads on first use)

    bare = onnx.ModelProto()
    bare.ir_version = proto.ir_version
    bare.opset_import.extend(proto.opset_import)
    bare.functions.extend(proto.functions)
    graph = bare.graph
    graph.input.extend(proto.graph.input)
    graph.node.extend(proto.graph.node)
    for tensor in proto.graph.initializer:
        if tensor.data_location != onnx.TensorProto.EXTERNAL and tensor.ByteSize() < (
            _SMALL_INITIALIZER_BYTES
        ):
            graph.initializer.append(tensor)
        else:
            graph.initializer.append(
                onnx.TensorProto(name=tensor.name, data_type=tensor.data_type, dims=tensor.dims)
            )
    for output in proto.graph.output:
        graph.output.append(onnx.ValueInfoProto(name=output.name))
    inferred = onnx.shape_inference.infer_shapes(bare, strict_mode=False, data_prop=True)
    symbols = {}
    for value in (*inferred.graph.output, *inferred.graph.value_info):
        for index, dim in enumerate(value.type.tensor_type.shape.dim):
            if dim.WhichOneof("value") == "dim_param":
                symbols[(value.name, index)] = dim.dim_param
    return symbols
