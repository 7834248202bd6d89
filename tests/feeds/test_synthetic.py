"""Synthetic feeds for any signature, and validation of the user's own feeds."""

from __future__ import annotations

import re

import numpy as np
import onnx
import pytest

import workbench
from tests import models
from workbench.errors import FeedError
from workbench.feeds.synthetic import DEFAULT_FREE_DIM, plan_shapes, synthesize


def load(name: str) -> workbench.Model:
    return workbench.load(models.build(name))


def test_every_standard_dtype_round_trips_through_onnxruntime() -> None:
    result = load("standard_dtypes").run(dims={"n": 5})
    for name in models.STANDARD_DTYPES:
        value = result[f"out_{name}"]
        assert value.shape == (5,)
        assert value.dtype == (object if name == "string" else np.dtype(name))


def test_types_numpy_lacks_go_through_ortvalues() -> None:
    import ml_dtypes

    model = load("special_dtypes")
    feeds = {
        "in_bfloat16": np.array([1.5, -2, 3], ml_dtypes.bfloat16),
        "in_float8_e4m3fn": np.array([0.5, 1, -2], ml_dtypes.float8_e4m3fn),
        "in_float8_e5m2": np.array([0.5, 1, -2], ml_dtypes.float8_e5m2),
        "in_int4": np.array([-8, 0, 7], ml_dtypes.int4),
        "in_uint4": np.array([0, 9, 15], ml_dtypes.uint4),
    }
    result = model.run(feeds)
    for name, value in feeds.items():
        dtype = name.removeprefix("in_")
        assert result[f"as_float_{dtype}"].tolist() == value.astype(np.float32).tolist()
        assert result[f"out_{dtype}"].dtype == value.dtype
        assert result[f"out_{dtype}"].tolist() == value.tolist()


def test_synthetic_feeds_cover_sequences_maps_and_optionals() -> None:
    assert load("sequence_input").run()["joined"].shape == (2 * DEFAULT_FREE_DIM,)
    assert load("optional_input").run()["present"].item() is True
    assert load("ml_map_input").run()["vector"].shape == (1, 3)


def test_defaults_batch_one_and_free_dims_64() -> None:
    plan = plan_shapes(load("symbolic_dims").inputs)
    assert plan.shapes["tokens"] == (1, DEFAULT_FREE_DIM, 8)
    assert plan.shapes["mask"] == (1, DEFAULT_FREE_DIM, 1)  # unnamed dim -> default
    assert plan.shapes["anything"] == (DEFAULT_FREE_DIM,)  # unknown rank -> a vector
    assert {c.describe() for c in plan.guesses} >= {"tokens dim 1 ('seq-len') = 64"}
    assert plan.batch == 1


def test_dims_shapes_and_batch_take_effect() -> None:
    inputs = load("symbolic_dims").inputs
    plan = plan_shapes(inputs, dims={"seq-len": 7}, batch=3, shapes={"anything": [2, 2]})
    assert plan.shapes["tokens"] == (3, 7, 8)
    assert plan.shapes["mask"] == (3, DEFAULT_FREE_DIM, 1)
    assert plan.shapes["anything"] == (2, 2)
    assert plan.batch == 3


def test_inputs_sharing_a_symbol_agree() -> None:
    feeds = synthesize(load("two_inputs_shared_dims").inputs, dims={"seq": 9}, batch=4).values
    assert feeds["input_ids"].shape == feeds["attention_mask"].shape == (4, 9)


def test_batch_dim_can_be_named() -> None:
    plan = plan_shapes(load("symbolic_dims").inputs, batch=6, batch_dim="seq-len")
    # "seq-len" takes the batch size; "batch size", no longer the batch, is an ordinary free dim.
    assert plan.shapes["tokens"] == (DEFAULT_FREE_DIM, 6, 8)
    assert plan.shapes["mask"] == (DEFAULT_FREE_DIM, DEFAULT_FREE_DIM, 1)
    assert plan.batch == 6
    sources = {(c.input, c.index): c.source for c in plan.choices}
    assert sources[("tokens", 1)] == "batch" and sources[("tokens", 0)] == "default"


