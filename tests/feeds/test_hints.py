"""Sizes a model suggests for its free dims: from its metadata and from its own signature."""

from __future__ import annotations

import onnx
import pytest
from onnx import TensorProto, helper

import workbench
from tests import models
from workbench.feeds.hints import DimHints, Hint


def _image_model(input_shape: list, output_shape: list, **metadata: str) -> workbench.Model:
    proto = models.make(
        [helper.make_node("Relu", ["images"], ["out"])],
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, output_shape)],
    )
    if metadata:
        helper.set_model_props(proto, metadata)
    return workbench.load(proto)


@pytest.mark.parametrize(
    ("entry", "size"),
    [({"imgsz": "[640, 480]"}, (640, 480)), ({"image_size": "320"}, (320, 320)),
     ({"input_size": "(1, 3, 224, 192)"}, (224, 192)), ({"resolution": "640x480"}, (480, 640))],
)  # fmt: skip
def test_an_image_size_in_the_metadata_sizes_the_spatial_dims(entry, size) -> None:
    model = _image_model(["batch", 3, "height", "width"], ["batch", 3, "height", "width"], **entry)
    result = model.run()
    assert result.feeds["images"].shape == (1, 3, *size)
    (key,) = entry
    notes = {c.symbol: c.note for c in result.plan.suggested}
    assert notes == {"height": f"metadata {key!r}", "width": f"metadata {key!r}"}


@pytest.mark.parametrize("text", ["72 dpi", "0", "[640, 0]", "99999", "large", "1,2,3,4,5"])
def test_metadata_that_is_no_image_size_suggests_nothing(text) -> None:
    model = _image_model(["batch", 3, "height", "width"], ["batch", 3, "height", "width"],
                         imgsz=text)  # fmt: skip
    assert model.run().feeds["images"].shape == (1, 3, 64, 64)


def test_channels_last_images_and_unnamed_dims_take_the_metadata_too() -> None:
    model = _image_model([1, None, None, 3], [1, None, None, 3], imgsz="[96, 64]")
    assert model.run().feeds["images"].shape == (1, 96, 64, 3)


def test_a_fixed_output_dim_that_inference_ties_to_an_input_symbol_sizes_it() -> None:
    model = _image_model(["batch", 3, "height", "width"], ["batch", 3, 512, 384])
    result = model.run()
    assert result.feeds["images"].shape == (1, 3, 512, 384)
    (height, width) = result.plan.suggested
    assert height.note == "'out' dim 2 is 512 in the model" and width.value == 384


def test_what_the_user_says_comes_before_what_the_model_suggests() -> None:
    model = _image_model(["batch", 3, "height", "width"], ["batch", 3, "height", "width"],
                         imgsz="640")  # fmt: skip
    assert model.run(dims={"height": 32, "width": 32}).feeds["images"].shape == (1, 3, 32, 32)


def test_a_model_inference_cannot_read_just_has_no_hints() -> None:
    proto = models.build("small_cnn")
    proto.graph.node[0].op_type = "NoSuchOp"  # inference stops here; no hint, no error
    hints = DimHints(proto, {}, workbench.load(models.build("small_cnn")).inputs)
    assert hints.found == {}


def test_hints_are_found_once_per_model(monkeypatch) -> None:
    model = _image_model(["batch", 3, "height", "width"], ["batch", 3, 512, 384])
    calls = []
    real = onnx.shape_inference.infer_shapes
    monkeypatch.setattr(
        onnx.shape_inference, "infer_shapes", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    model.run()
    model.run(batch=2)
    assert len(calls) == 1
    assert model.session_source.hints.found["height"] == Hint(
        512, "'out' dim 2 is 512 in the model"
    )
