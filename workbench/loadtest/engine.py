"""`workbench.load_test()`: how much traffic a model takes, per provider and batching policy.

Each run (a probe) is a job for an executor, like a benchmark's configuration: by default
an isolated worker process (the pool's: one for every run of the call), so the generator's
timing is not disturbed by the kernel and a crash cannot take the kernel down. A provider
that cannot run here is a skipped row with the reason; a failure is a failed row (partial
when requests completed: they are kept); cancel and Ctrl-C keep every completed request.

The peak search: a single-stream run first (a bound that one request at a time cannot meet
is `unattainable`, not searched), then the offline throughput as the ceiling, then a binary
search of server runs. A run passes when the percentile's 95% CI lies within the bound and
nothing was dropped; it fails when the CI lies beyond it or the run fell behind; a CI that
straddles the bound is run once more and the two runs pooled, so noise does not flip it.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.bench.config import BenchConfig, StopPolicy
from workbench.bench.engine import Cancel, cancel_check
from workbench.bench.executors import Executor, open_executor
from workbench.bench.jobs import Event, Facts, Failed, Finished, Job, Samples, Started
from workbench.errors import ProviderFallbackError, WorkbenchError, WorkerCrashed
from workbench.feeds.synthetic import FeedRequest
from workbench.loadtest.generator import COLUMNS, Batching
from workbench.loadtest.probe import batching_refusal
from workbench.loadtest.result import MIN_ACHIEVED, LoadResult, LoadRow, judge, summarize
from workbench.loadtest.spec import LoadSpec, make_spec, parse_batching
from workbench.model.model import Model, load
from workbench.ort import providers as provider_names
from workbench.ort.doctor import fingerprint
from workbench.text import plural
from workbench.tracking.store import record

if TYPE_CHECKING:
    from workbench.feeds.checker import Range
    from workbench.model import ModelLike

PEAK_PRECISION = 0.05  # the search stops once the pass/fail bracket is this narrow
HEADROOM = 1.2  # the search's ceiling: the offline throughput, and some
_PROBE_POLICY = StopPolicy(warmup=0, time_budget=None, target_ci=None, run_timeout=60.0)
OnUpdate = Callable[[LoadResult], None] | None


def load_test(
    model: ModelLike,
    providers: Sequence[str] = ("cpu",),
    scenario: str = "server",
    *,
    qps: float | None = None,
    duration: float | str = 10.0,
    concurrency: int | Sequence[int] | None = None,
    sessions: str = "shared",
    workers: int = 1,
    batching: str | Batching | Sequence[str | Batching] | None = None,
    percentile: float = 99.0,
    bound: float | str | None = None,
    queue_limit: int | None = None,
    max_probes: int = 10,
    feeds: Mapping[str, Any] | None = None,
    values: Mapping[str, Any] | None = None,
    ranges: Mapping[str, Range] | None = None,
    dims: Mapping[str, int] | None = None,
    shapes: Mapping[str, Sequence[int]] | None = None,
    opt_level: str = "all",
    intra_op_threads: int | None = None,
    executor: str = "pool",
    seed: int = 0,
    cancel: Cancel = None,
    on_update: OnUpdate = None,
    history: bool | str | os.PathLike[str] = True,
    label: str | None = None,
    model_key: str | None = None,
) -> LoadResult:
    """Run a serving scenario on each provider (and batching policy); a `LoadResult`.

    `scenario`: "single-stream", "concurrency" (closed loop, `concurrency` clients sharing
    one session or each with its own: `sessions="shared" | "per-client" | "both"`), "server"
    (Poisson arrivals at `qps` for `duration` seconds, latency from each request's scheduled
    arrival), "offline" (everything queued at once) or "peak" (the highest rate whose
    `percentile` stays within `bound`, e.g. "20ms"). Open-loop scenarios serve the queue with
    `workers` threads; `batching`: "none", "dynamic:8:2ms" (up to 8 queued requests as one
    run, waiting at most 2 ms), or a list of policies to compare. Each request is one set of
    feeds (the model's batch size, or yours). Runs happen in one worker process reused for
    every run (`executor="worker"`: a new one each run; "inprocess": here). `feeds`,
    `values`, `ranges`, `dims` and `shapes` shape the request as in `benchmark`. `cancel` and
    Ctrl-C stop, keeping every completed request; `on_update(result)` is called as rows
    finish. The result is added to the history (`history=False` or a path; `label` and
    `model_key` as in `benchmark`).
    """
    loaded = load(model)
    spec = make_spec(
        scenario, qps=qps, duration=duration,
        concurrency=tuple(concurrency) if isinstance(concurrency, Sequence) else concurrency,
        sessions=sessions, workers=workers, percentile=percentile, bound=bound,
        queue_limit=queue_limit, max_probes=max_probes, seed=seed,
    )  # fmt: skip
    policies = _policies(batching)
    names = [provider_names.resolve(p) for p in providers]
    if not names:
        raise WorkbenchError("load_test() needs at least one provider.", "E.g. providers=['cpu'].")
    request = FeedRequest(feeds, values, ranges).checked(loaded.session_source.checker)
    notes = _policy_notes(loaded, spec, policies)
    result = LoadResult(
        {"name": loaded.name, "sha256": loaded.sha256, "path": str(loaded.path or "")},
        [],
        {**spec.as_dict(), "batching": [p.label if p else "none" for p in policies],
         "executor": executor, "opt_level": opt_level, "intra_op_threads": intra_op_threads},
        fingerprint(),
        notes,
        datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    )  # fmt: skip
    should_stop = cancel_check(cancel)
    dims_fixed = tuple(sorted((k, int(v)) for k, v in (dims or {}).items()))
    shapes_fixed = tuple(sorted((k, tuple(int(d) for d in v)) for k, v in (shapes or {}).items()))
    with open_executor(executor, loaded, request) as runner:
        for name in names:
            config = BenchConfig(name, dims=dims_fixed, shapes=shapes_fixed, opt_level=opt_level,
                                 intra_op_threads=intra_op_threads)  # fmt: skip
            usable = None if runner.remote else provider_names.probe(name)
            for policy in policies:
                if should_stop():
                    break
                if usable is not None and not usable.usable:
                    skipped = LoadRow(name, spec.scenario, _label(policy), verdict="skipped",
                                      reason=usable.reason)  # fmt: skip
                    result.rows.append(skipped)
                    continue
                kept = len(result.rows)

                def live(row: LoadRow, kept: int = kept) -> None:  # a peak search so far
                    del result.rows[kept:]
                    result.rows.append(row)
                    if on_update is not None:
                        on_update(result)

                prober = _Prober(runner, config, spec, policy, should_stop=should_stop, live=live)
                rows = _scenario(prober, spec)
                del result.rows[kept:]
                result.rows += rows
                if on_update is not None and rows:
                    on_update(result)
                if any(row.verdict == "partial" for row in rows):
                    break  # stopped (cancel, Ctrl-C): what ran is kept, nothing more runs
            else:
                continue
            break
    record(result, history, kind="load-test", label=label, model_key=model_key)
    return result


def _policies(batching: Any) -> list[Batching | None]:
    if batching is None:
        return [None]
    given = [batching] if isinstance(batching, str | Batching) else list(batching)
    return [parse_batching(b) for b in given] or [None]


def _label(policy: Batching | None) -> str:
    return policy.label if policy else "none"


def _policy_notes(model: Model, spec: LoadSpec, policies: list[Batching | None]) -> list[str]:
    notes = []
    if any(policies):
        refusal = batching_refusal(model)
        if refusal:
            raise WorkbenchError(
                f"Dynamic batching is not possible for this model: {refusal}",
                "Compare with batching='none' only, or export the model with a dynamic batch.",
            )
        if spec.scenario in ("single-stream", "concurrency"):
            notes.append(
                "Batching applies to the open-loop scenarios (server, offline, peak): a closed "
                "loop never queues two requests, so these rows ran without it."
            )
    return notes


# --- the scenarios -------------------------------------------------------------------------


def _scenario(prober: _Prober, spec: LoadSpec) -> list[LoadRow]:
    if spec.scenario == "single-stream":
        return [prober.closed(1, "shared", scenario="single-stream")]
    if spec.scenario == "concurrency":
        modes = ("shared", "per-client") if spec.sessions == "both" else (spec.sessions,)
        rows = []
        for clients in spec.concurrency:
            for mode in modes:
                rows.append(prober.closed(clients, mode, scenario="concurrency"))
                if rows[-1].verdict == "partial":
                    return rows
        return rows
    if spec.scenario == "server":
        assert spec.qps is not None
        return [prober.server(spec.qps, spec.seed)]
    if spec.scenario == "offline":
        return [prober.offline()]
    return [peak(prober, spec)]


@dataclass(frozen=True)
class Probe:
    """One server run of a peak search, as the row's `probes` lists it."""

    target_qps: float
    achieved_qps: float | None
    p50_ms: float | None
    percentile_ms: float | None
    ci_ms: tuple[float, float] | None
    dropped: int
    passed: bool
    runs: int  # 2 when the first was inconclusive and ran again

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"target_qps": self.target_qps, "achieved_qps": self.achieved_qps,
                "p50_ms": self.p50_ms, "percentile_ms": self.percentile_ms,
                "ci_ms": list(self.ci_ms) if self.ci_ms else None, "dropped": self.dropped,
                "passed": self.passed, "runs": self.runs}  # fmt: skip


