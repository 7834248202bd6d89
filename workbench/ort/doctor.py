"""`workbench.doctor()`: the installed ONNX Runtime and which providers really work.

Also the environment fingerprint that reports carry.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import platform
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench._version import __version__
from workbench.ort import providers, runtime, system
from workbench.render.mixin import Rendered


@dataclass(frozen=True)
class InstalledPackage:
    """One installed distribution that provides the `onnxruntime` import package."""

    name: str
    version: str
    location: str


@dataclass(frozen=True)
class DoctorReport(Rendered):
    """Everything `doctor()` found; `as_dict()` is what `onnx-workbench doctor --json` prints."""

    template = "doctor"
    title = "onnx-workbench doctor"

    package: str
    version: str
    cuda_version: str
    imported_from: str
    installed: tuple[InstalledPackage, ...]
    conflict: str  # plain-words description when several runtime packages are installed
    conflict_hint: str
    providers: tuple[providers.ProviderStatus, ...]
    gpus: system.GpuScan
    cpu: system.CpuInfo
    python: str
    platform: str

    @property
    def packages_conflict(self) -> bool:
        """True when more than one ONNX Runtime distribution is installed."""
        return bool(self.conflict)

    @property
    def usable_providers(self) -> list[str]:
        """Full names of the providers that really run here."""
        return [p.name for p in self.providers if p.usable]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "onnxruntime": {
                "package": self.package,
                "version": self.version,
                "cuda_version": self.cuda_version,
                "imported_from": self.imported_from,
            },
            "installed_packages": [vars(p) for p in self.installed],
            "packages_conflict": self.packages_conflict,
            "conflict": {"message": self.conflict, "hint": self.conflict_hint},
            "providers": [p.as_dict() for p in self.providers],
            "gpus": [g.as_dict() for g in self.gpus.gpus],
            "gpu_note": self.gpus.note,
            "cpu": self.cpu.as_dict(),
            "python": self.python,
            "platform": self.platform,
        }

    def __repr__(self) -> str:
        usable = ", ".join(providers.short_name(name) for name in self.usable_providers)
        return f"<DoctorReport: {self.package} {self.version}, usable: {usable}>"


class ProviderNotes(Rendered):
    """Which compiled-in providers cannot run here, and why (shown under a model's card)."""

    template = "provider_notes"
    title = "Providers not usable here"

    def __init__(self) -> None:
        self.unusable = [s for s in providers.all_statuses() if not s.usable]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"unusable": [s.as_dict() for s in self.unusable]}

    def __repr__(self) -> str:
        return self.text()


def doctor() -> DoctorReport:
    """Diagnose the installed ONNX Runtime and probe every compiled-in provider (cached)."""
    rt = runtime.ort()
    installed = tuple(_installed())
    conflict, hint = _conflict(installed)
    return DoctorReport(
        package=runtime.package_name(),
        version=rt.__version__,
        cuda_version=providers.cuda_version(),
        imported_from=str(Path(rt.__file__).parent),
        installed=installed,
        conflict=conflict,
        conflict_hint=hint,
        providers=tuple(providers.all_statuses()),
        gpus=system.gpus(),
        cpu=system.cpu(),
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.machine()} ({sys.platform})",
    )


def _installed() -> list[InstalledPackage]:
    found = []
    for name in runtime.RUNTIME_PACKAGES:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        found.append(InstalledPackage(name, dist.version, str(dist.locate_file(""))))
    return found


def _conflict(installed: tuple[InstalledPackage, ...]) -> tuple[str, str]:
    if len(installed) < 2:
        return "", ""
    listing = ", ".join(f"{p.name} {p.version} (in {p.location})" for p in installed)
    imported = runtime.package_label()
    keep = (
        "onnxruntime-gpu"
        if any(p.name == "onnxruntime-gpu" for p in installed)
        else installed[0].name
    )
    names = " ".join(p.name for p in installed)
    return (
        f"{len(installed)} ONNX Runtime packages are installed: {listing}. They share one "
        f"`onnxruntime` folder and shadow each other; the one imported is {imported}.",
        f"Keep one: pip uninstall -y {names} && pip install {keep}",
    )


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


HOSTNAMES = "ONNX_WORKBENCH_HOSTNAMES"  # keep (default), hash or drop: reports travel


@functools.cache
def host() -> dict[str, Any]:
    """The machine a measurement ran on, as each row records it (reports may span machines).

    Reports end up in pull requests: with ONNX_WORKBENCH_HOSTNAMES=hash the hostname is a
    short hash (the same machine, the same hash), with `drop` it is left out.
    """
    rt = runtime.ort()
    scan = system.gpus()
    name = socket.gethostname()
    policy = os.environ.get(HOSTNAMES, "keep")
    if policy == "hash":
        name = "host-" + hashlib.sha256(name.encode()).hexdigest()[:10]
    elif policy == "drop":
        name = ""
    return {
        "hostname": name,
        "cpu": system.cpu().model,
        "gpus": [g.name for g in scan.gpus],
        "driver": scan.gpus[0].driver_version if scan.gpus else "",
        "onnxruntime": f"{runtime.package_name()} {rt.__version__}",
    }


def _nvidia_package_versions() -> dict[str, str]:
    """Versions of pip's CUDA/cuDNN packages (nvidia-cudnn-cu13, nvidia-cublas, ...)."""
    found = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"] or ""
        if name.lower().startswith(("nvidia-cudnn", "nvidia-cublas", "nvidia-cuda-runtime")):
            found[name] = dist.version
    return dict(sorted(found.items()))