def test_fixed_batch_model_says_so() -> None:
    model = load("fixed_batch")
    assert model.run(batch=1)["y"].shape == (1, 3, 8, 8)
    with pytest.raises(FeedError) as caught:
        model.run(batch=8)
    assert "batch dim is fixed" in caught.value.message and "not 8" in caught.value.message
    assert "dynamic_axes" in caught.value.hint


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"dims": {"seqlen": 5}}, "Did you mean 'seq-len'?"),
        ({"dims": {"seq-len": -1}}, "non-negative integer"),
        ({"shapes": {"tokenz": [1, 2, 8]}}, "Did you mean 'tokens'?"),
        ({"shapes": {"tokens": [1, 2]}}, "has 2 dims, but the input has 3"),
        ({"shapes": {"tokens": [1, 2, 9]}}, "model fixes it at 8"),
        ({"batch_dim": "nope"}, "not a symbolic dim"),
    ],
)
def test_bad_shape_requests(kwargs, fragment) -> None:
    with pytest.raises(FeedError, match=fragment):
        plan_shapes(load("symbolic_dims").inputs, **kwargs)


def test_synthetic_feeds_are_seeded_and_reproducible() -> None:
    inputs = load("symbolic_dims").inputs
    a = synthesize(inputs, seed=1).values["tokens"]
    b = synthesize(inputs, seed=1).values["tokens"]
    c = synthesize(inputs, seed=2).values["tokens"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_integer_inputs_stay_small_and_non_negative_unless_overridden() -> None:
    inputs = load("two_inputs_shared_dims").inputs
    ids = synthesize(inputs).values["input_ids"]
    assert ids.min() >= 0 and ids.max() <= 1
    ranged = synthesize(inputs, ranges={"input_ids": (100, 200), "attention_mask": 1}).values
    assert ranged["input_ids"].min() >= 100 and ranged["input_ids"].max() < 200
    assert (ranged["attention_mask"] == 1).all()
    with pytest.raises(FeedError, match="not inputs of the model"):
        synthesize(inputs, ranges={"ids": 1})


def test_runtime_failure_names_the_node_and_the_guessed_dims() -> None:
    model = load("reshape_baked")
    with pytest.raises(workbench.errors.RunError) as caught:
        model.run()
    message = caught.value.message
    assert "node 'encoder/Reshape' (Reshape)" in message
    assert "tokens dim 1 ('seq') = 64" in message
    assert "dims={'batch': ..., 'seq': ...}" in caught.value.hint
    assert model.run(dims={"seq": 128})["blocks"].shape == (1, 16, 8)


def _feeds(**overrides):
    feeds = {"input_ids": np.zeros((2, 5), np.int64), "attention_mask": np.ones((2, 5), np.int64)}
    feeds.update(overrides)
    return feeds


@pytest.mark.parametrize(
    ("feeds", "fragment", "hint"),
    [
        (_feeds(input_idz=np.zeros(1)), "'input_idz' is not an input", "Inputs:"),
        (_feeds(input_ids=np.zeros((2, 5), np.float32)), "expects int64, got float32", "astype"),
        (_feeds(input_ids=np.zeros((2, 5, 1), np.int64)), "expects 2 dims", "x[None]"),
        (_feeds(attention_mask=np.ones((2, 6), np.int64)), "disagree on dim 'seq'", "same size"),
        (_feeds(input_ids=np.array([["a", "b"]])), "got text (<U1)", "numbers"),
        (_feeds(input_ids=[["a", "b"]]), "got text", "numbers"),
        ([np.zeros(3)], "must be a dict", "input_ids"),
    ],
)
def test_user_feed_mistakes(feeds, fragment, hint) -> None:
    model = load("two_inputs_shared_dims")
    with pytest.raises(FeedError) as caught:
        model.run(feeds)
    assert fragment in caught.value.message
    assert hint in caught.value.hint


def test_text_arrays_feed_string_inputs_and_bytes_are_named() -> None:
    model = workbench.load(_string_model())
    assert model.run({"words": np.array(["red", "blue"])})["same"].tolist() == ["red", "blue"]
    with pytest.raises(FeedError, match=r"expects string, got bytes \(\|S3\)") as caught:
        model.run({"words": np.array([b"red"])})
    assert "decode them first" in caught.value.hint


def _string_model() -> onnx.ModelProto:
    return models.make(
        [onnx.helper.make_node("Identity", ["words"], ["same"])],
        [onnx.helper.make_tensor_value_info("words", onnx.TensorProto.STRING, ["n"])],
        [onnx.helper.make_tensor_value_info("same", onnx.TensorProto.STRING, ["n"])],
    )


def test_fixed_dims_are_checked() -> None:
    with pytest.raises(FeedError, match=r"dim 1 must be 3, got 4"):
        workbench.load(workbench.demo_model()).run({"image": np.zeros((1, 4, 32, 32), np.float32)})


def test_nan_and_inf_are_refused_unless_allowed() -> None:
    model = workbench.load(workbench.demo_model())
    image = np.zeros((1, 3, 32, 32), np.float32)
    image[0, 0, 0, :3] = [np.nan, np.inf, -np.inf]
    with pytest.raises(FeedError, match="1 NaN and 2 infinite values") as caught:
        model.run({"image": image})
    assert "allow_nonfinite=True" in caught.value.hint
    assert np.isnan(model.run({"image": image}, allow_nonfinite=True)["logits"]).all()


def test_huge_finite_values_are_not_mistaken_for_infinity() -> None:
    model = workbench.load(workbench.demo_model())
    image = np.full((1, 3, 32, 32), 1e30, np.float32)  # squares overflow; values are finite
    assert model.run({"image": image})["logits"].shape == (1, 10)


def test_python_lists_are_converted() -> None:
    model = load("two_inputs_shared_dims")
    result = model.run({"input_ids": [[1, 2]], "attention_mask": [[1, 0]]})
    assert result["masked"].tolist() == [[1.0, 0.0]]


def _one_input(shape, elem=onnx.TensorProto.INT8) -> workbench.Model:
    value = onnx.helper.make_tensor_value_info("x", elem, shape)
    return workbench.load(
        models.make(
            [onnx.helper.make_node("Identity", ["x"], ["y"])],
            [value],
            [onnx.helper.make_tensor_value_info("y", elem, shape)],
        )
    )


def test_feeds_too_large_to_build_are_refused_before_allocating() -> None:
    # 2**31 int8 values are only 2 GiB, but numpy draws them as int64 first: 18 GiB at peak.
    with pytest.raises(FeedError, match=r"18\.0 GiB .*'x' has shape \[2147483648\].* 4 GiB limit"):
        synthesize(_one_input([2**31]).inputs)
    with pytest.raises(FeedError, match="shapes=") as caught:
        _one_input(["n", 4]).run(dims={"n": 2**40})
    assert "Set smaller dims" in caught.value.hint


def test_a_dim_too_large_for_any_array_is_refused_even_beside_a_zero() -> None:
    with pytest.raises(FeedError, match=r"no array can have a dim that large"):
        _one_input([2**62, 0, 8]).run()


def test_a_negative_dim_declared_by_the_model_is_refused() -> None:
    with pytest.raises(FeedError, match=r"negative dim: \[-3, 4\]"):
        _one_input([-3, 4]).run()


def test_a_feed_that_runs_out_of_memory_is_a_feed_error(monkeypatch) -> None:
    from workbench.feeds import synthetic as inputs

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(inputs, "_value_for", exhausted)
    with pytest.raises(FeedError, match="Not enough memory to build synthetic input 'x'"):
        synthesize(_one_input([4]).inputs)


def test_an_input_of_unknown_rank_is_listed_as_such_not_as_a_scalar() -> None:
    relu = models.make(
        [onnx.helper.make_node("Relu", ["x"], ["y"])],
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, None)],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
    )
    with pytest.raises(FeedError) as caught:
        workbench.load(relu).run({"z": np.zeros(3, np.float32)})
    assert "x tensor(float) unknown rank" in str(caught.value)


