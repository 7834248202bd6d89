"""CUDA benchmark modes on a real GPU: host, device (IO binding), cuda-graph, and the copy
overhead between them. Skipped, with the doctor's reason, where CUDA is unusable."""

from __future__ import annotations

import onnx
import pytest
from onnx import TensorProto, helper

import workbench
from tests import models

pytestmark = pytest.mark.gpu


def test_host_device_and_cuda_graph_modes() -> None:
    result = workbench.benchmark(
        models.build("small_cnn"),
        ["cpu", "cuda"],
        [1, 32],
        modes=["host", "device", "cuda-graph"],
        time_budget=1,
        progress=False,
    )
    rows = {(r.config.provider, r.config.batch, r.config.mode): r for r in result.results}
    for batch in (1, 32):
        for mode in ("host", "device", "cuda-graph"):
            row = rows[("CUDAExecutionProvider", batch, mode)]
            assert row.status == "ok", row.reason
            assert row.applied_providers[0] == "CUDAExecutionProvider"
            assert row.peak_gpu_mb is not None
    assert len(result.copy_overhead()) == 2  # host and device measured at both batches


def test_copy_overhead_shows_where_copies_dominate() -> None:
    # 128 MiB in and 128 MiB out per run at batch 32, around one cheap Relu. (For the small
    # CNN above the copies are within run-to-run noise: measured -0.01 ms on an H200.)
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "wide_relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2**20])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2**20])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    result = workbench.benchmark(
        model, ["cuda"], [32], modes=["host", "device"], time_budget=0.5, progress=False
    )
    assert result.copy_overhead()["copy_overhead_ms"].item() > 1


def test_cuda_graph_refused_with_the_reason_when_nodes_stay_on_cpu() -> None:
    # ONNX-ML ops have CPU kernels only: Binarizer stays on the CPU between two CUDA nodes.
    graph = helper.make_graph(
        [
            helper.make_node("Relu", ["x"], ["y"]),
            helper.make_node("Binarizer", ["y"], ["b"], domain="ai.onnx.ml", threshold=0.5),
            helper.make_node("Relu", ["b"], ["z"]),
        ],
        "cpu_only_op",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", 64])],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]
    model = helper.make_model(graph, opset_imports=opsets, ir_version=8)
    onnx.checker.check_model(model)
    result = workbench.benchmark(
        model, ["cuda"], modes=["cuda-graph", "device"], time_budget=0.5, progress=False
    )
    graph_row, device_row = result.results
    assert graph_row.status == "skipped", graph_row.reason
    assert "needs every compute node on CUDA: 1 run on CPUExecutionProvider" in graph_row.reason
    assert device_row.status == "ok", device_row.reason


def test_out_of_memory_batch_fails_and_the_sweep_goes_on() -> None:
    model = models.build("outer_product")  # 1 TiB of output at batch 2^19
    result = workbench.benchmark(model, ["cuda"], [2**19, 512], time_budget=0.5, progress=False)
    rows = {r.config.batch: r for r in result.results}
    assert rows[2**19].status == "failed"
    assert "out of memory on CUDAExecutionProvider at batch 524288" in rows[2**19].reason
    assert rows[512].status == "ok", rows[512].reason
    assert rows[512].stats is not None and rows[512].stats.p50_ms > 0


def test_load_test_peak_on_cuda_with_and_without_batching() -> None:
    result = workbench.load_test(workbench.demo_model(), ["cuda"], "peak", bound="10ms",
                                 duration=2, batching=["none", "dynamic:8:2ms"])  # fmt: skip
    for row in result.rows:
        assert row.provider == "CUDAExecutionProvider" and row.verdict == "ok", row.reason
        assert row.peak_qps and row.gpu_percent is not None  # NVML sampled during the runs
