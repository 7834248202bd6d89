"""Sessions: a model on one execution provider, created strictly, and the cache that owns them.

A session asked for a provider that is not applied raises `ProviderFallbackError` (with the
doctor's reason) instead of quietly running on the CPU; `allow_fallback=True` runs on the
CPU and records why in `Session.fallback`. onnxruntime's own Python-level fallback is
switched off, and its native log output is captured and folded into our messages.

A session knows its model only as a `SessionSource` (where onnxruntime reads it, and its
signature), never as a `Model`: the model owns its sessions, not the other way round.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from workbench.errors import (
    ProviderFallbackError,
    RunError,
    SessionError,
    WorkbenchError,
)
from workbench.feeds.checker import FeedChecker, Range
from workbench.feeds.hints import DimHints
from workbench.feeds.synthetic import FeedPlan, FeedRequest, Feeds, synthesize
from workbench.model.signature import ValueInfo
from workbench.model.walk import op_key
from workbench.ort import capture, providers, runtime, tensors
from workbench.ort.options import SessionConfig
from workbench.ort.profiling import NodePlacement, placements
from workbench.run.result import RunResult
from workbench.text import describe_node

MAX_CACHED_SESSIONS = 4  # sessions hold weights (and GPU memory): keep only the recent ones
# Devices that IO binding places tensors on, by provider.
_DEVICES = {providers.CUDA: "cuda", providers.TENSORRT: "cuda", "DmlExecutionProvider": "dml"}
# "Non-zero status code returned while running Reshape node. Name:'/Reshape' Status Message: ..."
_NODE_FAILURE = re.compile(r"running (\S+) node\. Name:'([^']*)' Status Message: (.*)", re.DOTALL)
_EXTERNAL_FOLDER_CONFIG = "session.model_external_initializers_file_folder_path"
# onnxruntime's settings that write an optimized model's weights to a side file.
_EXTERNAL_FILE_CONFIG = "session.optimized_model_external_initializers_file_name"
_EXTERNAL_MIN_BYTES_CONFIG = "session.optimized_model_external_initializers_min_size_in_bytes"


@dataclass(frozen=True)
class SessionSource:
    """What a session needs of a model: where onnxruntime reads it, and its signature."""

    name: str  # the model's name, for messages
    label: str  # how messages name the model: its quoted path, or "the in-memory model"
    location: str | bytes  # a file path, or serialized bytes
    external_folder: str | None  # where external weights live, for a model given as bytes
    inputs: tuple[ValueInfo, ...]
    outputs: tuple[ValueInfo, ...]
    checker: FeedChecker
    hints: DimHints  # sizes the model suggests for its free dims, found on first use

    @functools.cached_property
    def output_names(self) -> list[str]:
        """Names of the model's outputs, in order."""
        return [o.name for o in self.outputs]

    def select_outputs(self, outputs: Sequence[str] | str | None) -> list[str]:
        """The outputs a run returns: those named (one name or several), or all of them."""
        if not outputs:
            return self.output_names
        names = [outputs] if isinstance(outputs, str) else list(outputs)
        unknown = [n for n in names if n not in self.output_names]
        if unknown:
            verb = "is not an output" if len(unknown) == 1 else "are not outputs"
            raise WorkbenchError(
                f"{', '.join(map(repr, unknown))} {verb} of the model.",
                f"Outputs: {', '.join(map(repr, self.output_names))}.",
            )
        return names


