"""What a load test asks for: the scenario, its rates and bounds, checked before anything runs.

Scenarios, as MLPerf inference names them where it has them:
- `single-stream`: one request at a time (the benchmark's loop, for reference);
- `concurrency`: N clients each waiting for its reply (closed loop), sharing one session or
  each with its own, for N in a sweep;
- `server`: Poisson arrivals at a target rate (open loop), latency from each request's
  scheduled arrival, pass or fail against a percentile bound;
- `offline`: every request queued at once: throughput;
- `peak`: the highest rate the server scenario sustains within the bound.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from workbench.errors import WorkbenchError
from workbench.loadtest.generator import Batching

SCENARIOS = ("single-stream", "concurrency", "server", "offline", "peak")
SESSIONS = ("shared", "per-client", "both")
DEFAULT_CONCURRENCY = (1, 2, 4)
# A percentile means something once a few requests lie beyond it: p99 wants 100 at least,
# and a note says so below 5 times that.
_FEW_BEYOND = 1
_ENOUGH_BEYOND = 5
_BATCHING = re.compile(r"^dynamic:(\d+):(\d+(?:\.\d+)?)(ms|us|s)$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|us|s)?$")
_UNITS_MS = {"ms": 1.0, "us": 1e-3, "s": 1e3, None: 1.0}


@dataclass(frozen=True)
class LoadSpec:
    """One load test's scenario and its settings (see the module)."""

    scenario: str
    qps: float | None = None  # server: the target rate
    duration_s: float = 10.0  # server, concurrency, single-stream: per run; peak: per probe
    concurrency: tuple[int, ...] = DEFAULT_CONCURRENCY
    sessions: str = "shared"
    workers: int = 1  # open-loop scenarios: threads serving the queue (model instances)
    percentile: float = 99.0
    bound_ms: float | None = None
    queue_limit: int | None = None
    max_probes: int = 10  # peak: server runs at most
    seed: int = 0

    @property
    def percentile_label(self) -> str:
        """`p99`, `p99.9`."""
        return f"p{self.percentile:g}"

    def queue_size(self, qps: float) -> int:
        """The queue's bound at `qps`: half a second of arrivals, 64 at least."""
        return self.queue_limit or max(64, int(qps * 0.5))

    def min_requests(self) -> int:
        """Requests below which the percentile means nothing (one beyond it, on average)."""
        return math.ceil(_FEW_BEYOND / (1 - self.percentile / 100))

    def enough_requests(self) -> int:
        """Requests from which the percentile is estimated well (five beyond it)."""
        return math.ceil(_ENOUGH_BEYOND / (1 - self.percentile / 100))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (a report's settings)."""
        return {
            "scenario": self.scenario,
            "qps": self.qps,
            "duration_s": self.duration_s,
            "concurrency": list(self.concurrency),
            "sessions": self.sessions,
            "workers": self.workers,
            "percentile": self.percentile,
            "bound_ms": self.bound_ms,
            "queue_limit": self.queue_limit,
            "max_probes": self.max_probes,
            "seed": self.seed,
        }


def make_spec(
    scenario: str,
    *,
    qps: float | None = None,
    duration: float | str = 10.0,
    concurrency: int | tuple[int, ...] | list[int] | None = None,
    sessions: str = "shared",
    workers: int = 1,
    percentile: float = 99.0,
    bound: float | str | None = None,
    queue_limit: int | None = None,
    max_probes: int = 10,
    seed: int = 0,
) -> LoadSpec:
    """A checked `LoadSpec`; impossible settings are refused with the least that makes sense."""
    if scenario not in SCENARIOS:
        raise WorkbenchError(
            f"Unknown scenario {scenario!r}.", f"Scenarios: {', '.join(SCENARIOS)}."
        )
    if not 0 < percentile < 100:
        raise WorkbenchError(
            f"The percentile must lie between 0 and 100, not {percentile}.", "E.g. 99 or 99.9."
        )
    duration_s = parse_ms(duration, "duration", default_unit="s") / 1e3
    if duration_s <= 0:
        raise WorkbenchError(
            f"The duration must be above 0, not {duration}.", "E.g. duration=10 (seconds)."
        )
    bound_ms = None if bound is None else parse_ms(bound, "bound")
    if bound_ms is not None and bound_ms <= 0:
        raise WorkbenchError(f"The latency bound must be above 0, not {bound}.", "E.g. 20ms.")
    levels = _concurrency(concurrency)
    if sessions not in SESSIONS:
        raise WorkbenchError(
            f"Unknown sessions {sessions!r}.", f"Use one of: {', '.join(SESSIONS)}."
        )
    if workers < 1:
        raise WorkbenchError(f"workers must be 1 or more, not {workers}.", "E.g. workers=2.")
    if queue_limit is not None and queue_limit < 1:
        raise WorkbenchError(
            f"queue_limit must be 1 or more, not {queue_limit}.", "E.g. queue_limit=256."
        )
    spec = LoadSpec(
        scenario, None if qps is None else float(qps), duration_s, levels, sessions, workers,
        float(percentile), bound_ms, queue_limit, max_probes, seed,
    )  # fmt: skip
    _check_scenario(spec)
    return spec


def _check_scenario(spec: LoadSpec) -> None:
    if spec.scenario == "server":
        if spec.qps is None or spec.qps <= 0:
            raise WorkbenchError(
                f"The server scenario needs a target rate above 0 (qps={spec.qps}).",
                "E.g. qps=100 (requests per second); scenario='peak' finds the highest one.",
            )
        expected = spec.qps * spec.duration_s
        if expected < spec.min_requests():
            need = spec.min_requests() / spec.qps
            raise WorkbenchError(
                f"{spec.duration_s:g} s at {spec.qps:g} QPS is about {expected:.0f} requests: "
                f"too few for a {spec.percentile_label} to mean anything (it needs "
                f"{spec.min_requests()} at least).",
                f"Run for {need:.3g} s or more (duration={math.ceil(need)}), or at a higher rate.",
            )
    if spec.scenario == "peak" and spec.bound_ms is None:
        raise WorkbenchError(
            "The peak scenario needs a latency bound: the highest rate within what?",
            f"E.g. bound='20ms' ({spec.percentile_label} at most 20 ms); CLI: --p99 20ms.",
        )
    if spec.max_probes < 2:
        raise WorkbenchError(
            f"max_probes must be 2 or more, not {spec.max_probes}.", "E.g. max_probes=10."
        )


def _concurrency(value: int | tuple[int, ...] | list[int] | None) -> tuple[int, ...]:
    levels = DEFAULT_CONCURRENCY if value is None else (value,) if isinstance(value, int) else value
    found = tuple(int(level) for level in levels)
    if not found or any(level < 1 for level in found):
        raise WorkbenchError(
            f"Concurrency must be 1 or more clients, not {value}.", "E.g. concurrency=[1, 2, 4]."
        )
    return found


def parse_ms(value: float | str, what: str, *, default_unit: str = "ms") -> float:
    """`20ms`, `500us`, `1.5s` or a number (in `default_unit`) as milliseconds."""
    if isinstance(value, int | float):
        return float(value) * _UNITS_MS[default_unit]
    found = _DURATION.match(str(value).strip())
    if found is None:
        raise WorkbenchError(
            f"Cannot read the {what} {value!r}.", "E.g. 20ms, 500us or 2s (a number alone is "
            f"in {default_unit})."
        )  # fmt: skip
    return float(found.group(1)) * _UNITS_MS[found.group(2) or default_unit]


def parse_batching(value: str | Batching | None) -> Batching | None:
    """`none`, `dynamic:MAX_BATCH:MAX_WAIT` (e.g. `dynamic:8:2ms`), or a `Batching`."""
    if value is None or isinstance(value, Batching):
        return value
    if value.strip() == "none":
        return None
    found = _BATCHING.match(value.strip())
    if found is None:
        raise WorkbenchError(
            f"Cannot read the batching policy {value!r}.",
            "Use 'none' or 'dynamic:MAX_BATCH:MAX_WAIT', e.g. 'dynamic:8:2ms'.",
        )
    size, wait = int(found.group(1)), float(found.group(2)) * _UNITS_MS[found.group(3)]
    if size < 2:
        raise WorkbenchError(
            f"A dynamic batch of {size} is no batching.", "Use a max batch of 2 or more."
        )
    return Batching(size, wait)