def peak(prober: _Prober, spec: LoadSpec) -> LoadRow:
    """The highest rate whose percentile stays within the bound (see the module)."""
    assert spec.bound_ms is not None
    single = prober.closed(1, "shared", scenario="single-stream")
    row = LoadRow(single.provider, "peak", single.policy, spec.workers, "shared",
                  percentile=spec.percentile, bound_ms=spec.bound_ms)  # fmt: skip
    if single.verdict in ("failed", "partial", "skipped"):
        return replace(single, scenario="peak", bound_ms=spec.bound_ms)
    if (single.percentile_ms or 0) > spec.bound_ms:
        row.verdict = "unattainable"
        row.reason = (
            f"even one request at a time takes {single.percentile_ms:.4g} ms at "
            f"{spec.percentile_label}, beyond the {spec.bound_ms:g} ms bound: no rate meets it"
        )
        row.percentile_ms, row.p50_ms, row.p99_ms = (single.percentile_ms, single.p50_ms,
                                                    single.p99_ms)  # fmt: skip
        row.achieved_qps, row.table = single.achieved_qps, single.table  # one at a time, drawn
        return row
    ceiling = prober.offline()
    if ceiling.verdict in ("failed", "partial") or not ceiling.achieved_qps:
        return replace(ceiling, scenario="peak", bound_ms=spec.bound_ms)

    def progress(probes: list[Probe]) -> None:
        prober.live(replace(row, verdict="running", reason="searching",
                            probes=[p.as_dict() for p in probes]))  # fmt: skip

    found, probes, best, stopped = search(
        prober.server, spec, ceiling.achieved_qps * HEADROOM, progress
    )
    if best is not None:
        table = best.table
        row = replace(best, scenario="peak", target_qps=best.target_qps)
        row.table = table
    row.peak_qps = found
    row.probes = [p.as_dict() for p in probes]
    row.verdict, row.reason = "ok", ""
    if stopped:
        row.verdict, row.reason = "partial", f"stopped after {plural(len(probes), 'probe')}"
    elif found is None:
        lowest = min(p.target_qps for p in probes)
        row.verdict = "overloaded"
        row.reason = f"no rate probed met the bound (the lowest, {lowest:.4g} QPS)"
    return row