def test_an_element_type_newer_than_the_workbench_is_a_clear_error() -> None:
    from tests.models import make

    proto = make(
        [onnx.helper.make_node("Identity", ["x"], ["y"])],
        [onnx.helper.make_tensor_value_info("x", 99, [2])],
        [onnx.helper.make_tensor_value_info("y", 99, [2])],
    )
    model = workbench.load(proto)  # inspection works: the type is named, not understood
    assert model.inputs[0].dtype == "dtype99"
    with pytest.raises(FeedError, match="element type onnx-workbench does not know"):
        synthesize(model.inputs)
    with pytest.raises(workbench.WorkbenchError, match="Invalid tensor data type 99"):
        model.run()  # onnxruntime refuses it too, and says so: no AttributeError escapes


# ---- partial feeds, values and precedence -------------------------------------------------


def test_a_partial_feed_sets_the_dims_of_the_inputs_synthesized_around_it() -> None:
    model = load("two_inputs_shared_dims")
    ids = np.arange(10, dtype=np.int64).reshape(2, 5)
    result = model.run({"input_ids": ids})
    assert result.feeds["input_ids"] is ids or np.array_equal(result.feeds["input_ids"], ids)
    assert result.feeds["attention_mask"].shape == (2, 5)  # batch and seq from input_ids
    assert result.plan is not None and result.plan.given == {"input_ids"}
    sources = {(c.input, c.symbol): c.source for c in result.plan.choices}
    assert sources[("attention_mask", "seq")] == "given" and result.plan.batch == 2
    assert result["masked"].shape == (2, 5)
    rows = {row["name"]: row for row in result.as_dict()["inputs"]}
    assert rows["input_ids"]["given"] and not rows["attention_mask"]["given"]
    assert rows["attention_mask"]["shape"] == [2, 5] and rows["input_ids"]["dtype"] == "int64"


