"""The ONNX backend node tests, run through onnx-workbench and through a bare InferenceSession.

The onnx wheel no longer ships the test data, so `write_cases` regenerates it in the ONNX
test-data layout (model.onnx + test_data_set_N/input_K.pb, output_K.pb) from
`onnx.backend.test.case.node.collect_testcases()`. Run as a script to print the counts:

    python -m tests.peer.backend_suite
"""

from __future__ import annotations

import collections
import json
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

# Tensor types numpy lacks: a bare InferenceSession can feed them through
# OrtValue.ortvalue_from_numpy_with_onnx_type but cannot return them as numpy arrays.
SPECIAL_TYPES = {
    onnx.TensorProto.BFLOAT16,
    onnx.TensorProto.FLOAT8E4M3FN,
    onnx.TensorProto.FLOAT8E4M3FNUZ,
    onnx.TensorProto.FLOAT8E5M2,
    onnx.TensorProto.FLOAT8E5M2FNUZ,
    onnx.TensorProto.UINT4,
    onnx.TensorProto.INT4,
    onnx.TensorProto.FLOAT4E2M1,
    onnx.TensorProto.FLOAT8E8M0,
    onnx.TensorProto.UINT2,
    onnx.TensorProto.INT2,
}


@dataclass(frozen=True)
class Case:
    """One backend test case on disk, with its tolerances."""

    name: str
    folder: Path
    rtol: float
    atol: float


def write_cases(root: Path) -> list[Case]:
    """Write every node test case in the ONNX test-data layout under `root`."""
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the generators overflow casts on purpose
        cases = collect_testcases()
    written = []
    for case in cases:
        folder = root / case.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "model.onnx").write_bytes(case.model.SerializeToString())
        for index, (inputs, outputs) in enumerate(case.data_sets):
            data = folder / f"test_data_set_{index}"
            data.mkdir(exist_ok=True)
            _write_values(data, "input", inputs, case.model.graph.input)
            _write_values(data, "output", outputs, case.model.graph.output)
        written.append(Case(case.name, folder, case.rtol, case.atol))
    return written


def _write_values(folder: Path, role: str, values: list[Any], infos: Any) -> None:
    for index, value in enumerate(values):
        info = infos[index]
        kind = info.type.WhichOneof("value")
        if kind == "map_type":
            proto = numpy_helper.from_dict(value, info.name)
        elif kind == "sequence_type":
            proto = numpy_helper.from_list(value, info.name)
        elif kind == "optional_type":
            proto = numpy_helper.from_optional(value, info.name)
        elif isinstance(value, onnx.TensorProto):
            proto = value
        else:
            proto = numpy_helper.from_array(value, info.name)
        (folder / f"{role}_{index}.pb").write_bytes(proto.SerializeToString())


def data_sets(case: Case) -> Iterator[Path]:
    """The case's test_data_set folders in order."""
    yield from sorted(case.folder.glob("test_data_set_*"))


def run_with_workbench(case: Case) -> str:
    """ "pass", or why not: our public path (load, load_feeds, compare with expected)."""
    import workbench

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", workbench.WorkbenchWarning)
            model = workbench.load(case.folder / "model.onnx")
        for folder in data_sets(case):
            feeds = workbench.load_feeds(folder, model)
            result = model.run(feeds, allow_nonfinite=True)
            expected = workbench.load_outputs(folder, model)
            if not _all_match(result.outputs, expected, case):
                return "fail: outputs differ"
    except workbench.WorkbenchError as error:
        return f"error: {type(error).__name__}: {error.message[:200]}"
    finally:
        if "model" in locals():
            model.close()
    return "pass"


