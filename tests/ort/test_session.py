"""Sessions: options, strictness, caching and release, node placement."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import workbench
from workbench.errors import SessionError, WorkbenchError
from workbench.feeds.synthetic import DimChoice, FeedPlan
from workbench.ort.options import SessionConfig, opt_levels
from workbench.ort.session import MAX_CACHED_SESSIONS, Session, run_failure


def demo() -> workbench.Model:
    return workbench.load(workbench.demo_model())


def test_opt_levels_include_the_standard_ones() -> None:
    levels = opt_levels()
    assert levels[0] == "disabled" and levels[-1] == "all"
    assert {"basic", "extended"} <= set(levels)


@pytest.mark.parametrize("level", opt_levels())
def test_every_opt_level_runs_and_agrees(level: str) -> None:
    model = demo()
    image = np.random.default_rng(1).random((2, 3, 32, 32), dtype=np.float32)
    reference = model.run({"image": image}, opt_level="disabled")["logits"]
    result = model.run({"image": image}, opt_level=level)["logits"]
    np.testing.assert_allclose(result, reference, rtol=1e-4, atol=1e-5)


def test_session_options_reach_onnxruntime() -> None:
    # (onnxruntime turns "parallel" into "sequential" when inter_op_threads is 1.)
    session = demo().session(
        "cpu", intra_op_threads=1, inter_op_threads=2, execution_mode="parallel", opt_level="basic"
    )
    options = session.ort_session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.inter_op_num_threads == 2
    assert str(options.execution_mode).endswith("ORT_PARALLEL")
    assert str(options.graph_optimization_level).endswith("ORT_ENABLE_BASIC")


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"opt_level": "max"}, "Unknown graph optimization level"),
        ({"execution_mode": "fast"}, "Unknown execution mode"),
        ({"intra_op_threads": -1}, "non-negative integer"),
        ({"use_tf32": False}, "CUDA provider only"),
    ],
)
def test_bad_session_options_are_user_errors(options, fragment) -> None:
    with pytest.raises(WorkbenchError, match=fragment):
        SessionConfig.make("cpu", **options)


def test_sessions_are_cached_per_configuration() -> None:
    model = demo()
    first = model.session("cpu")
    assert model.session("CPUExecutionProvider") is first
    assert model.session("cpu", opt_level="basic") is not first


def test_session_cache_is_bounded_and_evicted_sessions_are_released() -> None:
    model = demo()
    first = model.session("cpu", intra_op_threads=1)
    inner = weakref.ref(first.ort_session)
    for threads in range(2, MAX_CACHED_SESSIONS + 2):
        model.session("cpu", intra_op_threads=threads)
    assert len(model.sessions) == MAX_CACHED_SESSIONS
    gc.collect()
    assert inner() is None  # the evicted onnxruntime session is gone
    with pytest.raises(WorkbenchError, match="closed"):
        first.run({"image": np.zeros((1, 3, 32, 32), np.float32)})


def test_closing_a_session_releases_it_and_the_next_call_makes_a_new_one() -> None:
    model = demo()
    kept, closed = model.session("cpu", intra_op_threads=1), model.session("cpu")
    inner = weakref.ref(closed.ort_session)
    closed.close()
    gc.collect()
    assert inner() is None
    assert model.session("cpu") is not closed
    assert model.session("cpu", intra_op_threads=1) is kept


def test_a_session_closed_by_its_with_block_is_not_handed_out_again() -> None:
    model = demo()
    with model.session("cpu") as session:
        session.run({"image": np.zeros((1, 3, 32, 32), np.float32)})
    assert model.run()["logits"].shape == (1, 10)  # a new session, not the closed one
    assert model.session("cpu") is not session


def test_close_releases_every_session() -> None:
    with demo() as model:
        inner = weakref.ref(model.session("cpu").ort_session)
        model.run()
    gc.collect()
    assert inner() is None and len(model.sessions) == 0


def test_node_placement_lists_the_graph_onnxruntime_runs() -> None:
    session = demo().session("cpu")
    placement = session.placement()
    assert placement and {p.provider for p in placement} == {"CPUExecutionProvider"}
    assert "Conv" in {p.op_type for p in placement}
    # After fusion: a Conv+Relu is one node, named as the optimized graph names it.
    assert "stem.relu_nchwc" in {p.node for p in placement}


def test_node_placement_without_a_run_comes_from_the_assignment_record(monkeypatch) -> None:
    # Where the profiled run cannot run (feeds it cannot make), onnxruntime's record stands in.
    model = demo()
    session = model.session("cpu", opt_level="disabled")  # no fusions: names stay comparable
    if not hasattr(session.ort_session, "get_provider_graph_assignment_info"):
        pytest.skip("onnxruntime < 1.31 keeps no assignment record")
    from_profile = {(p.node, p.op_type, p.provider) for p in session.placement()}

    def refuse(*args, **kwargs):
        raise workbench.WorkbenchError("cannot run", "")

    monkeypatch.setattr(Session, "run", refuse)
    from_record = {(p.node, p.op_type, p.provider) for p in session.placement()}
    assert from_profile == from_record and len(from_record) == model.node_count


def test_in_memory_model_with_external_data_runs(model_path) -> None:
    path = model_path("external_weights")
    model = workbench.load(path.read_bytes(), base_dir=path.parent)
    result = model.run({"x": np.ones((1, 8), np.float32)})
    from_disk = workbench.load(path).run({"x": np.ones((1, 8), np.float32)})
    np.testing.assert_array_equal(result["y"], from_disk["y"])


def test_session_refused_by_onnxruntime_is_explained(model_path) -> None:
    import onnx

    from tests.models import make

    proto = make(
        [onnx.helper.make_node("NoSuchOp", ["x"], ["y"], domain="my.ops")],
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2])],
        opsets={"": 17, "my.ops": 1},
    )
    with pytest.raises(SessionError) as caught:
        workbench.load(proto).run()
    assert "NoSuchOp" in caught.value.message
    assert ".cc:" not in caught.value.message


def test_a_session_does_not_keep_its_model_alive() -> None:
    # The model owns its sessions; a session knows only what it runs (no back-reference).
    model = demo()
    session = model.session("cpu")
    owner = weakref.ref(model)
    del model
    gc.collect()
    assert owner() is None
    assert session.run()["logits"].shape == (1, 10)  # and it still runs on its own


def test_the_cache_closes_the_least_recently_used_session() -> None:
    model = demo()
    first = model.session("cpu", intra_op_threads=1)
    for threads in range(2, MAX_CACHED_SESSIONS + 1):
        model.session("cpu", intra_op_threads=threads)
    assert model.session("cpu", intra_op_threads=1) is first  # used again: now the newest
    model.session("cpu", intra_op_threads=MAX_CACHED_SESSIONS + 1)  # one too many
    assert not first.closed
    assert model.session("cpu", intra_op_threads=2).ort_session is not None  # reopened


def test_memory_goes_with_the_model_without_waiting_for_the_garbage_collector() -> None:
    # No reference cycle between a model, its cache and its sessions: dropping the model
    # frees onnxruntime's session (and GPU memory) at once.
    model = demo()
    model.run()
    inner = weakref.ref(model.session("cpu").ort_session)
    gc.disable()
    try:
        del model
        assert inner() is None
    finally:
        gc.enable()


def test_the_cache_is_safe_from_several_threads() -> None:
    import threading

    model = demo()
    errors: list[BaseException] = []

    def use(threads: int) -> None:
        try:
            for _ in range(20):
                model.run(intra_op_threads=threads)
        except BaseException as error:
            errors.append(error)

    # As many configurations as the cache keeps: none is closed under another thread's feet.
    workers = [threading.Thread(target=use, args=(n,)) for n in range(1, MAX_CACHED_SESSIONS + 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == [] and len(model.sessions) == MAX_CACHED_SESSIONS


@pytest.mark.parametrize(
    ("choices", "start"),
    [
        ((DimChoice("x", 1, None, 64, "default"),), "Give whole shapes with shapes={'x': [...]}"),
        ((DimChoice("x", 1, "len", 64, "default"),), "Set the guessed dims with dims={'len'"),
        ((), "The synthetic values may be out of range for this model. Bound them"),
    ],
)
def test_run_failure_hints_are_whole_sentences(choices, start) -> None:
    plan = FeedPlan({"x": (1, 64)}, choices, 1)
    error = run_failure("m", "CPUExecutionProvider", RuntimeError("it broke"), plan)
    assert error.message.startswith("onnxruntime failed while running 'm' on CPUExecutionProvider")
    assert error.message.split(": ", 1)[1].startswith("it broke.")
    assert error.hint.startswith(start) and error.hint.endswith(".")


def test_a_failure_with_inputs_given_points_at_them_too() -> None:
    plan = FeedPlan({}, (), 1, frozenset({"input_ids"}))
    error = run_failure("m", "CPUExecutionProvider", RuntimeError("idx=7592 out of bounds"), plan)
    assert error.hint.startswith("A value may be out of range for this model: check the inputs")
    assert "you gave ('input_ids')" in error.hint


def test_a_shape_error_with_every_size_given_points_at_sizes_kept_at_export() -> None:
    plan = FeedPlan({}, (DimChoice("ids", 1, "seq", 12, "given"),), 2)
    error = run_failure(
        "m", "CPUExecutionProvider", RuntimeError("The input tensor cannot be reshaped"), plan
    )
    assert error.hint.startswith("The model may run only at the sizes it was exported with")
