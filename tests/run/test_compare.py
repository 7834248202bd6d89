"""Output comparison: tolerances that neither cry wolf nor miss a real bug."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import workbench
from tests import models
from workbench.run.compare import (
    TF32_TOLERANCE,
    Comparison,
    Divergence,
    compare_values,
    first_divergence,
    tolerance,
)


def tf32(array: np.ndarray) -> np.ndarray:
    """Round float32 to TF32's 10-bit mantissa (round to nearest), as tensor cores do."""
    bits = array.astype(np.float32).view(np.uint32)
    return ((bits + np.uint32(0x1000)) & np.uint32(0xFFFFE000)).view(np.float32)


def variant(change) -> onnx.ModelProto:
    proto = models.build("small_cnn")
    for tensor in proto.graph.initializer:
        array = numpy_helper.to_array(tensor).copy()
        tensor.CopyFrom(numpy_helper.from_array(change(tensor.name, array), tensor.name))
    return proto


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return np.random.default_rng(0).random((4, 3, 32, 32), dtype=np.float32)


@pytest.fixture(scope="module")
def perturb_one_weight(image):
    """Add 1.0 to the centre tap of one conv6 filter, on its most active input channel (a
    dead ReLU channel would hide any change): one wrong weight, as a bad load would give."""
    from workbench.run.compare import with_every_node_output

    marked = with_every_node_output(workbench.load(models.build("small_cnn")))
    channel = int(marked.run({"image": image})["relu5"].mean(axis=(0, 2, 3)).argmax())

    def change(name: str, array: np.ndarray) -> np.ndarray:
        if name == "conv6.weight":
            array[2, channel, 1, 1] += 1.0
        return array

    return change


def logits(proto: onnx.ModelProto, image: np.ndarray) -> np.ndarray:
    return workbench.load(proto).run({"image": image})["logits"]


def test_tf32_scale_noise_passes(image) -> None:
    reference = logits(models.build("small_cnn"), image)
    noisy = logits(variant(lambda _, a: tf32(a)), tf32(image))
    assert np.abs(noisy - reference).max() > 1e-5  # the noise is real...
    metrics = compare_values(noisy, reference, *TF32_TOLERANCE)
    assert metrics.mismatches == 0  # ...and tolerated


def test_a_single_perturbed_weight_fails(image, perturb_one_weight) -> None:
    reference = logits(models.build("small_cnn"), image)
    perturbed = logits(variant(perturb_one_weight), image)
    metrics = compare_values(perturbed, reference, *TF32_TOLERANCE)
    assert metrics.mismatches > 0


def test_first_divergence_finds_the_perturbed_layer(image, perturb_one_weight) -> None:
    original = workbench.load(models.build("small_cnn"))
    perturbed = workbench.load(variant(perturb_one_weight))
    found = first_divergence(
        (original, "CPUExecutionProvider"), (perturbed, "CPUExecutionProvider"), {"image": image}
    )
    assert found is not None
    assert (found.node, found.op_type, found.output) == ("conv6", "Conv", "conv6")


def test_identical_runs_have_no_divergence(image) -> None:
    model = workbench.load(models.build("small_cnn"))
    assert (
        first_divergence(
            (model, "CPUExecutionProvider"), (model, "CPUExecutionProvider"), {"image": image}
        )
        is None
    )


def test_compare_against_expected_outputs(image, tmp_path) -> None:
    model = workbench.load(models.build("small_cnn"))
    reference = model.run({"image": image})["logits"]
    passed = workbench.compare(model, ["cpu"], {"image": image}, expected={"logits": reference})
    assert passed.passed and passed.rows[0].max_abs_error == 0
    np.savez(tmp_path / "expected.npz", logits=reference + 1.0)
    failed = workbench.compare(model, ["cpu"], {"image": image}, expected=tmp_path / "expected.npz")
    assert not failed.passed
    assert failed.rows[0].mismatches == reference.size
    assert failed.rows[0].max_abs_error == pytest.approx(1.0)


def test_partial_feeds_and_values_are_what_runs() -> None:
    # At 16000 the If takes the branch of +1 weights; at 8000 the other one (-1): a value
    # that did not reach the run would compare equal in both cases.
    model = workbench.load(models.build("vad_like"))
    audio = np.linspace(0, 1, 200, dtype=np.float32).reshape(2, 100)
    at16k = model.run({"audio": audio}, values={"sr": 16000})["speech"]
    same = workbench.compare(
        model, ["cpu"], {"audio": audio}, values={"sr": 16000}, expected={"speech": at16k}
    )
    assert same.passed, same.rows
    other = workbench.compare(
        model, ["cpu"], {"audio": audio}, values={"sr": 8000}, expected={"speech": at16k}
    )
    assert not other.passed and other.rows[0].mismatches == at16k.size
    with pytest.raises(workbench.errors.FeedError, match="'sr'"):
        workbench.compare(model, ["cpu"], values={"sr": "fast"})  # refused before any run
    # The result says what ran: here the audio is synthetic, the rate given.
    synthetic = workbench.compare(model, ["cpu"], values={"sr": 16000}, dims={"samples": 32})
    assert [(r["name"], r["shape"], r["given"]) for r in synthetic.inputs] == [
        ("audio", [1, 32], False),
        ("sr", [], True),
    ]
    assert "Inputs: audio synthetic [1, 32]; sr given []" in synthetic.text()
    assert synthetic.as_dict()["inputs"][1]["given"] is True