class Session:
    """One model on one provider; a context manager.

    Made by `Model.session()` (cached) or `Session.open()`.
    """

    def __init__(
        self,
        source: SessionSource,
        config: SessionConfig,
        ort_session: Any,
        *,
        fallback: str = "",
    ) -> None:
        self.source = source
        self.config = config
        self.fallback = fallback  # why the requested provider is not the one running, when allowed
        self.create_seconds = 0.0
        self._ort: Any = ort_session
        self._profile_folder: tempfile.TemporaryDirectory[str] | None = None
        self._run_options = runtime.ort().RunOptions()
        self._run_options.log_severity_level = 4  # failures raise; the log would repeat them
        # Inputs and outputs of types numpy lacks (bfloat16, float8, int4...) go as OrtValues.
        self._special_inputs = {
            v.name: v.dtype for v in source.inputs if v.dtype and tensors.needs_ortvalue(v.dtype)
        }
        self._special_outputs = any(tensors.needs_ortvalue(v.dtype) for v in source.outputs)
        # The user's feeds: one context, reused (by proxy: no cycle keeps the session alive).
        self._explained = _Explaining(weakref.proxy(self), None)

    @classmethod
    def open(cls, source: SessionSource, config: SessionConfig) -> Session:
        """Create an onnxruntime session, refusing a provider that would not really be used.

        A profiling session writes its profile to a private folder, removed at `close()`.
        """
        requested = config.provider
        status = providers.probe(requested)
        chosen, fallback = requested, ""
        if not status.usable:
            if not config.allow_fallback:
                raise _fallback_error(requested, [providers.CPU], status.reason, status.hint)
            fallback = f"Ran on {providers.CPU} instead of {requested}: {status.reason}"
            chosen = providers.CPU
        provider_list: list[Any] = [chosen]
        if chosen != providers.CPU:
            provider_list = [(chosen, dict(config.provider_options)), providers.CPU]
        folder = (
            tempfile.TemporaryDirectory(prefix="onnx-workbench-profile-")
            if config.enable_profiling
            else None
        )
        prefix = str(Path(folder.name) / "profile") if folder is not None else None
        try:
            start = time.perf_counter()
            opened = open_ort_session(source, config.session_options(prefix), provider_list)
            if opened.session is None:
                raise _creation_error(source, chosen, opened.error, opened.log)
            create_seconds = time.perf_counter() - start
            applied = list(opened.session.get_providers())
            if chosen not in applied:
                reason, hint = providers.explain_failure(chosen, opened.log)
                if not config.allow_fallback:
                    raise _fallback_error(chosen, applied, reason, hint)
                fallback = f"Ran on {applied[0]} instead of {chosen}: {reason}"
        except BaseException:
            if folder is not None:
                folder.cleanup()  # no session: nothing will profile into it
            raise
        session = cls(source, config, opened.session, fallback=fallback)
        session.create_seconds = create_seconds
        session._profile_folder = folder
        return session

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
    def closed(self) -> bool:
        """True once `close()` released the onnxruntime session."""
        return self._ort is None

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
        feeds: Mapping[str, Any] | None = None,
        outputs: Sequence[str] | str | None = None,
        *,
        values: Mapping[str, Any] | None = None,
        dims: Mapping[str, int] | None = None,
        shapes: Mapping[str, Sequence[int]] | None = None,
        batch: int | None = None,
        seed: int = 0,
        ranges: Mapping[str, Range] | None = None,
        allow_nonfinite: bool = False,
        io_binding: bool = False,
    ) -> RunResult:
        """Run once: validate the feeds given, synthesize the rest, run, name the outputs.

        `feeds` may hold any subset of the inputs; `values` sets an input to a value (a
        scalar fills its shape); the others are synthesized (see `prepare_feeds`).
        `io_binding=True` copies inputs to the provider's device first and times only the
        device-resident run.
        """
        prepared = self.prepare_feeds(
            feeds,
            values=values,
            dims=dims,
            shapes=shapes,
            batch=batch,
            seed=seed,
            ranges=ranges,
            allow_nonfinite=allow_nonfinite,
        )
        ready, plan = prepared.values, prepared.plan
        names = self.source.select_outputs(outputs)
        with self.explaining(plan):
            if io_binding:
                binding = self.bind(ready, names)
                start = time.perf_counter()
                binding.run()
                seconds = time.perf_counter() - start
                results = binding.outputs()
            else:
                start = time.perf_counter()
                results = self._call(ready, names)
                seconds = time.perf_counter() - start
        return RunResult(
            outputs=dict(zip(names, results, strict=True)),
            provider=self.provider,
            applied_providers=self.applied_providers,
            fallback=self.fallback,
            seconds=seconds,
            feeds=ready,
            plan=plan,
        )

    def prepare_feeds(
        self,
        feeds: Mapping[str, Any] | None = None,
        *,
        values: Mapping[str, Any] | None = None,
        dims: Mapping[str, int] | None = None,
        shapes: Mapping[str, Sequence[int]] | None = None,
        batch: int | None = None,
        seed: int = 0,
        ranges: Mapping[str, Range] | None = None,
        allow_nonfinite: bool = False,
    ) -> Feeds:
        """Feeds ready to run: the user's validated, the rest synthesized from the signature.

        What sets a free dim, first to last: a given feed's size for its symbol (or a value
        given whole), the input's `shapes`, `dims` for the symbol, `batch`, a size the model
        suggests (its metadata or its fixed output dims), the fallback (batch 1, else 64).
        `values` sets inputs to values: a scalar fills the input's shape, an array of the
        input's rank is a feed. `ranges` bounds synthetic values, and refuses values outside.
        """
        checker = self.source.checker
        said_more = values or dims or shapes or ranges or batch is not None
        if feeds is not None and not said_more:
            checked = checker.check(feeds, allow_nonfinite=allow_nonfinite)
            if not checker.missing(checked):
                return Feeds(checked)  # every input given and nothing else said: a run loop's path
        request = FeedRequest(feeds, values, ranges).checked(
            checker, allow_nonfinite=allow_nonfinite
        )
        return synthesize(
            self.source.inputs,
            dims=dims,
            shapes=shapes,
            batch=batch,
            seed=seed,
            ranges=request.ranges,
            given=request.feeds,
            hints=self.source.hints.found,
            fills=request.values,
        )

    def runner(self, feeds: Feeds) -> Callable[[], object]:
        """A zero-argument callable doing exactly one run: what a timing loop calls.

        The feeds come ready from `prepare_feeds()`; each call does nothing but onnxruntime's run.
        """
        values = feeds.values
        if self._special_inputs or self._special_outputs:
            return functools.partial(self._call, values, self.source.output_names)
        return functools.partial(self.ort_session.run, None, values, self._run_options)

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
        inputs = {
            name: self._on_device(name, value) for name, value in feeds.items()
        }  # kept alive as long as the binding
        return Binding(
            self.ort_session,
            self._run_options,
            device=self.device,
            inputs=inputs,
            outputs=list(outputs) if outputs else self.source.output_names,
            preallocate=preallocate or {},
        )

    def explaining(self, plan: FeedPlan | None = None) -> _Explaining:
        """A context in which onnxruntime's failures become a RunError naming the node.

        `plan` (for synthetic feeds) lets the message name the dims that were guessed.
        WorkbenchErrors and Ctrl-C pass through unchanged.
        """
        return self._explained if plan is None else _Explaining(self, plan)

    def failure(self, exc: BaseException, plan: FeedPlan | None = None) -> RunError:
        """A RunError naming the failing node and, for synthetic feeds, the guessed dims."""
        provider = self.applied_providers[0] if self._ort is not None else self.provider
        return run_failure(self.source.name, provider, exc, plan)

    def placement(self) -> list[NodePlacement]:
        """Provider of every node of the graph onnxruntime runs, after its fusions.

        Read from one profiled run on synthetic feeds (which provider runs a node does not
        depend on them). Where that run fails, onnxruntime's own assignment record stands
        in (onnxruntime >= 1.31): it names the nodes as they were before fusion.
        """
        getter = getattr(self.ort_session, "get_provider_graph_assignment_info", None)
        try:
            with Session.open(self.source, replace(self.config, enable_profiling=True)) as twin:
                twin.run()
                return placements(twin.profile_events(), self.provider)
        except WorkbenchError:
            if getter is None:
                raise
        return [
            NodePlacement(node.name, op_key(node.domain, node.op_type), subgraph.ep_name)
            for subgraph in getter()
            for node in subgraph.get_nodes()
        ]

    def end_profiling(self) -> str:
        """Stop profiling (a session opened with `enable_profiling`); the profile JSON's path.

        The file lives in the session's private folder until `close()`.
        """
        if self._profile_folder is None:
            raise WorkbenchError(
                "This session does not profile.",
                "Open one with profiling on: SessionConfig.make(..., enable_profiling=True).",
            )
        return str(self.ort_session.end_profiling())

    def profile_events(self) -> list[dict[str, Any]]:
        """Stop profiling and read onnxruntime's profile: one dict per event."""
        events: list[dict[str, Any]] = json.loads(Path(self.end_profiling()).read_text())
        return events

    def close(self) -> None:
        """Release the session and the memory it holds (GPU memory included).

        The model's cache notices: its next `session()` call with these options makes anew.
        """
        self._ort = None
        if self._profile_folder is not None:
            self._profile_folder.cleanup()
            self._profile_folder = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"on {', '.join(self.applied_providers)}"
        return f"<Session of {self.source.name!r} {state}>"

    def _call(self, feeds: Mapping[str, Any], names: list[str]) -> list[Any]:
        """One run with validated feeds, types numpy lacks converted on the way in and out."""
        session = self.ort_session
        if self._special_outputs:
            return self._run_with_ortvalues(feeds, names)
        if self._special_inputs:
            feeds = self._with_special_inputs(feeds)
        results: list[Any] = session.run(names, feeds, self._run_options)
        return results

    def _with_special_inputs(self, feeds: Mapping[str, Any]) -> dict[str, Any]:
        special = self._special_inputs
        return {
            name: tensors.to_ortvalue(value, special[name])
            if name in special and not tensors.is_ortvalue(value)
            else value
            for name, value in feeds.items()
        }

    def _run_with_ortvalues(self, feeds: Mapping[str, Any], names: list[str]) -> list[Any]:
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
        results = self.ort_session.run_with_ort_values(names, values, self._run_options)
        return [tensors.from_ortvalue(r) for r in results]

    def _on_device(self, name: str, value: Any) -> Any:
        """An OrtValue holding one feed on this session's device."""
        if tensors.is_ortvalue(value):
            return value
        if name in self._special_inputs:
            return tensors.to_ortvalue(value, self._special_inputs[name], self.device)
        return runtime.ort().OrtValue.ortvalue_from_numpy(
            np.ascontiguousarray(value), self.device, 0
        )


