"""The environment fingerprint a report carries, so two reports can be compared honestly."""

from __future__ import annotations

import importlib.metadata
import platform
from typing import Any

from workbench import providers, runtime, system
from workbench._version import __version__


def fingerprint() -> dict[str, Any]:
    """OS, Python, CPU, RAM, GPUs, CUDA/cuDNN, onnxruntime build and usable providers."""
    rt = runtime.ort()
    cpu = system.cpu()
    scan = system.gpus()
    return {
        "os": f"{platform.system()} {platform.release()}",
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu.model,
        "cpu_cores": cpu.logical_cores,
        "cpu_cores_usable": cpu.usable_cores,
        "ram_gb": round(cpu.ram_bytes / 2**30, 1),
        "gpus": [g.as_dict() for g in scan.gpus],
        "gpu_note": scan.note,
        "onnxruntime": {
            "package": runtime.package_name(),
            "version": rt.__version__,
            "build": rt.get_build_info() if hasattr(rt, "get_build_info") else "",
            "cuda_version": providers.cuda_version(),
        },
        "cudnn": _nvidia_package_versions(),
        "usable_providers": providers.usable_providers(),
        "onnx_workbench": __version__,
        "numpy": importlib.metadata.version("numpy"),
        "onnx": importlib.metadata.version("onnx"),
    }


def _nvidia_package_versions() -> dict[str, str]:
    """Versions of pip's CUDA/cuDNN packages (nvidia-cudnn-cu13, nvidia-cublas, ...)."""
    found = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"] or ""
        if name.lower().startswith(("nvidia-cudnn", "nvidia-cublas", "nvidia-cuda-runtime")):
            found[name] = dist.version
    return dict(sorted(found.items()))
