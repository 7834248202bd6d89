"""What an executor is given and what streams back, whatever runs the job.

Every executor measures a job by the same function (`executors.inprocess.execute`) and only
differs in transport: the in-process one calls it directly, the worker runs it in a child
process and sends its events as JSON lines, a pool or a Ray cluster will carry them their
own way. The engine turns events into a `ConfigResult` with `record()`, so results, plots,
reports and history never know which executor ran.

In: a `Payload` once per sweep (the model's file and what the user said about its inputs,
in a form a process or a machine elsewhere can read), then a `Job` per configuration.

Events:
- `Started`: the session exists (applied providers, creation time, items per run);
- `Samples`: measurements since the last event, as an int64 array with named columns
  (`latency_ns` today; a load test's `scheduled_ns`, `start_ns`, `end_ns` tomorrow), a
  batch every ~50 ms rather than one event per run, so thousands a second stay cheap;
- `Progress`: warmup and first-run facts, while measuring;
- `Facts`: what a job measured beside its samples (a load run's CPU and GPU use);
- `Finished`: why measuring stopped, and memory use;
- `Failed`: a WorkbenchError raised where the job ran, rebuilt here by type name.

A transport that loses its job (a killed or hung worker) raises `errors.WorkerCrashed`.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from workbench import errors
from workbench.bench.config import BenchConfig, StopPolicy
from workbench.bench.results import ConfigResult
from workbench.errors import WorkbenchError
from workbench.feeds.synthetic import FeedRequest
from workbench.model.model import Model, load

LATENCY = "latency_ns"


@dataclass(frozen=True)
class Payload:
    """What every job of a sweep needs besides its configuration, as files to ship once."""

    model: str  # the model's file (one from memory is written out first)
    base_dir: str | None  # its external weights' folder, for a model written out
    feeds: str | None  # the user's feeds as .npz; None: no feeds given
    values: dict[str, Any] | None = None  # JSON-ready (lists)
    ranges: dict[str, Any] | None = None

    @classmethod
    def write(cls, model: Model, request: FeedRequest, folder: Path) -> Payload:
        """The payload of `model` and `request`; what exists only in memory goes to `folder`."""
        if model.path is not None:
            path, base_dir = str(model.path), None
        else:
            path = str(folder / "model.onnx")
            Path(path).write_bytes(model.serialized())
            base = model.external_data.base_dir
            base_dir = str(base) if base else None
        feeds_path = None
        if request.feeds is not None:
            feeds_path = str(folder / "feeds.npz")
            arrays: dict[str, Any] = {k: np.asarray(v) for k, v in request.feeds.items()}
            np.savez(feeds_path, **arrays)
        values = {k: np.asarray(v).tolist() for k, v in (request.values or {}).items()}
        ranges = {
            k: list(v) if isinstance(v, tuple) else v for k, v in (request.ranges or {}).items()
        }
        return cls(path, base_dir, feeds_path, values or None, ranges or None)

    def open(self) -> tuple[Model, FeedRequest]:
        """The model and the request again, where the job runs."""
        model = load(self.model, base_dir=self.base_dir)
        feeds = None
        if self.feeds is not None:
            with np.load(self.feeds, allow_pickle=False) as archive:
                feeds = {name: archive[name] for name in archive.files}
        ranges = {k: tuple(v) if isinstance(v, list) else v for k, v in (self.ranges or {}).items()}
        return model, FeedRequest(feeds, self.values, ranges or None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "model": self.model,
            "base_dir": self.base_dir,
            "feeds": self.feeds,
            "values": self.values,
            "ranges": self.ranges,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Payload:
        """Inverse of `as_dict()`."""
        return cls(
            data["model"], data.get("base_dir"), data.get("feeds"), data.get("values"),
            data.get("ranges"),
        )  # fmt: skip


@dataclass(frozen=True)
class Job:
    """One configuration to measure, with the rules that stop it and the feeds' seed.

    `kind` says what to do with it; executors pass it on untouched, so a new kind (an
    evaluation, a load scenario) needs a new body in `execute()`, not a new transport.
    """

    config: BenchConfig
    policy: StopPolicy
    seed: int = 0
    kind: Literal["latency", "load"] = "latency"
    spec: dict[str, Any] = field(default_factory=dict)  # a load run's scenario (JSON-ready)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what travels to a worker)."""
        return {
            "kind": self.kind,
            "config": self.config.as_dict(),
            "policy": self.policy.as_dict(),
            "seed": self.seed,
            "spec": self.spec,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        """Inverse of `as_dict()`."""
        return cls(
            BenchConfig.from_dict(data["config"]),
            StopPolicy(**data["policy"]),
            data["seed"],
            data.get("kind", "latency"),
            dict(data.get("spec") or {}),
        )


@dataclass(frozen=True)
class Started:
    """The session was created; measuring begins."""

    kind: ClassVar[str] = "started"
    applied_providers: list[str]
    session_create_s: float
    items_per_run: int
    host: dict[str, Any] = field(default_factory=dict)  # where it runs (`doctor.host()`)


@dataclass(frozen=True)
class Samples:
    """Measurements since the previous event: one row each, one column per name."""

    kind: ClassVar[str] = "samples"
    values: np.ndarray  # int64, shape (n,) for one column, (n, len(columns)) for several
    columns: tuple[str, ...] = (LATENCY,)

    def column(self, name: str) -> np.ndarray:
        """One column's values."""
        if self.values.ndim == 1:
            return self.values if name == self.columns[0] else self.values[:0]
        return self.values[:, self.columns.index(name)]


@dataclass(frozen=True)
class Progress:
    """Facts of the warmup, sent with each batch of samples."""

    kind: ClassVar[str] = "progress"
    warmup_runs: int
    first_run_s: float | None


@dataclass(frozen=True)
class Facts:
    """What a job measured beside its samples, by name (JSON-ready values)."""

    kind: ClassVar[str] = "facts"
    values: dict[str, Any]


@dataclass(frozen=True)
class Finished:
    """Measuring stopped: why ("runs", "time", "ci", "cancelled", "interrupted"), and memory."""

    kind: ClassVar[str] = "finished"
    stop_reason: str
    warmup_runs: int
    first_run_s: float | None
    peak_rss_mb: float | None
    peak_gpu_mb: float | None


@dataclass(frozen=True)
class Failed:
    """A WorkbenchError raised where the job ran (in another process, or machine)."""

    kind: ClassVar[str] = "failed"
    type: str
    message: str
    hint: str
    extra: dict[str, Any]  # the error's own fields (a ProviderFallbackError's reason...)

    @classmethod
    def of(cls, error: WorkbenchError) -> Failed:
        """The event for `error`."""
        extra = {name: getattr(error, name) for name in _ERROR_FIELDS if hasattr(error, name)}
        return cls(type(error).__name__, error.message, error.hint, extra)

    def error(self) -> WorkbenchError:
        """The error again, of its own type (and fields) where the workbench defines it."""
        kind = getattr(errors, self.type, None)
        if not (isinstance(kind, type) and issubclass(kind, WorkbenchError)):
            return WorkbenchError(self.message, self.hint)
        error: WorkbenchError = kind(self.message, self.hint, **self.extra)
        return error


# Keyword arguments of WorkbenchError subclasses beyond message and hint (errors.py).
_ERROR_FIELDS = ("requested", "applied", "reason", "runtime_message", "how")
Event = Started | Samples | Progress | Facts | Finished | Failed
_KINDS: dict[str, type[Any]] = {
    k.kind: k for k in (Started, Samples, Progress, Facts, Finished, Failed)
}


def encode(event: Event) -> bytes:
    """One JSON line; numpy arrays travel as base64 .npy (exact dtype and shape)."""
    data: dict[str, Any] = {"event": event.kind}
    for item in fields(event):
        value = getattr(event, item.name)
        data[item.name] = {"npy": _npy(value)} if isinstance(value, np.ndarray) else value
        if isinstance(value, tuple):
            data[item.name] = {"tuple": list(value)}  # JSON has lists only: keep the type
    return json.dumps(data).encode() + b"\n"


def decode(line: bytes) -> Event:
    """Inverse of `encode()`."""
    data = json.loads(line)
    kind = _KINDS[data.pop("event")]
    values = {name: _decoded(value) for name, value in data.items()}
    event: Event = kind(**values)
    return event


def record(event: Event, result: ConfigResult) -> bool:
    """Apply one event to the configuration's result; True when the job is over.

    A `Failed` event raises its error, as it would have been raised in this process.
    """
    if isinstance(event, Samples):
        result.samples_ns.extend(event.column(LATENCY).tolist())
    elif isinstance(event, Progress):
        result.warmup_runs, result.first_run_s = event.warmup_runs, event.first_run_s
    elif isinstance(event, Started):
        result.applied_providers = list(event.applied_providers)
        result.session_create_s = event.session_create_s
        result.items_per_run = event.items_per_run
        result.host = dict(event.host)
    elif isinstance(event, Finished):
        result.stop_reason = event.stop_reason
        result.warmup_runs, result.first_run_s = event.warmup_runs, event.first_run_s
        result.peak_rss_mb, result.peak_gpu_mb = event.peak_rss_mb, event.peak_gpu_mb
        if event.stop_reason in ("cancelled", "interrupted"):
            mark_partial(result, event.stop_reason)
        return True
    elif isinstance(event, Failed):
        raise event.error()
    else:
        raise TypeError(f"not a job event: {event!r}")
    return False


def mark_partial(result: ConfigResult, why: str) -> None:
    """Measuring stopped early (`why`: cancelled, interrupted); the samples so far are kept."""
    result.status = "partial"
    result.stop_reason = why
    result.reason = f"{why} after {len(result.samples_ns)} runs"


def _decoded(value: Any) -> Any:
    if isinstance(value, dict) and "npy" in value:
        return _array(value["npy"])
    if isinstance(value, dict) and "tuple" in value:
        return tuple(value["tuple"])
    return value


def _npy(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _array(text: str) -> np.ndarray:
    loaded: np.ndarray = np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)
    return loaded