class _Explaining:
    """The context `Session.explaining()` returns (a class: cheaper than a generator)."""

    __slots__ = ("plan", "session")

    def __init__(self, session: Session, plan: FeedPlan | None) -> None:
        self.session = session
        self.plan = plan

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None or isinstance(exc, WorkbenchError) or not isinstance(exc, Exception):
            return  # nothing raised, already explained, or Ctrl-C: let it through
        raise self.session.failure(exc, self.plan) from None


class Binding:
    """Inputs resident on a session's device, outputs allocated there: `run()` copies nothing.

    The device-resident path of `Session.run(io_binding=True)` and of device-mode benchmarks.
    """

    def __init__(
        self,
        ort_session: Any,
        run_options: Any,
        *,
        device: str,
        inputs: Mapping[str, Any],
        outputs: list[str],
        preallocate: Mapping[str, Any],
    ) -> None:
        rt = runtime.ort()
        self.device = device
        self.output_names = outputs
        self._session = ort_session
        self._run_options = run_options
        self._binding = ort_session.io_binding()
        self._inputs = dict(inputs)  # keeps the device copies alive as long as the binding
        for name, value in self._inputs.items():
            self._binding.bind_ortvalue_input(name, value)
        self._outputs = {}
        for name in outputs:
            example = preallocate.get(name)
            if example is None:
                self._binding.bind_output(name, device)
                continue
            example = np.asarray(example)
            buffer = rt.OrtValue.ortvalue_from_shape_and_type(
                list(example.shape), tensors.onnx_code_for(example.dtype), device, 0
            )
            self._outputs[name] = buffer
            self._binding.bind_ortvalue_output(name, buffer)

    def run(self) -> None:
        """Run once; outputs stay on the device.

        No synchronize_inputs/outputs calls: the inputs were copied (synchronously) when
        bound, and onnxruntime synchronizes its providers' streams at the end of each run.
        """
        self._session.run_with_iobinding(self._binding, self._run_options)

    def outputs(self) -> list[Any]:
        """Copy the last run's outputs to host memory."""
        return [_to_host(v) for v in self._binding.get_outputs()]


