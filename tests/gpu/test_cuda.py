"""CUDA paths on a real GPU. Skipped, with the doctor's reason, where CUDA is unusable.

Runs on the GPU machine through the core API only (no IPython, Jupyter or Playwright there):
    PYTHONPATH=. python -m pytest tests/gpu -m gpu
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

import workbench
from tests import models
from workbench.ort import providers, system

pytestmark = pytest.mark.gpu


def test_cuda_is_applied_and_runs() -> None:
    model = workbench.load(workbench.demo_model())
    session = model.session("cuda")
    assert session.applied_providers[0] == "CUDAExecutionProvider"
    assert session.fallback == ""
    placement = session.placement()
    assert any(p.provider == "CUDAExecutionProvider" for p in placement)
    assert model.run(provider="cuda", batch=8)["logits"].shape == (8, 10)


def test_cpu_and_cuda_agree_within_tf32_tolerance() -> None:
    image = np.random.default_rng(0).random((8, 3, 32, 32), dtype=np.float32)
    result = workbench.compare(models.build("small_cnn"), ["cpu", "cuda"], {"image": image})
    assert result.passed, result.text()
    exact = workbench.compare(
        models.build("small_cnn"), ["cpu", "cuda"], {"image": image}, use_tf32=False
    )
    assert exact.passed, exact.text()
    assert max(r.max_abs_error for r in exact.rows) <= max(r.max_abs_error for r in result.rows)


def test_device_resident_run_matches_host_run() -> None:
    model = workbench.load(workbench.demo_model())
    host = model.run(provider="cuda", seed=1, batch=4)
    device = model.run(provider="cuda", seed=1, batch=4, io_binding=True)
    np.testing.assert_allclose(device["logits"], host["logits"], rtol=1e-5, atol=1e-6)


def test_types_numpy_lacks_on_cuda() -> None:
    model = workbench.load(models.build("special_dtypes"))
    result = model.run(provider="cuda", dims={"n": 4}, allow_fallback=False)
    assert str(result["out_bfloat16"].dtype) == "bfloat16"


def test_close_releases_gpu_memory() -> None:
    before = system.gpu_memory_used(0)
    model = workbench.load(models.build("small_cnn"))
    model.run(provider="cuda", batch=64)
    during = system.gpu_memory_used(0)
    model.close()
    gc.collect()
    after = system.gpu_memory_used(0)
    assert before is not None and during is not None and after is not None
    assert after <= during


def test_tensorrt_without_libraries_is_reported_not_hidden() -> None:
    status = providers.probe("tensorrt")
    if status.usable:
        pytest.skip("TensorRT works on this machine")
    model = workbench.load(workbench.demo_model())
    with pytest.raises(workbench.errors.ProviderFallbackError) as caught:
        model.run(provider="tensorrt")
    assert caught.value.reason == status.reason


def test_localize_one_model_on_cpu_and_cuda() -> None:
    result = workbench.localize(models.build("small_cnn"), providers=("cpu", "cuda"), samples=4)
    assert result.candidate["provider"] == "CUDAExecutionProvider" and result.tensors
    assert result.passed, result.text()  # TF32 tolerances, as compare() applies them
