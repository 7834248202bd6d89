"""Variants made with onnxruntime's own tools, and evaluated: speed against accuracy."""

from __future__ import annotations

import json
import time
import warnings

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import workbench
from tests.cli import cli
from workbench.variant.evaluate import REFERENCE
from workbench.variant.recipes import (
    VariantSkipped,
    build,
    recipe_list,
    recipe_of,
)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def demo() -> workbench.Model:
    return workbench.load(workbench.demo_model())


def _images(count: int) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(1)
    return [{"image": rng.random((2, 3, 32, 32), dtype=np.float32)} for _ in range(count)]


def _relu_only() -> onnx.ModelProto:
    """Nothing onnxruntime's quantizer quantizes."""
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")],
        "relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def _ids_only() -> onnx.ModelProto:
    """Integers through and through: nothing for float16."""
    graph = helper.make_graph(
        [helper.make_node("Neg", ["ids"], ["negated"], name="neg")],
        "ids",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [4])],
        [helper.make_tensor_value_info("negated", TensorProto.INT64, [4])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def test_each_recipe_makes_a_model_that_says_where_it_came_from(demo, tmp_path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made = workbench.variants(demo, ["ort-optimized", "fp16", "fp16-mixed", "int8-dynamic",
                                         "int8-static"])  # fmt: skip
    assert list(made) == ["ort-optimized", "fp16", "fp16-mixed", "int8-dynamic", "int8-static"]
    assert any("synthetic samples" in str(w.message) for w in caught)  # int8-static, said
    for name, model in made.items():
        recipe = recipe_of(model)
        assert recipe is not None and recipe["recipe"] == name
        assert recipe["source_sha256"] == demo.sha256 and recipe["tool"] == "onnxruntime"
        assert model.run(_images(1)[0])["logits"].shape == (2, 10)
    assert "FusedConv" in str(made["ort-optimized"].ops)
    assert made["fp16"].inputs[0].type.text == demo.inputs[0].type.text  # fp32 IO kept
    assert "ConvInteger" in made["int8-dynamic"].ops
    assert "QuantizeLinear" in made["int8-static"].ops  # QDQ by default
    assert made["int8-dynamic"].size_bytes < demo.size_bytes / 2
    mixed = {n.op_type for n in made["fp16-mixed"].proto.graph.node}
    assert "Softmax" in mixed  # kept in float32, between casts
    assert recipe_of(demo) is None


def test_asking_again_is_a_cache_hit(demo, tmp_path) -> None:
    first = workbench.variants(demo, ["int8-dynamic"])["int8-dynamic"]
    start = time.perf_counter()
    again = workbench.variants(workbench.load(workbench.demo_model()), ["int8-dynamic"])
    assert time.perf_counter() - start < 0.5  # the goal (50 ms) is measured in tests/perf
    assert again["int8-dynamic"].path == first.path
    saved = workbench.variants(demo, ["fp16"], folder=tmp_path / "mine")["fp16"]
    assert saved.path == tmp_path / "mine" / "tinynet.fp16.onnx"


def test_recipes_that_do_not_apply_are_skipped_with_the_reason(demo) -> None:
    fp16 = workbench.variants(demo, ["fp16"])["fp16"]
    with pytest.raises(VariantSkipped, match="float16 already"):
        build(fp16, recipe_list(["fp16"])[0])
    ids = workbench.load(_ids_only())
    with pytest.raises(VariantSkipped, match="no float32 tensor"):
        build(ids, recipe_list(["fp16"])[0])
    int8 = workbench.variants(demo, ["int8-dynamic"])["int8-dynamic"]
    with pytest.raises(VariantSkipped, match="The model is quantized"):
        build(int8, recipe_list(["fp16"])[0])
    relu = workbench.load(_relu_only())
    with pytest.raises(VariantSkipped, match="nothing to quantize"):
        build(relu, recipe_list(["int8-dynamic"])[0])
    result = workbench.evaluate(relu, ["int8-dynamic", "fp16"], time_budget=0.1, samples=2)
    rows = {r.variant: r for r in result.rows}
    assert rows["int8-dynamic"].status == "skipped" and "nothing to quantize" in rows[
        "int8-dynamic"].reason  # fmt: skip
    assert rows["fp16"].status == "ok" and rows[REFERENCE].status == "ok"


@pytest.mark.parametrize(
    ("recipes", "message"),
    [
        (["int4"], "Unknown variant recipe 'int4'"),
        ({"mine": "nowhere"}, "neither a recipe nor a model file"),
    ],
)
def test_unknown_recipes_are_refused_with_the_list(recipes, message) -> None:
    with pytest.raises(workbench.WorkbenchError, match=message) as error:
        recipe_list(recipes)
    assert "ort-optimized" in error.value.hint


def test_calibration_feeds_are_checked_against_the_signature(demo) -> None:
    made = workbench.variants(demo, ["int8-static"], calibration=_images(4))
    assert "int8-static" in made
    with pytest.raises(workbench.WorkbenchError, match="image"):
        build(demo, recipe_list(["int8-static"], per_channel=True)[0],
              calibration=[{"pixels": np.zeros((1, 3, 32, 32), np.float32)}])  # fmt: skip


def test_evaluate_puts_every_variant_beside_the_reference(demo, tmp_path) -> None:
    def agreement(reference, outputs) -> float:
        return float(np.mean(reference["logits"].argmax(1) == outputs["logits"].argmax(1)))

    result = workbench.evaluate(demo, ["fp16", "int8-dynamic"], ["cpu", "cuda"], _images(6),
                                metric=agreement, time_budget=0.2)  # fmt: skip
    assert result.samples == 6  # real samples: no note that they are synthetic
    assert not [n for n in result.notes if "synthetic" in n]
    cpu = {r.variant: r for r in result.rows if r.provider == "CPUExecutionProvider"}
    assert list(cpu) == [REFERENCE, "fp16", "int8-dynamic"]
    assert cpu[REFERENCE].speedup == 1.0 and cpu[REFERENCE].max_abs_error == 0.0
    int8 = cpu["int8-dynamic"]
    assert int8.status == "ok" and 0 < int8.max_abs_error < 0.1 and int8.cosine > 0.99
    assert int8.accurate is True and int8.metric is not None and int8.top1_agreement is not None
    assert int8.speedup is not None and int8.speedup_ci[0] <= int8.speedup <= int8.speedup_ci[1]
    assert int8.size_bytes < cpu[REFERENCE].size_bytes / 2
    assert int8.on_provider == 1.0 and int8.time_on_provider == 1.0  # the CPU runs it all
    from workbench.ort import providers

    if not providers.probe("cuda").usable:
        cuda = [r for r in result.rows if r.provider == "CUDAExecutionProvider"]
        assert {r.status for r in cuda} == {"skipped"} and "CUDA" in cuda[0].reason
    written = result.report(str(tmp_path / "variants.html"), formats=("html", "json", "csv", "md"))
    assert len(written) == 4
    data = json.loads((tmp_path / "variants.json").read_text())
    for key in ("variant", "provider", "status", "reason", "p50_ms", "speedup",
                "max_abs_error", "cosine", "size_bytes"):  # fmt: skip
        assert key in data["rows"][0]
    assert "int8-dynamic" in (tmp_path / "variants.md").read_text()
    assert result.plot().get_yscale() == "log"
    assert "int8-dynamic" in str(result) and "Note:" not in str(result)


def test_a_variant_onnxruntime_refuses_is_a_failed_row_and_the_others_go_on(demo, tmp_path):
    from tests import models

    broken = models.write("checker_fails_runtime_refuses", tmp_path)
    result = workbench.evaluate(demo, {"broken": str(broken), "fp16": "fp16"}, samples=2,
                                time_budget=0.1)  # fmt: skip
    rows = {r.variant: r for r in result.rows}
    assert rows["broken"].status == "failed" and "onnxruntime" in rows["broken"].reason
    assert rows["fp16"].status == "ok" and rows["reference"].status == "ok"


def test_synthetic_calibration_is_said_in_the_evaluation(demo) -> None:
    with pytest.warns(UserWarning, match="calibrates on 16 synthetic samples"):
        result = workbench.evaluate(demo, ["int8-static"], samples=2, time_budget=0.1)
    assert any(n.startswith("int8-static: calibrated on 16 synthetic samples") for n in
               result.notes)  # fmt: skip


def test_a_file_with_another_signature_is_measured_not_compared(demo, tmp_path) -> None:
    other = tmp_path / "relu.onnx"
    onnx.save(_relu_only(), other)
    result = workbench.evaluate(demo, {"mine": str(other)}, time_budget=0.1, samples=2)
    mine = next(r for r in result.rows if r.variant == "mine")
    assert mine.status == "ok" and mine.p50_ms is not None and mine.cosine is None
    assert "not compared for accuracy" in mine.reason and "inputs are ['x']" in mine.reason


def test_the_cli_prints_the_rows_maintainers_read(tmp_path) -> None:
    done = cli("variants", str(workbench.demo_model()), "--variants", "fp16,int8-dynamic",
               "--providers", "cpu", "--json", "--time-budget", "0.2",
               env={"XDG_CACHE_HOME": str(tmp_path)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    assert [r["variant"] for r in rows] == ["reference", "fp16", "int8-dynamic"]
    assert {r["status"] for r in rows} == {"ok"}
    assert rows[2]["size_bytes"] < rows[0]["size_bytes"] / 2
    assert all(isinstance(r["p50_ms"], float) and isinstance(r["cosine"], float) for r in rows)
    bad = cli("variants", str(workbench.demo_model()), "--variants", "int4")
    assert bad.returncode == 1 and "Unknown variant recipe 'int4'" in bad.stderr


def test_evaluations_read_back_and_diff_variant_by_variant(demo, tmp_path) -> None:
    first = workbench.evaluate(demo, ["int8-dynamic"], time_budget=0.2, samples=2)
    (path,) = first.report(str(tmp_path / "before.json"))
    again = workbench.load_report(path)
    assert isinstance(again, type(first)) and again.rows == first.rows
    second = workbench.evaluate(demo, ["int8-dynamic"], time_budget=0.2, samples=2, atol=1e-9)
    diff = workbench.diff_reports(path, second)
    assert [c.label for c in diff.changes] == [
        "reference on CPUExecutionProvider",
        "int8-dynamic on CPUExecutionProvider",
    ]
    assert any("int8-dynamic on CPUExecutionProvider no longer meets" in n for n in diff.notes)
    bench = workbench.benchmark(demo, runs=3, warmup=1, progress=False)
    with pytest.raises(workbench.WorkbenchError, match="measure different things"):
        workbench.diff_reports(bench, second)


def test_int8_static_calibrates_from_test_data_set_folders(demo, tmp_path) -> None:
    from onnx import numpy_helper

    for index, feeds in enumerate(_images(3)):
        folder = tmp_path / "data" / f"test_data_set_{index}"
        folder.mkdir(parents=True)
        tensor = numpy_helper.from_array(feeds["image"], "image")
        (folder / "input_0.pb").write_bytes(tensor.SerializeToString())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # real calibration data: no synthetic warning
        made = workbench.variants(demo, ["int8-static"], calibration=tmp_path / "data")
    assert "QuantizeLinear" in made["int8-static"].ops
    result = workbench.evaluate(demo, ["fp16"], data=tmp_path / "data", time_budget=0.1)
    assert result.samples == 3 and result.notes == [] and str(tmp_path / "data") in result.data


def test_nodes_that_quietly_run_on_the_cpu_show_in_the_shares(demo, monkeypatch) -> None:
    # (CPU-side: the profile a CUDA session gives when two int8 nodes stay on the CPU)
    from workbench.ort.profiling import ProfileResult
    from workbench.variant import evaluate as module

    rows = [
        {"node": "a", "provider": "CUDAExecutionProvider", "total_ms": 3.0},
        {"node": "b", "provider": "CUDAExecutionProvider", "total_ms": 3.0},
        {"node": "c", "provider": "CPUExecutionProvider", "total_ms": 2.0},
        {"node": "d", "provider": "CPUExecutionProvider", "total_ms": 2.0},
    ]
    monkeypatch.setattr(
        module, "profile", lambda *a, **k: ProfileResult("CUDAExecutionProvider", 3, rows)
    )
    assert module._share_on(demo, "CUDAExecutionProvider", None) == (0.5, 0.6)


def test_calibration_data_is_part_of_the_recipe(demo, tmp_path) -> None:
    # The same recipe calibrated on other data is another variant, never a stale cache hit.
    one = workbench.variants(demo, ["int8-static"], calibration=_images(2))["int8-static"]
    other = workbench.variants(demo, ["int8-static"], calibration=_images(3))["int8-static"]
    assert one.path != other.path
    assert recipe_of(one)["options"]["calibration"] != recipe_of(other)["options"]["calibration"]
    mine = tmp_path / "mine"  # in a folder of the user's: the file is made again
    first = workbench.variants(demo, ["int8-static"], calibration=_images(2), folder=mine)
    again = workbench.variants(demo, ["int8-static"], calibration=_images(3), folder=mine)
    assert first["int8-static"].path == again["int8-static"].path
    assert recipe_of(again["int8-static"]) == recipe_of(other)
