"""The Ray executor: each configuration a Ray task on a cluster's node (`executor="ray"`).

The cluster is the one this process joined (`ray.init(...)` called by you), else the one
`RAY_ADDRESS` names, else a local one started here. Measurements never share a node: a
task asks for the node's `bench_slot` (start nodes with `--resources='{"bench_slot": 1}'`),
or, on a cluster without that resource, for every CPU of the largest node. Tasks are never
retried (a retried measurement on another node would be another row), pin onnxruntime's
threads to the CPUs they hold (Ray sets OMP_NUM_THREADS=1 otherwise), and stream their
events back as they come: the same events as the worker's, so results, plots and reports
do not know where they ran. The model is put in the object store once and read by each node
from there. A task no node can take within `SCHEDULE_TIMEOUT_S` is cancelled: a skipped row.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from workbench.bench.jobs import Failed, Finished, Job, Started, decode, encode
from workbench.errors import ResourceUnavailable, WorkbenchError, WorkerCrashed, optional_import
from workbench.feeds.synthetic import FeedRequest
from workbench.ort import providers

if TYPE_CHECKING:
    from workbench.bench.executors import Emit, ShouldStop
    from workbench.model.model import Model

SLOT = "bench_slot"  # the custom resource that keeps measurements one per node
SCHEDULE_TIMEOUT_S = 60.0  # a task that no node takes by then becomes a skipped row
_POLL_S = 0.1


class RayExecutor:
    """Measures each job as a Ray task (see the module)."""

    name: ClassVar[str] = "ray"

    def __init__(self, model: Model, request: FeedRequest) -> None:
        if model.external_data.files:
            raise WorkbenchError(
                f"{model.label} keeps its weights in external files, which Ray's object store "
                "would copy to every node with each task.",
                "Put the model on a path every node reads (a shared file system), or use "
                "executor='pool' on one machine.",
            )
        self._ray = _ray()
        self._model = self._ray.put(model.serialized())
        arrays = {k: np.asarray(v) for k, v in (request.feeds or {}).items()}
        self._request = self._ray.put({"feeds": arrays or None, "values": request.values,
                                       "ranges": request.ranges})  # fmt: skip
        self._resources = self._ray.cluster_resources()
        self._largest_node = max(
            (n["Resources"].get("CPU", 0) for n in self._ray.nodes() if n.get("Alive")),
            default=1,
        )
        self._task = self._ray.remote(_measure_on_node)

    def run(self, job: Job, emit: Emit, cancel: ShouldStop) -> None:
        """Submit `job` as a task and pass its events on as they stream back."""
        gpu = job.config.provider in (providers.CUDA, providers.TENSORRT)
        if gpu and not self._resources.get("GPU"):
            raise ResourceUnavailable(
                f"No node of the Ray cluster has a GPU for {job.config.provider}.",
                f"The cluster offers: {_listing(self._resources)}.",
            )
        cpus = job.config.intra_op_threads or self._largest_node
        slot = {SLOT: 1} if self._resources.get(SLOT) else {}
        generator = self._task.options(
            num_cpus=min(cpus, self._largest_node),
            num_gpus=1 if gpu else 0,
            resources=slot,
            max_retries=0,
            runtime_env={"env_vars": {"OMP_NUM_THREADS": str(int(cpus))}},
        ).remote(self._model, self._request, job.as_dict())
        started, submitted = False, time.monotonic()
        while True:
            if cancel():
                self._ray.cancel(generator, force=True)
                emit(Finished("cancelled", 0, None, None, None))
                return
            ready, _ = self._ray.wait([generator], timeout=_POLL_S)
            if not ready:
                if not started and time.monotonic() - submitted > SCHEDULE_TIMEOUT_S:
                    self._ray.cancel(generator, force=True)
                    raise ResourceUnavailable(
                        f"No node of the Ray cluster took the job within "
                        f"{SCHEDULE_TIMEOUT_S:.0f} s (it asks for {cpus} CPUs"
                        + (f", {SLOT}" if slot else "")
                        + (", a GPU" if gpu else "")
                        + ").",
                        f"The cluster offers: {_listing(self._resources)}.",
                    )
                continue
            try:
                event = decode(self._ray.get(next(generator)))
            except StopIteration:
                return
            except self._ray.exceptions.RayError as error:
                raise WorkerCrashed(
                    f"The Ray task measuring {job.config.label} was lost: "
                    f"{str(error).splitlines()[0]}",
                    "Its node died or was stopped; the other configurations go on.",
                    how="worker died",
                ) from None
            started = True
            emit(event)
            if isinstance(event, Finished | Failed):
                return

    def close(self) -> None:
        """Nothing to stop: the cluster is yours (or Ray's local one, kept for the session)."""

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _ray() -> Any:
    """Ray, joined to a cluster: yours, RAY_ADDRESS's, or a local one started here."""
    ray = optional_import("ray", feature="executor='ray'", extra="ray")
    if not ray.is_initialized():
        try:
            ray.init(address=os.environ.get("RAY_ADDRESS") or None, include_dashboard=False,
                     log_to_driver=False)  # fmt: skip
        except (ConnectionError, RuntimeError) as error:
            raise WorkbenchError(
                f"Could not reach a Ray cluster: {str(error).splitlines()[0]}",
                "Start one (ray start --head) or call ray.init(address=...) first.",
            ) from None
    return ray


def _listing(resources: dict[str, float]) -> str:
    internal = ("node:", "memory", "object_store")
    shown = {k: v for k, v in resources.items() if not k.startswith(internal)}
    return ", ".join(f"{k} {v:g}" for k, v in sorted(shown.items())) or "nothing"


def _measure_on_node(model: bytes, request: dict[str, Any], job: dict[str, Any]) -> Iterator[bytes]:
    """On a node: measure `job` and yield its events (encoded) as they come."""
    import hashlib  # noqa: PLC0415  (runs on the node, in a Ray worker)

    import ray  # noqa: PLC0415  (as above)

    from workbench.bench.executors.inprocess import execute  # noqa: PLC0415  (as above)
    from workbench.model.model import load  # noqa: PLC0415  (as above)

    digest = hashlib.sha256(model).hexdigest()
    path = Path(tempfile.gettempdir()) / "onnx-workbench-ray" / f"{digest}.onnx"
    if not path.is_file():  # once per node: the tasks after it read the file
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(model)
        partial.replace(path)
    node = ray.get_runtime_context().get_node_id()
    events: queue.Queue[Any] = queue.Queue()

    def emit(event: Any) -> None:
        if isinstance(event, Started):  # the node, beside the host: two nodes may share one
            event = Started(event.applied_providers, event.session_create_s,
                            event.items_per_run, {**event.host, "ray_node": node})  # fmt: skip
        events.put(event)

    def measure() -> None:
        try:
            wanted = FeedRequest(request["feeds"], request["values"], request["ranges"])
            execute(load(path), wanted, Job.from_dict(job), emit, lifetime_peak=False)
        except WorkbenchError as error:
            events.put(Failed.of(error))

    threading.Thread(target=measure, daemon=True).start()
    while True:
        event = events.get()
        yield encode(event)
        if isinstance(event, Finished | Failed):
            return