class SessionCache:
    """A model's sessions, one per configuration; the least recent is closed past a bound.

    A closed session is never handed out again: the next request makes a new one. Safe to
    use from several threads (the explorer benchmarks in one while its Run tab runs).
    """

    def __init__(self, size: int = MAX_CACHED_SESSIONS) -> None:
        self._size = size
        self._sessions: OrderedDict[SessionConfig, Session] = OrderedDict()
        self._by_call: dict[Hashable, Session] = {}  # session() arguments -> session
        self._lock = threading.Lock()

    def get(
        self,
        provider: str,
        options: Mapping[str, Any],
        open_session: Callable[[SessionConfig], Session],
    ) -> Session:
        """The open session for `provider` and `options` (see `SessionConfig.make`).

        `open_session` makes a missing one; it is passed, not kept, so the cache holds no
        reference back to its owner.
        """
        with self._lock:
            try:  # the fast path for repeated calls: no option parsing, no config hashing
                key: Hashable | None = (
                    (provider, tuple(sorted(options.items()))) if options else provider
                )
                recent = self._by_call.get(key)
            except TypeError:  # unhashable options (a provider_options dict)
                key, recent = None, None
            if recent is not None and not recent.closed:
                self._sessions.move_to_end(recent.config)  # the least recent goes first
                return recent
            config = SessionConfig.make(provider, **options)
            session = self._sessions.get(config)
            if session is None or session.closed:
                session = open_session(config)
                self._sessions[config] = session
            self._sessions.move_to_end(config)
            self._evict()
            if key is not None:
                self._by_call[key] = session
            return session

    def close(self) -> None:
        """Close every session, releasing the memory (GPU memory too) they hold."""
        with self._lock:
            for session in self._sessions.values():
                session.close()
            self._sessions.clear()
            self._by_call.clear()

    def __len__(self) -> int:
        return sum(1 for s in list(self._sessions.values()) if not s.closed)

    def _evict(self) -> None:
        for config in [c for c, s in self._sessions.items() if s.closed]:
            del self._sessions[config]
        while len(self._sessions) > self._size:
            _, oldest = self._sessions.popitem(last=False)
            oldest.close()
        live = set(map(id, self._sessions.values()))
        self._by_call = {k: s for k, s in self._by_call.items() if id(s) in live}


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
    where = f"in {describe_node(match.group(2), match.group(1))} of" if match else "while running"
    detail = runtime.error_message(RuntimeError(match.group(3))) if match else text
    message = f"onnxruntime failed {where} {model!r} on {provider}: {detail.strip()}"
    if not message.endswith((".", "!", "?")):
        message += "."  # onnxruntime's messages often end mid-sentence; ours follow
    guesses = plan.guesses if plan is not None else ()
    if guesses:
        listing = "; ".join(c.describe() for c in guesses[:8])
        message += f" The feeds were synthetic, with these dims guessed: {listing}."
        symbols = sorted({c.symbol for c in guesses if c.symbol})
        shapes = f"shapes={{{guesses[0].input!r}: [...]}} (--shapes {guesses[0].input}=AxB)"
        hint = (
            (
                "Set the guessed dims with dims={"
                + ", ".join(f"{s!r}: ..." for s in symbols[:3])
                + "} (--dims "
                + ",".join(f"{s}=N" for s in symbols[:3])
                + f"), or give whole shapes with {shapes}."
                if symbols
                else f"Give whole shapes with {shapes}."
            )
            + " Or pass the inputs that matter: feeds= or values= (--inputs FILE, "
            "--value NAME=VALUE)."
        )
    elif plan is not None and "shape" in detail.lower():
        hint = (
            "The model may run only at the sizes it was exported with (a Reshape or Expand "
            "that kept the export's sizes). Try the sizes of its example inputs, or export it "
            "again with dynamic axes."
        )
    elif plan is not None and plan.given:
        given = ", ".join(repr(name) for name in sorted(plan.given))
        hint = (
            f"A value may be out of range for this model: check the inputs you gave ({given}), "
            "and bound the synthetic ones with ranges={'input': (low, high)} (--range "
            "input=LOW:HIGH)."
        )
    elif plan is not None:
        hint = (
            "The synthetic values may be out of range for this model. Bound them with "
            "ranges={'input': (low, high)} (--range input=LOW:HIGH), or pass the inputs that "
            "matter: feeds= or values= (--inputs FILE, --value NAME=VALUE)."
        )
    else:
        hint = "Check the feeds' shapes and values against model.inputs."
    return RunError(message, hint)


