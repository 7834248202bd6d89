"""The bad-model corpus: every case loads, inspects and runs to a result or a WorkbenchError.

No crash, no hang longer than 10 s (pytest-timeout), no raw traceback on stderr.
"""

from __future__ import annotations

import pytest

import workbench
from tests.hostile.pipeline import exercise
from tests.models import bad

BYTES = bad.corpus()
MODELS = bad.hostile_models()


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", sorted(BYTES))
def test_bad_bytes(name: str, capfd) -> None:
    assert exercise(BYTES[name].data) == f"refused at load: {BYTES[name].error}"
    assert "Traceback" not in capfd.readouterr().err


# What each hostile model deserves: a run, or a refusal of the right kind.
EXPECTED = {
    "cycle": "refused: InvalidModelError",
    "dangling_input": "refused: InvalidModelError",
    "deeply_nested": "ran",
    "duplicate_outputs": "refused: InvalidModelError",
    "huge_dims": "refused: FeedError",
    "initializer_without_data": "refused: InvalidModelError",
    "ir_too_new": "refused: IncompatibleModelError",
    "negative_dims": "refused: FeedError",
    "no_nodes": "ran",
    "opset_1": "refused: SessionError",  # the checker passes it; onnxruntime reads opset 7+
    "opset_99": "refused: IncompatibleModelError",
    "output_never_produced": "refused: InvalidModelError",
    "string_to_relu": "refused: SessionError",  # valid ONNX, no string kernel for Relu
    "unknown_domain": "refused: SessionError",  # the checker skips unknown domains
    "unknown_op": "refused: InvalidModelError",
    "wrong_arity": "refused: InvalidModelError",
    "zero_sized": "ran",
}


def test_every_hostile_model_has_an_expected_outcome() -> None:
    assert set(MODELS) == set(EXPECTED)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_hostile_models(name: str, capfd, recwarn) -> None:
    outcome = exercise(MODELS[name].SerializeToString())
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    assert outcome == EXPECTED[name]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("cut", range(0, 40))
def test_truncations(cut: int) -> None:
    data = workbench.demo_model().read_bytes()
    length = max(1, len(data) * cut // 40)
    assert exercise(data[:length]).startswith("refused at load")


def test_external_data_escaping_the_folder_is_never_read(tmp_path, monkeypatch) -> None:
    import builtins

    import onnx

    from tests import models

    proto = models.build("external_weights")
    for tensor in proto.graph.initializer:
        tensor.data_location = onnx.TensorProto.EXTERNAL
        tensor.ClearField("raw_data")
        entry = tensor.external_data.add()
        entry.key, entry.value = "location", "../../etc/passwd"
    path = tmp_path / "model.onnx"
    path.write_bytes(proto.SerializeToString())
    opened = []
    real_open = builtins.open

    def spy(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    with pytest.raises(workbench.errors.UnsafeExternalDataError):
        workbench.load(path)
    assert not any("passwd" in name for name in opened)


def test_internal_names_that_are_not_utf8_are_shown_escaped_and_left_to_onnxruntime() -> None:
    demo = workbench.demo_model().read_bytes()
    damaged = demo.replace(b"stem.relu", b"stem.r\xe9lu")  # node output and next node's input
    model = workbench.load(damaged)
    assert "stem.r\\xe9lu" in model.graph_text()
    try:
        result = model.run()
    except workbench.WorkbenchError as error:  # onnxruntime quotes the name: shown escaped
        assert "\\xe9" in error.message
    else:
        assert result.outputs
    assert exercise(damaged) in ("ran", "refused: SessionError", "refused: InvalidModelError")


def test_an_undecodable_onnxruntime_message_is_recovered() -> None:
    from workbench.ort import runtime

    error = UnicodeDecodeError("utf-8", b"Node (stem.r\xe9lu) failed", 12, 13, "invalid")
    assert runtime.error_message(error) == "Node (stem.r\\xe9lu) failed"


def test_an_external_data_name_too_long_for_the_filesystem_is_just_missing(tmp_path) -> None:
    import onnx

    from tests import models

    proto = models.build("external_weights")
    tensor = proto.graph.initializer[0]
    tensor.data_location = onnx.TensorProto.EXTERNAL
    tensor.ClearField("raw_data")
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "w" * 5000  # ENAMETOOLONG on every filesystem
    path = tmp_path / "model.onnx"
    path.write_bytes(proto.SerializeToString())
    with pytest.warns(workbench.errors.ExternalDataWarning, match="1 external-data file missing"):
        model = workbench.load(path)
    with pytest.raises(workbench.errors.MissingExternalDataError) as caught:
        model.run()
    assert len(caught.value.message) < 400  # the name is shortened in messages
