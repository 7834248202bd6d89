"""The load generator: requests sent on schedule (open loop) or by waiting clients (closed loop).

Open loop: a dispatcher sends each request at its scheduled time whatever happened to the
ones before, into a bounded queue that worker threads drain (one service each: a shared
session or a session of their own). A request's latency runs from its scheduled time, so
the time it waited in the queue counts: a closed loop, which sends the next request only
after the last reply, never lets a queue form and hides exactly that (coordinated
omission). A full queue drops the request and counts it: an overloaded run ends, with its
verdict, instead of queueing without bound.

Dynamic batching: a worker that takes a request also takes what is queued, up to `max_batch`,
waiting at most `max_wait` after the first request's dispatch; the batch runs as one call.

Every request keeps its scheduled, dispatched, start and end times (ns since the run began),
the size of the batch it ran in, and its status. Times come from `time.perf_counter_ns`.
`cancel()` and Ctrl-C stop dispatching; requests already running finish and are kept,
queued ones are marked cancelled.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

OK, FAILED, DROPPED, CANCELLED, SENT = 0, 1, 2, 3, 4
STATUS = {OK: "ok", FAILED: "failed", DROPPED: "dropped", CANCELLED: "cancelled",
          SENT: "sent"}  # fmt: skip
COLUMNS = ("scheduled_ns", "dispatched_ns", "start_ns", "end_ns", "batch", "status")
_DISPATCHED, _START, _STATUS = 1, 2, 5  # their places
PROGRESS_EVERY_S = 0.05
MAX_CLOSED_ROWS = 2_000_000  # a closed loop's requests at most (96 MB of records)
_FIRST_ROWS = 4096  # a closed loop's table to start with
_SPIN_NS = 200_000  # sleep until this close to a request's time, then yield until it is due
_POLL_S = 0.01  # how often an idle worker checks whether the run is over

Service = Callable[[int], None]  # runs `count` requests as one call
Clock = Callable[[], int]


@dataclass(frozen=True)
class Batching:
    """Dynamic batching: up to `max_batch` queued requests run as one, waiting `max_wait_ms`."""

    max_batch: int
    max_wait_ms: float

    @property
    def label(self) -> str:
        """`dynamic:8:2ms`, as the CLI takes it."""
        return f"dynamic:{self.max_batch}:{self.max_wait_ms:g}ms"


@dataclass
class Records:
    """Every request of one run: one row each, the columns of `COLUMNS` (int64)."""

    table: np.ndarray  # shape (requests, len(COLUMNS))
    first_error: str = ""  # the first failed request's error
    stopped: str = ""  # "cancelled" or "interrupted" when the run was stopped
    finished: list[int] = field(default_factory=list)  # rows done, in completion order

    @classmethod
    def empty(cls, count: int) -> Records:
        """`count` rows, none sent yet (status cancelled until dispatched)."""
        table = np.zeros((count, len(COLUMNS)), dtype=np.int64)
        table[:, COLUMNS.index("status")] = CANCELLED
        return cls(table)

    def grow(self, rows: int) -> None:
        """Make room for at least `rows` rows (doubling), keeping those written."""
        bigger = Records.empty(max(rows, 2 * len(self.table))).table
        bigger[: len(self.table)] = self.table
        self.table = bigger

    def column(self, name: str) -> np.ndarray:
        """One column of every row."""
        return self.table[:, COLUMNS.index(name)]

    def rows(self, start: int = 0) -> np.ndarray:
        """The rows finished (run, failed or dropped) since the `start`-th one to finish."""
        return self.table[self.finished[start:]]


def open_loop(
    services: Sequence[Service],
    offsets_ns: np.ndarray,
    *,
    queue_limit: int,
    batching: Batching | None = None,
    cancel: Callable[[], bool] = lambda: False,
    on_progress: Callable[[Records], None] | None = None,
    clock: Clock = time.perf_counter_ns,
) -> Records:
    """Send a request at each offset (ns from now) to one of the workers (one per service)."""
    records = Records.empty(len(offsets_ns))
    run = _Run(records, clock, batching, queue.Queue(maxsize=queue_limit))
    start = run.start
    pending = run.pending
    workers = [threading.Thread(target=run.worker, args=(s,), daemon=True) for s in services]
    reporter = _Reporter(records, on_progress)
    for worker in workers:
        worker.start()
    reporter.start()
    scheduled, dispatched = records.column("scheduled_ns"), records.column("dispatched_ns")
    status = records.column("status")
    try:
        for index, offset in enumerate(offsets_ns):
            if cancel():
                records.stopped = "cancelled"
                break
            wait_until(start + int(offset), clock)
            scheduled[index], dispatched[index] = offset, clock() - start
            try:
                pending.put_nowait(index)
            except queue.Full:
                status[index] = DROPPED
                records.finished.append(index)
            else:
                status[index] = SENT  # a worker writes the outcome over it
    except KeyboardInterrupt:
        records.stopped = "interrupted"
    finally:
        if records.stopped:
            run.abandon.set()
        run.over.set()
        _join_all(workers, records)
        reporter.stop()
    return records


def closed_loop(
    services: Sequence[Service],
    *,
    duration_s: float,
    max_requests: int | None = None,
    cancel: Callable[[], bool] = lambda: False,
    on_progress: Callable[[Records], None] | None = None,
    clock: Clock = time.perf_counter_ns,
) -> Records:
    """Each client (one per service) sends a request, waits for it, sends the next.

    For `duration_s` (or `max_requests` in all); a request's time runs from its send, as a
    closed loop measures it. Rows are in the order requests were sent.
    """
    records = Records.empty(_FIRST_ROWS)  # grown as requests are sent
    run = _Run(records, clock, None, queue.Queue())
    run.deadline = run.start + int(duration_s * 1e9)
    run.limit = min(max_requests or MAX_CLOSED_ROWS, MAX_CLOSED_ROWS)
    clients = [threading.Thread(target=run.client, args=(s,), daemon=True) for s in services]
    reporter = _Reporter(records, on_progress)
    for client in clients:
        client.start()
    reporter.start()
    try:
        while any(c.is_alive() for c in clients):
            if cancel():
                records.stopped = "cancelled"
                run.abandon.set()
            time.sleep(_POLL_S)
    except KeyboardInterrupt:
        records.stopped = "interrupted"
        run.abandon.set()
    run.over.set()
    for client in clients:
        _join(client)
    reporter.stop()
    sent = records.column("status") != CANCELLED
    records.table = records.table[: int(np.flatnonzero(sent).max()) + 1 if sent.any() else 0]
    records.finished = [i for i in records.finished if i < len(records.table)]
    return records


def wait_until(target_ns: int, clock: Clock = time.perf_counter_ns) -> None:
    """Sleep until shortly before `target_ns`, then yield the GIL until it is due.

    `time.sleep` overshoots by tens of microseconds; a plain spin would hold the GIL and
    delay the workers recording their results, `time.sleep(0)` hands it over each turn.
    """
    while True:
        remaining = target_ns - clock()
        if remaining <= 0:
            return
        time.sleep((remaining - _SPIN_NS) / 1e9 if remaining > _SPIN_NS else 0)


class _Run:
    """What a run's threads share: the records, the clock, the queue, and when to stop."""

    def __init__(
        self, records: Records, clock: Clock, batching: Batching | None, pending: queue.Queue[int]
    ) -> None:
        self.records, self.clock, self.batching, self.pending = records, clock, batching, pending
        self.over, self.abandon = threading.Event(), threading.Event()
        self.lock = threading.Lock()
        self.next_row = 0  # closed loop: the next row a client takes
        self.limit = 0  # closed loop: requests at most
        self.deadline = 0
        self.start = clock()

    def worker(self, service: Service) -> None:
        """Serve the queue (open loop): a request, or a batch of them, at a time."""
        table, clock = self.records.table, self.clock
        while True:
            try:
                first = self.pending.get(timeout=_POLL_S)
            except queue.Empty:
                if self.over.is_set():
                    return
                continue
            if self.abandon.is_set():  # stopped: what is still queued is not run
                table[first, _STATUS] = CANCELLED
                continue
            batch = [first]
            if self.batching is not None:
                wait_ns = int(self.batching.max_wait_ms * 1e6)
                due = self.start + int(table[first, _DISPATCHED]) + wait_ns
                while len(batch) < self.batching.max_batch:
                    left = (due - clock()) / 1e9
                    try:
                        batch.append(
                            self.pending.get(timeout=left)
                            if left > 0
                            else self.pending.get_nowait()
                        )
                    except queue.Empty:
                        break
            began = clock()
            outcome = self._call(service, len(batch))
            ended = clock()
            for index in batch:
                table[index, _START:] = (
                    began - self.start,
                    ended - self.start,
                    len(batch),
                    outcome,
                )
            self.records.finished.extend(batch)

    def client(self, service: Service) -> None:
        """Send, wait, send again (closed loop) until the deadline or the request limit."""
        clock, records = self.clock, self.records
        while not self.abandon.is_set():
            sent = clock()
            if sent >= self.deadline:
                return
            with self.lock:
                index, self.next_row = self.next_row, self.next_row + 1
            if index >= self.limit:
                return
            outcome = self._call(service, 1)
            ended = clock()
            at = sent - self.start
            with self.lock:  # the table may grow meanwhile: written under the same lock
                if index >= len(records.table):
                    records.grow(index + 1)
                records.table[index] = (at, at, at, ended - self.start, 1, outcome)
                records.finished.append(index)

    def _call(self, service: Service, count: int) -> int:
        try:
            service(count)
        except Exception as error:
            if not self.records.first_error:
                self.records.first_error = f"{type(error).__name__}: {error}"
            return FAILED
        return OK


class _Reporter:
    """Calls `on_progress(records)` every PROGRESS_EVERY_S from its own thread, and at the end.

    Off the dispatcher's thread, so reporting never delays a request.
    """

    def __init__(self, records: Records, on_progress: Callable[[Records], None] | None) -> None:
        self._records = records
        self._call = on_progress
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        if self._call is not None:
            self._thread.start()

    def stop(self) -> None:
        if self._call is None:
            return
        self._done.set()
        self._thread.join()
        self._call(self._records)

    def _loop(self) -> None:
        assert self._call is not None
        while not self._done.wait(PROGRESS_EVERY_S):
            self._call(self._records)


def _join(thread: threading.Thread) -> None:
    """Join, waking for Ctrl-C now and then (a plain join cannot be interrupted on Windows)."""
    while thread.is_alive():
        thread.join(timeout=0.1)


def _join_all(threads: list[threading.Thread], records: Records) -> None:
    """Join every thread; a second Ctrl-C here still lets them finish what they run.

    Requests sent but never run (their worker stopped) are marked cancelled.
    """
    for thread in threads:
        try:
            _join(thread)
        except KeyboardInterrupt:
            records.stopped = "interrupted"
            _join(thread)
    status = records.column("status")
    status[status == SENT] = CANCELLED