@dataclass(frozen=True)
class OpenedSession:
    """An onnxruntime session, or onnxruntime's error; and what it logged meanwhile."""

    session: Any | None
    error: str
    log: str


def open_ort_session(
    source: SessionSource, options: Any, provider_list: list[Any]
) -> OpenedSession:
    """An onnxruntime session on `source`, with silent provider fallback off.

    onnxruntime reads the model's file, else its bytes with the external-data folder set.
    Its console output is captured into the result's log.
    """
    if source.external_folder is not None:
        options.add_session_config_entry(_EXTERNAL_FOLDER_CONFIG, source.external_folder)
    rt = runtime.ort()
    with capture.captured_output() as captured:
        try:
            session = rt.InferenceSession(
                source.location, options, providers=provider_list, enable_fallback=0
            )
        except Exception as exc:  # onnxruntime raises several types, UnicodeDecodeError too
            error = runtime.error_message(exc)
        else:
            error = ""
    return OpenedSession(session if not error else None, error, captured.text)


def save_optimized(
    source: SessionSource,
    config: SessionConfig,
    path: Path,
    *,
    weights: str | None = None,
    min_external_bytes: int = 1024,
) -> str:
    """Write the graph onnxruntime runs with `config` to `path`; "" or why it could not.

    `weights` (a file name beside `path`) takes every initializer over
    `min_external_bytes`: the graph file stays small (the viewer needs no weights), or a
    model over protobuf's 2 GB limit can be saved.
    """
    status = providers.probe(config.provider)
    if not status.usable:  # onnxruntime would optimize for the CPU and say nothing
        raise _fallback_error(config.provider, [providers.CPU], status.reason, status.hint)
    options = replace(config, enable_profiling=False).session_options()
    options.optimized_model_filepath = str(path)
    if weights is not None:
        options.add_session_config_entry(_EXTERNAL_FILE_CONFIG, weights)
        options.add_session_config_entry(_EXTERNAL_MIN_BYTES_CONFIG, str(min_external_bytes))
    chosen: list[Any] = [config.provider]
    if config.provider != providers.CPU:
        chosen = [(config.provider, dict(config.provider_options)), providers.CPU]
    return open_ort_session(source, options, chosen).error


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


def _creation_error(source: SessionSource, provider: str, message: str, log: str) -> SessionError:
    detail = f" (onnxruntime also logged: {log.splitlines()[0]})" if log else ""
    return SessionError(
        f"onnxruntime could not create a session for {source.label} on {provider}: "
        f"{message}{detail}",
        _creation_hint(message, provider),
        runtime_message=message,
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
