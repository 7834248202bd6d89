"""The isolated executors: configurations are measured in a child Python process.

`worker` starts a process per configuration; `pool` keeps one and hands it configuration
after configuration (the model loaded once, sessions made and released per configuration),
replacing it when it dies. A crash or hang inside onnxruntime then kills only the worker.
The worker runs `execute()` and writes its events (`bench/jobs.py`) to its stdout as JSON
lines, so completed samples survive it; the parent kills a worker that stays silent for
longer than `run_timeout`. Timing happens in the worker: the parent adds nothing inside the
timed loop.

The sweep's `Payload` (the model's file, the user's feeds) is written once to a scratch
folder that every worker reads; a worker gets the payload and its jobs on stdin. Its
stderr is drained as it runs (a chatty worker must not block on a full pipe); the last
lines name what happened if it dies.
"""

from __future__ import annotations

import contextlib
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
    remote: ClassVar[bool] = False
    concurrency: int = 1  # one job at a time: measurements on one machine never overlap

    def __init__(self, model: Model, request: FeedRequest) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="onnx-workbench-")
        self._payload = Payload.write(model, request, Path(self._scratch.name))

    def run(self, job: Job, emit: Emit, cancel: ShouldStop) -> None:
        """Start a worker for `job` and follow its events until it finishes, fails or hangs."""
        child = _Child(WORKER_COMMAND)
        child.send(json.dumps({"payload": self._payload.as_dict(), "job": job.as_dict()}))
        child.close_input()
        try:
            _follow(child, job=job, emit=emit, cancel=cancel)
        finally:
            child.end()

    def close(self) -> None:
        """Remove the scratch folder."""
        self._scratch.cleanup()

    def __enter__(self) -> WorkerExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class PoolExecutor:
    """Measures jobs one after another in a long-lived child process, replaced when it dies.

    The model is loaded once; each configuration still gets sessions of its own (the worker
    releases them after each job), and its peak memory is sampled while it runs. A crash or
    a hang kills only the worker: the job is reported failed and the next starts a new one.
    """

    name: ClassVar[str] = "pool"
    remote: ClassVar[bool] = False
    concurrency: int = 1  # one job at a time: measurements on one machine never overlap

    def __init__(self, model: Model, request: FeedRequest) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="onnx-workbench-")
        self._payload = Payload.write(model, request, Path(self._scratch.name))
        self._child: _Child | None = None

    def run(self, job: Job, emit: Emit, cancel: ShouldStop) -> None:
        """Hand `job` to the pool's worker (started if needed) and follow its events."""
        if self._child is None or not self._child.alive():
            self._child = _Child([*WORKER_COMMAND, "--pool"])
            self._child.send(json.dumps({"payload": self._payload.as_dict()}))
        child = self._child
        child.send(json.dumps({"job": job.as_dict()}))
        try:
            _follow(child, job=job, emit=emit, cancel=cancel)
        except BaseException:
            if not child.alive():
                child.end()
                self._child = None
            raise
        if not child.alive():  # stopped by a cancel or Ctrl-C: the next job starts anew
            child.end()
            self._child = None

    def close(self) -> None:
        """Let the worker finish (its input closed), then remove the scratch folder."""
        if self._child is not None:
            self._child.close_input()
            self._child.end(grace=5.0)
            self._child = None
        self._scratch.cleanup()

    def __enter__(self) -> PoolExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Child:
    """A worker process: its stdin to write jobs to, its stdout lines and stderr tail pumped."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        assert self.process.stderr is not None
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.errors: deque[bytes] = deque(maxlen=_STDERR_LINES)
        self._pumps = [
            threading.Thread(target=_pump, args=(self.process.stdout, self.lines.put),
                             daemon=True),
            threading.Thread(target=_pump, args=(self.process.stderr, self.errors.append),
                             daemon=True),
        ]  # fmt: skip
        for pump in self._pumps:
            pump.start()

    def send(self, line: str) -> None:
        """One line to the worker's stdin."""
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def close_input(self) -> None:
        """Close the worker's stdin: no more jobs."""
        assert self.process.stdin is not None
        if not self.process.stdin.closed:
            self.process.stdin.close()

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None

    def end(self, *, grace: float = 0.0) -> None:
        """Wait up to `grace` seconds for it to exit, then kill it; join the pumps."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pump in self._pumps:
            pump.join(timeout=5)


def _pump(stream: IO[bytes], put: Callable[[Any], None]) -> None:
    """Hand each line of `stream` to `put`, then None at its end."""
    for line in stream:
        put(line)
    put(None)


def _follow(child: _Child, *, job: Job, emit: Emit, cancel: ShouldStop) -> None:
    """Pass the worker's events on until it finishes, fails, hangs or is cancelled."""
    process, lines, errors = child.process, child.lines, child.errors
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
            if isinstance(event, Finished | Failed):
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
    """Worker entry point: read requests from stdin, write events to the real stdout.

    One request (`worker`): the payload and a job, the whole of stdin. A pool (`--pool`):
    the payload on the first line, then a job per line until stdin closes; each job's
    sessions are released after it, so the next starts from the same state.
    """
    # The protocol owns the original stdout; anything else printed (onnxruntime's Python
    # layer prints EP errors) goes to stderr, which the parent keeps for crash reports.
    protocol = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def emit(event: Any) -> None:
        protocol.write(encode(event))

    pool = "--pool" in sys.argv
    first = json.loads(sys.stdin.readline() if pool else sys.stdin.read())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WorkbenchWarning)
            model, wanted = Payload.from_dict(first["payload"]).open()
    except WorkbenchError as error:
        emit(Failed.of(error))
        return 0
    jobs = (json.loads(line)["job"] for line in sys.stdin) if pool else iter([first["job"]])
    for job in jobs:
        try:
            execute(model, wanted, Job.from_dict(job), emit, lifetime_peak=not pool)
        except WorkbenchError as error:
            emit(Failed.of(error))
        finally:
            if pool:
                model.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(_serve())
