"""The machine: CPU, memory, and NVIDIA GPUs through NVML (read with ctypes, no extra package)."""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_NVML_LIBRARIES = {"win32": ("nvml.dll",), "linux": ("libnvidia-ml.so.1",)}


@dataclass(frozen=True)
class CpuInfo:
    """The host CPU and memory."""

    model: str
    logical_cores: int
    usable_cores: int  # cores this process may run on (affinity, cgroups)
    ram_bytes: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class GpuInfo:
    """One NVIDIA GPU as NVML reports it."""

    index: int
    name: str
    memory_total_bytes: int
    memory_used_bytes: int
    driver_version: str
    cuda_driver_version: str  # the newest CUDA the driver supports, e.g. "13.0"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class GpuScan:
    """The GPUs found, or why none could be listed."""

    gpus: tuple[GpuInfo, ...]
    note: str  # e.g. "NVML not available: libnvidia-ml.so.1: cannot open shared object file"


@functools.cache
def cpu() -> CpuInfo:
    """CPU model, core counts and RAM."""
    logical = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else logical
    return CpuInfo(
        model=_cpu_model(), logical_cores=logical, usable_cores=usable, ram_bytes=_ram_bytes()
    )


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _ram_bytes() -> int:
    import psutil  # noqa: PLC0415  (15 ms at start-up: only the RAM figure needs it)

    return int(psutil.virtual_memory().total)


@functools.cache
def gpus() -> GpuScan:
    """NVIDIA GPUs with name, memory and driver, read through NVML."""
    try:
        nvml = _load_nvml()
    except OSError as exc:
        return GpuScan((), f"NVML not available, so no NVIDIA driver was found: {exc}")
    if nvml.nvmlInit_v2() != 0:
        return GpuScan((), "NVML is installed but failed to initialize (driver not loaded?)")
    try:
        return GpuScan(tuple(_list_gpus(nvml)), "")
    finally:
        nvml.nvmlShutdown()


def gpu_memory_used(index: int) -> int | None:
    """Bytes in use on GPU `index` right now (all processes), or None without NVML."""
    return _read_device(index, lambda nvml, handle: int(_memory(nvml, handle).used))


def gpu_utilization(index: int) -> int | None:
    """Percent of the last sample period GPU `index` was busy (NVML), or None without NVML."""

    def busy(nvml: ctypes.CDLL, handle: ctypes.c_void_p) -> int | None:
        rates = _Utilization()
        if nvml.nvmlDeviceGetUtilizationRates(handle, ctypes.byref(rates)) != 0:
            return None
        return int(rates.gpu)

    return _read_device(index, busy)


def _read_device(
    index: int, read: Callable[[ctypes.CDLL, ctypes.c_void_p], int | None]
) -> int | None:
    """`read(nvml, handle)` of GPU `index`, NVML initialized around it; None without NVML."""
    try:
        nvml = _load_nvml()
    except OSError:
        return None
    if nvml.nvmlInit_v2() != 0:
        return None
    try:
        handle = ctypes.c_void_p()
        if nvml.nvmlDeviceGetHandleByIndex_v2(index, ctypes.byref(handle)) != 0:
            return None
        return read(nvml, handle)
    finally:
        nvml.nvmlShutdown()


class _Utilization(ctypes.Structure):
    _fields_ = (("gpu", ctypes.c_uint), ("memory", ctypes.c_uint))


class _Memory(ctypes.Structure):
    _fields_ = (
        ("total", ctypes.c_ulonglong),
        ("free", ctypes.c_ulonglong),
        ("used", ctypes.c_ulonglong),
    )


def _load_nvml() -> ctypes.CDLL:
    errors = []
    for name in _NVML_LIBRARIES.get(sys.platform, ("libnvidia-ml.so.1",)):
        try:
            return ctypes.CDLL(name)
        except OSError as exc:
            errors.append(str(exc))
    raise OSError("; ".join(errors))


def _memory(nvml: ctypes.CDLL, handle: ctypes.c_void_p) -> _Memory:
    memory = _Memory()
    nvml.nvmlDeviceGetMemoryInfo(handle, ctypes.byref(memory))
    return memory


def _list_gpus(nvml: ctypes.CDLL) -> list[GpuInfo]:
    buffer = ctypes.create_string_buffer(96)
    nvml.nvmlSystemGetDriverVersion(buffer, 96)
    driver = buffer.value.decode(errors="replace")
    cuda = ctypes.c_int()
    nvml.nvmlSystemGetCudaDriverVersion_v2(ctypes.byref(cuda))
    cuda_text = f"{cuda.value // 1000}.{cuda.value % 1000 // 10}" if cuda.value else ""
    count = ctypes.c_uint()
    nvml.nvmlDeviceGetCount_v2(ctypes.byref(count))
    found = []
    for index in range(count.value):
        handle = ctypes.c_void_p()
        if nvml.nvmlDeviceGetHandleByIndex_v2(index, ctypes.byref(handle)) != 0:
            continue
        nvml.nvmlDeviceGetName(handle, buffer, 96)
        memory = _memory(nvml, handle)
        found.append(
            GpuInfo(
                index=index,
                name=buffer.value.decode(errors="replace"),
                memory_total_bytes=memory.total,
                memory_used_bytes=memory.used,
                driver_version=driver,
                cuda_driver_version=cuda_text,
            )
        )
    return found
