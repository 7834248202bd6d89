"""What makes two sessions of one model differ: provider, options, optimization, threads."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import WorkbenchError
from workbench.ort import providers, runtime

_OPT_LEVEL_ATTRIBUTES = {
    "disabled": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "layout": "ORT_ENABLE_LAYOUT",
    "all": "ORT_ENABLE_ALL",
}
EXECUTION_MODES = {"sequential": "ORT_SEQUENTIAL", "parallel": "ORT_PARALLEL"}
_PLACEMENT_CONFIG = "session.record_ep_graph_assignment_info"


def ort_opt_level(name: str) -> Any:
    """Onnxruntime's GraphOptimizationLevel for a workbench level name ("all", ...)."""
    return getattr(runtime.ort().GraphOptimizationLevel, _OPT_LEVEL_ATTRIBUTES[name])


@functools.cache
def opt_levels() -> list[str]:
    """Graph optimization levels the installed onnxruntime offers, least to most."""
    levels = runtime.ort().GraphOptimizationLevel
    return [name for name, attr in _OPT_LEVEL_ATTRIBUTES.items() if hasattr(levels, attr)]


@dataclass(frozen=True)
class SessionConfig:
    """Everything that makes two sessions of one model differ. Build with `make()`."""

    provider: str = providers.CPU
    provider_options: tuple[tuple[str, str], ...] = ()
    opt_level: str = "all"
    intra_op_threads: int | None = None
    inter_op_threads: int | None = None
    execution_mode: str = "sequential"
    allow_fallback: bool = False
    enable_profiling: bool = False

    @classmethod
    def make(
        cls,
        provider: str = "cpu",
        *,
        provider_options: Mapping[str, Any] | None = None,
        opt_level: str = "all",
        intra_op_threads: int | None = None,
        inter_op_threads: int | None = None,
        execution_mode: str = "sequential",
        allow_fallback: bool = False,
        use_tf32: bool | None = None,
        enable_profiling: bool = False,
    ) -> SessionConfig:
        """Validate and normalize options (aliases resolved, option values as strings)."""
        full = providers.resolve(provider)
        if opt_level not in opt_levels():
            raise WorkbenchError(
                f"Unknown graph optimization level {opt_level!r}.",
                f"This onnxruntime offers: {', '.join(opt_levels())}.",
            )
        if execution_mode not in EXECUTION_MODES:
            raise WorkbenchError(
                f"Unknown execution mode {execution_mode!r}.", "Use 'sequential' or 'parallel'."
            )
        for label, threads in (
            ("intra_op_threads", intra_op_threads),
            ("inter_op_threads", inter_op_threads),
        ):
            if threads is not None and (not isinstance(threads, int) or threads < 0):
                raise WorkbenchError(
                    f"{label} must be a non-negative integer, got {threads!r}.",
                    "0 lets onnxruntime choose; 1 runs single-threaded.",
                )
        options = {str(k): _option_text(v) for k, v in (provider_options or {}).items()}
        if use_tf32 is not None:
            if full != providers.CUDA:
                raise WorkbenchError(
                    "use_tf32 applies to the CUDA provider only.",
                    "Drop use_tf32, or run with provider='cuda'.",
                )
            options["use_tf32"] = "1" if use_tf32 else "0"
        return cls(
            provider=full,
            provider_options=tuple(sorted(options.items())),
            opt_level=opt_level,
            intra_op_threads=intra_op_threads,
            inter_op_threads=inter_op_threads,
            execution_mode=execution_mode,
            allow_fallback=allow_fallback,
            enable_profiling=enable_profiling,
        )

    def session_options(self, profile_prefix: str | None = None) -> Any:
        """Onnxruntime SessionOptions for this configuration."""
        rt = runtime.ort()
        options = rt.SessionOptions()
        options.log_severity_level = 3  # errors only; warnings are folded into our messages
        options.graph_optimization_level = ort_opt_level(self.opt_level)
        options.execution_mode = getattr(rt.ExecutionMode, EXECUTION_MODES[self.execution_mode])
        if self.intra_op_threads is not None:
            options.intra_op_num_threads = self.intra_op_threads
        if self.inter_op_threads is not None:
            options.inter_op_num_threads = self.inter_op_threads
        if self.enable_profiling:
            options.enable_profiling = True
            if profile_prefix:
                options.profile_file_prefix = profile_prefix
        options.add_session_config_entry(_PLACEMENT_CONFIG, "1")
        return options

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as reports record it."""
        return {
            "provider": self.provider,
            "provider_options": dict(self.provider_options),
            "opt_level": self.opt_level,
            "intra_op_threads": self.intra_op_threads,
            "inter_op_threads": self.inter_op_threads,
            "execution_mode": self.execution_mode,
            "allow_fallback": self.allow_fallback,
        }


def _option_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
