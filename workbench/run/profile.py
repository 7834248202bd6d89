"""`workbench.profile()`: time per node from onnxruntime's own profiler."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from workbench.errors import WorkbenchError
from workbench.model.model import load
from workbench.ort.options import SessionConfig
from workbench.ort.profiling import ProfileResult, summarize

if TYPE_CHECKING:
    from workbench.feeds.checker import Range
    from workbench.model import ModelLike


def profile(
    model: ModelLike,
    provider: str = "cpu",
    feeds: Mapping[str, Any] | None = None,
    *,
    runs: int = 10,
    warmup: int = 3,
    dims: Mapping[str, int] | None = None,
    shapes: Mapping[str, Sequence[int]] | None = None,
    batch: int | None = None,
    seed: int = 0,
    values: Mapping[str, Any] | None = None,
    ranges: Mapping[str, Range] | None = None,
    **session_options: Any,
) -> ProfileResult:
    """Run `warmup + runs` times in a profiled session and tabulate time per node.

    Feeds, values, dims and ranges work as in `Model.run`. Warmup runs are left out of the
    table. Nodes are named as in `Model.named()` (a node the file leaves unnamed gets the
    name onnxruntime gives it), so `show_graph(model, overlay=result)` finds every one.
    Profiling adds its own overhead, so compare these times with each other, not with a
    benchmark's latencies.
    """
    model = load(model)
    named = model.named()  # nodes named as the optimized graph and the viewer name them
    if runs < 1:
        raise WorkbenchError(f"runs must be at least 1, got {runs}.", "E.g. runs=10.")
    config = SessionConfig.make(provider, enable_profiling=True, **session_options)
    # A session of its own: onnxruntime profiles a session from its creation to its end.
    with named.open_session(config) as session:
        ready = session.prepare_feeds(
            feeds, values=values, dims=dims, shapes=shapes, batch=batch, seed=seed, ranges=ranges
        )
        run = session.runner(ready)
        with session.explaining(ready.plan):
            for _ in range(runs + warmup):
                run()
        events = session.profile_events()
    result = summarize(events, config.provider, runs=runs, warmup=warmup)
    result.inputs = ready.input_rows()
    result.model_sha256 = model.sha256
    result.session = config.as_dict()
    return result
