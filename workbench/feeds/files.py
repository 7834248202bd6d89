"""Feeds and expected outputs from files: .npy, .npz, ONNX .pb protos, test_data_set folders.

The ONNX test-data layout is `test_data_set_N/input_K.pb` (and `output_K.pb`), each a
TensorProto, SequenceProto, MapProto or OptionalProto. Files are untrusted: pickled objects
inside .npy/.npz are refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from workbench.errors import FeedError
from workbench.model.parsing import scan_wire

if TYPE_CHECKING:
    from workbench.model.model import Model

T = TypeVar("T")
_INDEXED = re.compile(r"^(input|output)_(\d+)\.pb$")


def load_feeds(path: str | os.PathLike[str], model: Model | None = None) -> dict[str, Any]:
    """Feeds from a .npz, .npy or .pb file, or a test_data_set folder of input_K.pb files.

    Names come from the file (npz keys, TensorProto names); where a file carries none, the
    model's inputs are matched by position.
    """
    return _load(Path(path), "input", model)


def load_outputs(path: str | os.PathLike[str], model: Model | None = None) -> dict[str, Any]:
    """Expected outputs: like `load_feeds`, from output_K.pb files or an .npz."""
    return _load(Path(path), "output", model)


def load_samples(data: Any, model: Model | None = None) -> list[dict[str, Any]]:
    """Several sets of feeds: a dict, a list of dicts, or a file or folder `load_feeds` reads.

    A folder of `test_data_set_N` folders gives one sample per folder, in order.
    """
    if isinstance(data, str | os.PathLike):
        found = Path(data)
        folders = sorted(found.glob("test_data_set_*"), key=_set_number) if found.is_dir() else []
        return [load_feeds(p, model) for p in folders or [found]]
    if isinstance(data, Mapping):
        return [dict(data)]
    if isinstance(data, Iterable):
        samples = list(data)
        if all(isinstance(s, Mapping) for s in samples):
            return [dict(s) for s in samples]
    raise FeedError(
        f"Cannot read samples from a {type(data).__name__}.",
        "Pass a dict of feeds, a list of them, an .npz file, a test_data_set folder or a "
        "folder of them.",
    )


def _set_number(folder: Path) -> tuple[int, str]:
    """test_data_set_10 after test_data_set_9."""
    suffix = folder.name.rpartition("_")[2]
    return (int(suffix) if suffix.isdigit() else -1, folder.name)


def _load(path: Path, role: str, model: Model | None) -> dict[str, Any]:
    if model is not None and not hasattr(model, "inputs"):
        raise FeedError(
            f"load_{role}s() names {role}s after a loaded model, not a {type(model).__name__}.",
            "Pass the model workbench.load() returned: load_feeds(path, workbench.load(...)).",
        )
    if not path.exists():
        raise FeedError(f"No {role} file or folder at {str(path)!r}.", "Check the path.")
    names = _names(model, role)
    if path.is_dir():
        return _load_folder(path, role, model)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _refuse_pickles(path, lambda: _read_npz(path))
    if suffix == ".npy":
        array = _refuse_pickles(path, lambda: np.load(path, allow_pickle=False))
        name = names[0] if len(names) == 1 else path.stem
        return {name: array}
    if suffix == ".pb":
        name, value = read_proto_value(path, _kind_at(model, role, 0))
        return {name or (names[0] if names else path.stem): value}
    raise FeedError(
        f"Cannot read {role}s from {path.name!r}: unknown file type {suffix!r}.",
        "Use .npz (several named arrays), .npy (one array), .pb (ONNX TensorProto) or a "
        "test_data_set_N folder of input_K.pb files.",
    )


def _read_npz(path: Path) -> dict[str, Any]:
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def _load_folder(folder: Path, role: str, model: Model | None) -> dict[str, Any]:
    names = _names(model, role)
    files = sorted(
        (int(m.group(2)), p)
        for p in folder.iterdir()
        if (m := _INDEXED.match(p.name)) and m.group(1) == role
    )
    if not files:
        if model is not None and not names:
            return {}  # a model without inputs (or outputs) needs no files
        raise FeedError(
            f"{str(folder)!r} holds no {role}_K.pb files.",
            "Point at a test_data_set_N folder from the ONNX test-data layout.",
        )
    values: dict[str, Any] = {}
    for index, path in files:
        name, value = read_proto_value(path, _kind_at(model, role, index))
        if not name:
            if index >= len(names):
                raise FeedError(
                    f"{path.name} has no tensor name and the model has no {role} #{index}.",
                    f"Pass the model so {role}s can be matched by position.",
                )
            name = names[index]
        values[name] = value
    return values


def read_proto_value(path: Path, kind: str | None) -> tuple[str, Any]:
    """(name, value) of a serialized TensorProto/SequenceProto/MapProto/OptionalProto."""
    import onnx  # noqa: PLC0415  (heavy: imported on first use)

    data = path.read_bytes()
    order = {
        "sequence": (onnx.SequenceProto,),
        "map": (onnx.MapProto,),
        "optional": (onnx.OptionalProto,),
    }.get(kind or "", ())
    candidates = (*order, onnx.TensorProto, onnx.SequenceProto, onnx.MapProto, onnx.OptionalProto)
    for message_type in candidates:
        if scan_wire(data, message_type.DESCRIPTOR).outcome != "complete":
            continue
        try:
            message = message_type.FromString(data)
            return message.name, _to_python(message)
        except Exception:
            continue
    raise FeedError(
        f"{str(path)!r} is not an ONNX TensorProto, SequenceProto, MapProto or OptionalProto.",
        "Save feeds with onnx.numpy_helper.from_array(array, name).SerializeToString().",
    )


def _to_python(message: Any) -> Any:
    import onnx  # noqa: PLC0415  (heavy: loads on first use)
    from onnx import numpy_helper  # noqa: PLC0415  (heavy: loads on first use)

    if isinstance(message, onnx.TensorProto):
        return numpy_helper.to_array(message)
    if isinstance(message, onnx.SequenceProto):
        return numpy_helper.to_list(message)
    if isinstance(message, onnx.MapProto):
        return numpy_helper.to_dict(message)
    return numpy_helper.to_optional(message)


def _names(model: Model | None, role: str) -> list[str]:
    if model is None:
        return []
    values = model.inputs if role == "input" else model.outputs
    return [v.name for v in values]


def _kind_at(model: Model | None, role: str, index: int) -> str | None:
    if model is None:
        return None
    values = model.inputs if role == "input" else model.outputs
    return values[index].type.kind if index < len(values) else None


def _refuse_pickles(path: Path, read: Callable[[], T]) -> T:
    try:
        return read()
    except ValueError as exc:
        raise FeedError(
            f"{str(path)!r} holds pickled Python objects, which are not loaded (a pickle can "
            f"run code): {exc}",
            "Save plain numeric arrays: np.save(path, array) with a numeric dtype.",
        ) from None