def test_a_scalar_config_input_is_set_by_value_and_the_rest_synthesized() -> None:
    model = load("vad_like")
    result = model.run(values={"sr": 16000}, shapes={"audio": [2, 512]})
    assert result.feeds["sr"].dtype == np.int64 and result.feeds["sr"].item() == 16000
    assert result.feeds["audio"].shape == (2, 512)
    assert result.plan is not None and result.plan.given == {"sr"}
    assert result["speech"].shape == (2, 4)
    other = model.run(values={"sr": 8000}, shapes={"audio": [2, 512]})
    assert not np.array_equal(other["speech"], result["speech"])  # the value reached the If


def test_a_scalar_value_fills_a_tensor_input_and_an_array_value_is_a_feed() -> None:
    model = load("two_inputs_shared_dims")
    filled = model.run(values={"attention_mask": 1}, dims={"seq": 3}, batch=2)
    assert (filled.feeds["attention_mask"] == 1).all()
    assert filled.feeds["attention_mask"].shape == (2, 3)
    assert filled.plan is not None and "attention_mask" in filled.plan.given
    whole = model.run(values={"attention_mask": [[1, 1, 0]]})
    assert whole.feeds["input_ids"].shape == (1, 3)  # the value given whole sets the dims


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        ({"dims": {"seq": 7}}, "dims sets 'seq' = 7, but the given input 'input_ids' has"),
        ({"batch": 4}, "The batch size is 4, but the given input 'input_ids' has batch"),
        ({"shapes": {"attention_mask": [2, 9]}}, "shapes['attention_mask'] sets 'seq' = 9"),
    ],
)
def test_a_given_feed_is_never_resized(call, fragment) -> None:
    model = load("two_inputs_shared_dims")
    with pytest.raises(FeedError, match=re.escape(fragment)):
        model.run({"input_ids": np.zeros((2, 5), np.int64)}, **call)


@pytest.mark.parametrize(
    ("values", "fragment", "hint"),
    [
        ({"sr": "abc"}, "Input 'sr' is int64, and 'abc' is not a value", "--value sr=16000"),
        ({"sr": 16000.5}, "16000.5 is not a value of that type", "values={'sr': 16000}"),
        ({"srr": 1}, "values names 'srr', which is not an input", "Did you mean 'sr'"),
        ({"audio": [[1.0], [2.0], [3.0]], "sr": [[1]]}, "expects 0 dims", ""),
    ],
)
def test_bad_values_name_the_input_and_the_dtype(values, fragment, hint) -> None:
    with pytest.raises(FeedError) as caught:
        load("vad_like").run(values=values)
    assert fragment in str(caught.value) and hint in str(caught.value)


