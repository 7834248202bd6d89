"""The isolated executor: each configuration is measured in a child Python process.

A crash or hang inside onnxruntime then kills only the worker. The worker streams every
sample to the parent as it is measured (one line each, flushed every ~50 ms), so
completed results survive;
the parent kills a worker that stays silent for longer than `run_timeout`. Timing happens
in the worker: the parent adds nothing inside the timed loop.

Protocol (worker stdout, one JSON object per line): {"event": "session", ...},
{"event": "progress", "warmup_runs": N, "first_run_s": S}, {"s": NS} per sample,
{"event": "done", ...} or {"event": "error", "type": ..., "message": ..., "hint": ...}.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from workbench.bench.config import BenchConfig, StopPolicy
from workbench.bench.results import ConfigResult
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.model import Model

# Starting Python, creating the session and warming up take longer than one run.
SETUP_TIMEOUT_FACTOR = 10
MIN_SETUP_SECONDS = 60.0
_POLL_SECONDS = 0.1


class WorkerCrashed(WorkbenchError):
    """The worker process died or hung; the message names what happened."""

    def __init__(self, message: str, hint: str, *, how: str) -> None:
        super().__init__(message, hint)
        self.how = how  # "worker died" or "worker hung": the row's stop_reason


def run_in_worker(
    model: Model,
    result: ConfigResult,
    policy: StopPolicy,
    *,
    user_feeds: Mapping[str, Any] | None,
    seed: int,
    cancel: Callable[[], bool] | None,
    on_progress: Callable[[ConfigResult], None] | None,
) -> ConfigResult:
    """Measure `result.config` in a child process, filling `result` as samples arrive."""
    with tempfile.TemporaryDirectory(prefix="onnx-workbench-") as scratch:
        request = _request(
            model, result.config, policy, user_feeds=user_feeds, seed=seed, scratch=Path(scratch)
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "workbench.bench.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(request).encode())
        process.stdin.close()
        lines: queue.Queue[bytes | None] = queue.Queue()
        reader = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
        reader.start()
        try:
            _follow(process, lines, result, policy=policy, cancel=cancel, on_progress=on_progress)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            reader.join(timeout=5)
    return result  # the engine computes the statistics, for failed runs too


def _request(
    model: Model,
    config: BenchConfig,
    policy: StopPolicy,
    *,
    user_feeds: Mapping[str, Any] | None,
    seed: int,
    scratch: Path,
) -> dict[str, Any]:
    if model.path is not None:
        model_path, base_dir = str(model.path), None
    else:
        model_path = str(scratch / "model.onnx")
        Path(model_path).write_bytes(model.serialized())
        folder = model.external_data.base_dir
        base_dir = str(folder) if folder else None
    feeds_path = None
    if user_feeds is not None:
        import numpy as np  # noqa: PLC0415

        feeds_path = str(scratch / "feeds.npz")
        arrays: dict[str, Any] = {k: np.asarray(v) for k, v in user_feeds.items()}
        np.savez(feeds_path, **arrays)
    return {
        "model": model_path,
        "base_dir": base_dir,
        "config": config.as_dict(),
        "policy": policy.as_dict(),
        "feeds": feeds_path,
        "seed": seed,
    }


def _pump(stream: IO[bytes], lines: queue.Queue[bytes | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _follow(
    process: subprocess.Popen[bytes],
    lines: queue.Queue[bytes | None],
    result: ConfigResult,
    *,
    policy: StopPolicy,
    cancel: Callable[[], bool] | None,
    on_progress: Callable[[ConfigResult], None] | None,
) -> None:
    """Apply the worker's events to `result` until it finishes, fails, hangs or is cancelled."""
    setup = True
    last_event = time.monotonic()
    last_progress = 0.0
    try:
        while True:
            if cancel is not None and cancel():
                _stop(process)
                _mark_partial(result, "cancelled")
                return
            limit = (
                max(policy.run_timeout * SETUP_TIMEOUT_FACTOR, MIN_SETUP_SECONDS)
                if setup
                else policy.run_timeout
            )
            try:
                line = lines.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if time.monotonic() - last_event > limit:
                    _stop(process)
                    raise WorkerCrashed(
                        f"The benchmark worker hung: no result for {limit:.0f} s "
                        f"({'creating the session or warming up' if setup else 'one run'}); "
                        "it was killed.",
                        "Raise run_timeout for very slow models, or check the model with "
                        "workbench.load(...).run() on a small input.",
                        how="worker hung",
                    ) from None
                continue
            last_event = time.monotonic()
            if line is None:
                raise _died(process, result)
            event = json.loads(line)
            if "s" in event:
                result.samples_ns.append(int(event["s"]))
                setup = False
            elif _apply(event, result):
                return
            if on_progress is not None and time.monotonic() - last_progress > 0.05:
                last_progress = time.monotonic()
                on_progress(result)
    except KeyboardInterrupt:
        _stop(process)
        _mark_partial(result, "interrupted")


def _apply(event: dict[str, Any], result: ConfigResult) -> bool:
    """Record one event; True when the worker is done."""
    kind = event.get("event")
    if kind == "session":
        result.applied_providers = event["applied_providers"]
        result.session_create_s = event["session_create_s"]
        result.items_per_run = event["items_per_run"]
    elif kind == "progress":
        result.warmup_runs = event["warmup_runs"]
        result.first_run_s = event["first_run_s"]
    elif kind == "done":
        result.stop_reason = event["stop_reason"]
        result.warmup_runs = event["warmup_runs"]
        result.first_run_s = event["first_run_s"]
        result.peak_rss_mb = event["peak_rss_mb"]
        result.peak_gpu_mb = event.get("peak_gpu_mb")
        if result.stop_reason in ("cancelled", "interrupted"):
            _mark_partial(result, result.stop_reason)
        return True
    elif kind == "error":
        raise _rebuild_error(event)
    return False


