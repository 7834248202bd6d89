"""The isolated executor: each configuration is measured in a child Python process.

A crash or hang inside onnxruntime then kills only the worker. The worker runs `execute()`
and writes its events (`bench/jobs.py`) to its stdout as JSON lines, so completed samples
survive it; the parent kills a worker that stays silent for longer than `run_timeout`.
Timing happens in the worker: the parent adds nothing inside the timed loop.

The sweep's `Payload` (the model's file, the user's feeds) is written once to a scratch
folder that every worker reads; each worker gets the payload and its job on stdin. Its
stderr is drained as it runs (a chatty worker must not block on a full pipe); the last
lines name what happened if it dies.
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
import warnings
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

from workbench.bench.executors.inprocess import execute
from workbench.bench.jobs import (
    Failed,
    Finished,
    Job,
    Payload,
    Progress,
    Samples,
    decode,
    encode,
)
from workbench.errors import WorkbenchError, WorkbenchWarning, WorkerCrashed

if TYPE_CHECKING:
    from workbench.bench.executors import Emit, ShouldStop
    from workbench.feeds.synthetic import FeedRequest
    from workbench.model.model import Model

# Starting Python, creating the session and warming up take longer than one run.
SETUP_TIMEOUT_FACTOR = 10
MIN_SETUP_SECONDS = 60.0
_POLL_SECONDS = 0.1
_STDERR_LINES = 50  # the worker's last lines of stderr, kept for a crash report
WORKER_COMMAND = [sys.executable, "-m", "workbench.bench.executors.worker"]


class WorkerExecutor:
    """Measures each job in a fresh child process."""

    name: ClassVar[str] = "worker"

    def __init__(self, model: Model, request: FeedRequest) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="onnx-workbench-")
        self._payload = Payload.write(model, request, Path(self._scratch.name))

    def run(self, job: Job, emit: Emit, cancel: ShouldStop) -> None:
        """Start a worker for `job` and follow its events until it finishes, fails or hangs."""
        request = {"payload": self._payload.as_dict(), "job": job.as_dict()}
        process = subprocess.Popen(
            WORKER_COMMAND,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stdin is not None and process.stdout is not None
        assert process.stderr is not None
        process.stdin.write(json.dumps(request).encode())
        process.stdin.close()
        lines: queue.Queue[bytes | None] = queue.Queue()
        errors: deque[bytes] = deque(maxlen=_STDERR_LINES)
        pumps = [
            threading.Thread(target=_pump, args=(process.stdout, lines.put), daemon=True),
            threading.Thread(target=_pump, args=(process.stderr, errors.append), daemon=True),
        ]
        for pump in pumps:
            pump.start()
        try:
            _follow(process, lines, errors, job=job, emit=emit, cancel=cancel)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            for pump in pumps:
                pump.join(timeout=5)

    def close(self) -> None:
        """Remove the scratch folder."""
        self._scratch.cleanup()

    def __enter__(self) -> WorkerExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _pump(stream: IO[bytes], put: Callable[[Any], None]) -> None:
    """Hand each line of `stream` to `put`, then None at its end."""
    for line in stream:
        put(line)
    put(None)


def _follow(
    process: subprocess.Popen[bytes],
    lines: queue.Queue[bytes | None],
    errors: deque[bytes],
    *,
    job: Job,
    emit: Emit,
    cancel: ShouldStop,
) -> None:
    """Pass the worker's events on until it finishes, fails, hangs or is cancelled."""
    policy = job.policy
    setup = True  # until the first samples: starting, creating the session, warming up
    samples = 0
    progress = Progress(0, None)  # the latest, for a job stopped from here
    last_event = time.monotonic()
    try:
        while True:
            if cancel():
                _stop(process)
                emit(Finished("cancelled", progress.warmup_runs, progress.first_run_s, None, None))
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
                raise _died(process, errors, job, samples)
            event = decode(line)
            if isinstance(event, Samples):
                setup = False
                samples += len(event.values)
            elif isinstance(event, Progress):
                progress = event
            emit(event)
            if isinstance(event, Finished):
                return
    except KeyboardInterrupt:
        _stop(process)
        emit(Finished("interrupted", progress.warmup_runs, progress.first_run_s, None, None))


def _died(
    process: subprocess.Popen[bytes], errors: deque[bytes], job: Job, samples: int
) -> WorkerCrashed:
    code = process.wait()
    stderr = b"".join(line for line in errors if line).decode(errors="replace")
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
    kept = f"; {samples} completed runs are kept" if samples else ""
    return WorkerCrashed(
        f"The benchmark worker {what} while measuring {job.config.label}{kept}."
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


# ---- the worker side -------------------------------------------------------------------


def _serve() -> int:
    """Worker entry point: read one request from stdin, write events to the real stdout."""
    # The protocol owns the original stdout; anything else printed (onnxruntime's Python
    # layer prints EP errors) goes to stderr, which the parent keeps for crash reports.
    protocol = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def emit(event: Any) -> None:
        protocol.write(encode(event))

    request = json.loads(sys.stdin.read())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WorkbenchWarning)
            model, wanted = Payload.from_dict(request["payload"]).open()
        execute(model, wanted, Job.from_dict(request["job"]), emit, lifetime_peak=True)
    except WorkbenchError as error:
        emit(Failed.of(error))
    return 0


if __name__ == "__main__":
    raise SystemExit(_serve())