def test_a_value_outside_its_range_is_refused_before_the_run() -> None:
    with pytest.raises(FeedError, match=r"outside its range \[8000, 16001\)"):
        load("vad_like").run(values={"sr": 44100}, ranges={"sr": (8000, 16001)})


def test_precedence_given_then_shapes_then_dims_then_batch_then_model_then_fallback() -> None:
    from workbench.feeds.hints import Hint

    inputs = load(
        "symbolic_dims"
    ).inputs  # tokens [batch size, seq-len, 8], mask [batch size, ?, 1]
    hints = {"seq-len": Hint(32, "metadata 'x'"), ("mask", 1): Hint(5, "model")}
    plan = plan_shapes(inputs, hints=hints)
    assert plan.shapes["tokens"] == (1, 32, 8) and plan.shapes["mask"] == (1, 5, 1)
    first = plan.suggested[0].describe()
    assert first == "tokens dim 1 ('seq-len') = 32 (metadata 'x')"
    assert plan_shapes(inputs, hints=hints, dims={"seq-len": 16}).shapes["tokens"] == (1, 16, 8)
    assert plan_shapes(inputs, hints=hints, batch=3).shapes["tokens"] == (3, 32, 8)
    given = plan_shapes(inputs, hints=hints, given={"tokens": (2, 9, 8)})
    assert given.shapes["mask"] == (2, 5, 1) and "tokens" not in given.shapes
    shaped = plan_shapes(inputs, hints=hints, dims={"seq-len": 16}, shapes={"tokens": [1, 4, 8]})
    assert shaped.shapes["tokens"] == (1, 4, 8)


@pytest.mark.parametrize("dtype", [onnx.TensorProto.FLOAT, onnx.TensorProto.BOOL])
def test_synthetic_scalars_are_arrays(dtype) -> None:
    # numpy's generators give a bare scalar for shape (); onnxruntime refuses those.
    model = workbench.load(
        models.make(
            [onnx.helper.make_node("Identity", ["knob"], ["same"])],
            [onnx.helper.make_tensor_value_info("knob", dtype, [])],
            [onnx.helper.make_tensor_value_info("same", dtype, [])],
        )
    )
    result = model.run()
    assert type(result.feeds["knob"]) is np.ndarray and result["same"].shape == ()


def _two_batches() -> workbench.Model:
    """x's batch is named, y's is not: a batch given by x must reach y."""
    return workbench.load(
        models.make(
            [onnx.helper.make_node("Add", ["x", "y"], ["z"])],
            [
                onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 3]),
                onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [None, 3]),
            ],
            [onnx.helper.make_tensor_value_info("z", onnx.TensorProto.FLOAT, ["N", 3])],
        )
    )


def test_a_batch_a_given_feed_sets_reaches_unnamed_batch_dims_too() -> None:
    model = _two_batches()
    result = model.run({"x": np.ones((3, 3), np.float32)})
    assert result.feeds["y"].shape == (3, 3) and result.plan.batch == 3
    by_y = model.run({"y": np.ones((4, 3), np.float32)})  # the other way round
    assert by_y.feeds["x"].shape == (4, 3) and by_y.plan.batch == 4
    with pytest.raises(FeedError, match=r"The batch size is 2, but the given input 'y' has 4"):
        model.run({"y": np.ones((4, 3), np.float32)}, batch=2)
    with pytest.raises(FeedError, match=r"shapes\['y'\] is \[1, 3\], but the given input"):
        model.run({"y": np.ones((4, 3), np.float32)}, shapes={"y": [1, 3]})


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        ({"batch": 8}, "The batch size is 8, but the given input 'input_ids' has batch"),
        ({"dims": {"seq": 7}}, "dims sets 'seq' = 7, but the given input"),
        ({"dims": {"sqe": 7}}, "dims names 'sqe', which no input uses"),
        ({"ranges": {"input_ids": (0, 3)}}, "outside its range [0, 3)"),
        ({"ranges": {"input_idz": (0, 3)}}, "ranges names 'input_idz'"),
    ],
)
def test_every_input_given_still_checks_what_else_was_said(call, fragment) -> None:
    feeds = {"input_ids": np.full((2, 5), 7, np.int64), "attention_mask": np.ones((2, 5), np.int64)}
    with pytest.raises(FeedError, match=re.escape(fragment)):
        load("two_inputs_shared_dims").run(feeds, **call)


