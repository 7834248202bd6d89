"""Turn bytes into an `onnx.ModelProto`, or say precisely why they are not one.

protobuf's own error ("Error parsing message") tells a user nothing. Before and after
parsing, the top level of the protobuf wire format is scanned to tell a truncated model
from a corrupted one, and other files (images, archives, pickles, LFS pointers, a single
ONNX tensor) are recognised by name.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal

from workbench.errors import (
    CorruptModelError,
    EmptyModelError,
    ModelLoadError,
    NotAnOnnxModelError,
    TruncatedModelError,
)

if TYPE_CHECKING:
    import onnx
    from google.protobuf.descriptor import Descriptor

PROTOBUF_LIMIT = 2**31  # protobuf refuses to parse one message of 2 GiB or more
_VARINT, _FIXED64, _LEN, _START_GROUP, _END_GROUP, _FIXED32 = 0, 1, 2, 3, 4, 5
_EXPORT_HINT = (
    "Export it to ONNX first (torch.onnx.export, tf2onnx, skl2onnx), then load the .onnx file."
)

# (leading bytes, what the file is, what to do). Checked only when the bytes are not a model.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG", "a PNG image", "Pass the .onnx model file, not an image."),
    (b"\xff\xd8\xff", "a JPEG image", "Pass the .onnx model file, not an image."),
    (b"GIF8", "a GIF image", "Pass the .onnx model file, not an image."),
    (
        b"PK\x03\x04",
        "a ZIP archive (PyTorch .pt/.pth and Keras .keras files are ZIP archives)",
        _EXPORT_HINT,
    ),
    (b"\x89HDF", "an HDF5 file (a Keras .h5 model?)", _EXPORT_HINT),
    (
        b"\x93NUMPY",
        "a NumPy array file (.npy)",
        "Arrays are feeds, not models: pass them to run(feeds=...).",
    ),
    (b"GGUF", "a GGUF model (llama.cpp)", "GGUF models are not ONNX; export the source model."),
    (b"\x1f\x8b", "a gzip-compressed file", "Decompress it first (gunzip), then load the result."),
    (
        b"version https://git-lfs",
        "a Git LFS pointer, not the model itself",
        "Fetch the real file with: git lfs pull",
    ),
)


@dataclass(frozen=True)
class WireScan:
    """The outcome of walking the top-level fields of a buffer against one message type."""

    outcome: Literal["complete", "truncated", "foreign"]
    offset: int = 0  # where the scan stopped
    field: str = ""  # the field being read there
    fields: frozenset[str] = frozenset()  # the fields met, for a complete scan


def parse_model(data: bytes, label: str) -> onnx.ModelProto:
    """Parse serialized ModelProto bytes; `label` names the source in messages."""
    import onnx  # noqa: PLC0415  (heavy: imported when a model is loaded)

    if not data:
        raise EmptyModelError(
            f"{label} is empty (0 bytes).",
            "The file was probably not written completely, or the download failed. "
            "Export or download the model again.",
        )
    try:
        proto: onnx.ModelProto = onnx.ModelProto.FromString(data)
    except Exception as exc:
        raise _diagnose(data, label, f"{type(exc).__name__}: {exc}") from None
    if not proto.HasField("graph"):
        raise _diagnose(data, label, "")
    return proto


def _diagnose(data: bytes, label: str, parse_error: str) -> ModelLoadError:
    """Explain why `data` did not give a model; only runs once parsing has failed."""
    import onnx  # noqa: PLC0415  (heavy: loads on first use)

    scan = scan_wire(data, onnx.ModelProto.DESCRIPTOR)
    if scan.outcome == "truncated":
        return _truncated(label, len(data), scan)
    if scan.outcome == "foreign":
        return _not_a_model(data, label)
    if len(data) >= PROTOBUF_LIMIT:
        return ModelLoadError(
            f"{label} is {len(data) / 2**30:.1f} GiB in one file; protobuf cannot parse a "
            "message of 2 GiB or more.",
            "Save the weights as external data: onnx.save(model, 'model.onnx', "
            "save_as_external_data=True, location='model.onnx.data').",
        )
    if "MaxDepth" in parse_error or "recursion" in parse_error.lower():
        return CorruptModelError(
            f"{label} nests subgraphs deeper than protobuf decoders accept (100 message "
            "levels; each If, Loop or Scan body inside another takes 3), so neither onnx nor "
            "ONNX Runtime can read it.",
            "Flatten the control flow before export (e.g. unroll loops or inline nested "
            "branches), or check the exporter for runaway recursion.",
        )
    if parse_error:
        return CorruptModelError(
            f"{label} has the outline of an ONNX model, but its content is damaged and does "
            f"not decode ({parse_error}).",
            "Export or download the model again; check the file's checksum if one was given.",
        )
    return TruncatedModelError(
        f"{label} holds ONNX model headers ({len(data):,} bytes) but no graph: the file "
        "ends before the model's graph.",
        "The file is incomplete. Export or download the model again.",
    )


def scan_wire(data: bytes, descriptor: Descriptor) -> WireScan:
    """Walk the top-level fields of `data` as the message `descriptor` describes."""
    return _walk(io.BytesIO(data), len(data), descriptor)


def is_model_file(path: Path) -> bool:
    """True when `path` has the top-level layout of an ONNX model (or is an .ort file).

    Only field headers are read: length-delimited fields, the graph included, are skipped
    with seeks, so checking a multi-gigabyte file costs a few reads.
    """
    import onnx  # noqa: PLC0415  (heavy: loads on first use)

    with path.open("rb") as stream:
        if stream.read(8)[4:8] == b"ORTM":
            return True
        size = stream.seek(0, 2)
        stream.seek(0)
        scan = _walk(stream, size, onnx.ModelProto.DESCRIPTOR)
    return scan.outcome == "complete" and "graph" in scan.fields


def _walk(stream: BinaryIO, end: int, descriptor: Descriptor) -> WireScan:
    """Read field headers from `stream` (seekable, at 0) up to `end`, skipping the values."""
    allowed = _wire_types(descriptor)
    names = {f.number: f.name for f in descriptor.fields}
    seen: set[str] = set()
    while (start := stream.tell()) < end:
        tag = _read_varint(stream)
        if tag is None:
            return WireScan("truncated", start)
        number, wire = tag >> 3, tag & 7
        if wire not in allowed.get(number, ()):
            return WireScan("foreign", start)
        field = names[number]
        seen.add(field)
        if wire == _VARINT:
            if _read_varint(stream) is None:
                return WireScan("truncated", start, field)
        elif wire == _LEN:
            length = _read_varint(stream)
            if length is None or stream.tell() + length > end:
                return WireScan("truncated", start, field)
            stream.seek(length, 1)
        elif stream.seek(8 if wire == _FIXED64 else 4, 1) > end:
            return WireScan("truncated", start, field)
    return WireScan("complete", end, fields=frozenset(seen))


def _read_varint(stream: BinaryIO) -> int | None:
    result = shift = 0
    while shift < 70:
        byte = stream.read(1)
        if not byte:
            return None
        result |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return result
        shift += 7
    return None


def _wire_types(descriptor: Descriptor) -> dict[int, tuple[int, ...]]:
    """The wire types each field may use; packed repeated scalars may also come unpacked."""
    from google.protobuf.descriptor import FieldDescriptor as F  # noqa: PLC0415  (comes with onnx, which loads on first use)

    by_type = {
        F.TYPE_DOUBLE: _FIXED64,
        F.TYPE_FIXED64: _FIXED64,
        F.TYPE_SFIXED64: _FIXED64,
        F.TYPE_FLOAT: _FIXED32,
        F.TYPE_FIXED32: _FIXED32,
        F.TYPE_SFIXED32: _FIXED32,
        F.TYPE_STRING: _LEN,
        F.TYPE_BYTES: _LEN,
        F.TYPE_MESSAGE: _LEN,
    }
    allowed: dict[int, tuple[int, ...]] = {}
    for field in descriptor.fields:
        wire = by_type.get(field.type, _VARINT)
        # `is_repeated` replaced `label` in protobuf 5.28+; older releases only have `label`.
        repeated = getattr(field, "is_repeated", None)
        if repeated is None:
            repeated = field.label == F.LABEL_REPEATED
        repeated_scalar = repeated and wire != _LEN
        allowed[field.number] = (wire, _LEN) if repeated_scalar else (wire,)
    return allowed


def _truncated(label: str, size: int, scan: WireScan) -> TruncatedModelError:
    where = f" inside the model's {scan.field!r} field" if scan.field else ""
    return TruncatedModelError(
        f"{label} is a truncated ONNX model: the file ends after {size:,} bytes{where}, "
        "before the data it declares.",
        "The file was cut short (an interrupted download, copy or export). "
        "Export or download the model again.",
    )


def _not_a_model(data: bytes, label: str) -> NotAnOnnxModelError:
    what, hint = _identify(data)
    return NotAnOnnxModelError(
        f"{label} is not an ONNX model: it looks like {what}.",
        hint,
    )


Finding = tuple[str, str] | None  # (what the file is, what to do), or not recognised


def _identify(data: bytes) -> tuple[str, str]:
    for detector in (_by_magic_bytes, _by_text, _other_onnx_message):
        found = detector(data)
        if found:
            return found
    return (
        "some other binary format (no ONNX model structure at the start of the file)",
        "Check that the path points at an .onnx file exported by an ONNX exporter.",
    )


def _by_magic_bytes(data: bytes) -> Finding:
    head = data[:64]
    for magic, what, hint in _SIGNATURES:
        if head.startswith(magic):
            return what, hint
    if head[4:8] == b"TFL3":
        return "a TensorFlow Lite model", "Convert it with: python -m tf2onnx.convert --tflite FILE"
    if head[4:8] == b"ORTM":
        return (
            "an ONNX Runtime format (.ort) model",
            "The .ort file was converted from an .onnx model: load that original instead.",
        )
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle (an old PyTorch or scikit-learn file?)", _EXPORT_HINT
    if _is_safetensors(data):
        return "a safetensors weights file", _EXPORT_HINT
    return None


def _by_text(data: bytes) -> Finding:
    text = _as_text(data)
    if text is None:
        return None
    stripped = text.lstrip()
    if stripped[:1] in ("{", "[") and _is_json(stripped):
        return "a JSON file", "Pass the .onnx model file, not its JSON description."
    if stripped[:1] == "<":
        return (
            "an HTML or XML document (a download that saved an error page?)",
            "Download the model again and check the URL points at the file itself.",
        )
    return "a text file", "Pass the binary .onnx model file."


def _other_onnx_message(data: bytes) -> Finding:
    """Recognise ONNX protobuf messages that are not models (a lone tensor or graph)."""
    import onnx  # noqa: PLC0415  (heavy: loads on first use)

    candidates = (
        (
            onnx.TensorProto,
            "an ONNX TensorProto (a single tensor, like the input_0.pb files "
            "of ONNX test data), not a model",
            "Use it as a feed: workbench.load_feeds(path).",
        ),
        (
            onnx.GraphProto,
            "an ONNX GraphProto (a bare graph), not a model",
            "Wrap it in a model: onnx.helper.make_model(graph, opset_imports=[...]).",
        ),
    )
    for message_type, what, hint in candidates:
        if scan_wire(data, message_type.DESCRIPTOR).outcome != "complete":
            continue
        try:
            message = message_type.FromString(data)
        except Exception:
            continue
        if _plausible(message):
            return what, hint
    return None


def _plausible(message: onnx.TensorProto | onnx.GraphProto) -> bool:
    import onnx  # noqa: PLC0415  (heavy: loads on first use)

    if isinstance(message, onnx.TensorProto):
        return bool(0 < message.data_type <= max(onnx.TensorProto.DataType.values()))
    return len(message.node) > 0 and all(bool(node.op_type) for node in message.node)


def _is_safetensors(data: bytes) -> bool:
    if len(data) < 10:
        return False
    header_length = int.from_bytes(data[:8], "little")
    return 0 < header_length < len(data) and data[8:9] == b"{"


def _as_text(data: bytes) -> str | None:
    sample = data[:4096]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # a multi-byte character cut at the sample's end is fine
            return None
        text = sample[: exc.start].decode("utf-8")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return text if text and printable / len(text) > 0.95 else None


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        # Only the first 4 KiB were decoded: a long JSON file is cut there, which is fine.
        return len(text) >= 4000
    return True
