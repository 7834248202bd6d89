"""Execution providers: names and aliases, and whether each one can really run here.

`onnxruntime.get_available_providers()` lists what was compiled in, not what can load: a
CUDA request on a machine without CUDA libraries silently runs on the CPU. So each
provider is probed: its shared library is loaded (the dynamic loader names whatever is
missing), then a session is created on a tiny model and the applied providers checked.
"""

from __future__ import annotations

import ctypes
import difflib
import functools
import importlib.util
import os
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workbench.errors import UnknownProviderError
from workbench.ort import capture, runtime, system
from workbench.text import first_line

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"

ALIASES: dict[str, str] = {
    "cpu": CPU,
    "cuda": CUDA,
    "gpu": CUDA,
    "tensorrt": TENSORRT,
    "trt": TENSORRT,
    "trt-rtx": "NvTensorRTRTXExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "dml": "DmlExecutionProvider",
    "directml": "DmlExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "rocm": "ROCMExecutionProvider",
    "migraphx": "MIGraphXExecutionProvider",
    "dnnl": "DnnlExecutionProvider",
    "xnnpack": "XnnpackExecutionProvider",
    "qnn": "QNNExecutionProvider",
    "nnapi": "NnapiExecutionProvider",
    "cann": "CANNExecutionProvider",
    "vitisai": "VitisAIExecutionProvider",
    "acl": "ACLExecutionProvider",
    "webgpu": "WebGpuExecutionProvider",
    "azure": "AzureExecutionProvider",
}
_SHORT_NAMES = {full: alias for alias, full in reversed(ALIASES.items())}

