"""The exceptions and warnings users see.

A `WorkbenchError` is a user-facing problem: bad input, a model the runtime cannot run, a
missing library. It carries a plain message (what is wrong) and a hint (what to do next),
and is shown without a traceback by the CLI and the notebook adapters. Any other exception
escaping the package is a bug in onnx-workbench.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class WorkbenchError(Exception):
    """A problem the user can fix: `message` says what is wrong, `hint` what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\nHint: {self.hint}" if self.hint else self.message


class ModelLoadError(WorkbenchError):
    """The source could not be read as an ONNX model."""


class ModelNotFoundError(ModelLoadError):
    """The model path does not exist or is not a file."""


class EmptyModelError(ModelLoadError):
    """The model file has no bytes."""


class NotAnOnnxModelError(ModelLoadError):
    """The bytes are not a serialized ONNX ModelProto."""


class TruncatedModelError(ModelLoadError):
    """The file is the start of an ONNX model whose end is missing."""


class CorruptModelError(ModelLoadError):
    """The file has an ONNX model's outline but its content does not decode."""


class InvalidModelError(WorkbenchError):
    """The model fails onnx.checker and onnxruntime refuses it too."""

    @classmethod
    def both_refuse(cls, label: str, checker: str, runtime: str) -> InvalidModelError:
        """The error for a model that onnx.checker and onnxruntime both reject."""
        return cls(
            f"{label} is not a valid ONNX model. onnx.checker: {checker.rstrip('. ')}. "
            f"onnxruntime refuses it too: {runtime}",
            "Fix the exporter's output or export the model again; the messages above name "
            "the offending node or tensor.",
        )


class ExternalDataError(WorkbenchError):
    """The model's external-data weights cannot be used."""


class MissingExternalDataError(ExternalDataError):
    """An external-data file is missing or shorter than the tensors it should hold."""


class UnsafeExternalDataError(ExternalDataError):
    """An external-data location points outside the model's folder."""


class IncompatibleModelError(WorkbenchError):
    """The model's IR version or an opset is newer than the installed onnxruntime reads."""


class ProviderError(WorkbenchError):
    """An execution provider problem."""


class UnknownProviderError(ProviderError):
    """A provider name or alias that does not exist."""


class ProviderFallbackError(ProviderError):
    """A requested provider was not applied: the session would have run elsewhere."""

    def __init__(
        self, message: str, hint: str, *, requested: list[str], applied: list[str], reason: str
    ) -> None:
        super().__init__(message, hint)
        self.requested = requested
        self.applied = applied
        self.reason = reason


class SessionError(WorkbenchError):
    """onnxruntime refused to create a session for the model."""

    def __init__(self, message: str, hint: str = "", *, runtime_message: str = "") -> None:
        super().__init__(message, hint)
        self.runtime_message = runtime_message or message  # onnxruntime's own words


class FeedError(WorkbenchError):
    """Feeds that do not match the model's inputs, or shapes that cannot be built."""


class RunError(WorkbenchError):
    """onnxruntime failed while running the model."""


class WorkerCrashed(WorkbenchError):
    """The process (or machine) running a benchmark job died or hung; the message says which."""

    def __init__(self, message: str, hint: str = "", *, how: str = "worker died") -> None:
        super().__init__(message, hint)
        self.how = how  # "worker died" or "worker hung": the row's stop_reason


class ResourceUnavailable(WorkbenchError):
    """No machine of a cluster offers what a job needs, or none took it in time: skipped."""


class ModeUnavailable(WorkbenchError):
    """A benchmark mode that cannot run for this provider or model; the message says why."""


class MissingDependencyError(WorkbenchError, ImportError):
    """An optional package is not installed; the hint names the pip extra."""

    @classmethod
    def for_extra(
        cls, feature: str, package: str, extra: str, cause: str = ""
    ) -> MissingDependencyError:
        """The error for `feature`, which needs `package` from `onnx-workbench[extra]`."""
        detail = f" ({cause})" if cause else ""
        return cls(
            f"{feature} needs the {package} package, which is not installed{detail}.",
            f'Install it with: pip install "onnx-workbench[{extra}]"',
        )


def optional_import(module: str, *, feature: str, extra: str) -> ModuleType:
    """Import an optional dependency, or raise MissingDependencyError naming its extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".", 1)[0]
        raise MissingDependencyError.for_extra(feature, package, extra, str(exc)) from exc


class WorkbenchWarning(UserWarning):
    """Something the user should know that does not stop the work."""


class CompatibilityWarning(WorkbenchWarning):
    """The model needs a newer onnxruntime than the installed one."""


class CheckerWarning(WorkbenchWarning):
    """onnx.checker complains, but onnxruntime runs the model anyway."""


class ExternalDataWarning(WorkbenchWarning):
    """External-data weights are missing: inspection works, running will not."""