def _rebuild_error(event: dict[str, Any]) -> WorkbenchError:
    from workbench import errors  # noqa: PLC0415

    kind = getattr(errors, event.get("type", ""), None)
    if not (isinstance(kind, type) and issubclass(kind, WorkbenchError)):
        kind = WorkbenchError
    if kind is errors.ProviderFallbackError:
        return errors.ProviderFallbackError(
            event["message"],
            event.get("hint", ""),
            requested=event.get("requested", []),
            applied=event.get("applied", []),
            reason=event.get("reason", ""),
        )
    return kind(event["message"], event.get("hint", ""))


def _died(process: subprocess.Popen[bytes], result: ConfigResult) -> WorkerCrashed:
    code = process.wait()
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    tail = " ".join(stderr.strip().splitlines()[-3:])[-400:]
    if code < 0:
        name = (
            signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        )
        what = f"was killed by {name}"
        if name in ("SIGSEGV", "SIGABRT", "SIGBUS", "SIGILL", "SIGFPE"):
            what += " (a crash inside onnxruntime or a native library)"
    else:
        what = f"exited with status {code}"
    kept = f"; {len(result.samples_ns)} completed runs are kept" if result.samples_ns else ""
    return WorkerCrashed(
        f"The benchmark worker {what} while measuring {result.config.label}{kept}."
        + (f" Its last output: {tail}" if tail else ""),
        "The notebook is safe: only the worker died. Try a smaller batch, another provider, "
        "or report the model to onnxruntime if it crashes there.",
        how="worker died",
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()


def _mark_partial(result: ConfigResult, why: str) -> None:
    result.status = "partial"
    result.stop_reason = why
    result.reason = f"{why} after {len(result.samples_ns)} runs"


# ---- the worker side -------------------------------------------------------------------


def _serve() -> int:
    """Worker entry point: read one request from stdin, stream events to the real stdout."""
    # The protocol owns the original stdout; anything else printed (onnxruntime's Python
    # layer prints EP errors) goes to stderr, which the parent keeps for crash reports.
    # Block-buffered, flushed with each progress event (~every 50 ms) rather than per sample:
    # waking the parent for every run would steal CPU from the runs being timed. A hard
    # crash loses at most the last ~50 ms of samples.
    protocol = os.fdopen(os.dup(1), "w", buffering=1 << 16)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def emit(event: dict[str, Any]) -> None:
        protocol.write(json.dumps(event) + "\n")
        if "s" not in event:
            protocol.flush()

    request = json.loads(sys.stdin.read())
    try:
        _measure_request(request, emit)
    except WorkbenchError as error:
        event = {
            "event": "error",
            "type": type(error).__name__,
            "message": error.message,
            "hint": error.hint,
        }
        for name in ("requested", "applied", "reason"):
            if hasattr(error, name):
                event[name] = getattr(error, name)
        emit(event)
    protocol.flush()
    return 0


def _measure_request(request: dict[str, Any], emit: Callable[[dict[str, Any]], None]) -> None:
    import warnings  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    from workbench import providers, system  # noqa: PLC0415
    from workbench.bench.config import Timing  # noqa: PLC0415
    from workbench.bench.inprocess import (  # noqa: PLC0415
        feeds_for,
        measure_session,
        open_session,
        timed_runner,
    )
    from workbench.errors import WorkbenchWarning  # noqa: PLC0415
    from workbench.model import load  # noqa: PLC0415

    config = BenchConfig.from_dict(request["config"])
    policy = StopPolicy(**request["policy"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WorkbenchWarning)
        model = load(request["model"], base_dir=request.get("base_dir"))
    gpu = config.provider in (providers.CUDA, providers.TENSORRT)
    gpu_before = system.gpu_memory_used(0) if gpu else None
    session = open_session(model, config)
    user_feeds = (
        dict(np.load(request["feeds"], allow_pickle=False)) if request.get("feeds") else None
    )
    feeds, items, plan = feeds_for(model, config, user_feeds, request["seed"])
    emit(
        {
            "event": "session",
            "applied_providers": session.applied_providers,
            "session_create_s": session.create_seconds,
            "items_per_run": items,
        }
    )
    runner = timed_runner(session, feeds, config.mode, plan)
    timing = Timing()
    measure_session(
        session,
        runner,
        policy,
        timing,
        plan,
        on_progress=lambda t: emit(
            {"event": "progress", "warmup_runs": t.warmup_runs, "first_run_s": t.first_run_s}
        ),
        on_sample=lambda ns: emit({"s": ns}),
    )
    after = system.gpu_memory_used(0) if gpu_before is not None else None
    emit(
        {
            "event": "done",
            "stop_reason": timing.stop_reason,
            "warmup_runs": timing.warmup_runs,
            "first_run_s": timing.first_run_s,
            "peak_rss_mb": _peak_rss_mb(),
            "peak_gpu_mb": (after - gpu_before) / 2**20
            if after is not None and gpu_before is not None
            else None,
        }
    )


def _peak_rss_mb() -> float:
    """The worker's lifetime peak RSS: one configuration per process, so it is the config's."""
    try:
        import resource  # noqa: PLC0415  (Unix only)
    except ImportError:
        import psutil  # noqa: PLC0415

        info = psutil.Process().memory_info()
        return float(getattr(info, "peak_wset", info.rss)) / 2**20
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


if __name__ == "__main__":
    raise SystemExit(_serve())
