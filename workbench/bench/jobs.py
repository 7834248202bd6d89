"""What an executor is given (a `Job`) and what streams back (events), whatever runs it.

Every executor measures a job by the same function (`executors.inprocess.execute`) and only
differs in transport: the in-process one calls it directly, the worker runs it in a child
process and sends its events as JSON lines, a pool or a Ray cluster will carry them their
own way. The engine turns events into a `ConfigResult` with `record()`, so results, plots,
reports and history never know which executor ran.

Events:
- `Started`: the session exists (applied providers, creation time, items per run);
- `Samples`: latencies measured since the last event, as an int64 array (a batch every
  ~50 ms, not one event per run: thousands of runs a second stay cheap to send);
- `Progress`: warmup and first-run facts, while measuring;
- `Finished`: why measuring stopped, and memory use;
- `Failed`: a WorkbenchError raised where the job ran, rebuilt here by type name.

A transport that loses its job (a killed or hung worker) raises `WorkerCrashed`.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from workbench import errors
from workbench.bench.config import BenchConfig, StopPolicy
from workbench.bench.results import ConfigResult
from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class Job:
    """One configuration to measure, with the rules that stop it and the feeds' seed."""

    config: BenchConfig
    policy: StopPolicy
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what travels to a worker)."""
        return {"config": self.config.as_dict(), "policy": self.policy.as_dict(), "seed": self.seed}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        """Inverse of `as_dict()`."""
        return cls(
            BenchConfig.from_dict(data["config"]), StopPolicy(**data["policy"]), data["seed"]
        )


@dataclass(frozen=True)
class Started:
    """The session was created; measuring begins."""

    kind: ClassVar[str] = "started"
    applied_providers: list[str]
    session_create_s: float
    items_per_run: int


@dataclass(frozen=True)
class Samples:
    """Latencies (nanoseconds) measured since the previous event."""

    kind: ClassVar[str] = "samples"
    ns: np.ndarray


@dataclass(frozen=True)
class Progress:
    """Facts of the warmup, sent with each batch of samples."""

    kind: ClassVar[str] = "progress"
    warmup_runs: int
    first_run_s: float | None


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
        extra = {
            name: getattr(error, name)
            for name in ("requested", "applied", "reason", "runtime_message")
            if hasattr(error, name)
        }
        return cls(type(error).__name__, error.message, error.hint, extra)

    def error(self) -> WorkbenchError:
        """The error again, of its own type where the workbench defines it."""
        kind = getattr(errors, self.type, None)
        if not (isinstance(kind, type) and issubclass(kind, WorkbenchError)):
            kind = WorkbenchError
        if issubclass(kind, errors.ProviderFallbackError):
            return errors.ProviderFallbackError(
                self.message,
                self.hint,
                requested=self.extra.get("requested", []),
                applied=self.extra.get("applied", []),
                reason=self.extra.get("reason", ""),
            )
        return kind(self.message, self.hint)


Event = Started | Samples | Progress | Finished | Failed
_KINDS: dict[str, type[Any]] = {k.kind: k for k in (Started, Samples, Progress, Finished, Failed)}


class WorkerCrashed(WorkbenchError):
    """The process (or machine) running a job died or hung; the message names what happened."""

    def __init__(self, message: str, hint: str, *, how: str) -> None:
        super().__init__(message, hint)
        self.how = how  # "worker died" or "worker hung": the row's stop_reason


def encode(event: Event) -> bytes:
    """One JSON line; numpy arrays travel as base64 .npy (exact dtype and shape)."""
    data: dict[str, Any] = {"event": event.kind}
    for item in fields(event):
        value = getattr(event, item.name)
        data[item.name] = {"npy": _npy(value)} if isinstance(value, np.ndarray) else value
    return json.dumps(data).encode() + b"\n"


def decode(line: bytes) -> Event:
    """Inverse of `encode()`."""
    data = json.loads(line)
    kind = _KINDS[data.pop("event")]
    values = {
        name: _array(value["npy"]) if isinstance(value, dict) and "npy" in value else value
        for name, value in data.items()
    }
    event: Event = kind(**values)
    return event


def record(event: Event, result: ConfigResult) -> bool:
    """Apply one event to the configuration's result; True when the job is over.

    A `Failed` event raises its error, as it would have been raised in this process.
    """
    if isinstance(event, Samples):
        result.samples_ns.extend(event.ns.tolist())
    elif isinstance(event, Progress):
        result.warmup_runs, result.first_run_s = event.warmup_runs, event.first_run_s
    elif isinstance(event, Started):
        result.applied_providers = list(event.applied_providers)
        result.session_create_s = event.session_create_s
        result.items_per_run = event.items_per_run
    elif isinstance(event, Finished):
        result.stop_reason = event.stop_reason
        result.warmup_runs, result.first_run_s = event.warmup_runs, event.first_run_s
        result.peak_rss_mb, result.peak_gpu_mb = event.peak_rss_mb, event.peak_gpu_mb
        if event.stop_reason in ("cancelled", "interrupted"):
            mark_partial(result, event.stop_reason)
        return True
    else:
        raise event.error()
    return False


def mark_partial(result: ConfigResult, why: str) -> None:
    """Measuring stopped early (`why`: cancelled, interrupted); the samples so far are kept."""
    result.status = "partial"
    result.stop_reason = why
    result.reason = f"{why} after {len(result.samples_ns)} runs"


def _npy(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _array(text: str) -> np.ndarray:
    loaded: np.ndarray = np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)
    return loaded