def test_unusable_provider_is_a_skipped_row_with_the_reason() -> None:
    from workbench.ort import providers

    if providers.probe("cuda").usable:
        pytest.skip("CUDA works here: nothing is skipped")
    result = workbench.compare(workbench.demo_model(), ["cpu", "cuda"])
    rows = {r.provider: r for r in result.rows}
    assert rows["CUDAExecutionProvider"].status == "skipped"
    assert rows["CUDAExecutionProvider"].reason == providers.probe("cuda").reason
    assert result.skipped == ["CUDAExecutionProvider"]
    assert "skipped" in result._repr_html_() and "SKIPPED" in result.text()
    frame = result.to_frame()
    assert list(frame["status"]) == ["skipped"]


def test_compare_refuses_fallback() -> None:
    with pytest.raises(workbench.WorkbenchError, match="never falls back"):
        workbench.compare(workbench.demo_model(), ["cpu"], allow_fallback=True)


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        ("float64", (1e-7, 1e-9)),
        ("float16", (1e-2, 1e-3)),
        ("int64", (0.0, 0.0)),
        ("bool", (0.0, 0.0)),
        ("string", (0.0, 0.0)),
    ],
)
def test_default_tolerances_by_dtype(dtype, expected) -> None:
    assert tolerance(dtype) == expected


def test_tf32_tolerance_only_for_float32_on_tf32_providers() -> None:
    assert tolerance("float32", tf32=True) == TF32_TOLERANCE
    assert tolerance("float32") != TF32_TOLERANCE
    assert tolerance("float16", tf32=True) == tolerance("float16")


def test_integers_are_exact_and_nan_matches_nan() -> None:
    assert compare_values(np.array([1, 2]), np.array([1, 3]), 0, 0).mismatches == 1
    nan = np.array([np.nan, 1.0, np.inf])
    assert compare_values(nan, nan.copy(), 1e-4, 1e-5).mismatches == 0
    metrics = compare_values(np.array([np.nan, 1.0]), np.array([0.0, 1.0]), 1e-4, 1e-5)
    assert metrics.mismatches == 1 and math.isinf(metrics.max_abs)


def test_sequences_and_maps_are_compared_elementwise() -> None:
    a = [{0: 0.5, 1: 0.5}, {0: 0.25, 1: 0.75}]
    assert compare_values(a, [{0: 0.5, 1: 0.5}, {0: 0.25, 1: 0.75}], 1e-4, 1e-5).mismatches == 0
    assert compare_values(a, [{0: 0.5, 1: 0.5}, {0: 0.75, 1: 0.25}], 1e-4, 1e-5).mismatches == 2
    assert compare_values(a, a[:1], 1e-4, 1e-5).mismatches == 1
    assert compare_values(np.zeros(3), np.zeros(4), 1e-4, 1e-5).mismatches == 4


def test_comparison_of_onnx_ml_outputs() -> None:
    result = workbench.compare(models.build("ml_classifier"), ["cpu"])
    assert result.baseline == "CPUExecutionProvider"
    assert not result.passed  # nothing was compared: one provider, no expected outputs


def test_a_divergence_in_an_unnamed_node_is_named_by_its_op() -> None:
    # Exporters often leave node names empty; the text must not say "node '' (Conv)".
    found = Divergence("CUDAExecutionProvider", "", "Conv", "/conv/out", 0.5, 0.1)
    text = Comparison("CPUExecutionProvider", (), (found,)).text()
    assert "first divergence on CUDAExecutionProvider: an unnamed Conv node, output" in text
    named = Comparison("CPUExecutionProvider", (), (replace(found, node="conv6"),)).text()
    assert "node 'conv6' (Conv), output '/conv/out'" in named


def test_a_failure_on_synthetic_feeds_names_the_guessed_dims() -> None:
    comparison = workbench.compare(models.build("reshape_baked"), ["cpu"])
    (row,) = [r for r in comparison.rows if r.status == "failed"]
    assert "encoder/Reshape" in row.reason and "dims guessed" in row.reason
