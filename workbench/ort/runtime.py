"""The installed ONNX Runtime: import it lazily, name its package, and probe what it reads.

No onnxruntime API reports the highest IR version or opsets it accepts, so they are found by
asking it: tiny models stamped with increasing versions, each handed to a session, until
one is refused. Results are cached per process.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.errors import MissingDependencyError

if TYPE_CHECKING:
    import onnxruntime

# Every distribution that installs the `onnxruntime` import package; two at once shadow each other.
RUNTIME_PACKAGES = (
    "onnxruntime-gpu",
    "onnxruntime",
    "onnxruntime-directml",
    "onnxruntime-openvino",
    "onnxruntime-qnn",
    "onnxruntime-rocm",
    "onnxruntime-training",
    "ort-nightly",
    "ort-nightly-gpu",
)
# onnxruntime accepts any version of a domain it does not know (custom ops): past this, stop.
_PROBE_CEILING = 1 << 16
# "[ONNXRuntimeError] : 1 : FAIL : Load model from m.onnx failed:/src/graph/model.cc:256
#  onnxruntime::Model::Model(onnx::ModelProto&&, ...) Unsupported model IR version: 14, ..."
_STATUS_PREFIX = re.compile(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ")
_SOURCE_LOCATION = re.compile(
    r"[^\s:]+\.(?:cc|cpp|cu|h):\d+ (?:[\w<>,&*~ ]*::[\w:<>,&*~ ]*\([^)]*\)(?: const)? )?"
)


def ort() -> Any:
    """Import onnxruntime, or explain how to install it."""
    try:
        import onnxruntime  # noqa: PLC0415  (heavy: imported on first use)
    except ImportError as exc:
        raise MissingDependencyError(
            f"onnxruntime could not be imported: {exc}.",
            'Install it with: pip install onnx-workbench (brings "onnxruntime-gpu" on '
            'x86_64 Linux/Windows and "onnxruntime" elsewhere).',
        ) from exc
    return onnxruntime


def error_message(exc: BaseException) -> str:
    """Onnxruntime's error text without the C++ file, line and function it came from."""
    if isinstance(exc, UnicodeDecodeError) and isinstance(exc.object, bytes):
        # The message quoted text from the model that is not UTF-8; pybind11 could not
        # decode it. The raw message is still there: show the bad bytes escaped.
        exc = RuntimeError(exc.object.decode("utf-8", "backslashreplace"))
    text = str(exc).strip()
    cleaned = _SOURCE_LOCATION.sub("", _STATUS_PREFIX.sub("", text))
    return cleaned.replace("failed:", "failed: ").replace("  ", " ") or text


@functools.cache
def installed_packages() -> tuple[str, ...]:
    """Distribution names of every ONNX Runtime package installed (normally exactly one)."""
    import importlib.metadata  # noqa: PLC0415  (20 ms at start-up: only the doctor asks)

    found = []
    for name in RUNTIME_PACKAGES:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        found.append(name)
    return tuple(found)


@functools.cache
def package_name() -> str:
    """The distribution the imported onnxruntime was built as ("onnxruntime-gpu", ...)."""
    ort()
    try:
        from onnxruntime.capi import build_and_package_info  # noqa: PLC0415  (heavy: loads on first use)
    except ImportError:
        return "onnxruntime"
    return str(getattr(build_and_package_info, "package_name", "onnxruntime"))


@functools.cache
def package_label() -> str:
    """E.g. "onnxruntime-gpu 1.31.1": the package and version of the imported runtime."""
    return f"{package_name()} {ort().__version__}"


@dataclass(frozen=True)
class RuntimeLimits:
    """The newest IR version and per-domain opsets the installed onnxruntime accepts."""

    runtime: str
    max_ir_version: int
    max_opsets: dict[str, int | None]  # None: the runtime does not check this domain

    def max_opset(self, domain: str) -> int | None:
        """Highest accepted version of `domain` ("" and "ai.onnx" are the same domain)."""
        key = "ai.onnx" if domain == "" else domain
        if key not in self.max_opsets:
            self.max_opsets[key] = _probe_opset(key)
        return self.max_opsets[key]


@functools.cache
def limits() -> RuntimeLimits:
    """Probe the installed onnxruntime once per process."""
    return RuntimeLimits(
        runtime=package_label(),
        max_ir_version=_highest_accepted(lambda v: _accepts(ir_version=v)),
        max_opsets={
            "ai.onnx": _probe_opset("ai.onnx"),
            "ai.onnx.ml": _probe_opset("ai.onnx.ml"),
        },
    )


def _probe_opset(domain: str) -> int | None:
    if _accepts(domain=domain, version=_PROBE_CEILING):
        return None
    return _highest_accepted(lambda v: _accepts(domain=domain, version=v))


def _highest_accepted(accepts: Callable[[int], bool]) -> int:
    """Exponential then binary search for the last version `accepts` (versions start at 1)."""
    low, high = 1, 2
    while accepts(high):
        low, high = high, high * 2
        if high > _PROBE_CEILING:
            return _PROBE_CEILING
    while high - low > 1:
        middle = (low + high) // 2
        if accepts(middle):
            low = middle
        else:
            high = middle
    return low


def _accepts(ir_version: int = 7, domain: str = "ai.onnx", version: int = 7) -> bool:
    # Opset 7 of ai.onnx and IR 7 are old enough for every runtime we support.
    opsets = {"ai.onnx": 7, domain: version}
    try:
        _quiet_session(_identity_model(ir_version, opsets))
    except Exception:
        return False
    return True


def _quiet_session(model_bytes: bytes) -> onnxruntime.InferenceSession:
    rt = ort()
    options = rt.SessionOptions()
    options.log_severity_level = 4  # fatal only: probes fail on purpose
    options.graph_optimization_level = rt.GraphOptimizationLevel.ORT_DISABLE_ALL
    return rt.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def _identity_model(ir_version: int, opsets: dict[str, int]) -> bytes:
    from onnx import TensorProto, helper  # noqa: PLC0415  (heavy: loads on first use)

    value = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    output = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "probe", [value], [output]
    )
    imports = [helper.make_opsetid("" if d == "ai.onnx" else d, v) for d, v in opsets.items()]
    data: bytes = helper.make_model(
        graph, opset_imports=imports, ir_version=ir_version
    ).SerializeToString()
    return data
