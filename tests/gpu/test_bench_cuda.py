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
    overhead = result.copy_overhead()
    assert len(overhead) == 2
    big = overhead[overhead["label"] == "cuda b32 host"]["copy_overhead_ms"].item()
    assert big > 0  # copying a 32-image batch to and from the GPU costs time


def test_cuda_graph_refused_with_the_reason_when_nodes_stay_on_cpu() -> None:
    # Shape arithmetic on int64 (as transformer exports do) is placed on the CPU.
    graph = helper.make_graph(
        [
            helper.make_node("Shape", ["x"], ["shape"]),
            helper.make_node("Reshape", ["x", "shape"], ["y"]),
            helper.make_node("Relu", ["y"], ["z"]),
        ],
        "shape_ops",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", 64])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    result = workbench.benchmark(
        model, ["cuda"], modes=["cuda-graph", "device"], time_budget=0.5, progress=False
    )
    graph_row, device_row = result.results
    assert (
        graph_row.status == "skipped" and "CUDA graph capture needs every node" in graph_row.reason
    )
    assert device_row.status == "ok"


def test_out_of_memory_batch_fails_and_the_sweep_goes_on() -> None:
    import numpy as np

    model = workbench.load(models.build("square_matmul"))
    huge = 120_000  # a 120k x 120k float matmul needs > 100 GiB
    result = workbench.benchmark(
        model, ["cuda"], dims={"n": 512}, time_budget=0.5, progress=False, feeds=None
    )
    assert result.results[0].status == "ok"
    oom = workbench.benchmark(
        model, ["cuda"], shapes={"x": [huge, huge]}, time_budget=0.5, progress=False
    )
    assert oom.results[0].status == "failed"
    assert "out of memory" in oom.results[0].reason.lower() or "allocate" in oom.results[0].reason
    assert np.isfinite(result.results[0].stats.p50_ms)
