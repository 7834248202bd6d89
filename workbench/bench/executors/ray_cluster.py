"""The Ray executor: each configuration a Ray task on a cluster's node (`executor="ray"`).

The cluster is the one this process joined (`ray.init(...)` called by you), else the one
`RAY_ADDRESS` names, else a local one started here. Measurements never share a node: a
task asks for the node's `bench_slot` (start nodes with `--resources='{"bench_slot": 1}'`)
and the CPUs its threads use, or, on a cluster without that resource, for every CPU of the
largest node of its kind; as many run at once as the cluster has slots (`concurrency`).
Tasks are never retried (a retried measurement on another node would be another row),
pin onnxruntime's threads (Ray sets OMP_NUM_THREADS=1 otherwise), and stream their events
back as they come: the same events as the worker's, so results, plots and reports do not
know where they ran. The model is put in the object store once and written once per node
(a model with external weights is read from its own path instead, which every node must
share).

`machines` places configurations on kinds of nodes: `{"h200": {"accelerator_type": "H200"},
"cpu": {"resources": {"cpu_box": 1}}, "eu": {"labels": {"region": "eu"}}}`. A machine no
live node offers is refused before anything runs; a task whose node died, so that no live
node can take it any more, is cancelled after `SCHEDULE_TIMEOUT_S`: a skipped row.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
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
SCHEDULE_TIMEOUT_S = 30.0  # a task no live node can take any more is given up after this
MACHINE_KEYS = ("accelerator_type", "resources", "labels")
_POLL_S = 0.1
_INTERNAL = ("node:", "memory", "object_store", "accelerator_type:")


@dataclass(frozen=True)
class Demand:
    """What one task asks a node for."""

    cpus: float
    gpus: int = 0
    resources: dict[str, float] = field(default_factory=dict)
    accelerator_type: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def fits(self, node: Mapping[str, Any]) -> bool:
        """True when `node` (an entry of `ray.nodes()`) is alive and could ever run it."""
        have = node.get("Resources") or {}
        labels = node.get("Labels") or {}
        wanted = {**self.resources, "CPU": self.cpus, "GPU": self.gpus}
        if self.accelerator_type:
            wanted[f"accelerator_type:{self.accelerator_type}"] = 0.001
        return (
            bool(node.get("Alive"))
            and all(have.get(name, 0) >= amount for name, amount in wanted.items() if amount)
            and all(_label_matches(labels.get(k), v) for k, v in self.labels.items())
        )

    def describe(self) -> str:
        """E.g. "4 CPUs, a GPU, bench_slot 1, accelerator type H200" (or "nothing")."""
        parts = [f"{self.cpus:g} CPU" + ("s" if self.cpus != 1 else "")] if self.cpus else []
        parts += ["a GPU"] if self.gpus else []
        parts += [f"{k} {v:g}" for k, v in sorted(self.resources.items())]
        if self.accelerator_type:
            parts.append(f"accelerator type {self.accelerator_type}")
        parts += [f"label {k}={v}" for k, v in sorted(self.labels.items())]
        return ", ".join(parts) or "nothing"


class RayExecutor:
    """Measures each job as a Ray task (see the module)."""

    name: ClassVar[str] = "ray"
    remote: ClassVar[bool] = True  # providers are probed where the task runs, not here

    def __init__(
        self,
        model: Model,
        request: FeedRequest,
        machines: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        if model.external_data.files and model.path is None:
            raise WorkbenchError(
                f"{model.label} keeps its weights in external files but has no file of its "
                "own, so there is no path the nodes could read it from.",
                "Save it next to its weights on a file system every node mounts, and load it "
                "from there; or use executor='pool' on one machine.",
            )
        self._ray = _ray()
        self._machines = {name: _machine(name, spec) for name, spec in (machines or {}).items()}
        nodes = self._nodes = self._alive()
        self._has_slots = any((n.get("Resources") or {}).get(SLOT) for n in nodes)
        self._largest_node = max((n["Resources"].get("CPU", 0) for n in nodes), default=1)
        for name, wanted in self._machines.items():
            demand = Demand(0, resources=wanted.get("resources", {}),
                            accelerator_type=wanted.get("accelerator_type"),
                            labels=wanted.get("labels", {}))  # fmt: skip
            if not any(demand.fits(node) for node in nodes):
                raise WorkbenchError(
                    f"No node of the Ray cluster is machine {name!r} ({demand.describe()}).",
                    f"The cluster offers: {_listing(nodes)}. Start such a node (ray start "
                    "--resources=... or --labels=...) or change machines=.",
                )
        # One measurement per node: as many at once as there are slots (or nodes).
        slots = sum(int((n.get("Resources") or {}).get(SLOT, 0)) for n in nodes)
        self.concurrency = max(1, slots if self._has_slots else len(nodes))
        # Into the object store once (each node writes it to disk once); a model with
        # external weights is read where it is, from a file system the nodes share.
        self._model = (
            str(model.path.resolve())
            if model.external_data.files and model.path is not None
            else self._ray.put(model.serialized())
        )
        arrays = {k: np.asarray(v) for k, v in (request.feeds or {}).items()}
        self._request = self._ray.put({"feeds": arrays or None, "values": request.values,
                                       "ranges": request.ranges})  # fmt: skip
        self._task = self._ray.remote(_measure_on_node)

    def demand(self, job: Job) -> Demand:
        """What measuring `job` asks of a node.

        With slots, the slot keeps the node to this job: it asks for the CPUs its threads
        use. Without them, it asks for every CPU of the largest node of its kind, so no
        other measurement can share that node.
        """
        gpu = job.config.provider in (providers.CUDA, providers.TENSORRT)
        machine = self._machines.get(job.config.machine or "", {})
        place = Demand(0, resources={**({SLOT: 1} if self._has_slots else {}),
                                     **machine.get("resources", {})},
                       accelerator_type=machine.get("accelerator_type"),
                       labels=machine.get("labels", {}))  # fmt: skip
        whole = self._whole_node(place)
        threads = job.config.intra_op_threads
        cpus = min(threads or 1, whole) if self._has_slots else whole
        return dataclasses.replace(place, cpus=cpus, gpus=1 if gpu else 0)

    def threads(self, job: Job, demand: Demand) -> int:
        """OMP_NUM_THREADS for the task: its threads, else the CPUs of a node of its kind."""
        place = dataclasses.replace(demand, cpus=0, gpus=0)
        return int(job.config.intra_op_threads or self._whole_node(place))

    def _whole_node(self, place: Demand) -> float:
        """The CPUs of the largest live node `place` fits (the largest node if none does)."""
        fitting = [n["Resources"].get("CPU", 0) for n in self._nodes if place.fits(n)]
        return max(fitting, default=self._largest_node)

    def run(self, job: Job, emit: Emit, cancel: ShouldStop) -> None:
        """Submit `job` as a task and pass its events on as they stream back."""
        if job.config.machine is not None and job.config.machine not in self._machines:
            raise WorkbenchError(f"Machine {job.config.machine!r} is not in machines=.",
                                 f"Machines: {', '.join(self._machines) or 'none'}.")  # fmt: skip
        demand = self.demand(job)
        self._check_fits(demand)
        options: dict[str, Any] = {
            "num_cpus": demand.cpus,
            "num_gpus": demand.gpus,
            "resources": demand.resources,
            "max_retries": 0,
            "runtime_env": {"env_vars": {"OMP_NUM_THREADS": str(self.threads(job, demand))}},
        }
        if demand.accelerator_type:
            options["accelerator_type"] = demand.accelerator_type
        if demand.labels:
            options["label_selector"] = demand.labels
        generator = self._task.options(**options).remote(self._model, self._request,
                                                         job.as_dict())  # fmt: skip
        started, checked = False, time.monotonic()
        while True:
            if cancel():
                self._ray.cancel(generator, force=True)
                emit(Finished("cancelled", 0, None, None, None))
                return
            ready, _ = self._ray.wait([generator], timeout=_POLL_S)
            if not ready:
                if not started and time.monotonic() - checked > SCHEDULE_TIMEOUT_S:
                    # Waiting for a busy node is fine; waiting for a node that is gone is not.
                    checked = time.monotonic()
                    try:
                        self._check_fits(demand)
                    except ResourceUnavailable:
                        self._ray.cancel(generator, force=True)
                        raise
                continue
            try:
                event = decode(self._ray.get(next(generator)))
            except StopIteration:
                return
            except self._ray.exceptions.RayError as error:
                raise WorkerCrashed(
                    f"The Ray task measuring {job.config.label} was lost: "
                    f"{str(error).strip().splitlines()[0]}",
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

    def _alive(self) -> list[dict[str, Any]]:
        return [n for n in self._ray.nodes() if n.get("Alive")]

    def _check_fits(self, demand: Demand) -> None:
        """ResourceUnavailable when no live node could ever run `demand`."""
        nodes = self._alive()
        if not any(demand.fits(node) for node in nodes):
            raise ResourceUnavailable(
                f"No live node of the Ray cluster can take the job (it asks for "
                f"{demand.describe()}).",
                f"The cluster offers: {_listing(nodes)}.",
            )


def _machine(name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """One entry of `machines=`, checked."""
    example = (
        'e.g. machines={"h200": {"accelerator_type": "H200"}, "cpu": {"resources": {"cpu_box": 1}}}'
    )
    if not isinstance(spec, Mapping) or set(spec) - set(MACHINE_KEYS):
        unknown = sorted(set(spec) - set(MACHINE_KEYS)) if isinstance(spec, Mapping) else spec
        raise WorkbenchError(
            f"Machine {name!r} is described by {unknown!r}, which Ray cannot place a task by.",
            f"Describe it with {', '.join(MACHINE_KEYS)}; {example}.",
        )
    resources = spec.get("resources") or {}
    labels = spec.get("labels") or {}
    accelerator = spec.get("accelerator_type")
    valid = (
        isinstance(resources, Mapping)
        and all(isinstance(v, int | float) and v > 0 for v in resources.values())
        and isinstance(labels, Mapping)
        and all(isinstance(v, str) for v in labels.values())
        and (accelerator is None or isinstance(accelerator, str))
    )
    if not valid:
        raise WorkbenchError(
            f"Machine {name!r} has a malformed description: {dict(spec)!r}.",
            "resources maps names to positive amounts, labels names to strings, "
            f"accelerator_type is a string; {example}.",
        )
    return {
        "resources": {str(k): float(v) for k, v in resources.items()},
        "labels": {str(k): v for k, v in labels.items()},
        "accelerator_type": accelerator,
    }


def _label_matches(have: str | None, wanted: str) -> bool:
    """Ray's label selector for one label: "v", "!v", "in(a,b)", "!in(a,b)"."""
    negate = wanted.startswith("!")
    body = wanted[1:] if negate else wanted
    if body.startswith("in(") and body.endswith(")"):
        found = have in {v.strip() for v in body[3:-1].split(",")}
    else:
        found = have == body
    return found != negate


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


