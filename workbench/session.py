"""Sessions: a model on one execution provider, created strictly.

A session asked for a provider that is not applied raises `ProviderFallbackError` (with
the doctor's reason) instead of quietly running on the CPU; `allow_fallback=True` runs on
the CPU and records why in `Session.fallback`. onnxruntime's own Python-level fallback is
switched off, and its native log output is captured and folded into our messages.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench import native, providers, runtime, tensors
from workbench.display import describe_node
from workbench.errors import (
    InvalidModelError,
    ProviderFallbackError,
    RunError,
    SessionError,
    WorkbenchError,
)
from workbench.graphstats import op_key

if TYPE_CHECKING:
    from workbench.inputs import FeedPlan
    from workbench.model import Model

_OPT_LEVEL_ATTRIBUTES = {
    "disabled": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "layout": "ORT_ENABLE_LAYOUT",
    "all": "ORT_ENABLE_ALL",
}
_EXECUTION_MODES = {"sequential": "ORT_SEQUENTIAL", "parallel": "ORT_PARALLEL"}
# Devices that IO binding places tensors on, by provider.
_DEVICES = {providers.CUDA: "cuda", providers.TENSORRT: "cuda", "DmlExecutionProvider": "dml"}
_PLACEMENT_CONFIG = "session.record_ep_graph_assignment_info"
# "Non-zero status code returned while running Reshape node. Name:'/Reshape' Status Message: ..."
_NODE_FAILURE = re.compile(r"running (\S+) node\. Name:'([^']*)' Status Message: (.*)", re.DOTALL)
_EXTERNAL_FOLDER_CONFIG = "session.model_external_initializers_file_folder_path"


def ort_opt_level(name: str) -> Any:
    """Onnxruntime's GraphOptimizationLevel for a workbench level name ("all", ...)."""
    return getattr(runtime.ort().GraphOptimizationLevel, _OPT_LEVEL_ATTRIBUTES[name])


@functools.cache
def opt_levels() -> list[str]:
    """Graph optimization levels the installed onnxruntime offers, least to most."""
    levels = runtime.ort().GraphOptimizationLevel
    return [name for name, attr in _OPT_LEVEL_ATTRIBUTES.items() if hasattr(levels, attr)]


