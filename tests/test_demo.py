"""The built-in demo model: deterministic, small, runnable, with a dynamic batch."""

from __future__ import annotations

import numpy as np

import workbench
from workbench.demo import build_demo_model
from workbench.ort.runtime import ort


def test_demo_model_is_deterministic() -> None:
    assert build_demo_model().SerializeToString() == build_demo_model().SerializeToString()
    path = workbench.demo_model()
    assert path.read_bytes() == build_demo_model().SerializeToString()
    assert workbench.demo_model() == path


def test_demo_model_is_small_and_described() -> None:
    path = workbench.demo_model()
    assert path.stat().st_size < 300 * 1024
    model = workbench.load(path)
    assert model.inputs[0].shape == ("batch", 3, 32, 32)
    assert model.metadata.metadata_props
    assert model.problems == ()


def test_demo_model_runs_at_any_batch() -> None:
    session = ort().InferenceSession(
        str(workbench.demo_model()), providers=["CPUExecutionProvider"]
    )
    for batch in (1, 5):
        image = np.random.default_rng(0).random((batch, 3, 32, 32), dtype=np.float32)
        logits, probabilities = session.run(None, {"image": image})
        assert logits.shape == probabilities.shape == (batch, 10)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)


def test_demo_model_is_rewritten_when_damaged() -> None:
    path = workbench.demo_model()
    path.write_bytes(b"broken")
    assert workbench.load(workbench.demo_model()).node_count == 14


def test_the_demo_model_and_saved_outputs_follow_the_umask(tmp_path, monkeypatch) -> None:
    # Files users share are readable by others under the usual umask, like any tool's output.
    import os

    from tests.cli import cli

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    previous = os.umask(0o022)
    try:
        path = workbench.demo_model()
        saved = tmp_path / "outputs.npz"
        result = cli("run", str(path), "--save", str(saved))  # the child inherits the umask
    finally:
        os.umask(previous)
    assert result.returncode == 0, result.stderr
    assert path.stat().st_mode & 0o777 == 0o644
    assert saved.stat().st_mode & 0o777 == 0o644
