"""Peer suite: the ONNX backend node tests through onnx-workbench match a bare onnxruntime.

Every case a bare InferenceSession passes, our path (load, load_feeds from .pb, run,
compare with the expected .pb outputs) passes too. Our path passes more only where the
bare API cannot: tensors of types numpy lacks (bfloat16, float8, int4) as outputs. Cases
onnxruntime cannot run (IR/opset too new, missing kernels) are counted, never hidden.
"""

from __future__ import annotations

import json

import pytest

from tests.peer import backend_suite


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    return backend_suite.run_all(tmp_path_factory.mktemp("node-cases"))


def test_we_pass_every_case_onnxruntime_passes(outcomes) -> None:
    ours, bare = outcomes["workbench"], outcomes["bare"]
    lost = {name: ours[name] for name in bare if bare[name] == "pass" and ours[name] != "pass"}
    assert lost == {}


def test_extra_passes_are_only_types_numpy_lacks(outcomes, tmp_path) -> None:
    from pathlib import Path

    ours, bare = outcomes["workbench"], outcomes["bare"]
    extra = [name for name in ours if ours[name] == "pass" and bare[name] != "pass"]
    unexplained = [
        name
        for name in extra
        if not backend_suite.uses_special_types(
            backend_suite.Case(name, Path(outcomes["cases"][name]), 0, 0)
        )
    ]
    assert unexplained == []


def test_counts_are_reported_and_plausible(outcomes) -> None:
    counts = backend_suite.summary(outcomes)
    print(json.dumps(counts, indent=2))  # shown with pytest -s; figures go in the issue notes
    assert counts["cases"] > 1500
    assert counts["workbench"]["counts"]["pass"] > 1200
    # Every case that fails ours is classified: a refused model, a session error, a run error.
    assert set(counts["workbench"]["errors"]) <= {
        "IncompatibleModelError",
        "SessionError",
        "RunError",
        "FeedError",
        "InvalidModelError",
    }
