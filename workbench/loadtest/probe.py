"""One load run (a probe) where the job runs: the worker process by default, or this one.

`run_probe` is what `execute()` runs for a `Job` of kind "load": it opens the sessions
(one shared, or one per client), warms them up, drives the generator, and reports through
the job events: `Started`, `Samples` (finished requests, the generator's columns) every
~50 ms, `Facts` (CPU and GPU utilisation, the first error), `Finished`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import psutil

from workbench.bench.jobs import Facts, Finished, Job, Samples, Started
from workbench.bench.measure import MemoryWatch
from workbench.bench.runners import feeds_for
from workbench.errors import WorkbenchError
from workbench.feeds.synthetic import Feeds
from workbench.loadtest import schedule
from workbench.loadtest.generator import (
    COLUMNS,
    Batching,
    Records,
    Service,
    closed_loop,
    open_loop,
)
from workbench.ort import providers, system
from workbench.ort.doctor import host
from workbench.ort.options import SessionConfig

if TYPE_CHECKING:
    from workbench.bench.executors import Emit, ShouldStop
    from workbench.feeds.synthetic import FeedRequest
    from workbench.model.model import Model
    from workbench.ort.session import Session

WARMUP_RUNS = 5  # per session, before the clock starts (not recorded)
MIN_OFFLINE, MAX_OFFLINE = 100, 1_000_000  # requests an offline run queues


def run_probe(
    model: Model, request: FeedRequest, job: Job, emit: Emit, *, cancel: ShouldStop | None
) -> None:
    """Run the probe `job.spec` describes and report it through `emit` (see the module)."""
    spec, config = job.spec, job.config
    batching = Batching(*spec["batching"]) if spec.get("batching") else None
    if batching is not None:
        refusal = batching_refusal(model)
        if refusal:
            raise WorkbenchError(f"Dynamic batching is not possible here: {refusal}", "")
    count = int(spec.get("clients") or spec.get("workers") or 1)
    options: dict[str, Any] = {
        "opt_level": config.opt_level,
        "intra_op_threads": config.intra_op_threads,
    }
    shared = model.session(config.provider, **options)
    feeds, _ = feeds_for(shared, config, request, job.seed)
    sessions = [shared] * count
    if spec.get("sessions") == "per-client":
        made = SessionConfig.make(config.provider, **options)
        sessions = [shared] + [model.open_session(made) for _ in range(count - 1)]
    memory = MemoryWatch(gpu=config.provider in (providers.CUDA, providers.TENSORRT))
    distinct = list({id(s): s for s in sessions}.values())
    try:
        with shared.explaining(feeds.plan):  # a failing model says why, as benchmarks do
            services = [session_service(s, feeds, batching) for s in sessions]
            service_s = _warm_up(services[: len(distinct)], batching)
        emit(Started(shared.applied_providers, shared.create_seconds, 1, host()))
        watch = _Utilisation(gpu=config.provider in (providers.CUDA, providers.TENSORRT))
        sent = 0

        def progress(records: Records) -> None:
            nonlocal sent
            done = len(records.finished)
            if done > sent:
                emit(Samples(records.rows(sent)[: done - sent].astype(np.int64), COLUMNS))
                sent = done
            memory.sample()
            watch.sample()

        records = _drive(spec, services, cancel or (lambda: False), progress, service_s)
        emit(Facts({**watch.summary(), "first_error": records.first_error}))
        emit(Finished(records.stopped or "done", WARMUP_RUNS, None, memory.peak_rss_mb(),
                      memory.gpu_mb()))  # fmt: skip
    finally:
        for session in distinct:
            if session is not shared:  # the shared one stays cached in the model
                session.close()


def _warm_up(services: list[Service], batching: Batching | None) -> float:
    """Run each session a few times (and each batch size once); the seconds a request took."""
    began = time.perf_counter()
    for service in services:
        for _ in range(WARMUP_RUNS):
            service(1)
    took = (time.perf_counter() - began) / (WARMUP_RUNS * len(services))
    for size in range(2, (batching.max_batch if batching else 1) + 1):
        for service in services:
            service(size)
    return took


def _drive(
    spec: Mapping[str, Any],
    services: list[Service],
    cancel: Callable[[], bool],
    progress: Callable[[Records], None],
    service_s: float,
) -> Records:
    kind = spec["kind"]
    if kind == "closed":
        return closed_loop(services, duration_s=float(spec["duration_s"]),
                           max_requests=spec.get("requests"), cancel=cancel,
                           on_progress=progress)  # fmt: skip
    if kind == "open":
        offsets = schedule.poisson(float(spec["qps"]), float(spec["duration_s"]), spec["seed"])
    batching = Batching(*spec["batching"]) if spec.get("batching") else None
    if kind == "offline":  # everything queued at the start: enough to keep busy the duration
        per_call = batching.max_batch if batching else 1
        count = spec.get("requests") or int(
            float(spec["duration_s"]) * len(services) * per_call / max(service_s, 1e-6)
        )
        offsets = schedule.all_at_once(min(max(count, MIN_OFFLINE), MAX_OFFLINE))
    limit = len(offsets) if kind == "offline" else int(spec["queue_limit"])
    return open_loop(services, offsets, queue_limit=limit, batching=batching, cancel=cancel,
                     on_progress=progress)  # fmt: skip


def session_service(session: Session, feeds: Feeds, batching: Batching | None) -> Service:
    """Run `count` requests on `session`: the feeds as given, or `count` of them stacked."""
    runners = {1: session.runner(feeds)}

    def service(count: int) -> None:
        run = runners.get(count)
        if run is None:  # `count` requests stacked along the batch dim, made once per size
            stacked = {k: np.concatenate([v] * count, axis=0) for k, v in feeds.values.items()}
            run = runners[count] = session.runner(Feeds(stacked))
        run()

    if batching is None:
        single = runners[1]

        def one(_: int) -> None:
            single()

        return one
    return service


def batching_refusal(model: Model) -> str:
    """Why requests cannot be batched: every input and output needs a free leading dim."""
    for kind, values in (("input", model.inputs), ("output", model.outputs)):
        for value in values:
            shape = value.shape
            if value.type.kind != "tensor" or not shape or not isinstance(shape[0], str | None):
                dims = value.shape_text or value.type.text
                return (
                    f"{kind} {value.name!r} ({dims}) has no free leading dim to stack requests "
                    "along. Batching needs every input and output to start with a symbolic "
                    "batch dim."
                )
    return ""


class _Utilisation:
    """CPU use of this process (% of all cores) and GPU use (NVML), over the run."""

    def __init__(self, *, gpu: bool) -> None:
        self._process = psutil.Process()
        self._cpu = self._cpu_seconds()
        self._wall = time.perf_counter()
        self._gpu = gpu
        self._gpu_samples: list[int] = []

    def _cpu_seconds(self) -> float:
        times = self._process.cpu_times()
        return float(times.user + times.system)

    def sample(self) -> None:
        if self._gpu:
            found = system.gpu_utilization(0)
            if found is not None:
                self._gpu_samples.append(found)

    def summary(self) -> dict[str, float | None]:
        wall = time.perf_counter() - self._wall
        cores = psutil.cpu_count() or 1
        cpu = 100 * (self._cpu_seconds() - self._cpu) / wall / cores if wall > 0 else None
        gpu = float(np.mean(self._gpu_samples)) if self._gpu_samples else None
        return {"cpu_percent": cpu, "gpu_percent": gpu}
