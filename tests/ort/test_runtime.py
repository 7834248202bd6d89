"""The runtime probe: the limits it reports are exactly where onnxruntime starts refusing."""

from __future__ import annotations

import pytest

from workbench.ort import runtime


def _accepted(ir_version: int = 7, domain: str = "ai.onnx", version: int = 7) -> bool:
    model = runtime._identity_model(ir_version, {"ai.onnx": 7, domain: version})
    try:
        runtime._quiet_session(model)
    except Exception:
        return False
    return True


def test_ir_limit_is_the_last_accepted_version() -> None:
    most = runtime.limits().max_ir_version
    assert _accepted(ir_version=most) and not _accepted(ir_version=most + 1)


@pytest.mark.parametrize("domain", ["ai.onnx", "ai.onnx.ml", "com.microsoft"])
def test_opset_limits_are_the_last_accepted_versions(domain: str) -> None:
    most = runtime.limits().max_opset(domain)
    assert most is not None
    assert _accepted(domain=domain, version=most)
    assert not _accepted(domain=domain, version=most + 1)


def test_custom_domains_are_not_version_checked() -> None:
    assert runtime.limits().max_opset("my.company.ops") is None


def test_default_domain_aliases() -> None:
    limits = runtime.limits()
    assert limits.max_opset("") == limits.max_opset("ai.onnx")


def test_package_label_names_the_imported_runtime() -> None:
    label = runtime.package_label()
    assert label.split()[0] in runtime.RUNTIME_PACKAGES
    assert label.endswith(runtime.ort().__version__)


def test_error_message_drops_native_source_locations() -> None:
    raw = (
        "[ONNXRuntimeError] : 1 : FAIL : Load model from m.onnx failed:/onnxruntime_src/"
        "onnxruntime/core/graph/model.cc:256 onnxruntime::Model::Model(onnx::ModelProto&&, "
        "const onnxruntime::PathString&) Unsupported model IR version: 14, max supported IR "
        "version: 13"
    )
    assert runtime.error_message(RuntimeError(raw)) == (
        "Load model from m.onnx failed: Unsupported model IR version: 14, max supported IR "
        "version: 13"
    )