def test_a_value_for_a_sequence_input_points_at_feeds() -> None:
    with pytest.raises(FeedError, match="values= sets tensors; input 'items' is a seq") as caught:
        load("sequence_input").run(values={"items": 1.0})
    assert "--inputs FILE in the CLI, --feeds VAR in %onnx" in caught.value.hint


def test_an_input_given_as_a_feed_and_as_a_value_is_refused() -> None:
    with pytest.raises(FeedError, match="'sr' given both as a feed and as a value"):
        load("vad_like").run({"sr": 8000}, values={"sr": 16000})


def test_a_text_value_fills_a_string_input_verbatim() -> None:
    model = workbench.load(
        models.make(
            [onnx.helper.make_node("Identity", ["words"], ["same"])],
            [onnx.helper.make_tensor_value_info("words", onnx.TensorProto.STRING, ["n", 3])],
            [onnx.helper.make_tensor_value_info("same", onnx.TensorProto.STRING, ["n", 3])],
        )
    )
    for typed in ("red", "true", "1.50", "null"):  # text is never read as JSON for strings
        result = model.run(values={"words": typed}, dims={"n": 2})
        assert result["same"].tolist() == [[typed] * 3] * 2
    assert result.input_rows()[0]["dtype"] == "string"


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"audio": None}, "None is not a value of that type"),
        ({"audio": float("nan")}, "holds 1 NaN"),
        ({"audio": "[1, 2"}, "is not a value of that type"),
    ],
)
def test_values_that_are_no_numbers_are_refused(values, fragment) -> None:
    with pytest.raises(FeedError, match=re.escape(fragment)):
        load("vad_like").run(values={**values, "sr": "16000"})  # text is JSON for numbers


@pytest.mark.parametrize(
    ("ranges", "fragment"),
    [
        ({"audio": (1, 1)}, "the low bound must be below the high"),
        ({"audio": (0,)}, "must be two finite numbers"),
        ({"audio": "loud"}, "is text, but input 'audio' is float32"),
        ({"audio": (0, float("inf"))}, "must be two finite numbers"),
        ({"audio": {"low": 0}}, "must be (low, high) or a number"),
        ({"audio": float("nan")}, "must be finite"),
    ],
)
def test_bad_ranges_are_refused_with_an_example(ranges, fragment) -> None:
    with pytest.raises(FeedError, match=re.escape(fragment)) as caught:
        load("vad_like").run(ranges=ranges)
    assert "(--range audio=0:30522)" in caught.value.hint


def test_numpy_numbers_in_ranges_are_plain_numbers() -> None:
    checker = load("vad_like").session_source.checker
    assert checker.ranges({"audio": (np.float32(0.5), np.int64(2)), "sr": np.int64(16000)}) == {
        "audio": (0.5, 2),
        "sr": 16000,
    }


def test_ortvalue_feeds_mix_with_synthetic_ones_and_show() -> None:
    from workbench.ort.runtime import ort

    model = load("two_inputs_shared_dims")
    ids = ort().OrtValue.ortvalue_from_numpy(np.ones((2, 5), np.int64))
    partial = model.run({"input_ids": ids})
    assert partial.feeds["attention_mask"].shape == (2, 5)
    assert partial.input_rows()[0] == {
        "name": "input_ids", "dtype": "int64", "shape": [2, 5], "given": True
    }  # fmt: skip
    mask = ort().OrtValue.ortvalue_from_numpy(np.ones((2, 5), np.int64))
    whole = model.run({"input_ids": ids, "attention_mask": mask})
    assert "masked" in whole.text() and "masked" in whole._repr_html_()
