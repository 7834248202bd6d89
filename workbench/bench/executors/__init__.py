"""Executors: where a benchmark's jobs run. Each implements `Executor` and only adds transport.

`inprocess` measures in this process; `worker` in a child process per configuration, and
`pool` in one long-lived child process for the whole sweep (replaced if it dies), so a
crash or hang inside onnxruntime cannot take the caller down; `ray` as tasks on a Ray
cluster's nodes, several at once. All run the same `execute()` and report through the same
events (`bench/jobs.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from workbench.bench.config import EXECUTORS
from workbench.bench.executors.inprocess import InProcessExecutor
from workbench.bench.executors.ray_cluster import RayExecutor
from workbench.bench.executors.worker import PoolExecutor, WorkerExecutor
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.bench.jobs import Event, Job
    from workbench.feeds.synthetic import FeedRequest
    from workbench.model.model import Model

Emit = Callable[["Event"], None]
ShouldStop = Callable[[], bool]


class Executor(Protocol):
    """Runs jobs for one model and one feed request; a context manager (`close()` at exit).

    `run()` returns when the job is over, having emitted its events (the last one `Finished`);
    it raises a WorkbenchError for a job that failed, and `WorkerCrashed` when the process
    running it died or hung. `cancel()` returning True asks it to stop, keeping the samples.
    `concurrency` jobs may run at once, each from its own thread; a `remote` executor probes
    providers where it runs them, not here.
    """

    name: ClassVar[str]
    remote: ClassVar[bool]
    concurrency: int

    def run(self, job: Job, emit: Emit, cancel: ShouldStop) -> None:
        """Measure `job`, reporting through `emit`."""

    def close(self) -> None:
        """Release what the executor holds (processes, scratch files)."""

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc_info: object) -> None: ...


CLASSES: dict[str, Callable[[Model, FeedRequest], Executor]] = {
    "inprocess": InProcessExecutor,
    "worker": WorkerExecutor,
    "pool": PoolExecutor,
    "ray": RayExecutor,
}


def open_executor(
    name: str,
    model: Model,
    request: FeedRequest,
    *,
    machines: Mapping[str, Mapping[str, Any]] | None = None,
) -> Executor:
    """The executor called `name`, for `model` and what the user said about its inputs.

    `machines` (kinds of Ray nodes to place configurations on) needs `name="ray"`.
    """
    make = CLASSES.get(name)
    if make is None:
        raise WorkbenchError(f"Unknown executor {name!r}.", f"Use one of {', '.join(EXECUTORS)}.")
    if name == "ray":
        return RayExecutor(model, request, machines)
    if machines:
        raise WorkbenchError(
            f"machines= places configurations on the nodes of a Ray cluster; executor={name!r} "
            "runs them all on this machine.",
            "Use executor='ray' with machines=, or leave machines= out.",
        )
    return make(model, request)
