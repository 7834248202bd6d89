"""Whether the installed onnxruntime can read a model, and the fix when it cannot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.errors import IncompatibleModelError

if TYPE_CHECKING:
    from workbench.ort.runtime import RuntimeLimits


@dataclass(frozen=True)
class Compatibility:
    """The model's versions checked against what the installed onnxruntime accepts."""

    runtime: str
    ir_version: int
    max_ir_version: int
    min_ir_version: int  # lowest IR able to express everything the model uses
    too_new_opsets: dict[str, tuple[int, int]]  # domain -> (model's version, runtime's max)
    unchecked_domains: tuple[str, ...]  # custom domains the runtime does not version-check

    @property
    def ok(self) -> bool:
        """True when the runtime accepts the model's IR version and every opset."""
        return self.ir_version <= self.max_ir_version and not self.too_new_opsets

    @property
    def ir_fix_available(self) -> bool:
        """Only the IR number is too new: a copy stamped with the runtime's IR version works."""
        return (
            self.ir_version > self.max_ir_version
            and not self.too_new_opsets
            and self.min_ir_version <= self.max_ir_version
        )

    @property
    def error(self) -> IncompatibleModelError | None:
        """The error a session would hit, with the fix, or None when compatible."""
        if self.ok:
            return None
        problems = []
        if self.ir_version > self.max_ir_version:
            problems.append(
                f"IR version {self.ir_version} (this runtime reads IR <= {self.max_ir_version})"
            )
        problems.extend(
            f"opset {domain} {have} (this runtime supports <= {most})"
            for domain, (have, most) in self.too_new_opsets.items()
        )
        message = (
            f"The model needs a newer onnxruntime than the installed {self.runtime}: it uses "
            + "; ".join(problems)
            + "."
        )
        if self.ir_fix_available:
            hint = (
                f"The model uses nothing newer than IR {self.max_ir_version}; only its IR "
                "number was stamped by a newer writer (onnx >= 1.23 stamps IR 14 by default). "
                f"Use a copy with the IR lowered: model = model.with_ir_version("
                f"{self.max_ir_version}), and model.save('fixed.onnx') to keep it."
            )
        elif self.ir_version > self.max_ir_version and not self.too_new_opsets:
            hint = (
                f"The model uses features of IR {self.min_ir_version} (newer element types or "
                "functions), so lowering its IR is not enough: upgrade onnxruntime "
                '(pip install -U "onnxruntime-gpu", or "onnxruntime" off x86_64).'
            )
        else:
            targets = ", ".join(
                f"{domain} <= {most}" for domain, (_, most) in self.too_new_opsets.items()
            )
            hint = (
                "Upgrade onnxruntime (pip install -U onnxruntime-gpu, or onnxruntime off "
                f"x86_64), or export the model again targeting {targets} (for PyTorch: "
                "torch.onnx.export(..., opset_version=N)); onnx.version_converter."
                "convert_version(proto, N) can also lower some models."
            )
        return IncompatibleModelError(message, hint)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "runtime": self.runtime,
            "ok": self.ok,
            "ir_version": self.ir_version,
            "max_ir_version": self.max_ir_version,
            "min_ir_version": self.min_ir_version,
            "too_new_opsets": {
                d: {"model": h, "max": m} for d, (h, m) in self.too_new_opsets.items()
            },
            "unchecked_domains": list(self.unchecked_domains),
            "ir_fix_available": self.ir_fix_available,
        }


def check(
    ir_version: int, opsets: dict[str, int], min_ir_version: int, limits: RuntimeLimits
) -> Compatibility:
    """Compare a model's IR version and opset imports with the runtime's limits."""
    too_new: dict[str, tuple[int, int]] = {}
    unchecked = []
    for domain, version in opsets.items():
        most = limits.max_opset(domain)
        if most is None:
            unchecked.append(domain)
        elif version > most:
            too_new[domain] = (version, most)
    return Compatibility(
        runtime=limits.runtime,
        ir_version=ir_version,
        max_ir_version=limits.max_ir_version,
        min_ir_version=min_ir_version,
        too_new_opsets=too_new,
        unchecked_domains=tuple(unchecked),
    )
