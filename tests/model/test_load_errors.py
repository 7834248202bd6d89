"""Every way `load` can fail gets its own error class and a message that says what to do."""

from __future__ import annotations

import pytest

import workbench
from tests.models import bad
from workbench import errors

CORPUS = bad.corpus()


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bad_bytes_get_a_clear_error(name: str, tmp_path) -> None:
    case = CORPUS[name]
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(case.data)
    with pytest.raises(getattr(errors, case.error)) as caught:
        workbench.load(path)
    message = str(caught.value)
    for fragment in case.says:
        assert fragment in message, message
    assert str(path) in message
    assert caught.value.hint, "every user error carries a hint"
    assert "Traceback" not in message and "DecodeError" not in message


@pytest.mark.parametrize("name", ["empty", "json", "truncated_in_graph"])
def test_bytes_sources_fail_the_same_way(name: str) -> None:
    case = CORPUS[name]
    with pytest.raises(getattr(errors, case.error)) as caught:
        workbench.load(case.data)
    assert "The given data" in caught.value.message


def test_every_truncation_of_a_model_is_reported_as_such() -> None:
    from workbench.demo import build_demo_model

    data = build_demo_model().SerializeToString()
    for cut in bad.truncations(data):
        with pytest.raises(errors.ModelLoadError) as caught:
            workbench.load(cut)
        assert isinstance(caught.value, (errors.TruncatedModelError, errors.CorruptModelError)), (
            len(cut),
            caught.value,
        )


def test_missing_file_suggests_close_names(tmp_path) -> None:
    (tmp_path / "resnet50.onnx").write_bytes(b"x")
    with pytest.raises(errors.ModelNotFoundError) as caught:
        workbench.load(tmp_path / "resnet5.onnx")
    assert "No model file at" in caught.value.message
    assert "resnet50.onnx" in caught.value.hint


def test_missing_file_without_neighbours_names_the_working_directory(tmp_path) -> None:
    with pytest.raises(errors.ModelNotFoundError) as caught:
        workbench.load(tmp_path / "nowhere" / "model.onnx")
    assert "relative paths start from" in caught.value.hint


def test_a_folder_lists_its_models(tmp_path) -> None:
    (tmp_path / "a.onnx").write_bytes(b"x")
    with pytest.raises(errors.ModelNotFoundError, match=r"is a folder.*a\.onnx"):
        workbench.load(tmp_path)


def test_wrong_source_type_is_a_user_error() -> None:
    with pytest.raises(errors.WorkbenchError, match=r"takes a path, bytes or an onnx\.ModelProto"):
        workbench.load(42)


def test_corrupt_inside_a_well_formed_outline(tmp_path) -> None:
    import onnx

    proto = onnx.ModelProto(ir_version=8)
    proto.graph.name = "g"
    data = bytearray(proto.SerializeToString())
    # Replace the graph's bytes with an invalid tag (field 0) of the same length.
    graph_start = data.index(b"\x3a") + 2
    data[graph_start : graph_start + 1] = b"\x00"
    with pytest.raises(errors.CorruptModelError, match="damaged"):
        workbench.load(bytes(data))


def test_is_model_file_reads_only_the_layout(tmp_path) -> None:
    # The server's check before it serves a file to the viewer.
    from workbench.model.parsing import is_model_file

    data = workbench.demo_model().read_bytes()
    cases = {"whole.onnx": data, "ort.ort": b"\x00\x00\x00\x00ORTM" + bytes(8)}
    cases |= {f"cut{n}.onnx": data[:n] for n in (1, 10, len(data) // 2, len(data) - 1)}
    cases |= {f"{name}.onnx": case.data for name, case in bad.corpus().items()}
    verdicts = {}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        verdicts[name] = is_model_file(tmp_path / name)
    accepted = {name for name, ok in verdicts.items() if ok}
    # Damage inside the graph keeps the layout: those two pass, and the viewer reports them.
    assert accepted == {
        "whole.onnx",
        "ort.ort",
        "output_name_not_utf8.onnx",
        "nested_too_deep.onnx",
    }
