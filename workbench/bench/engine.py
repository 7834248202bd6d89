"""`benchmark()`: sweep configurations, measure each with an executor, keep everything.

An unusable provider or an impossible mode gives a `skipped` row with the reason; a failure
in one configuration (out of memory at a large batch, a crashed worker) gives a `failed` or
`partial` row and the sweep goes on. Ctrl-C or `cancel` stops cleanly: every completed
sample is kept and the result is marked partial.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import itertools
import operator
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from workbench.bench.checkpoint import Checkpoint
from workbench.bench.config import MODES, BenchConfig, StopPolicy
from workbench.bench.executors import Executor, open_executor
from workbench.bench.jobs import Event, Job, Samples, mark_partial, record
from workbench.bench.results import UNSCHEDULED, BenchmarkResult, ConfigResult
from workbench.bench.runners import check_mode
from workbench.errors import (
    FeedError,
    ModeUnavailable,
    ProviderFallbackError,
    ResourceUnavailable,
    WorkbenchError,
    WorkerCrashed,
)
from workbench.feeds.synthetic import FeedRequest, plan_shapes
from workbench.model.model import Model, load
from workbench.ort import providers as provider_names
from workbench.ort.doctor import fingerprint
from workbench.ort.options import opt_levels as available_opt_levels
from workbench.run.profile import profile as profile_model
from workbench.tracking import store as history_store

if TYPE_CHECKING:
    from workbench.feeds.checker import Range
    from workbench.model import ModelLike

_OUT_OF_MEMORY = (
    "out of memory",
    "failed to allocate",
    "cudaerrormemoryallocation",
    "bad_alloc",
    "cuda_error_out_of_memory",
)

Cancel = threading.Event | Callable[[], bool] | None
OnUpdate = Callable[[BenchmarkResult, ConfigResult], None] | None


def benchmark(
    model: ModelLike,
    providers: Sequence[str] = ("cpu",),
    batch_sizes: Sequence[int] | None = None,
    *,
    dims: Mapping[str, int] | None = None,
    shapes: Mapping[str, Sequence[int]] | None = None,
    feeds: Mapping[str, Any] | None = None,
    values: Mapping[str, Any] | None = None,
    ranges: Mapping[str, Range] | None = None,
    intra_op_threads: Sequence[int | None] | None = None,
    opt_levels: Sequence[str] | str | None = None,
    modes: Sequence[str] = ("host",),
    warmup: int | str = "auto",
    runs: int | None = None,
    time_budget: float | None = 3.0,
    target_ci: float | None = 0.01,
    min_runs: int = 10,
    executor: str = "inprocess",
    run_timeout: float = 60.0,
    seed: int = 0,
    cancel: Cancel = None,
    progress: bool = True,
    on_update: OnUpdate = None,
    profile: bool = False,
    resume: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    machines: Mapping[str, Mapping[str, Any]] | None = None,
    history: bool | str | os.PathLike[str] = True,
    label: str | None = None,
    model_key: str | None = None,
) -> BenchmarkResult:
    """Measure latency over a sweep of configurations and return a `BenchmarkResult`.

    The sweep is every combination of provider, batch size, threads, graph optimization
    level and mode.

    - `batch_sizes` sets the batch dim (the first symbolic dim of each input); `dims` and
      `shapes` set other free dims as in `Model.run`; `feeds` (any subset of the inputs),
      `values` (e.g. `{"sr": 16000}`) and `ranges` fix what you know, the rest is synthetic.
    - `opt_levels="sweep"` runs every level the installed onnxruntime offers.
    - `modes`: "host" (numpy feeds, copies included), "device" (IO binding, inputs and
      outputs resident), "cuda-graph" (CUDA only). host - device p50 is the copy overhead.
    - Warmup by count or "auto" (until the median settles); stop after `runs`, after
      `time_budget` seconds, or when the median's 95% CI is within +-`target_ci`.
    - `executor="worker"` measures in a child process: a crash or hang in onnxruntime
      cannot take this process down, and a silent worker is killed after `run_timeout`;
      "pool" in one long-lived child for the sweep; "ray" on a Ray cluster's nodes, one
      measurement per node at a time, several nodes at once.
    - `machines` (with `executor="ray"`) runs every configuration on each kind of node:
      `{"h200": {"accelerator_type": "H200"}, "cpu": {"resources": {"cpu_box": 1}}}`.
    - `cancel` (an Event or a callable) and Ctrl-C stop cleanly, keeping every sample.
    - `on_update(result, current)` is called about every 50 ms with the live result.
    - Every finished row goes to a checkpoint (`checkpoint`, or one in the cache named by
      the sweep); `resume=True` runs only the configurations it lacks, refused when the
      model or the machine changed.
    - The result is added to the history store (`workbench.history`): `history=False` for
      not this one, a path for another store; `label` names the run (a commit, a model
      version), `model_key` the model (its file name by default: name it when every export
      is called model.onnx).
    """
    model = load(model)
    request = FeedRequest(feeds, values, ranges).checked(model.session_source.checker)
    configs = [
        _naming_free_dims(model, request, config)
        for config in sweep(
            providers,
            batch_sizes,
            dims=dims,
            shapes=shapes,
            intra_op_threads=intra_op_threads,
            opt_levels=opt_levels,
            modes=modes,
            machines=list(machines or ()),
        )
    ]
    policy = StopPolicy(
        warmup="auto" if warmup == "auto" else _whole(warmup, "warmup", "warmup=5"),
        runs=runs,
        time_budget=time_budget,
        target_ci=target_ci,
        min_runs=min_runs,
        run_timeout=run_timeout,
    )
    result = BenchmarkResult(
        results=[],
        model=_model_summary(model),
        environment=fingerprint(),
        settings={
            "policy": policy.as_dict(),
            "executor": executor,
            "machines": {name: dict(spec) for name, spec in (machines or {}).items()},
            "seed": seed,
            "user_feeds": bool(request.names),
            "given_inputs": request.names,
            "interrupted": False,
        },
        created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    )
    should_stop = cancel_check(cancel)
    saved = Checkpoint.open(
        checkpoint,
        model_sha256=model.sha256,
        environment=result.environment,
        settings={"policy": policy.as_dict(), "seed": seed, "user_feeds": bool(request.names)},
        configs=configs,
        resume=resume,
    )
    result.settings["resumed"] = 0
    bar = _progress_bar(len(configs), progress)
    todo = []
    for config in configs:
        kept = saved.done.get(config.key)
        if kept is None:
            todo.append(Job(config, policy, seed))
        else:  # measured before the sweep stopped: kept as it was
            result.results.append(kept)
            result.settings["resumed"] += 1
            _advance(bar, kept)
    sweep_run = _Sweep(result, saved, bar, should_stop, on_update)
    try:
        with open_executor(executor, model, request, machines=machines) as runner:
            if runner.concurrency > 1:
                sweep_run.concurrently(runner, todo)
            else:
                sweep_run.one_by_one(runner, todo)
    finally:
        if bar is not None:
            bar.close()
    result.results[:] = _in_sweep_order(result.results, configs)
    if profile and not result.settings["interrupted"]:
        usable = [r for r in result.results if r.status == "ok"]
        if usable:
            first = usable[0].config
            # The first measured configuration exactly: same shapes, feeds and session options.
            result.profile = profile_model(
                model,
                provider=first.provider,
                batch=first.batch,
                dims=dict(first.dims),
                shapes={name: list(shape) for name, shape in first.shapes} or None,
                feeds=feeds,
                values=values,
                ranges=ranges,
                seed=seed,
                opt_level=first.opt_level,
                intra_op_threads=first.intra_op_threads,
            )
    history_store.record(result, history, kind="benchmark", label=label, model_key=model_key)
    return result


class _Sweep:
    """Runs a sweep's jobs through an executor into `result`, one at a time or several at once.

    Every finished row goes to the checkpoint, the progress bar and `on_update`; a cancel or
    Ctrl-C stops the sweep, keeping every sample, and lists what did not run.
    """

    def __init__(
        self,
        result: BenchmarkResult,
        saved: Checkpoint,
        bar: Any,
        should_stop: Callable[[], bool],
        on_update: OnUpdate,
    ) -> None:
        self.result, self.saved, self.bar = result, saved, bar
        self.should_stop, self.on_update = should_stop, on_update
        self.lock = threading.RLock()  # rows, the checkpoint and callbacks, across threads
        self.stopped = threading.Event()  # a row was cancelled or interrupted: stop the rest

    def one_by_one(self, runner: Executor, jobs: Sequence[Job]) -> None:
        """Measure `jobs` in order in this thread (Ctrl-C reaches the running measurement)."""
        index = 0
        try:
            for index, job in enumerate(jobs):
                if self.should_stop() or self.stopped.is_set():
                    reason = "cancelled" if not self.stopped.is_set() else self._why_stopped()
                    _not_run(
                        self.result, [j.config for j in jobs[index:]], f"{reason} before it ran"
                    )
                    return
                self.measure(runner, job)
        except KeyboardInterrupt:
            # Ctrl-C between two measurements (in a callback or the bookkeeping): keep what
            # was measured and list the rest as not run, as a Ctrl-C during one does.
            self.result.settings["interrupted"] = True
            last = self.result.results[-1] if self.result.results else None
            if last is not None and last.status == "ok" and not last.samples_ns:
                last.status, last.reason = "skipped", "interrupted before it ran"
            _not_run(
                self.result, [j.config for j in jobs[index + 1 :]], "interrupted before it ran"
            )

    def concurrently(self, runner: Executor, jobs: Sequence[Job]) -> None:
        """Measure `jobs` `runner.concurrency` at a time, each from its own thread."""
        started: set[int] = set()

        def measure(index: int) -> None:
            with self.lock:
                if self.should_stop() or self.stopped.is_set():
                    return
                started.add(index)
            self.measure(runner, jobs[index])

        pool = ThreadPoolExecutor(runner.concurrency, thread_name_prefix="workbench-sweep")
        futures = [pool.submit(measure, index) for index in range(len(jobs))]
        interrupted = False
        try:
            for future in futures:
                future.result()  # a failing on_update is raised here, after the others stop
        except KeyboardInterrupt:
            # Ctrl-C reaches this thread only: the running jobs are cancelled through their
            # cancel check and keep their samples; the result is returned, as one by one.
            interrupted = True
            self.stopped.set()
        except BaseException:
            self.stopped.set()
            raise
        finally:
            for future in futures:
                future.cancel()
            while True:
                try:
                    pool.shutdown(wait=True)
                    break
                except KeyboardInterrupt:  # a second Ctrl-C: still wait for the rows
                    interrupted = True
                    self.stopped.set()
            if interrupted:
                for row in self.result.results:
                    if row.stop_reason == "cancelled":
                        mark_partial(row, "interrupted")
            if self.stopped.is_set():
                self.result.settings["interrupted"] = True
            not_run = [jobs[i].config for i in range(len(jobs)) if i not in started]
            why = (
                "interrupted"
                if interrupted
                else "cancelled"
                if self.should_stop()
                else (self._why_stopped())
            )
            _not_run(self.result, not_run, f"{why} before it ran")

    def measure(self, runner: Executor, job: Job) -> None:
        """Measure one job into a new row (thread-safe)."""
        current = ConfigResult(job.config, "ok")
        with self.lock:
            self.result.results.append(current)

        def live(row: ConfigResult) -> None:
            if self.on_update is not None:
                with self.lock:
                    self.on_update(self.result, row)

        _measure(runner, job, current,
                 should_stop=lambda: self.should_stop() or self.stopped.is_set(),
                 on_progress=live)  # fmt: skip
        with self.lock:
            self.saved.add(current)
            live(current)
            _advance(self.bar, current)
            if current.stop_reason in ("interrupted", "cancelled"):
                self.result.settings["interrupted"] = True
                self.stopped.set()

    def _why_stopped(self) -> str:
        rows = self.result.results
        return "interrupted" if any(r.stop_reason == "interrupted" for r in rows) else "cancelled"


def sweep(
    providers: Sequence[str],
    batch_sizes: Sequence[int] | None,
    *,
    dims: Mapping[str, int] | None,
    shapes: Mapping[str, Sequence[int]] | None,
    intra_op_threads: Sequence[int | None] | None,
    opt_levels: Sequence[str] | str | None,
    modes: Sequence[str],
    machines: Sequence[str] = (),
) -> list[BenchConfig]:
    """Every configuration of the sweep, provider outermost (names checked up front).

    Machines vary innermost, so consecutive jobs go to different kinds of node.
    """
    kinds: list[str | None] = [*machines] or [None]
    names = [provider_names.resolve(p) for p in providers]
    if not names:
        raise WorkbenchError("benchmark() needs at least one provider.", "E.g. providers=['cpu'].")
    levels = _levels(opt_levels)
    for mode in modes:
        if mode not in MODES:
            raise WorkbenchError(f"Unknown mode {mode!r}.", f"Modes: {', '.join(MODES)}.")
    given = [] if batch_sizes is None else list(batch_sizes)  # numpy arrays have no truth value
    batches: list[int | None] = [_whole(b, "Batch sizes", "batch_sizes=[1, 8, 32]") for b in given]
    if any(batch is not None and batch < 1 for batch in batches):
        raise WorkbenchError(
            f"Batch sizes must be positive integers, got {given}.",
            "E.g. batch_sizes=[1, 8, 32].",
        )
    # Plain ints (not numpy's) so the configuration goes into JSON reports and the worker.
    fixed_dims = tuple(
        sorted(
            (name, _whole(size, "Dims", "dims={'seq': 128}")) for name, size in (dims or {}).items()
        )
    )
    fixed_shapes = tuple(
        sorted(
            (name, tuple(_whole(d, "Shapes", "shapes={'x': [1, 128]}") for d in shape))
            for name, shape in (shapes or {}).items()
        )
    )
    return [
        BenchConfig(
            provider,
            batch,
            fixed_dims,
            fixed_shapes,
            threads,
            level,
            mode,  # type: ignore[arg-type]
            machine=machine,
        )
        for provider, level, threads, batch, mode, machine in itertools.product(
            names, levels, intra_op_threads or [None], batches or [None], modes, kinds
        )
    ]


def _naming_free_dims(model: Model, request: FeedRequest, config: BenchConfig) -> BenchConfig:
    """`config` with the sizes the sweep leaves free, so its label says what ran.

    A detector benchmarked at the 64x64 fallback is labelled "cpu b1 height=64 width=64
    host", not "cpu host". The measurement is the same: the configuration still lets the
    run choose (so a failure still names the dims that were guessed).
    """
    source = model.session_source
    try:
        plan = plan_shapes(
            source.inputs,
            dims=dict(config.dims),
            shapes=dict(config.shapes),
            batch=config.batch,
            given=request.given_shapes(),
            hints=source.hints.found,
        )
    except FeedError:
        return config  # the run says what is wrong, naming the dims
    given = dict(config.dims)
    return dataclasses.replace(
        config,
        chosen_batch=plan.batch if config.batch is None and plan.batch_is_free else None,
        chosen_dims=tuple(sorted((k, v) for k, v in plan.free_dims().items() if k not in given)),
    )


def _whole(value: Any, what: str, example: str) -> int:
    """`value` as a plain int (numpy integers included), or a WorkbenchError."""
    try:
        return operator.index(value)
    except TypeError:
        raise WorkbenchError(
            f"{what} must be whole numbers, got {value!r}.", f"E.g. {example}."
        ) from None


def _levels(opt_levels: Sequence[str] | str | None) -> list[str]:
    offered = available_opt_levels()
    if opt_levels is None:
        return ["all"]
    if opt_levels == "sweep":
        return list(offered)
    levels = [opt_levels] if isinstance(opt_levels, str) else list(opt_levels)
    unknown = [level for level in levels if level not in offered]
    if unknown:
        raise WorkbenchError(
            f"Unknown graph optimization level(s): {', '.join(map(repr, unknown))}.",
            f"This onnxruntime offers: {', '.join(offered)} (or 'sweep' for all of them).",
        )
    return levels


def _measure(
    runner: Executor,
    job: Job,
    current: ConfigResult,
    *,
    should_stop: Callable[[], bool],
    on_progress: Callable[[ConfigResult], None],
) -> None:
    """Measure one job into `current`, turning every expected failure into a row.

    An exception in the caller's `on_update` is the caller's: it stops the job and is
    raised again here, not mistaken for onnxruntime failing.
    """
    config = job.config
    status = None if runner.remote else provider_names.probe(config.provider)
    if status is not None and not status.usable:
        current.status, current.reason = "skipped", status.reason
        return
    callback_failure: list[Exception] = []

    def emit(event: Event) -> None:
        record(event, current)
        if isinstance(event, Samples) and not callback_failure:
            try:
                on_progress(current)
            except Exception as exc:
                callback_failure.append(exc)

    try:
        check_mode(config.mode, config.provider)
        runner.run(job, emit, lambda: bool(callback_failure) or should_stop())
    except ProviderFallbackError as error:
        current.status, current.reason = "skipped", error.reason or error.message
    except ModeUnavailable as error:
        current.status, current.reason = "skipped", f"{error.message} {error.hint}".strip()
    except ResourceUnavailable as error:  # no node for it now: a resumed sweep tries again
        current.status, current.reason = "skipped", f"{error.message} {error.hint}".strip()
        current.stop_reason = UNSCHEDULED
    except WorkerCrashed as error:
        _failed(current, error.message)
        current.stop_reason = error.how
    except WorkbenchError as error:
        _failed(current, _explain(error.message, config))
    except KeyboardInterrupt:
        mark_partial(current, "interrupted")
    current.finish()
    if callback_failure:
        raise callback_failure[0]


def _failed(current: ConfigResult, reason: str) -> None:
    """Failed, or partial when some runs completed before the failure (they are kept)."""
    current.status = "partial" if current.samples_ns else "failed"
    current.reason = reason


def _explain(message: str, config: BenchConfig) -> str:
    lowered = message.lower()
    if any(marker in lowered for marker in _OUT_OF_MEMORY):
        where = f" at batch {config.batch}" if config.batch else ""
        return (
            f"out of memory on {config.provider}{where}: {message} "
            "The sweep went on with the next configuration; try a smaller batch."
        )
    return message


def _in_sweep_order(rows: list[ConfigResult], configs: list[BenchConfig]) -> list[ConfigResult]:
    """`rows` in the order of `configs` (rows of a repeated configuration keep their order)."""
    positions: dict[Any, collections.deque[int]] = collections.defaultdict(collections.deque)
    for index, config in enumerate(configs):
        positions[config.key].append(index)
    # sorted() calls the key once per row, in order: each row takes its configuration's next slot
    return sorted(rows, key=lambda row: positions[row.config.key].popleft())


def _not_run(result: BenchmarkResult, configs: Sequence[BenchConfig], why: str) -> None:
    result.results.extend(ConfigResult(c, "skipped", reason=why) for c in configs)


def cancel_check(cancel: Cancel) -> Callable[[], bool]:
    """`cancel` (an Event, a callable or None) as a function that says if it was set."""
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel


def _progress_bar(total: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm  # noqa: PLC0415  (heavy: a widget in notebooks, on first use)

    return tqdm(total=total, desc="benchmark", unit="config", leave=True)


def _advance(bar: Any, current: ConfigResult) -> None:
    if bar is None:
        return
    p50 = f"{current.stats.p50_ms:.3f} ms" if current.stats else current.status
    bar.set_postfix_str(f"{current.config.label}: {p50}", refresh=False)
    bar.update(1)


def _model_summary(model: Model) -> dict[str, Any]:
    summary = model.as_dict()
    summary["name"] = model.name
    return summary