def search(
    run: Callable[[float, int], LoadRow],
    spec: LoadSpec,
    ceiling: float,
    progress: Callable[[list[Probe]], None] = lambda _: None,
) -> tuple[float | None, list[Probe], LoadRow | None, bool]:
    """Binary search of server runs below `ceiling`: (peak rate, probes, its run, stopped).

    `run(rate, seed)` is one server run (a synthetic service stands in for a model in
    tests); `progress(probes)` is called after each.
    """
    assert spec.bound_ms is not None
    low, high = 0.0, ceiling
    probes: list[Probe] = []
    best: LoadRow | None = None
    used = 0
    while used < spec.max_probes and (high - low) > PEAK_PRECISION * high:
        rate = (low + high) / 2
        first = run(rate, spec.seed + used)
        used += 1
        verdict = _passes(first, spec.bound_ms)
        pooled, runs = first, 1
        if verdict is None and used < spec.max_probes:  # inconclusive: once more, pooled
            second = run(rate, spec.seed + used)
            used += 1
            pooled, runs = _pool(first, second), 2
            verdict = _passes(pooled, spec.bound_ms, decide=True)
        passed = bool(verdict)
        probes.append(Probe(rate, pooled.achieved_qps, pooled.p50_ms, pooled.percentile_ms,
                            pooled.percentile_ci_ms, pooled.dropped, passed, runs))  # fmt: skip
        progress(probes)
        if pooled.verdict == "partial":
            return (low if best is not None else None), probes, best, True
        if passed:
            low, best = rate, pooled
        else:
            high = rate
    return (low if best is not None else None), probes, best, False


