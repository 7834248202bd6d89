"""Provider names and probes. onnxruntime-gpu is installed here and CUDA cannot load: the
probe must say so, naming what is missing, and strict sessions must refuse to fall back."""

from __future__ import annotations

import subprocess
import sys

import pytest

from workbench.errors import ProviderFallbackError, UnknownProviderError
from workbench.ort import providers, runtime


@pytest.mark.parametrize(
    ("alias", "full"),
    [
        ("cpu", "CPUExecutionProvider"),
        ("CUDA", "CUDAExecutionProvider"),
        ("trt", "TensorrtExecutionProvider"),
        ("tensorrt", "TensorrtExecutionProvider"),
        ("dml", "DmlExecutionProvider"),
        ("coreml", "CoreMLExecutionProvider"),
        ("openvino", "OpenVINOExecutionProvider"),
        ("rocm", "ROCMExecutionProvider"),
        ("CPUExecutionProvider", "CPUExecutionProvider"),
        ("cpuexecutionprovider", "CPUExecutionProvider"),
    ],
)
def test_aliases_and_full_names(alias: str, full: str) -> None:
    assert providers.resolve(alias) == full


def test_unknown_provider_lists_choices_and_suggests() -> None:
    with pytest.raises(UnknownProviderError) as caught:
        providers.resolve("cdua")
    assert "Did you mean 'cuda'?" in caught.value.message
    assert "cpu" in caught.value.hint and "Aliases:" in caught.value.hint


def test_a_misspelt_full_name_gets_a_suggestion_that_resolves() -> None:
    with pytest.raises(UnknownProviderError) as caught:
        providers.resolve("CUDAExecutionProvder")
    assert "Did you mean 'CUDAExecutionProvider'?" in caught.value.message


def test_cpu_is_usable() -> None:
    status = providers.probe("cpu")
    assert status.usable and status.compiled_in and status.reason == ""


def _cuda_status() -> providers.ProviderStatus:
    if providers.CUDA not in providers.compiled_in():
        pytest.skip("this onnxruntime build has no CUDA provider (not onnxruntime-gpu)")
    return providers.probe("cuda")


def test_cuda_probe_tells_the_truth_on_this_machine() -> None:
    status = _cuda_status()
    if status.usable:
        pytest.skip("CUDA works on this machine; the CPU-only story is tested elsewhere")
    assert status.compiled_in
    # The reason comes from the loader at run time and names a shared library or the GPU.
    assert ".so" in status.reason or "GPU" in status.reason, status.reason
    assert "cannot open shared object file" in status.details or "GPU" in status.reason
    assert status.hint


def test_strict_session_raises_with_the_missing_library(model_path) -> None:
    import workbench

    status = _cuda_status()
    if status.usable:
        pytest.skip("CUDA works on this machine")
    model = workbench.load(workbench.demo_model())
    with pytest.raises(ProviderFallbackError) as caught:
        model.run(provider="cuda")
    error = caught.value
    assert error.requested == ["CUDAExecutionProvider"]
    assert error.applied == ["CPUExecutionProvider"]
    assert error.reason == status.reason
    assert "allow_fallback=True" in error.hint
    result = model.run(provider="cuda", allow_fallback=True)
    assert result.applied_providers == ["CPUExecutionProvider"]
    assert "instead of CUDAExecutionProvider" in result.fallback


def test_probing_prints_nothing_to_the_terminal() -> None:
    code = (
        "from workbench.ort import providers\n"
        "[providers.probe(p) for p in providers.compiled_in()]\n"
        "import workbench; m = workbench.load(workbench.demo_model())\n"
        "m.run(provider='cuda', allow_fallback=True)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stderr == "" and result.stdout == ""


@pytest.mark.parametrize(
    ("details", "reason_part", "hint_part"),
    [
        (
            "Failed to load x.so: libcublasLt.so.13: cannot open shared object file: No such file",
            "libcublasLt.so.13 is missing",
            "onnxruntime-gpu[cuda,cudnn]",
        ),
        ("libcudnn.so.9: cannot open shared object file", "libcudnn.so.9", "cudnn"),
        ("libnvinfer.so.10: cannot open shared object file", "libnvinfer.so.10", "TensorRT"),
        ("libcuda.so.1: cannot open shared object file", "libcuda.so.1", "NVIDIA driver"),
        (
            "CUDA failure 100: no CUDA-capable device is detected ; GPU=0",
            "no usable NVIDIA GPU",
            "driver",
        ),
    ],
)
def test_failure_explanations_come_from_the_message(
    details, reason_part, hint_part, monkeypatch
) -> None:
    from workbench.ort import system

    monkeypatch.setattr(system, "gpus", lambda: system.GpuScan((_fake_gpu(),), ""))
    reason, hint = providers.explain_failure(
        providers.TENSORRT if "nvinfer" in details else providers.CUDA, details
    )
    assert reason_part in reason
    assert hint_part in hint


def test_wrong_cuda_major_is_named(tmp_path, monkeypatch) -> None:
    from workbench.ort import system

    (tmp_path / "libcublasLt.so.12").write_bytes(b"")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))
    monkeypatch.setattr(system, "gpus", lambda: system.GpuScan((_fake_gpu(),), ""))
    reason, _ = providers.explain_failure(
        providers.CUDA, "libcublasLt.so.13: cannot open shared object file"
    )
    assert "Found libcublasLt.so.12 instead" in reason
    assert "different major version" in reason


def test_no_gpu_is_part_of_the_story_when_nvml_is_absent(monkeypatch) -> None:
    from workbench.ort import system

    monkeypatch.setattr(system, "gpus", lambda: system.GpuScan((), "NVML not available: x"))
    reason, hint = providers.explain_failure(
        providers.CUDA, "libcublasLt.so.13: cannot open shared object file"
    )
    assert "no NVIDIA GPU was found here" in reason
    assert hint.startswith("Use 'cpu' on this machine")


def test_not_compiled_in_names_the_package() -> None:
    status = providers.probe("openvino")
    assert not status.compiled_in and not status.usable
    assert "onnxruntime-openvino" in status.hint
    assert runtime.package_label() in status.reason


def _fake_gpu() -> object:
    from workbench.ort.system import GpuInfo

    return GpuInfo(0, "Fake GPU", 1 << 30, 0, "999.0", "13.0")
