"""Fuzz the workbench with mutated models; count crashes, hangs and escaped exceptions.

    python -m tests.hostile.fuzz --cases 10000 --seed 1 --save /tmp/fuzz

Each case is a mutant of one seed model (tests/hostile/mutations.py), sent to a long-lived
worker process that loads, inspects, checks and runs it (tests/hostile/pipeline.py); with
--isolated, the session and run go through the workbench's isolated executor, which
contains crashes inside onnxruntime and reports them as "contained". A worker
that dies is a crash, one that takes longer than --timeout is a hang, and an exception that
is not a WorkbenchError is a bug; each is saved with its seed and case number, and a fresh
worker carries on. Workers get a 6 GiB address-space limit so a mutant that asks for
terabytes fails its allocation instead of taking the machine down.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import multiprocessing
import random
import resource
import sys
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from tests.hostile.mutations import mutate, seed_models
from tests.hostile.pipeline import CONTAINED

WORKER_MEMORY = 6 * 2**30
FAILURES = ("crash", "hang", "bug")
# The isolated executor allows a worker 60 s to create its session before calling it hung.
ISOLATED_TIMEOUT = 90.0


@dataclass
class FuzzReport:
    """Outcome counts over all cases, and the failing cases by kind."""

    cases: int = 0
    seconds: float = 0.0
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    failures: list[tuple[str, int, str]] = field(default_factory=list)  # kind, case, detail

    def count(self, kind: str) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome.startswith(kind))

    def summary(self) -> str:
        lines = [
            f"{self.cases:,} cases in {self.seconds:.0f} s ({self.cases / self.seconds:.0f}/s)"
        ]
        lines += [f"  {n:7,}  {outcome}" for outcome, n in self.outcomes.most_common()]
        lines.append(
            "crashes: {}, hangs: {}, escaped exceptions: {}; onnxruntime failures contained "
            "by the isolated executor: {}".format(
                *(self.count(kind) for kind in (*FAILURES, CONTAINED))
            )
        )
        lines += [f"  {kind} case {case}: {detail}" for kind, case, detail in self.failures[:20]]
        return "\n".join(lines)


def case_bytes(seed: int, case: int, seeds: dict[str, bytes]) -> bytes:
    """The mutant for `case` of fuzz run `seed`: the same numbers give the same bytes."""
    rng = random.Random(f"{seed}:{case}")
    return mutate(seeds[rng.choice(sorted(seeds))], rng)


def run_fuzz(
    cases: int,
    *,
    seed: int = 0,
    workers: int = 2,
    timeout: float = 10.0,
    save: Path | None = None,
    target: str = "tests.hostile.pipeline:exercise",
) -> FuzzReport:
    """Run `cases` mutants through `workers` worker processes calling `target` on each."""
    seeds = seed_models()
    report = FuzzReport()
    pool = [_Worker(target) for _ in range(workers)]
    pending = iter(range(cases))
    busy: dict[_Worker, tuple[int, bytes, float]] = {}  # worker: case, mutant, deadline
    start = time.perf_counter()
    try:
        while True:
            for worker in pool:
                if worker not in busy and (case := next(pending, None)) is not None:
                    data = case_bytes(seed, case, seeds)
                    worker.send(data)
                    busy[worker] = (case, data, time.monotonic() + timeout)
            if not busy:
                break
            soonest = min(deadline for _, _, deadline in busy.values())
            wait([w.pipe for w in busy], timeout=max(soonest - time.monotonic(), 0))
            for worker, (case, data, deadline) in list(busy.items()):
                outcome = worker.outcome(overdue=time.monotonic() > deadline)
                if outcome is None:
                    continue
                del busy[worker]
                kind = outcome.split(":", 1)[0]
                report.cases += 1
                report.outcomes[kind if kind in ("bug", CONTAINED) else outcome] += 1
                if kind in (*FAILURES, CONTAINED):
                    report.failures.append((kind, case, outcome))
                    if save is not None:
                        save.mkdir(parents=True, exist_ok=True)
                        (save / f"{kind}-{seed}-{case}.onnx").write_bytes(data)
                if kind in ("crash", "hang"):
                    pool[pool.index(worker)] = _Worker(target)
    finally:
        for worker in pool:
            worker.stop()
    report.seconds = time.perf_counter() - start
    return report


class _Worker:
    """A process that exercises the bytes it is sent and answers with the outcome."""

    def __init__(self, target: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, target), daemon=True)
        self._process.start()
        child.close()

    def send(self, data: bytes) -> None:
        self.pipe.send_bytes(data)

    def outcome(self, overdue: bool) -> str | None:
        """The answer if there is one; "crash" if the worker died, "hang" if `overdue`."""
        try:
            if self.pipe.poll():
                return self.pipe.recv()
        except (EOFError, ConnectionError):
            pass
        if not self._process.is_alive():
            self._process.join()
            return f"crash: exit code {self._process.exitcode}"
        if overdue:
            self.stop()
            return "hang"
        return None

    def stop(self) -> None:
        self._process.kill()
        self._process.join()
        self.pipe.close()


def _serve(pipe: Connection, target: str) -> None:
    module, name = target.split(":")
    exercise = getattr(importlib.import_module(module), name)

    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    while True:
        try:
            data = pipe.recv_bytes()
        except EOFError:
            return
        try:
            outcome = exercise(data)
        except Exception as exc:
            where = traceback.extract_tb(exc.__traceback__)[-1]
            outcome = f"bug: {type(exc).__name__} at {where.filename}:{where.lineno}: {exc}"[:500]
        pipe.send(outcome)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a hang")
    parser.add_argument("--save", type=Path, help="folder for failing mutants")
    parser.add_argument(
        "--isolated",
        action="store_true",
        help="create sessions and run through the isolated executor (slower; contains crashes)",
    )
    args = parser.parse_args(argv)
    report = run_fuzz(
        args.cases,
        seed=args.seed,
        workers=args.workers,
        timeout=max(args.timeout, ISOLATED_TIMEOUT) if args.isolated else args.timeout,
        save=args.save,
        target=f"tests.hostile.pipeline:{'exercise_isolated' if args.isolated else 'exercise'}",
    )
    print(report.summary())
    return 1 if any(report.count(kind) for kind in FAILURES) else 0


if __name__ == "__main__":
    sys.exit(main())
