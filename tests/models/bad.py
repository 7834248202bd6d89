"""The bad-input corpus: files that are not usable ONNX models, and what each must say."""

from __future__ import annotations

import json
import struct
import zipfile
from dataclasses import dataclass
from io import BytesIO

import numpy as np
import onnx
from onnx import numpy_helper

from tests import models


@dataclass(frozen=True)
class BadFile:
    """Bytes to load, the error class expected, and fragments its message must contain."""

    data: bytes
    error: str
    says: tuple[str, ...]


def _demo_bytes() -> bytes:
    from workbench.demo import build_demo_model

    return build_demo_model().SerializeToString()


def _zip() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    return buffer.getvalue()


def corpus() -> dict[str, BadFile]:
    """Every case `load` must refuse, by name."""
    demo = _demo_bytes()
    rng = np.random.default_rng(7)
    tensor = numpy_helper.from_array(np.ones((2, 3), np.float32), "input_0").SerializeToString()
    graph = models.build("external_weights").graph.SerializeToString()
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + bytes(17)
    return {
        "empty": BadFile(b"", "EmptyModelError", ("is empty", "0 bytes")),
        "random_bytes": BadFile(
            bytes([0xFF, 0xFF]) + rng.bytes(4096), "NotAnOnnxModelError", ("not an ONNX model",)
        ),
        "json": BadFile(
            json.dumps({"model": "resnet", "layers": [1, 2]}).encode(),
            "NotAnOnnxModelError",
            ("a JSON file",),
        ),
        "png": BadFile(png, "NotAnOnnxModelError", ("a PNG image",)),
        "zip_checkpoint": BadFile(
            _zip(), "NotAnOnnxModelError", ("ZIP archive", "torch.onnx.export")
        ),
        "pickle": BadFile(b"\x80\x04\x95\x10\x00", "NotAnOnnxModelError", ("pickle",)),
        "lfs_pointer": BadFile(
            b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n",
            "NotAnOnnxModelError",
            ("Git LFS pointer", "git lfs pull"),
        ),
        "html_error_page": BadFile(
            b"<!DOCTYPE html><html><body>404 Not Found</body></html>",
            "NotAnOnnxModelError",
            ("HTML",),
        ),
        "tensor_proto": BadFile(tensor, "NotAnOnnxModelError", ("TensorProto", "load_feeds")),
        "graph_proto": BadFile(graph, "NotAnOnnxModelError", ("GraphProto", "make_model")),
        "truncated_in_graph": BadFile(
            demo[: len(demo) // 2],
            "TruncatedModelError",
            ("truncated", "'graph'"),
        ),
        "truncated_before_graph": BadFile(
            _header_only(demo),
            "TruncatedModelError",
            ("no graph",),
        ),
    }


def _header_only(data: bytes) -> bytes:
    """The model's fields that precede the graph (ir_version, producer...), nothing more."""
    proto = onnx.ModelProto.FromString(data)
    proto.ClearField("graph")
    proto.ClearField("opset_import")
    proto.ClearField("metadata_props")
    return proto.SerializeToString()


def truncations(data: bytes, count: int = 40) -> list[bytes]:
    """`data` cut at `count` offsets spread over the file (never the full length)."""
    offsets = np.unique(np.linspace(1, len(data) - 1, count).astype(int))
    return [data[:offset] for offset in offsets]
