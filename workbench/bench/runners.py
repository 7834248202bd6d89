"""One timed call per mode: host (numpy feeds), device (IO binding) and cuda-graph."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from workbench import providers
from workbench.bench.config import Mode
from workbench.errors import WorkbenchError
from workbench.session import Session

CUDA_GRAPH_OPTION = "enable_cuda_graph"


class ModeUnavailable(WorkbenchError):
    """A mode that cannot run for a provider or model; the message says why."""


def check_mode(mode: Mode, provider: str) -> None:
    """Raise ModeUnavailable when `mode` makes no sense for `provider`."""
    if mode == "device" and provider == providers.CPU:
        raise ModeUnavailable(
            "On the CPU provider inputs and outputs already live in host memory: 'device' "
            "mode would only add IO-binding bookkeeping, not remove copies.",
            "Use mode 'host' on the CPU; 'device' measures GPU providers without copies.",
        )
    if mode == "cuda-graph" and provider != providers.CUDA:
        raise ModeUnavailable(
            f"CUDA graphs need the CUDA provider, not {provider}.",
            "Use mode 'host' or 'device' here.",
        )


def make_runner(session: Session, feeds: Mapping[str, Any], mode: Mode) -> Callable[[], object]:
    """A zero-argument callable doing exactly one run, with setup (copies, capture) done."""
    if mode == "host":
        if session._special_inputs or session._special_outputs:
            return functools.partial(session.run, feeds)
        return functools.partial(session.ort_session.run, None, dict(feeds), session._run_options)
    if mode == "device":
        return session.bind(feeds).run
    return _cuda_graph_runner(session, feeds)


def _cuda_graph_runner(session: Session, feeds: Mapping[str, Any]) -> Callable[[], object]:
    """Replay a captured CUDA graph; refuse (with the reason) when nodes are off the GPU."""
    off_gpu = [p for p in session.placement() if p.provider != providers.CUDA]
    if off_gpu:
        examples = ", ".join(f"{p.node!r} ({p.op_type})" for p in off_gpu[:3])
        raise ModeUnavailable(
            f"CUDA graph capture needs every node on CUDA, but {len(off_gpu)} run on "
            f"{off_gpu[0].provider}: {examples}.",
            "Int64 shape arithmetic and ops without CUDA kernels stay on the CPU; "
            "use mode 'device' for this model.",
        )
    # Graph replay needs fixed output buffers: learn their shapes from one ordinary run.
    shapes = dict(zip(session.model.output_names, session.run(feeds), strict=True))
    binding = session.bind(feeds, preallocate=shapes)
    binding.run()  # the first run captures the graph
    return binding.run
