"""Measuring a job in this process.

`execute()` is what every executor runs in the end; the in-process executor (the default)
calls it directly.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import psutil

from workbench.bench.config import BenchConfig, Timing
from workbench.bench.jobs import Finished, Job, Progress, Samples, Started
from workbench.bench.measure import measure
from workbench.bench.runners import cuda_graph_session, make_runner
from workbench.errors import WorkbenchError
from workbench.feeds.synthetic import FeedRequest, Feeds
from workbench.ort import providers, system

if TYPE_CHECKING:
    from workbench.bench.executors import Emit, ShouldStop
    from workbench.model.model import Model
    from workbench.ort.session import Session

MiB = 1024 * 1024


class InProcessExecutor:
    """Measures in the calling process; sessions stay cached in the model between jobs."""

    name: ClassVar[str] = "inprocess"

    def __init__(self, model: Model, request: FeedRequest) -> None:
        self.model = model
        self.request = request

    def run(self, job: Job, emit: Emit, cancel: ShouldStop) -> None:
        """Measure `job` here."""
        execute(self.model, self.request, job, emit, cancel=cancel)

    def close(self) -> None:
        """Nothing to release: the model keeps its sessions for the caller."""

    def __enter__(self) -> InProcessExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def execute(
    model: Model,
    request: FeedRequest,
    job: Job,
    emit: Emit,
    *,
    cancel: ShouldStop | None = None,
    lifetime_peak: bool = False,
) -> None:
    """Create (or reuse) the session, build the feeds, measure, and report it all by `emit`.

    Samples go out in batches as measuring goes (and before any error propagates), so a
    caller keeps every completed run. `lifetime_peak`: this process measures one job only,
    so its lifetime peak RSS is the job's (more exact than sampling).
    """
    if job.kind != "latency":
        raise WorkbenchError(f"This onnx-workbench cannot run {job.kind!r} jobs.", "Upgrade it.")
    config = job.config
    memory = MemoryWatch(gpu=config.provider in (providers.CUDA, providers.TENSORRT))
    with _session_for(model, config) as session:
        feeds, items = feeds_for(session, config, request, job.seed)
        emit(Started(session.applied_providers, session.create_seconds, items))
        timing = Timing()
        sent = 0

        def flush(current: Timing) -> None:
            nonlocal sent
            memory.sample()
            if len(current.samples_ns) > sent:
                emit(Samples(np.asarray(current.samples_ns[sent:], dtype=np.int64)))
                sent = len(current.samples_ns)
            emit(Progress(current.warmup_runs, current.first_run_s))

        try:
            with session.explaining(feeds.plan):
                runner = make_runner(session, feeds, config.mode)
                measure(runner, job.policy, timing, cancel=cancel, on_progress=flush)
        finally:
            flush(timing)  # samples measured before a failure are kept too
        # Before the session goes (a cuda-graph one is closed on leaving this block).
        finished = Finished(
            timing.stop_reason,
            timing.warmup_runs,
            timing.first_run_s,
            memory.peak_rss_mb(lifetime=lifetime_peak),
            memory.gpu_mb(),
        )
    emit(finished)


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


@contextmanager
def _session_for(model: Model, config: BenchConfig) -> Iterator[Session]:
    """The configuration's (cached) session; a CUDA-graph session is closed afterwards.

    A captured graph replays one set of shapes and buffers, so the next configuration needs a
    session of its own (and closing frees its GPU memory).
    """
    options: dict[str, Any] = {
        "opt_level": config.opt_level,
        "intra_op_threads": config.intra_op_threads,
    }
    if config.mode == "cuda-graph":
        with cuda_graph_session(model, **options) as session:
            yield session
    else:
        yield model.session(config.provider, **options)


class MemoryWatch:
    """Peak host memory, and GPU memory held, while one job runs: every executor's bookkeeping."""

    def __init__(self, *, gpu: bool) -> None:
        self._process = psutil.Process()
        self._peak = int(self._process.memory_info().rss)
        self._gpu_before = system.gpu_memory_used(0) if gpu else None

    def sample(self) -> None:
        """Note the current RSS (called at every progress check)."""
        self._peak = max(self._peak, int(self._process.memory_info().rss))

    def peak_rss_mb(self, *, lifetime: bool = False) -> float:
        """The highest RSS seen, or the process's lifetime peak when it ran this job alone."""
        self.sample()
        if lifetime:
            return _lifetime_peak_rss() / MiB
        return self._peak / MiB

    def gpu_mb(self) -> float | None:
        """GPU memory the job left in use (its session's weights and buffers), or None."""
        if self._gpu_before is None:
            return None
        after = system.gpu_memory_used(0)
        return (after - self._gpu_before) / MiB if after is not None else None


def _lifetime_peak_rss() -> float:
    """The process's peak RSS in bytes since it started."""
    if sys.platform == "win32":  # no getrusage: the working set's peak
        info = psutil.Process().memory_info()
        return float(getattr(info, "peak_wset", info.rss))
    import resource  # noqa: PLC0415  (Unix only: an import here keeps Windows importing us)

    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale)