def _passes(row: LoadRow, bound_ms: float, *, decide: bool = False) -> bool | None:
    """True within the bound (its CI too), False beyond it or behind; None: the CI straddles."""
    if row.verdict in ("failed", "partial") or row.dropped or row.percentile_ms is None:
        return False
    if row.target_qps and (row.achieved_qps or 0) < MIN_ACHIEVED * row.target_qps:
        return False
    low, high = row.percentile_ci_ms or (row.percentile_ms, row.percentile_ms)
    if high <= bound_ms:
        return True
    if low > bound_ms:
        return False
    return row.percentile_ms <= bound_ms if decide else None


def _pool(first: LoadRow, second: LoadRow) -> LoadRow:
    """Two runs at one rate as one: their requests together (the second's times shifted).

    A second run that failed or was stopped is the outcome.
    """
    if second.verdict in ("failed", "partial"):
        return second
    shifted = second.table.copy()
    offset = int(first.table[:, 3].max()) if len(first.table) else 0
    shifted[:, :4] += offset
    window = (first.duration_s or 0) + (second.duration_s or 0)
    pooled = replace(first, verdict="ok", reason="")
    summarize(pooled, np.concatenate([first.table, shifted]), window_s=window or None)
    pooled.cpu_percent = _mean(first.cpu_percent, second.cpu_percent)
    pooled.gpu_percent = _mean(first.gpu_percent, second.gpu_percent)
    judge(pooled)
    return pooled


def _mean(a: float | None, b: float | None) -> float | None:
    found = [v for v in (a, b) if v is not None]
    return sum(found) / len(found) if found else None


# --- one run ------------------------------------------------------------------------------


