"""Timing modes: one timed call for host (numpy feeds), device (IO binding) and cuda-graph."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from workbench.bench.config import BenchConfig, Mode
from workbench.errors import ModeUnavailable, WorkbenchError
from workbench.feeds.synthetic import FeedRequest, Feeds
from workbench.ort import providers
from workbench.ort.session import Session
from workbench.text import describe_node

if TYPE_CHECKING:
    from workbench.model.model import Model

CUDA_GRAPH_OPTION = "enable_cuda_graph"
# onnxruntime's refusal of a graph-capturing session (older releases say "CUDA Graph").
_GRAPH_REFUSED = re.compile(
    r"This session cannot use the (?:graph capture|CUDA Graph) feature[^.]*"
)


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


def make_runner(session: Session, feeds: Feeds, mode: Mode) -> Callable[[], object]:
    """A zero-argument callable doing exactly one run, with setup (copies, capture) done."""
    if mode == "host":
        return session.runner(feeds)
    if mode == "device":
        return session.bind(feeds.values).run
    return _cuda_graph_runner(session, feeds.values)


def cuda_graph_session(model: Model, **options: Any) -> Session:
    """A CUDA session that captures graphs.

    onnxruntime refuses one when compute nodes would run on the CPU, or for control flow:
    that becomes ModeUnavailable, naming the nodes off the GPU where there are some.
    """
    try:
        return model.session(providers.CUDA, provider_options={CUDA_GRAPH_OPTION: "1"}, **options)
    except WorkbenchError as error:
        refusal = _GRAPH_REFUSED.search(error.message)
        if refusal is None:
            raise
    off_gpu = [
        p
        for p in model.session(providers.CUDA, **options).placement()
        if p.provider != providers.CUDA
    ]
    if off_gpu:
        examples = ", ".join(describe_node(p.node, p.op_type) for p in off_gpu[:3])
        message = (
            f"CUDA graph capture needs every compute node on CUDA: {len(off_gpu)} run on "
            f"{off_gpu[0].provider}, e.g. {examples}."
        )
    else:
        message = f"onnxruntime refuses CUDA graph capture for this model: {refusal.group(0)}"
    raise ModeUnavailable(
        message,
        "Ops without CUDA kernels (ONNX-ML, some int64 and string ops) and control flow "
        "(If, Loop, Scan) rule CUDA graphs out; use mode 'device' for this model.",
    )


def _cuda_graph_runner(session: Session, feeds: Mapping[str, Any]) -> Callable[[], object]:
    """Replay a captured CUDA graph (the session was made by `cuda_graph_session`)."""
    # Replay needs fixed output buffers: learn their shapes from one ordinary run (which is
    # also the regular run onnxruntime wants before it captures).
    shapes = session.run(feeds).outputs
    binding = session.bind(feeds, preallocate=shapes)
    binding.run()  # the first run captures the graph
    return binding.run


def feeds_for(
    session: Session, config: BenchConfig, request: FeedRequest, seed: int
) -> tuple[Feeds, int]:
    """Feeds for one configuration (the user's, or synthetic ones of its shapes).

    Also the items per run: the batch size, or the user's first input's leading dim.
    """
    feeds = session.prepare_feeds(
        request.feeds,
        values=request.values,
        ranges=request.ranges,
        dims=dict(config.dims),
        shapes={k: list(v) for k, v in config.shapes},
        batch=config.batch,
        seed=seed,
    )
    if feeds.plan is not None:
        return feeds, feeds.plan.batch or 1
    first = next(iter(feeds.values.values()), None)
    items = int(getattr(first, "shape", (1,))[0] or 1) if getattr(first, "ndim", 0) else 1
    return feeds, items
