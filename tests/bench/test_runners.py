"""CUDA-graph session refusal, on the CPU: onnxruntime's refusal and an ordinary CUDA
session's placement are stood in for (no GPU here); tests/gpu covers the real thing."""

from __future__ import annotations

import pytest

import workbench
from workbench.bench.jobs import Failed, decode, encode
from workbench.bench.runners import cuda_graph_session
from workbench.errors import ModeUnavailable, SessionError
from workbench.ort.profiling import NodePlacement

PREFIX = "onnxruntime could not create a session for 'm' on CUDAExecutionProvider: "
# onnxruntime's own texts (inference_session.cc, older and newer releases).
PARTITION_REFUSALS = [
    "[ONNXRuntimeError] : 1 : FAIL : This session cannot use the CUDA Graph feature as requested"
    " by the user  as all compute graph nodes have not been partitioned to the CUDA EP.",
    "[ONNXRuntimeError] : 1 : FAIL : This session cannot use the graph capture feature as "
    "requested by the user as all compute graph nodes have not been partitioned to the "
    "CUDAExecutionProvider",
]
CONTROL_FLOW_REFUSAL = (
    "[ONNXRuntimeError] : 1 : FAIL : This session cannot use the graph capture feature as the "
    "model has control flow nodes which can't be supported by CUDAExecutionProvider"
)


class _OrdinarySession:
    def __init__(self, placement: list[NodePlacement]) -> None:
        self._placement = placement

    def placement(self) -> list[NodePlacement]:
        return self._placement


ON_CPU = [
    NodePlacement("relu", "Relu", "CUDAExecutionProvider"),
    NodePlacement("binarize", "ai.onnx.ml::Binarizer", "CPUExecutionProvider"),
]


def _model_whose_sessions(
    monkeypatch: pytest.MonkeyPatch, graph_error: Exception, placement: list[NodePlacement] = ON_CPU
):
    model = workbench.load(workbench.demo_model())

    def session(provider: str, provider_options: dict | None = None, **options: object):
        if provider_options:
            raise graph_error
        return _OrdinarySession(placement)

    monkeypatch.setattr(model, "session", session)
    return model


@pytest.mark.parametrize("refusal", PARTITION_REFUSALS)
def test_refused_graph_session_names_the_nodes_off_the_gpu(monkeypatch, refusal: str) -> None:
    model = _model_whose_sessions(monkeypatch, SessionError(PREFIX + refusal))
    with pytest.raises(ModeUnavailable) as caught:
        cuda_graph_session(model)
    assert "1 run on CPUExecutionProvider, e.g. node 'binarize' (ai.onnx.ml::Binarizer)" in str(
        caught.value
    )
    assert "use mode 'device'" in caught.value.hint


def test_refusal_for_control_flow_gives_onnxruntimes_reason(monkeypatch) -> None:
    on_gpu = [NodePlacement("loop", "Loop", "CUDAExecutionProvider")]
    model = _model_whose_sessions(monkeypatch, SessionError(PREFIX + CONTROL_FLOW_REFUSAL), on_gpu)
    with pytest.raises(ModeUnavailable) as caught:
        cuda_graph_session(model)
    assert "the model has control flow nodes" in caught.value.message
    assert "[ONNXRuntimeError]" not in caught.value.message


def test_other_session_errors_pass_through(monkeypatch) -> None:
    other = SessionError("onnxruntime could not create a session: out of memory")
    model = _model_whose_sessions(monkeypatch, other)
    with pytest.raises(SessionError) as caught:
        cuda_graph_session(model)
    assert caught.value is other


def test_mode_unavailable_survives_the_worker_protocol() -> None:
    # The worker sends errors by type name: a refused mode must come back as a skip, not a failure.
    event = decode(encode(Failed.of(ModeUnavailable("no graphs", "h"))))
    assert isinstance(event, Failed)
    error = event.error()
    assert type(error) is ModeUnavailable and error.message == "no graphs"
