"""Inspection: metadata, signature, op statistics, external data, on generated and real models."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import onnx
import pytest

import workbench
from tests import models
from tests.conftest import ort_datasets
from workbench import errors


def test_metadata_of_the_demo_model() -> None:
    model = workbench.load(workbench.demo_model())
    meta = model.metadata
    assert meta.producer_name == "onnx-workbench"
    assert meta.producer_version == workbench.__version__
    assert meta.domain == "ai.onnx-workbench.demo"
    assert meta.model_version == 1
    assert meta.graph_name == "tinynet"
    assert "TinyNet" in meta.doc_string
    assert meta.metadata_props["license"] == "MIT"
    assert meta.metadata_props["classes"].count(",") == 9
    assert meta.ir_version == 8
    assert meta.opset_imports == {"ai.onnx": 17}


def test_symbolic_unknown_and_missing_dims(model_path) -> None:
    model = workbench.load(model_path("symbolic_dims"))
    tokens, mask, anything = model.inputs
    assert (tokens.name, tokens.dtype, tokens.shape) == (
        "tokens",
        "float32",
        ("batch size", "seq-len", 8),
    )
    assert mask.shape == ("batch size", None, 1)
    assert anything.shape is None
    # The initializer "w" is a constant, not an input to feed.
    assert [v.name for v in model.inputs] == ["tokens", "mask", "anything"]
    assert tokens.as_dict() == {
        "name": "tokens",
        "type": "tensor",
        "dtype": "float32",
        "shape": ["batch size", "seq-len", 8],
        "type_str": "tensor(float)",
    }


def test_seq_of_map_outputs_are_described_faithfully(model_path) -> None:
    model = workbench.load(model_path("ml_classifier"))
    label, probabilities = model.outputs
    assert (label.dtype, label.shape) == ("int64", ("N",))
    assert probabilities.type.kind == "sequence"
    assert probabilities.dtype is None and probabilities.shape is None
    inner = probabilities.type.element
    assert inner is not None and inner.kind == "map" and inner.key_dtype == "int64"
    assert inner.element is not None and inner.element.dtype == "float32"
    assert probabilities.type.text == "seq(map(int64,tensor(float)))"
    as_json = probabilities.as_dict()
    assert as_json["type"] == "sequence"
    assert as_json["element"]["type"] == "map"
    assert as_json["element"]["element"] == {
        "type": "tensor",
        "dtype": "float32",
        "shape": [],
        "type_str": "tensor(float)",
    }
    assert model.metadata.opset_imports == {"ai.onnx": 17, "ai.onnx.ml": 3}
    assert model.ops == {"ai.onnx.ml::LinearClassifier": 1, "ai.onnx.ml::ZipMap": 1}


def test_map_inputs_and_optional_outputs(model_path) -> None:
    (features,) = workbench.load(model_path("ml_map_input")).inputs
    assert features.type.text == "map(string,tensor(float))"
    pair, maybe = workbench.load(model_path("sequences_and_optionals")).outputs
    assert (pair.type.kind, maybe.type.kind) == ("sequence", "optional")
    assert maybe.type.text == "optional(tensor(float))"


def test_io_dtypes(model_path) -> None:
    model = workbench.load(model_path("mixed_io"))
    assert [v.dtype for v in model.inputs] == ["float16", "int8", "bool", "string"]
    assert model.outputs[3].type.text == "tensor(string)"


def test_op_histogram_counts_subgraph_nodes(model_path) -> None:
    model = workbench.load(model_path("control_flow"))
    # 5 top-level nodes; If branches hold 1 + 2, the Loop body 2, the Scan body 2.
    assert model.node_count == 12
    assert model.subgraph_count == 4
    assert model.ops["Add"] == 3  # then-branch, loop body, scan body
    assert model.ops["Identity"] == 2
    assert model.ops["Abs"] == 1
    assert next(iter(model.ops)) == "Add"  # most used first


def test_custom_domain_ops_are_prefixed(model_path) -> None:
    model = workbench.load(model_path("contrib_ops"))
    assert model.ops == {
        "QuantizeLinear": 1,
        "DequantizeLinear": 1,
        "com.microsoft::FusedMatMul": 1,
    }
    assert model.compatibility.ok


def test_parameter_counts(model_path) -> None:
    model = workbench.load(model_path("external_weights"))
    assert model.initializer_count == 2
    assert model.parameter_count == 64 + 16
    assert model.initializer_bytes == (64 + 16) * 4


def test_weights_in_constant_nodes_and_onnx_ml_attributes_count(model_path) -> None:
    # A voice-activity model keeps its weights in Constant nodes inside If branches; a
    # scikit-learn export keeps them in LinearClassifier's float attributes.
    vad = workbench.load(models.build("vad_like"))
    assert vad.parameter_count == 4 + 4 + 1  # two [1, 4] branch weights and the rate
    assert vad.parameters["constants"] == {"count": 3, "parameters": 9, "bytes": 40}
    assert vad.parameters["initializers"]["count"] == 0
    assert "Parameters  9 in 3 Constant nodes (40 B)" in vad.text()
    ml = workbench.load(models.build("ml_classifier"))
    assert ml.parameters["ml_attributes"] == {"count": 1, "parameters": 15, "bytes": 60}
    assert "in the attributes of 1 ONNX-ML node (60 B)" in ml.text()
    external = workbench.load(model_path("external_weights"))
    assert "80 in 2 initializers (320 B, 320 B external)" in external.text()
    assert external.as_dict()["parameters"]["initializers"]["external_bytes"] == 320


def test_external_data_is_located_not_read(model_path) -> None:
    path = model_path("external_weights")
    model = workbench.load(path)
    # The weights stay on disk: the loaded initializers carry references, not bytes.
    assert all(not t.raw_data for t in model.proto.graph.initializer)
    assert model.external_data.files == ("external_weights.weights",)
    assert model.external_data.total_bytes == (64 + 16) * 4
    assert model.external_data.missing == ()
    assert model.problems == ()


def test_missing_external_data_warns_on_load_and_blocks_sessions(model_path) -> None:
    path = model_path("external_weights")
    (path.parent / "external_weights.weights").unlink()
    with pytest.warns(errors.ExternalDataWarning, match="missing"):
        model = workbench.load(path)
    assert model.external_data.missing == ("external_weights.weights",)
    assert model.inputs[0].name == "x"  # inspection still works
    with pytest.raises(errors.MissingExternalDataError) as caught:
        model.ensure_runnable()
    assert "external_weights.weights" in caught.value.message
    assert str(path.parent) in caught.value.message
    assert "Copy the weight files" in caught.value.hint


def test_short_external_data_is_reported(model_path) -> None:
    path = model_path("external_weights")
    weights = path.parent / "external_weights.weights"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.warns(errors.ExternalDataWarning):
        model = workbench.load(path)
    assert model.external_data.short == ("external_weights.weights",)
    with pytest.raises(errors.MissingExternalDataError, match="shorter than the tensors"):
        model.ensure_runnable()


def test_external_data_from_memory_needs_a_folder(model_path) -> None:
    path = model_path("external_weights")
    with pytest.warns(errors.ExternalDataWarning, match="loaded from memory"):
        in_memory = workbench.load(path.read_bytes())
    assert in_memory.problems
    found = workbench.load(path.read_bytes(), base_dir=path.parent)
    assert found.problems == ()


@pytest.mark.parametrize(
    "location", ["../../etc/passwd", "/etc/passwd", "sub/../../outside.bin", "C:\\Windows\\x.bin"]
)
def test_external_data_outside_the_folder_is_refused(tmp_path, location: str) -> None:
    proto = models.build("external_weights")
    for tensor in proto.graph.initializer:
        tensor.data_location = onnx.TensorProto.EXTERNAL
        tensor.ClearField("raw_data")
        entry = tensor.external_data.add()
        entry.key, entry.value = "location", location
    path = tmp_path / "evil.onnx"
    path.write_bytes(proto.SerializeToString())
    with pytest.raises(errors.UnsafeExternalDataError) as caught:
        workbench.load(path)
    assert repr(location) in caught.value.message
    assert "refuses to read it" in caught.value.message


def test_external_data_symlink_out_of_the_folder_is_refused(tmp_path, model_path) -> None:
    path = model_path("external_weights")
    weights = path.parent / "external_weights.weights"
    outside = tmp_path.parent / f"{tmp_path.name}-outside.bin"
    outside.write_bytes(weights.read_bytes())
    weights.unlink()
    weights.symlink_to(outside)
    with pytest.raises(errors.UnsafeExternalDataError):
        workbench.load(path)


def test_sha256_is_lazy_and_matches_the_file(model_path) -> None:
    path = model_path("control_flow")
    model = workbench.load(path)
    assert "sha256" not in vars(model)  # not computed by load
    assert model.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert workbench.load(path.read_bytes()).sha256 == model.sha256
    assert model.size_bytes == path.stat().st_size


def test_load_accepts_a_model_proto_and_a_model() -> None:
    proto = models.build("mixed_io")
    model = workbench.load(proto)
    assert model.path is None and model.name == "test"
    assert workbench.load(model) is model


def test_too_new_ir_warns_then_blocks_with_the_one_call_fix(model_path, load_quietly) -> None:
    path = model_path("ir_stamped_too_new")
    with pytest.warns(errors.CompatibilityWarning, match="IR version 99"):
        model = workbench.load(path)
    compat = model.compatibility
    assert not compat.ok and compat.ir_fix_available
    with pytest.raises(errors.IncompatibleModelError) as caught:
        model.ensure_runnable()
    most = compat.max_ir_version
    assert "IR version 99" in caught.value.message
    assert f"reads IR <= {most}" in caught.value.message
    assert compat.runtime in caught.value.message
    assert f"model.with_ir_version({most})" in caught.value.hint
    fixed = model.with_ir_version(most)
    assert fixed.problems == () and fixed.metadata.ir_version == most
    # The fix really works: onnxruntime accepts the copy.
    from workbench.ort.runtime import ort

    session = ort().InferenceSession(
        fixed.proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    assert session.run(None, {"x": np.array([-1, 2], np.float32)})[0].tolist() == [0, 2]


def test_too_new_opset_explains_the_ways_out(model_path) -> None:
    with pytest.warns(errors.CompatibilityWarning):
        model = workbench.load(model_path("opset_too_new"))
    assert model.compatibility.too_new_opsets["ai.onnx"][0] == 999
    assert not model.compatibility.ir_fix_available
    with pytest.raises(errors.IncompatibleModelError) as caught:
        model.ensure_runnable()
    assert "opset ai.onnx 999" in caught.value.message
    assert "opset_version" in caught.value.hint and "Upgrade onnxruntime" in caught.value.hint


def test_lowering_ir_is_not_offered_when_the_model_needs_the_new_ir(model_path) -> None:
    with pytest.warns(errors.CompatibilityWarning):
        model = workbench.load(model_path("new_dtype_new_ir"))
    assert model.compatibility.min_ir_version == 14
    assert not model.compatibility.ir_fix_available
    with pytest.raises(errors.IncompatibleModelError) as caught:
        model.ensure_runnable()
    assert "lowering its IR is not enough" in caught.value.hint


def test_checker_failure_that_onnxruntime_also_refuses(model_path) -> None:
    model = workbench.load(model_path("checker_fails_runtime_refuses"))
    with pytest.raises(errors.InvalidModelError) as caught:
        model.check()
    message = caught.value.message
    assert "onnx.checker" in message and "ghost" in message
    assert "onnxruntime refuses it too" in message
    assert ".cc:" not in message  # no C++ source locations


def test_checker_complaint_that_onnxruntime_runs_only_warns() -> None:
    (mul_1,) = [p for p in ort_datasets() if p.name == "mul_1.onnx"]
    model = workbench.load(mul_1)
    with pytest.warns(errors.CheckerWarning, match="W in initializer but not in graph input"):
        result = model.check()
    assert not result.checker_ok and result.runtime_accepts is True


@pytest.mark.parametrize("path", ort_datasets(), ids=lambda p: p.name)
def test_models_shipped_with_onnxruntime(path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of them may warn on load
        model = workbench.load(path)
    from workbench.ort.runtime import ort

    session = ort().InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [v.name for v in model.inputs] == [i.name for i in session.get_inputs()]
    assert [v.type.text for v in model.outputs] == [o.type for o in session.get_outputs()]
    assert model.compatibility.ok
    summary = model.as_dict()
    assert summary["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_save_is_atomic_and_round_trips(tmp_path) -> None:
    model = workbench.load(models.build("control_flow"))
    target = model.save(tmp_path / "copy.onnx")
    assert workbench.load(target).ops == model.ops
    assert [p.name for p in tmp_path.iterdir()] == ["copy.onnx"]


def test_save_refuses_to_strand_external_weights(model_path, tmp_path) -> None:
    model = workbench.load(model_path("external_weights"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(errors.ExternalDataError, match="leave them behind"):
        model.save(elsewhere / "m.onnx")


def test_a_model_loaded_by_relative_path_survives_a_chdir(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    models.write("external_weights", folder)
    monkeypatch.chdir(folder)
    model = workbench.load("external_weights.onnx")
    monkeypatch.chdir(tmp_path)  # as %cd in a notebook
    assert model.run()  # the session finds the file and its weights
    assert model.sha256