@dataclass(frozen=True)
class SessionConfig:
    """Everything that makes two sessions of one model differ. Build with `make()`."""

    provider: str = providers.CPU
    provider_options: tuple[tuple[str, str], ...] = ()
    opt_level: str = "all"
    intra_op_threads: int | None = None
    inter_op_threads: int | None = None
    execution_mode: str = "sequential"
    allow_fallback: bool = False
    enable_profiling: bool = False

    @classmethod
    def make(
        cls,
        provider: str = "cpu",
        *,
        provider_options: Mapping[str, Any] | None = None,
        opt_level: str = "all",
        intra_op_threads: int | None = None,
        inter_op_threads: int | None = None,
        execution_mode: str = "sequential",
        allow_fallback: bool = False,
        use_tf32: bool | None = None,
        enable_profiling: bool = False,
    ) -> SessionConfig:
        """Validate and normalize options (aliases resolved, option values as strings)."""
        full = providers.resolve(provider)
        if opt_level not in opt_levels():
            raise WorkbenchError(
                f"Unknown graph optimization level {opt_level!r}.",
                f"This onnxruntime offers: {', '.join(opt_levels())}.",
            )
        if execution_mode not in _EXECUTION_MODES:
            raise WorkbenchError(
                f"Unknown execution mode {execution_mode!r}.", "Use 'sequential' or 'parallel'."
            )
        for label, threads in (
            ("intra_op_threads", intra_op_threads),
            ("inter_op_threads", inter_op_threads),
        ):
            if threads is not None and (not isinstance(threads, int) or threads < 0):
                raise WorkbenchError(
                    f"{label} must be a non-negative integer, got {threads!r}.",
                    "0 lets onnxruntime choose; 1 runs single-threaded.",
                )
        options = {str(k): _option_text(v) for k, v in (provider_options or {}).items()}
        if use_tf32 is not None:
            if full != providers.CUDA:
                raise WorkbenchError(
                    "use_tf32 applies to the CUDA provider only.",
                    "Drop use_tf32, or run with provider='cuda'.",
                )
            options["use_tf32"] = "1" if use_tf32 else "0"
        return cls(
            provider=full,
            provider_options=tuple(sorted(options.items())),
            opt_level=opt_level,
            intra_op_threads=intra_op_threads,
            inter_op_threads=inter_op_threads,
            execution_mode=execution_mode,
            allow_fallback=allow_fallback,
            enable_profiling=enable_profiling,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as reports record it."""
        return {
            "provider": self.provider,
            "provider_options": dict(self.provider_options),
            "opt_level": self.opt_level,
            "intra_op_threads": self.intra_op_threads,
            "inter_op_threads": self.inter_op_threads,
            "execution_mode": self.execution_mode,
            "allow_fallback": self.allow_fallback,
        }


def _option_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


@dataclass(frozen=True)
class NodePlacement:
    """Which provider runs one node of the optimized graph."""

    node: str
    op_type: str
    provider: str


@dataclass
class Session:
    """One model on one provider; a context manager. Create with `Model.session()`."""

    model: Model
    config: SessionConfig
    fallback: str = ""  # why the requested provider is not the one running, when allowed
    create_seconds: float = 0.0
    profile_prefix: str | None = None  # where a profiling session writes its JSON
    _ort: Any = field(default=None, repr=False)
    _run_options: Any = field(default=None, repr=False)
    # Inputs and outputs of types numpy lacks (bfloat16, float8, int4...) travel as OrtValues.
    _special_inputs: dict[str, str] = field(default_factory=dict, repr=False)
    _special_outputs: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        self._ort = self._create()
        self._run_options = runtime.ort().RunOptions()
        self._run_options.log_severity_level = 4  # failures raise; the log would only repeat them
        self._special_inputs = {
            v.name: v.dtype
            for v in self.model.inputs
            if v.dtype and tensors.needs_ortvalue(v.dtype)
        }
        self._special_outputs = any(tensors.needs_ortvalue(v.dtype) for v in self.model.outputs)

    @property
    def provider(self) -> str:
        """The provider asked for (full name)."""
        return self.config.provider

    @property
    def applied_providers(self) -> list[str]:
        """Providers onnxruntime registered for this session, in priority order."""
        return list(self._ort.get_providers()) if self._ort is not None else []

    @property
    def device(self) -> str:
        """Where the provider keeps tensors: "cuda", "dml" or "cpu"."""
        return _DEVICES.get(self.applied_providers[0], "cpu") if self._ort else "cpu"

    @property
    def ort_session(self) -> Any:
        """The underlying onnxruntime.InferenceSession."""
        if self._ort is None:
            raise WorkbenchError(
                "This session is closed.", "Create a new one with model.session()."
            )
        return self._ort

    def run(
        self,
        feeds: Mapping[str, Any],
        outputs: Sequence[str] | None = None,
        *,
        plan: FeedPlan | None = None,
    ) -> list[Any]:
        """Run once with already-validated feeds; returns the outputs in order.

        `plan` (for synthetic feeds) lets a failure name the dims that were guessed.
        """
        session = self.ort_session
        try:
            if self._special_outputs:
                return self._run_with_ortvalues(feeds, outputs)
            if self._special_inputs:
                feeds = self._with_special_inputs(feeds)
            results: list[Any] = session.run(outputs, feeds, self._run_options)
            return results
        except WorkbenchError:
            raise
        except Exception as exc:
            raise run_failure(self.model.name, self.applied_providers[0], exc, plan) from None

    def _with_special_inputs(self, feeds: Mapping[str, Any]) -> dict[str, Any]:
        special = self._special_inputs
        return {
            name: tensors.to_ortvalue(value, special[name])
            if name in special and not tensors.is_ortvalue(value)
            else value
            for name, value in feeds.items()
        }

    def _run_with_ortvalues(
        self, feeds: Mapping[str, Any], outputs: Sequence[str] | None
    ) -> list[Any]:
        """Outputs numpy cannot hold come back as OrtValues, which needs OrtValue inputs."""
        rt = runtime.ort()
        values = self._with_special_inputs(feeds)
        for name, value in values.items():
            if isinstance(value, np.ndarray):
                if value.dtype == object or value.dtype.kind in "US":
                    raise RunError(
                        f"onnxruntime's Python API cannot pass the string input {name!r} to a "
                        "model whose outputs include types numpy lacks (bfloat16, float8, int4).",
                        "Run it from C++ or C#, or cast those outputs to float32 in the model.",
                    )
                values[name] = rt.OrtValue.ortvalue_from_numpy(value)
        names = list(outputs) if outputs else [o.name for o in self.ort_session.get_outputs()]
        results = self.ort_session.run_with_ort_values(names, values, self._run_options)
        return [tensors.from_ortvalue(r) for r in results]

    def bind(
        self,
        feeds: Mapping[str, Any],
        outputs: Sequence[str] | None = None,
        *,
        preallocate: Mapping[str, Any] | None = None,
    ) -> Binding:
        """Copy feeds to the provider's device once, for device-resident runs (IO binding).

        On the CPU provider the "device" is host memory. `preallocate` maps output names to
        example arrays: those outputs get fixed device buffers of that shape and dtype, as
        CUDA graph replay requires.
        """
        return Binding(self, feeds, list(outputs) if outputs else None, preallocate or {})

    def placement(self) -> list[NodePlacement]:
        """Provider of every node in the optimized graph (profiling once on ORT < 1.31)."""
        session = self.ort_session
        getter = getattr(session, "get_provider_graph_assignment_info", None)
        if getter is None:  # onnxruntime < 1.31: read it from a profiled run
            from workbench.profiling import placement_from_profile  # noqa: PLC0415

            config = self.config
            return placement_from_profile(
                self.model,
                self.provider,
                opt_level=config.opt_level,
                provider_options=dict(config.provider_options),
            )
        return [
            NodePlacement(node.name, op_key(node.domain, node.op_type), subgraph.ep_name)
            for subgraph in getter()
            for node in subgraph.get_nodes()
        ]

    def end_profiling(self) -> str:
        """Stop profiling; returns the path of onnxruntime's profile JSON."""
        return str(self.ort_session.end_profiling())

    def close(self) -> None:
        """Release the session and the memory it holds (GPU memory included).

        The model forgets it too: its next `session()` call with these options makes a new one.
        """
        self._ort = None
        self.model.forget_session(self)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _create(self) -> Any:
        model, config = self.model, self.config
        model.ensure_runnable()
        rt = runtime.ort()
        requested = config.provider
        status = providers.probe(requested)
        chosen = requested
        if not status.usable:
            if not config.allow_fallback:
                raise _fallback_error(requested, [providers.CPU], status.reason, status.hint)
            self.fallback = f"Ran on {providers.CPU} instead of {requested}: {status.reason}"
            chosen = providers.CPU
        options = self._session_options(rt)
        provider_list: list[Any] = [chosen]
        if chosen != providers.CPU:
            provider_list = [(chosen, dict(config.provider_options)), providers.CPU]
        start = time.perf_counter()
        opened = open_ort_session(model, options, provider_list)
        if opened.session is None:
            raise _creation_error(model, chosen, opened.error, opened.log)
        session = opened.session
        self.create_seconds = time.perf_counter() - start
        applied = list(session.get_providers())
        if chosen not in applied:
            reason, hint = providers.explain_failure(chosen, opened.log)
            if not config.allow_fallback:
                raise _fallback_error(chosen, applied, reason, hint)
            self.fallback = f"Ran on {applied[0]} instead of {chosen}: {reason}"
        return session

    def _session_options(self, rt: Any) -> Any:
        config = self.config
        options = rt.SessionOptions()
        options.log_severity_level = 3  # errors only; warnings are folded into our messages
        options.graph_optimization_level = ort_opt_level(config.opt_level)
        options.execution_mode = getattr(rt.ExecutionMode, _EXECUTION_MODES[config.execution_mode])
        if config.intra_op_threads is not None:
            options.intra_op_num_threads = config.intra_op_threads
        if config.inter_op_threads is not None:
            options.inter_op_num_threads = config.inter_op_threads
        if config.enable_profiling:
            options.enable_profiling = True
            if self.profile_prefix:
                options.profile_file_prefix = self.profile_prefix
        options.add_session_config_entry(_PLACEMENT_CONFIG, "1")
        return options


class Binding:
    """Inputs resident on a session's device, outputs allocated there: `run()` copies nothing.

    The device-resident path of `Model.run(io_binding=True)` and of device-mode benchmarks.
    """

    def __init__(
        self,
        session: Session,
        feeds: Mapping[str, Any],
        outputs: list[str] | None,
        preallocate: Mapping[str, Any],
    ) -> None:
        self.session = session
        rt = runtime.ort()
        self.device = session.device
        self._binding = session.ort_session.io_binding()
        special = session._special_inputs
        self._inputs = {}  # keeps device copies alive as long as the binding
        for name, value in feeds.items():
            if tensors.is_ortvalue(value):
                device_value = value
            elif name in special:
                device_value = tensors.to_ortvalue(value, special[name], self.device)
            else:
                device_value = rt.OrtValue.ortvalue_from_numpy(
                    np.ascontiguousarray(value), self.device, 0
                )
            self._inputs[name] = device_value
            self._binding.bind_ortvalue_input(name, device_value)
        self.output_names = outputs or [o.name for o in session.ort_session.get_outputs()]
        self._outputs = {}
        for name in self.output_names:
            example = preallocate.get(name)
            if example is None:
                self._binding.bind_output(name, self.device)
                continue
            example = np.asarray(example)
            buffer = rt.OrtValue.ortvalue_from_shape_and_type(
                list(example.shape), tensors.onnx_code_for(example.dtype), self.device, 0
            )
            self._outputs[name] = buffer
            self._binding.bind_ortvalue_output(name, buffer)

    def run(self) -> None:
        """Run once; outputs stay on the device.

        No synchronize_inputs/outputs calls: the inputs were copied (synchronously) when
        bound, and onnxruntime synchronizes its providers' streams at the end of each run.
        """
        self.session.ort_session.run_with_iobinding(self._binding, self.session._run_options)

    def outputs(self) -> list[Any]:
        """Copy the last run's outputs to host memory."""
        return [_to_host(v) for v in self._binding.get_outputs()]


def _to_host(value: Any) -> Any:
    """A host copy of an OrtValue on any device, as numpy.

    numpy() copies standard types off the GPU; types numpy lacks go through a host OrtValue.
    """
    if value.device_name().lower() == "cpu" or not tensors.needs_ortvalue_type(value):
        return tensors.from_ortvalue(value)
    host = runtime.ort().OrtValue.ortvalue_from_shape_and_type(
        value.shape(), tensors.onnx_code_of(value), "cpu", 0
    )
    host.update_inplace(value)
    return tensors.from_ortvalue(host)


def run_failure(model: str, provider: str, exc: BaseException, plan: FeedPlan | None) -> RunError:
    """A RunError naming the failing node and, for synthetic feeds, the dims that were guessed."""
    text = runtime.error_message(exc)
    match = _NODE_FAILURE.search(text)
    where = f"in {describe_node(match.group(2), match.group(1))}" if match else "while running"
    detail = runtime.error_message(RuntimeError(match.group(3))) if match else text
    message = f"onnxruntime failed {where} of {model!r} on {provider}: {detail.strip()}"
    guesses = plan.guesses if plan is not None else ()
    if guesses:
        listing = "; ".join(c.describe() for c in guesses[:8])
        message += f" The feeds were synthetic, with these dims guessed: {listing}."
        symbols = sorted({c.symbol for c in guesses if c.symbol})
        example_dims = ", ".join(f"{s!r}: ..." for s in symbols[:3])
        hint = (
            f"Set the guessed dims: dims={{{example_dims}}}; " if symbols else ""
        ) + f"or give whole shapes: shapes={{{guesses[0].input!r}: [...]}}; or pass real feeds."
    elif plan is not None:
        hint = "The synthetic values may be out of range for this model: pass ranges= or feeds."
    else:
        hint = "Check the feeds' shapes and values against model.inputs."
    return RunError(message, hint)


@dataclass(frozen=True)
class OpenedSession:
    """An onnxruntime session, or onnxruntime's error; and what it logged meanwhile."""

    session: Any | None
    error: str
    log: str


def open_ort_session(model: Model, options: Any, provider_list: list[Any]) -> OpenedSession:
    """An onnxruntime session on `model`, with silent provider fallback off.

    onnxruntime reads the model's file, else its bytes with the external-data folder set.
    Its console output is captured into the result's log.
    """
    source, folder = model.ort_source()
    if folder is not None:
        options.add_session_config_entry(_EXTERNAL_FOLDER_CONFIG, folder)
    rt = runtime.ort()
    with native.captured_output() as captured:
        try:
            session = rt.InferenceSession(
                source, options, providers=provider_list, enable_fallback=0
            )
        except Exception as exc:  # onnxruntime raises several types, UnicodeDecodeError too
            error = runtime.error_message(exc)
        else:
            error = ""
    return OpenedSession(session if not error else None, error, captured.text)


def _fallback_error(
    requested: str, applied: list[str], reason: str, hint: str
) -> ProviderFallbackError:
    return ProviderFallbackError(
        f"{requested} was requested but would not run: the session would fall back to "
        f"{', '.join(applied)}. {reason}",
        f"{hint} To run on the CPU anyway, pass allow_fallback=True (results record the fallback).",
        requested=[requested],
        applied=applied,
        reason=reason,
    )


def _creation_error(model: Model, provider: str, message: str, log: str) -> WorkbenchError:
    checker = model.checker_message()
    if checker:
        return InvalidModelError.both_refuse(model.label, checker, message)
    detail = f" (onnxruntime also logged: {log.splitlines()[0]})" if log else ""
    return SessionError(
        f"onnxruntime could not create a session for {model.label} on {provider}: "
        f"{message}{detail}",
        _creation_hint(message, provider),
    )


def _creation_hint(message: str, provider: str) -> str:
    """What to do about onnxruntime's refusal to build a session, by the kind of refusal."""
    if "NOT_IMPLEMENTED" in message or "Could not find an implementation" in message:
        return (
            f"onnxruntime has no kernel for that op, opset and type combination on {provider}. "
            "Try another provider, or export the model with other opsets or dtypes."
        )
    if "is not a registered function/op" in message:
        return (
            "The op comes from a domain onnxruntime does not know: a custom-op library that is "
            "not loaded (onnxruntime-extensions provides ai.onnx.contrib), or a newer runtime. "
            "model.metadata.opset_imports lists the domains the model imports."
        )
    if "Type Error" in message:
        return (
            "A tensor's element type is not one the named op accepts; the exporter wrote a "
            "wrong dtype. model.inputs shows the declared dtypes."
        )
    return "The message above comes from onnxruntime; workbench.doctor() checks the setup."