def _listing(nodes: list[dict[str, Any]]) -> str:
    """Each live node's resources and labels, e.g. "node 1a2b3c: CPU 8, GPU 1, bench_slot 1"."""
    described = []
    for node in nodes:
        have = node.get("Resources") or {}
        shown = [f"{k} {v:g}" for k, v in sorted(have.items()) if not k.startswith(_INTERNAL)]
        shown += [k.split(":", 1)[1] for k in have if k.startswith("accelerator_type:")]
        labels = {
            k: v for k, v in (node.get("Labels") or {}).items() if not k.startswith("ray.io/")
        }
        shown += [f"{k}={v}" for k, v in sorted(labels.items())]
        described.append(f"node {str(node.get('NodeID', ''))[:6]}: {', '.join(shown) or 'nothing'}")
    return "; ".join(described) or "no live node"


def _measure_on_node(
    model: bytes | str, request: dict[str, Any], job: dict[str, Any]
) -> Iterator[bytes]:
    """On a node: measure `job` (`model`: its bytes, or a shared path) and yield its events."""
    import hashlib  # noqa: PLC0415  (runs on the node, in a Ray worker)

    import ray  # noqa: PLC0415  (as above)

    from workbench.bench.executors.inprocess import execute  # noqa: PLC0415  (as above)
    from workbench.model.model import load  # noqa: PLC0415  (as above)

    node = ray.get_runtime_context().get_node_id()
    if isinstance(model, str):  # external weights: the path the driver read, shared
        path = Path(model)
        if not path.is_file():
            error = WorkbenchError(
                f"Node {node[:6]} cannot read {model}: the model keeps its weights in external "
                "files, read from a path every node must share.",
                "Mount that folder on every node at the same path, or use executor='pool'.",
            )
            yield encode(Failed.of(error))
            return
    else:
        path = (
            Path(tempfile.gettempdir())
            / "onnx-workbench-ray"
            / (hashlib.sha256(model).hexdigest() + ".onnx")
        )
        if not path.is_file():  # once per node: the tasks after it read the file
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.partial")
            partial.write_bytes(model)
            partial.replace(path)
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
