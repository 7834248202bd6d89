"""`workbench.doctor()`: which ONNX Runtime is installed and imported, and which providers work."""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench import providers, runtime, system
from workbench.display import human_bytes, printable, render


@dataclass(frozen=True)
class InstalledPackage:
    """One installed distribution that provides the `onnxruntime` import package."""

    name: str
    version: str
    location: str


@dataclass(frozen=True)
class DoctorReport:
    """Everything `doctor()` found; `as_dict()` is what `onnx-workbench doctor --json` prints."""

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

    def text(self) -> str:
        """A readable report for terminals."""
        lines = [
            f"ONNX Runtime  {self.package} {self.version}"
            + (f" (CUDA {self.cuda_version} build)" if self.cuda_version else ""),
            f"  imported from {self.imported_from}",
        ]
        if self.conflict:
            lines += [f"  ! {self.conflict}", f"    fix: {self.conflict_hint}"]
        lines += ["", "Execution providers"]
        for status in self.providers:
            mark = "usable" if status.usable else "NOT usable"
            lines.append(f"  {status.alias:<9} {status.name:<28} {mark}")
            if not status.usable:
                lines += [f"      why: {status.reason}", f"      fix: {status.hint}"]
        lines += ["", "GPUs"]
        lines += [
            f"  [{g.index}] {g.name}, {human_bytes(g.memory_total_bytes)}, driver "
            f"{g.driver_version} (CUDA {g.cuda_driver_version})"
            for g in self.gpus.gpus
        ] or [f"  none ({self.gpus.note})"]
        lines += [
            "",
            f"CPU  {self.cpu.model}, {self.cpu.usable_cores}/{self.cpu.logical_cores} cores "
            f"usable, {human_bytes(self.cpu.ram_bytes)} RAM",
            f"Python {self.python} on {self.platform}",
        ]
        return printable("\n".join(lines))

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text())

    def _repr_html_(self) -> str:
        return render("doctor.html.j2", report=self, human_bytes=human_bytes)


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