class _Prober:
    """Runs probes of one provider and policy through the executor, each a `LoadRow`."""

    def __init__(
        self,
        runner: Executor,
        config: BenchConfig,
        spec: LoadSpec,
        policy: Batching | None,
        *,
        should_stop: Callable[[], bool],
        live: Callable[[LoadRow], None] = lambda _: None,
    ) -> None:
        self.runner, self.config, self.spec = runner, config, spec
        self.policy, self.should_stop, self.live = policy, should_stop, live

    def closed(self, clients: int, sessions: str, *, scenario: str) -> LoadRow:
        """A closed loop: `clients` waiting clients for the duration."""
        row = self._row(scenario, clients=clients, sessions=sessions, policy=None)
        return self._run(row, {"kind": "closed", "clients": clients, "sessions": sessions,
                               "duration_s": self.spec.duration_s}, window=None)  # fmt: skip

    def server(self, qps: float, seed: int) -> LoadRow:
        """An open loop: Poisson arrivals at `qps` for the duration."""
        spec = self.spec
        row = self._row("server", clients=spec.workers, sessions="shared", policy=self.policy)
        row.target_qps, row.bound_ms = qps, spec.bound_ms
        job = {"kind": "open", "qps": qps, "duration_s": spec.duration_s, "seed": seed,
               "workers": spec.workers, "queue_limit": spec.queue_size(qps),
               "batching": self._batching()}  # fmt: skip
        self._run(row, job, window=spec.duration_s)
        judge(row)
        if row.requests < spec.enough_requests() and row.verdict == "ok":
            row.reason = (f"{row.requests} requests: {spec.percentile_label} rests on few "
                          f"beyond it (a longer run estimates it better)")  # fmt: skip
        return row

    def offline(self) -> LoadRow:
        """Everything queued at once: throughput (requests sized to fill the duration)."""
        spec = self.spec
        row = self._row("offline", clients=spec.workers, sessions="shared", policy=self.policy)
        job = {"kind": "offline", "duration_s": spec.duration_s, "workers": spec.workers,
               "batching": self._batching()}  # fmt: skip
        return self._run(row, job, window=None)

    def _batching(self) -> list[float] | None:
        return [self.policy.max_batch, self.policy.max_wait_ms] if self.policy else None

    def _row(self, scenario: str, *, clients: int, sessions: str, policy: Any) -> LoadRow:
        return LoadRow(self.config.provider, scenario, _label(policy), clients, sessions,
                       percentile=self.spec.percentile, bound_ms=self.spec.bound_ms)  # fmt: skip

    def _run(self, row: LoadRow, spec: dict[str, Any], *, window: float | None) -> LoadRow:
        chunks: list[np.ndarray] = []
        facts: dict[str, Any] = {}
        stopped = [""]

        def emit(event: Event) -> None:
            if isinstance(event, Samples):
                chunks.append(event.values.reshape(-1, len(COLUMNS)))
            elif isinstance(event, Facts):
                facts.update(event.values)
            elif isinstance(event, Finished):
                stopped[0] = event.stop_reason
            elif isinstance(event, Failed):
                raise event.error()
            elif isinstance(event, Started):
                row.host = str(event.host.get("hostname", ""))

        job = Job(self.config, _PROBE_POLICY, self.spec.seed, kind="load", spec=spec)
        try:
            self.runner.run(job, emit, self.should_stop)
        except ProviderFallbackError as error:
            row.verdict, row.reason = "skipped", error.reason or error.message
        except WorkerCrashed as error:
            row.verdict, row.reason = "failed", error.message
        except WorkbenchError as error:
            row.verdict, row.reason = "failed", error.message
        except KeyboardInterrupt:
            stopped[0] = "interrupted"
        table = np.concatenate(chunks) if chunks else np.zeros((0, len(COLUMNS)), np.int64)
        # A run stopped early is rated over the time it ran, not the time it was meant to.
        halted = stopped[0] in ("cancelled", "interrupted")
        summarize(row, table, window_s=None if halted else window)
        row.cpu_percent, row.gpu_percent = facts.get("cpu_percent"), facts.get("gpu_percent")
        if row.failed and row.verdict not in ("skipped", "failed"):
            row.verdict = "failed"
            row.reason = (f"{plural(row.failed, 'request')} of {row.requests} failed: "
                          f"{facts.get('first_error') or 'no error message'}")  # fmt: skip
        if halted:
            row.verdict = "partial"
            row.reason = f"{stopped[0]} after {row.completed} requests"
        return row
