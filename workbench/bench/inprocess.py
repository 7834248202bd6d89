"""Measure one configuration in this process (the default executor)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from workbench import providers, system
from workbench.bench.config import BenchConfig, Mode, StopPolicy, Timing
from workbench.bench.measure import measure
from workbench.bench.results import ConfigResult
from workbench.bench.runners import cuda_graph_session, make_runner
from workbench.errors import WorkbenchError
from workbench.inputs import FeedPlan, synthesize
from workbench.session import Session, run_failure

if TYPE_CHECKING:
    from workbench.model import Model

MiB = 1024 * 1024


def open_session(model: Model, config: BenchConfig) -> Session:
    """The configuration's (cached) session; for mode 'cuda-graph', one that captures graphs."""
    options: dict[str, Any] = {
        "opt_level": config.opt_level,
        "intra_op_threads": config.intra_op_threads,
    }
    if config.mode == "cuda-graph":
        return cuda_graph_session(model, **options)
    return model.session(config.provider, **options)


def feeds_for(
    model: Model, config: BenchConfig, user_feeds: Mapping[str, Any] | None, seed: int
) -> tuple[dict[str, Any], int, FeedPlan | None]:
    """Feeds for one configuration, items per run (its batch size) and the feed plan.

    The plan is None for the user's own feeds.
    """
    if user_feeds is not None:
        checked = model.feed_checker.check(user_feeds)
        first = next(iter(checked.values()), None)
        items = int(getattr(first, "shape", (1,))[0] or 1) if getattr(first, "ndim", 0) else 1
        return checked, items, None
    synthetic = synthesize(
        model.inputs,
        dims=dict(config.dims),
        shapes={k: list(v) for k, v in config.shapes},
        batch=config.batch,
        seed=seed,
    )
    plan = synthetic.plan
    return synthetic.values, (plan.batch if plan and plan.batch else 1), plan


def timed_runner(
    session: Session, feeds: Mapping[str, Any], mode: Mode, plan: FeedPlan | None
) -> Callable[[], object]:
    """`make_runner`, with onnxruntime's own errors turned into a RunError naming the node."""
    try:
        return make_runner(session, feeds, mode)
    except WorkbenchError:
        raise
    except Exception as exc:
        raise run_failure(session.model.name, session.applied_providers[0], exc, plan) from None


def measure_session(
    session: Session,
    runner: Callable[[], object],
    policy: StopPolicy,
    timing: Timing,
    plan: FeedPlan | None,
    **hooks: Any,
) -> None:
    """`measure`, with onnxruntime's errors explained; `timing` keeps completed samples."""
    try:
        measure(runner, policy, timing, **hooks)
    except WorkbenchError:
        raise
    except Exception as exc:
        raise run_failure(session.model.name, session.applied_providers[0], exc, plan) from None


@contextmanager
def _session_for(model: Model, config: BenchConfig) -> Iterator[Session]:
    """The configuration's (cached) session; a CUDA-graph session is closed afterwards.

    A captured graph replays one set of shapes and buffers, so the next configuration needs a
    session of its own (and closing frees its GPU memory).
    """
    session = open_session(model, config)
    try:
        yield session
    finally:
        if config.mode == "cuda-graph":
            session.close()


def run_inprocess(
    model: Model,
    result: ConfigResult,
    policy: StopPolicy,
    *,
    user_feeds: Mapping[str, Any] | None,
    seed: int,
    cancel: Callable[[], bool] | None,
    on_progress: Callable[[ConfigResult], None] | None,
) -> ConfigResult:
    """Create (or reuse) the session, build feeds, and measure into `result`.

    Errors propagate, but `result` (owned by the caller) keeps every completed sample.
    """
    import psutil  # noqa: PLC0415

    config = result.config
    process = psutil.Process()
    gpu = config.provider in (providers.CUDA, providers.TENSORRT)
    gpu_before = system.gpu_memory_used(0) if gpu else None
    with _session_for(model, config) as session:
        result.session_create_s = session.create_seconds
        result.applied_providers = session.applied_providers
        feeds, result.items_per_run, plan = feeds_for(model, config, user_feeds, seed)
        runner = timed_runner(session, feeds, config.mode, plan)
        timing = Timing(samples_ns=result.samples_ns)
        peak = [process.memory_info().rss]

        def progress(current: Timing) -> None:
            peak.append(process.memory_info().rss)
            result.warmup_runs = current.warmup_runs
            result.first_run_s = current.first_run_s
            if on_progress is not None:
                on_progress(result)

        measure_session(session, runner, policy, timing, plan, cancel=cancel, on_progress=progress)
        peak.append(process.memory_info().rss)
        result.first_run_s = timing.first_run_s
        result.warmup_runs = timing.warmup_runs
        result.stop_reason = timing.stop_reason
        result.peak_rss_mb = max(peak) / MiB
        if gpu_before is not None:
            after = system.gpu_memory_used(0)
            result.peak_gpu_mb = (after - gpu_before) / MiB if after is not None else None
    if timing.stop_reason in ("cancelled", "interrupted"):
        result.status = "partial"
        result.reason = f"{timing.stop_reason} after {len(timing.samples_ns)} runs"
    return result  # the engine computes the statistics, for failed runs too
