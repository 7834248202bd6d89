"""Mutated models never crash, hang, or leak an exception that is not a WorkbenchError.

The long run (10,000+ cases) is `python -m tests.hostile.fuzz`; here a short run checks the
same pipeline in-process under Hypothesis, and the fuzz harness itself is checked against
workers that really crash and hang.
"""

from __future__ import annotations

import os
import random
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workbench
from tests.hostile import fuzz
from tests.hostile.mutations import mutate, seed_models
from tests.hostile.pipeline import exercise

SEEDS = seed_models()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(SEEDS)), rng=st.randoms(use_true_random=False))
def test_mutants_end_in_a_result_or_a_workbench_error(name: str, rng: random.Random) -> None:
    outcome = exercise(mutate(SEEDS[name], rng))
    assert outcome == "ran" or outcome.startswith("refused")


def test_mutation_is_reproducible() -> None:
    first = fuzz.case_bytes(5, 17, SEEDS)
    assert fuzz.case_bytes(5, 17, SEEDS) == first
    assert fuzz.case_bytes(5, 18, SEEDS) != first


def test_fuzz_run_through_worker_processes(tmp_path) -> None:
    report = fuzz.run_fuzz(60, seed=11, workers=2, timeout=30, save=tmp_path)
    assert report.cases == 60
    assert report.count("ran") > 0 and report.count("refused") > 0
    assert [report.count(kind) for kind in fuzz.FAILURES] == [0, 0, 0], report.summary()
    assert not list(tmp_path.iterdir())


def behaviour(data: bytes) -> int:
    return zlib.crc32(data) % 4


def misbehave(data: bytes) -> str:
    """A stand-in pipeline that crashes, hangs, raises or runs, depending on the mutant."""
    kind = behaviour(data)
    if kind == 0:
        os.abort()
    if kind == 1:
        time.sleep(60)
    if kind == 2:
        raise KeyError("escaped")
    return "ran"


def test_harness_counts_crashes_hangs_and_escapes_and_keeps_going(tmp_path) -> None:
    seeds = seed_models()
    expected = [behaviour(fuzz.case_bytes(3, case, seeds)) for case in range(12)]
    assert set(expected) == {0, 1, 2, 3}
    report = fuzz.run_fuzz(
        12, seed=3, workers=2, timeout=2, save=tmp_path, target=f"{__name__}:misbehave"
    )
    assert report.cases == 12
    assert report.count("crash") == expected.count(0)
    assert report.count("hang") == expected.count(1)
    assert report.count("bug") == expected.count(2)
    assert report.count("ran") == expected.count(3)
    saved = sorted(p.name.split("-")[0] for p in tmp_path.iterdir())
    assert saved == sorted(
        ["crash"] * expected.count(0) + ["hang"] * expected.count(1) + ["bug"] * expected.count(2)
    )
    assert "KeyError" in report.summary()


@pytest.mark.parametrize("argv", [["--cases", "20", "--seed", "4"]])
def test_fuzz_command_line(argv, capsys) -> None:
    assert fuzz.main(argv) == 0
    assert "20 cases" in capsys.readouterr().out


def test_isolated_pipeline_runs_sessions_in_the_workbench_worker(tmp_path) -> None:
    report = fuzz.run_fuzz(
        12, seed=2, workers=1, timeout=fuzz.ISOLATED_TIMEOUT, save=tmp_path,
        target="tests.hostile.pipeline:exercise_isolated",
    )  # fmt: skip
    assert report.cases == 12 and report.count("ran") > 0
    assert [report.count(kind) for kind in (*fuzz.FAILURES, "contained")] == [0, 0, 0, 0]


def test_a_crash_inside_onnxruntime_is_contained_by_the_isolated_executor(monkeypatch) -> None:
    from tests.hostile.pipeline import exercise_isolated

    # The worker runs `python -m workbench.bench.worker`: make its session creation abort.
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent / "abort_on_session"))
    outcome = exercise_isolated(workbench.demo_model().read_bytes())
    assert outcome.startswith("contained: The benchmark worker was killed by SIGABRT")