# Providers that live in their own shared library next to onnxruntime's core library.
_LIBRARIES = {
    CUDA: "cuda",
    TENSORRT: "tensorrt",
    "NvTensorRTRTXExecutionProvider": "nv_tensorrt_rtx",
    "OpenVINOExecutionProvider": "openvino",
    "ROCMExecutionProvider": "rocm",
    "MIGraphXExecutionProvider": "migraphx",
    "DnnlExecutionProvider": "dnnl",
    "VitisAIExecutionProvider": "vitisai",
    "QNNExecutionProvider": "qnn",
    "CANNExecutionProvider": "cann",
}
# The package that brings a provider which this onnxruntime build lacks.
_PACKAGES = {
    CUDA: 'onnxruntime-gpu (pip install "onnxruntime-gpu[cuda,cudnn]")',
    TENSORRT: "onnxruntime-gpu plus TensorRT",
    "OpenVINOExecutionProvider": "onnxruntime-openvino",
    "DmlExecutionProvider": "onnxruntime-directml (Windows)",
    "CoreMLExecutionProvider": "onnxruntime on macOS",
    "ROCMExecutionProvider": "onnxruntime-rocm",
    "MIGraphXExecutionProvider": "onnxruntime-migraphx",
    "QNNExecutionProvider": "onnxruntime-qnn",
}
_NVIDIA = (CUDA, TENSORRT, "NvTensorRTRTXExecutionProvider")
_MISSING_LIBRARY = re.compile(
    r"([\w.+-]+\.so(?:\.[\d.]+)?): cannot open shared object file"
    r"|error while loading shared libraries: ([\w.+-]+\.so(?:\.[\d.]+)?)"
)
_CUDA_TOOLKIT = re.compile(
    r"lib(cublas|cublasLt|cudart|cufft|curand|cusparse|nvrtc|nvJitLink|cupti)"
)
_NO_DEVICE = re.compile(
    r"no CUDA-capable device|cudaErrorNoDevice|CUDA driver version is insufficient"
    r"|cudaErrorInsufficientDriver|CUDA_ERROR_NO_DEVICE",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ProviderStatus:
    """Whether one execution provider can run here, and if not, why and what to do."""

    name: str
    alias: str
    compiled_in: bool
    usable: bool
    reason: str = ""
    hint: str = ""
    details: str = ""  # what onnxruntime and the loader printed during the probe

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def resolve(name: str) -> str:
    """Full provider name for an alias ("cuda") or full name; unknown names list the valid ones."""
    key = name.strip()
    if key.lower() in ALIASES:
        return ALIASES[key.lower()]
    known = {p.lower(): p for p in runtime.ort().get_all_providers()}
    if key.lower() in known:
        return str(known[key.lower()])
    # Match without case, suggest with it: every suggestion must resolve.
    choices = {c.lower(): c for c in [*ALIASES, *known.values()]}
    close = difflib.get_close_matches(key.lower(), sorted(choices), n=1)
    suggestion = f" Did you mean {choices[close[0]]!r}?" if close else ""
    usable = ", ".join(short_name(p) for p in usable_providers())
    raise UnknownProviderError(
        f"Unknown execution provider {name!r}.{suggestion}",
        f"Usable here: {usable}. Aliases: {', '.join(sorted(ALIASES))}; full names such as "
        "'CUDAExecutionProvider' work too.",
    )


def short_name(full_name: str) -> str:
    """The alias users type for a provider ("CUDAExecutionProvider" -> "cuda")."""
    return _SHORT_NAMES.get(full_name, full_name)


def compiled_in() -> list[str]:
    """Providers built into the installed onnxruntime, in its priority order."""
    return list(runtime.ort().get_available_providers())


def usable_providers() -> list[str]:
    """Compiled-in providers that really work here (each probed once per process)."""
    return [name for name in compiled_in() if probe(name).usable]


def all_statuses() -> list[ProviderStatus]:
    """A probe result for every compiled-in provider."""
    return [probe(name) for name in compiled_in()]


@functools.cache
def probe(name: str) -> ProviderStatus:
    """Establish whether provider `name` can run here (cached for the process)."""
    full = resolve(name)
    alias = short_name(full)
    if full not in compiled_in():
        package = _PACKAGES.get(full, f"an onnxruntime build with {full}")
        return ProviderStatus(
            full,
            alias,
            compiled_in=False,
            usable=False,
            reason=f"{full} is not compiled into the installed {runtime.package_label()}.",
            hint=f"It comes with {package}. Install one onnxruntime package only.",
        )
    if full == CPU:
        return ProviderStatus(full, alias, compiled_in=True, usable=True)
    with capture.captured_output() as captured:
        if full in _NVIDIA:
            preload_cuda_from_pip()
        load_error = _load_provider_library(full)
        applied: list[str] = []
        if not load_error:
            applied = _probe_session(full)
    details = "\n".join(filter(None, [load_error, captured.text]))
    if full in applied:
        return ProviderStatus(full, alias, compiled_in=True, usable=True, details=details)
    reason, hint = explain_failure(full, details)
    return ProviderStatus(
        full, alias, compiled_in=True, usable=False, reason=reason, hint=hint, details=details
    )


def _load_provider_library(full: str) -> str:
    """Load the provider's shared library; return the loader's error text, or ''."""
    stem = _LIBRARIES.get(full)
    if stem is None:
        return ""
    folder = Path(runtime.ort().__file__).parent / "capi"
    filename = (
        f"onnxruntime_providers_{stem}.dll"
        if sys.platform == "win32"
        else f"libonnxruntime_providers_{stem}.so"
    )
    path = folder / filename
    if not path.is_file():
        return ""  # built into the core library on this platform
    try:
        ctypes.CDLL(str(path))
    except OSError as exc:
        return f"Failed to load {path.name}: {exc}"
    return ""


def _probe_session(full: str) -> list[str]:
    from onnx import TensorProto, helper  # noqa: PLC0415  (heavy: loads on first use)

    rt = runtime.ort()
    value = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    output = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "probe", [value], [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=7)
    options = rt.SessionOptions()
    options.log_severity_level = 2  # warnings: the reasons for a fallback are logged at that level
    try:
        session = rt.InferenceSession(
            model.SerializeToString(), options, providers=[full, CPU], enable_fallback=0
        )
    except Exception as exc:
        print(runtime.error_message(exc))  # captured, and folded into the reason
        return []
    return list(session.get_providers())


@functools.cache
def preload_cuda_from_pip() -> bool:
    """Load CUDA and cuDNN from pip's nvidia-* packages, where present (once per process).

    onnxruntime-gpu finds pip's CUDA libraries only through `onnxruntime.preload_dlls()`;
    without it, a machine whose CUDA came from pip reports the libraries as missing.
    """
    if not nvidia_pip_library_dirs():
        return False
    preload = getattr(runtime.ort(), "preload_dlls", None)
    if preload is None:
        return False
    try:
        preload()
    except Exception as exc:
        print(f"onnxruntime.preload_dlls() failed: {exc}")
        return False
    return True


def nvidia_pip_library_dirs() -> list[Path]:
    """Library folders of pip's nvidia-* packages (site-packages/nvidia/*/lib)."""
    spec = importlib.util.find_spec("nvidia")
    if spec is None or not spec.submodule_search_locations:
        return []
    return sorted(
        lib
        for root in spec.submodule_search_locations
        for lib in Path(root).glob("*/lib")
        if lib.is_dir()
    )


def explain_failure(full: str, details: str) -> tuple[str, str]:
    """Plain-words reason and fix for a provider that did not load, from what it printed."""
    scan = system.gpus() if full in _NVIDIA else None
    no_gpu_note = scan.note if scan is not None and not scan.gpus else ""
    missing = _missing_library(details)
    if missing:
        reason = f"{full} cannot load: the shared library {missing} is missing."
        other = _other_versions(missing)
        if other:
            reason += (
                f" Found {', '.join(other)} instead: a different major version than this "
                f"{runtime.package_label()} build needs (CUDA {cuda_version() or '?'})."
            )
        hint = _install_hint(full, missing)
        if no_gpu_note and not missing.startswith("libcuda.so"):
            reason += f" Also, no NVIDIA GPU was found here ({no_gpu_note})."
            hint = "Use 'cpu' on this machine. On a machine with an NVIDIA GPU: " + hint
        return reason, hint
    no_device = _NO_DEVICE.search(details)
    if no_device or no_gpu_note:
        evidence = _line_containing(details, no_device.group()) if no_device else no_gpu_note
        return (
            f"{full} loaded, but there is no usable NVIDIA GPU or driver: {evidence}",
            "Use 'cpu' here, or install or update the NVIDIA driver on a machine with a GPU "
            f"(this build needs a driver for CUDA {cuda_version() or '?'}).",
        )
    return (
        f"{full} was not applied when a session asked for it: "
        f"{first_line(details) or 'onnxruntime gave no reason'}",
        "workbench.doctor() shows what onnxruntime printed; check the provider's requirements "
        f"for this {runtime.package_label()} build.",
    )


def cuda_version() -> str:
    """The CUDA version the installed onnxruntime was built with ("" for CPU builds)."""
    rt = runtime.ort()
    version = getattr(rt, "cuda_version", "")
    if not version:
        from onnxruntime.capi import build_and_package_info  # noqa: PLC0415  (heavy: loads on first use)

        version = getattr(build_and_package_info, "cuda_version", "")
    return str(version or "")


def _missing_library(details: str) -> str:
    match = _MISSING_LIBRARY.search(details)
    return (match.group(1) or match.group(2)) if match else ""


def _install_hint(full: str, library: str) -> str:
    cuda = cuda_version()
    major = cuda.split(".")[0] if cuda else "the matching"
    if library.startswith("libcuda.so"):
        return "Install the NVIDIA driver (it provides libcuda.so.1); this machine has none."
    if library.startswith("libnvinfer") or library.startswith("libnvonnxparser"):
        return (
            f"Install TensorRT for CUDA {major} (e.g. pip install tensorrt-cu{major}) and make "
            "its libraries findable (LD_LIBRARY_PATH) before starting Python."
        )
    if _CUDA_TOOLKIT.match(library) or library.startswith("libcudnn"):
        hint = (
            f'pip install "onnxruntime-gpu[cuda,cudnn]" brings CUDA {major} and cuDNN from pip; '
            "onnx-workbench preloads them automatically."
        )
        if full == TENSORRT:
            hint += " TensorRT also needs its own libraries (libnvinfer) on the library path."
        return hint
    return f"Install the package that provides {library} for {full}."


def _other_versions(library: str) -> list[str]:
    """Other versions of a missing library on this machine (e.g. CUDA 12's for a CUDA 13 build)."""
    stem = library.split(".so", maxsplit=1)[0]
    found: set[str] = set()
    for folder in _library_search_dirs():
        found.update(p.name for p in folder.glob(f"{stem}.so.*") if p.name != library)
    majors = {name.split(".so.")[1].split(".")[0]: name for name in sorted(found) if ".so." in name}
    return sorted(majors.values())


def _library_search_dirs() -> list[Path]:
    folders = [Path(p) for p in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p]
    folders += nvidia_pip_library_dirs()
    folders += [
        Path(p) for p in ("/usr/lib/x86_64-linux-gnu", "/usr/local/cuda/lib64", "/usr/lib64")
    ]
    return [f for f in folders if f.is_dir()]


def _line_containing(text: str, fragment: str) -> str:
    return next((line.strip() for line in text.splitlines() if fragment in line), fragment)
