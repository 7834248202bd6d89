"""Measuring a job in this process.

`execute()` is what every executor runs in the end; the in-process executor (the default)
calls it directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from workbench.bench.config import BenchConfig, Timing
from workbench.bench.jobs import Finished, Job, Progress, Samples, Started
from workbench.bench.measure import MemoryWatch, measure
from workbench.bench.runners import cuda_graph_session, feeds_for, make_runner
from workbench.errors import WorkbenchError
from workbench.feeds.synthetic import FeedRequest
from workbench.ort import providers
from workbench.ort.doctor import host

if TYPE_CHECKING:
    from workbench.bench.executors import Emit, ShouldStop
    from workbench.model.model import Model
    from workbench.ort.session import Session


class InProcessExecutor:
    """Measures in the calling process; sessions stay cached in the model between jobs."""

    name: ClassVar[str] = "inprocess"
    remote: ClassVar[bool] = False
    concurrency: int = 1  # one job at a time: measurements on one machine never overlap

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
    if job.kind == "load":
        from workbench.loadtest.probe import run_probe  # noqa: PLC0415  (load jobs only)

        run_probe(model, request, job, emit, cancel=cancel)
        return
    if job.kind != "latency":
        raise WorkbenchError(f"This onnx-workbench cannot run {job.kind!r} jobs.", "Upgrade it.")
    config = job.config
    memory = MemoryWatch(gpu=config.provider in (providers.CUDA, providers.TENSORRT))
    with _session_for(model, config) as session:
        feeds, items = feeds_for(session, config, request, job.seed)
        emit(Started(session.applied_providers, session.create_seconds, items, host()))
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
