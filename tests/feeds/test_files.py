"""Feeds and expected outputs from .npy, .npz, .pb and ONNX test_data_set folders."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import workbench
from tests import models
from workbench.errors import FeedError
from workbench.feeds.files import load_feeds, load_outputs


def test_npz_names_come_from_keys(tmp_path) -> None:
    np.savez(
        tmp_path / "f.npz",
        input_ids=np.ones((1, 3), np.int64),
        attention_mask=np.ones((1, 3), np.int64),
    )
    feeds = load_feeds(tmp_path / "f.npz")
    assert set(feeds) == {"input_ids", "attention_mask"}


def test_npy_takes_the_single_input_name(tmp_path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((1, 3, 32, 32), np.float32))
    model = workbench.load(workbench.demo_model())
    assert list(load_feeds(tmp_path / "x.npy", model)) == ["image"]


def test_pickled_arrays_are_refused(tmp_path) -> None:
    np.save(tmp_path / "evil.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(FeedError, match="pickled Python objects"):
        load_feeds(tmp_path / "evil.npy")
    np.savez(tmp_path / "evil.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(FeedError, match="pickled"):
        load_feeds(tmp_path / "evil.npz")


def test_test_data_set_folder_round_trip(tmp_path) -> None:
    model = workbench.load(models.build("ml_classifier"))
    features = np.arange(8, dtype=np.float32).reshape(2, 4)
    result = model.run({"features": features})
    folder = tmp_path / "test_data_set_0"
    folder.mkdir()
    unnamed = numpy_helper.from_array(features)  # no name: matched by position
    (folder / "input_0.pb").write_bytes(unnamed.SerializeToString())
    (folder / "output_0.pb").write_bytes(
        numpy_helper.from_array(result["label"], "label").SerializeToString()
    )
    probabilities = onnx.SequenceProto(name="probabilities", elem_type=onnx.SequenceProto.MAP)
    probabilities.map_values.extend(numpy_helper.from_dict(d) for d in result["probabilities"])
    (folder / "output_1.pb").write_bytes(probabilities.SerializeToString())
    feeds = load_feeds(folder, model)
    np.testing.assert_array_equal(feeds["features"], features)
    expected = load_outputs(folder, model)
    assert expected["label"].tolist() == result["label"].tolist()
    assert isinstance(expected["probabilities"], list) and len(expected["probabilities"]) == 2
    comparison = workbench.compare(model, ["cpu"], feeds, expected=folder)
    assert comparison.passed and comparison.baseline == "expected"


def test_single_pb_file(tmp_path) -> None:
    path = tmp_path / "input_0.pb"
    path.write_bytes(numpy_helper.from_array(np.ones((2, 2), np.float32), "x").SerializeToString())
    assert load_feeds(path)["x"].shape == (2, 2)


def test_unknown_files_and_folders(tmp_path) -> None:
    with pytest.raises(FeedError, match="unknown file type"):
        (tmp_path / "feeds.csv").write_text("1,2")
        load_feeds(tmp_path / "feeds.csv")
    with pytest.raises(FeedError, match=r"holds no input_K\.pb"):
        load_feeds(tmp_path)
    with pytest.raises(FeedError, match="No input file"):
        load_feeds(tmp_path / "missing.npz")
    (tmp_path / "garbage.pb").write_bytes(b"\xff\xff\xff")
    with pytest.raises(FeedError, match="is not an ONNX TensorProto"):
        load_feeds(tmp_path / "garbage.pb")


def test_tensor_proto_given_as_model_points_to_load_feeds(tmp_path) -> None:
    path = tmp_path / "input_0.onnx"
    path.write_bytes(onnx.numpy_helper.from_array(np.ones(3, np.float32), "x").SerializeToString())
    with pytest.raises(workbench.errors.NotAnOnnxModelError, match="load_feeds"):
        workbench.load(path)