def run_bare(case: Case) -> str:
    """ "pass", or why not: a bare onnxruntime.InferenceSession, the way its users write it."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4
    try:
        session = ort.InferenceSession(
            str(case.folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        graph = onnx.load(case.folder / "model.onnx", load_external_data=False).graph
        for folder in data_sets(case):
            feeds = {}
            for index, info in enumerate(graph.input):
                path = folder / f"input_{index}.pb"
                if path.exists():
                    feeds[info.name] = _read_bare(path, info, ort)
            names = [o.name for o in session.get_outputs()]
            if any(isinstance(v, ort.OrtValue) for v in feeds.values()):
                values = {
                    k: v if isinstance(v, ort.OrtValue) else ort.OrtValue.ortvalue_from_numpy(v)
                    for k, v in feeds.items()
                }
                results = [r.numpy() for r in session.run_with_ort_values(names, values)]
            else:
                results = session.run(names, feeds)
            expected = {}
            for index, info in enumerate(graph.output):
                expected[info.name] = _read_bare(folder / f"output_{index}.pb", info, None)
            if not _all_match(dict(zip(names, results, strict=True)), expected, case):
                return "fail: outputs differ"
    except Exception as error:
        return f"error: {type(error).__name__}: {str(error)[:200]}"
    return "pass"


def _read_bare(path: Path, info: Any, ort: Any) -> Any:
    kind = info.type.WhichOneof("value")
    data = path.read_bytes()
    if kind == "sequence_type":
        return numpy_helper.to_list(onnx.SequenceProto.FromString(data))
    if kind == "map_type":
        return numpy_helper.to_dict(onnx.MapProto.FromString(data))
    if kind == "optional_type":
        return numpy_helper.to_optional(onnx.OptionalProto.FromString(data))
    tensor = onnx.TensorProto.FromString(data)
    array = numpy_helper.to_array(tensor)
    if ort is not None and tensor.data_type in SPECIAL_TYPES:
        raw = array.view(np.uint8 if array.itemsize == 1 else np.uint16)
        return ort.OrtValue.ortvalue_from_numpy_with_onnx_type(raw, tensor.data_type)
    return array


def _all_match(actual: dict[str, Any], expected: dict[str, Any], case: Case) -> bool:
    return set(expected) <= set(actual) and all(
        _match(actual[name], value, case.rtol, case.atol) for name, value in expected.items()
    )


def _match(actual: Any, expected: Any, rtol: float, atol: float) -> bool:
    """numpy.testing.assert_allclose semantics, as onnx's backend runner uses them."""
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_match(a, e, rtol, atol) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(actual) == set(expected)
            and all(_match(actual[k], expected[k], rtol, atol) for k in expected)
        )
    if expected is None or actual is None:
        return expected is None and actual is None
    a, b = np.asarray(actual), np.asarray(expected)
    if a.shape != b.shape:
        return False
    if b.dtype.kind in "OUSb" or a.dtype.kind in "OUSb":
        return bool(np.array_equal(a, b))
    if b.dtype.kind == "V" or a.dtype.kind == "V":  # ml_dtypes
        a, b = a.astype(np.float64), b.astype(np.float64)
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def uses_special_types(case: Case) -> bool:
    """True when an input or output of the case has a type numpy lacks."""
    graph = onnx.load(case.folder / "model.onnx", load_external_data=False).graph
    return any(v.type.tensor_type.elem_type in SPECIAL_TYPES for v in (*graph.input, *graph.output))


def run_all(root: Path) -> dict[str, dict[str, str]]:
    """Outcome per case for both paths: {"workbench": {...}, "bare": {...}}."""
    cases = write_cases(root)
    return {
        "workbench": {c.name: run_with_workbench(c) for c in cases},
        "bare": {c.name: run_bare(c) for c in cases},
        "cases": {c.name: str(c.folder) for c in cases},
    }


def summary(outcomes: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Counts of passes and of failure kinds for each path."""
    result: dict[str, Any] = {"cases": len(outcomes["cases"])}
    for path in ("workbench", "bare"):
        kinds = collections.Counter(
            o.split(":")[0] if o != "pass" else "pass" for o in outcomes[path].values()
        )
        errors = collections.Counter(
            o.split(":")[1].strip() for o in outcomes[path].values() if o.startswith("error")
        )
        result[path] = {"counts": dict(kinds), "errors": dict(errors.most_common())}
    return result


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(summary(run_all(Path(tmp))), indent=2))
