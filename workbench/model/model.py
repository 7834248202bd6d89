"""`load()` and `Model`: one parsed model, inspected without reading its external weights."""

from __future__ import annotations

import difflib
import functools
import hashlib
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import (
    CheckerWarning,
    CompatibilityWarning,
    CorruptModelError,
    ExternalDataError,
    ExternalDataWarning,
    IncompatibleModelError,
    InvalidModelError,
    ModelNotFoundError,
    SessionError,
    WorkbenchError,
)
from workbench.feeds.checker import FeedChecker, Range
from workbench.feeds.hints import DimHints
from workbench.model import blocks, external_data, extract, names, walk
from workbench.model.blocks import Block
from workbench.model.compat import Compatibility
from workbench.model.compat import check as check_compatibility
from workbench.model.parsing import parse_model
from workbench.model.signature import ValueInfo, value_info
from workbench.ort import providers, runtime
from workbench.ort.options import SessionConfig
from workbench.ort.session import Session, SessionCache, SessionSource, open_ort_session
from workbench.render.files import atomic_write
from workbench.render.mixin import Rendered
from workbench.render.templates import render
from workbench.run.result import RunResult
from workbench.text import decoded, first_line, human_bytes, parameters_text, plural, shortened

if TYPE_CHECKING:
    import onnx

    from workbench.graphview.view import GraphFile, GraphView
    from workbench.model import ModelLike
    from workbench.model.external_data import ExternalData

TOP_OPS = 15  # op types listed by name in the model card; the rest are summed
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class Metadata:
    """What the model file says about itself. Every string is untrusted model content."""

    producer_name: str
    producer_version: str
    domain: str
    model_version: int
    doc_string: str
    graph_name: str
    graph_doc_string: str
    metadata_props: dict[str, str]
    ir_version: int
    opset_imports: dict[str, int]  # "ai.onnx" stands for the default domain ""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of `Model.check()`: onnx.checker's verdict, and onnxruntime's if asked."""

    checker_ok: bool
    checker_message: str
    runtime_accepts: bool | None  # None when the checker passed and the runtime was not asked

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


class Model(Rendered):
    """A loaded ONNX model: metadata, signature, op statistics and runtime compatibility.

    Build one with `workbench.load()`. The model is parsed once; external-data weights stay
    on disk. `sha256` and `check()` read or validate the whole model, so they run on demand.
    It owns its sessions (`model.sessions`): `close()` releases them all.
    """

    template = "model"
    title = "ONNX model"

    def __init__(
        self,
        proto: onnx.ModelProto,
        *,
        path: Path | None = None,
        base_dir: Path | None = None,
        size_bytes: int | None = None,
        data: bytes | None = None,
    ) -> None:
        self.proto = proto
        self.path = path
        self.size_bytes = size_bytes
        self._original: Model | None = None  # what a named copy was made from (label, name)
        self._named: Model | None = None
        self._blocks: list[Block] | None = None
        try:
            self._stats = walk.collect(proto)
        except CorruptModelError as error:
            raise CorruptModelError(f"{self.label}: {error.message}", error.hint) from None
        self.external_data: ExternalData = external_data.resolve(
            self._stats.external_tensors, base_dir
        )
        self.metadata = _metadata(proto)
        initializer_names = {t.name for t in proto.graph.initializer}
        # Inputs backed by an initializer are overridable constants, not inputs to feed
        # (onnxruntime's get_inputs() leaves them out too).
        self.inputs: tuple[ValueInfo, ...] = tuple(
            value_info(v) for v in proto.graph.input if v.name not in initializer_names
        )
        self.overridable_initializers: tuple[str, ...] = tuple(
            v.name for v in proto.graph.input if v.name in initializer_names
        )
        self.outputs: tuple[ValueInfo, ...] = tuple(value_info(v) for v in proto.graph.output)
        self._serialized: bytes | None = data
        self.sessions = SessionCache()

    @property
    def name(self) -> str:
        """The file's stem, or the graph's name for a model loaded from memory."""
        if self.path is not None:
            return self.path.stem
        if self._original is not None:
            return self._original.name
        return self.metadata.graph_name or "model"

    @property
    def ops(self) -> dict[str, int]:
        """Op histogram, most used first, counting nodes inside subgraphs (If/Loop/Scan)."""
        return dict(self._stats.ops.most_common())

    @property
    def node_count(self) -> int:
        """Nodes in the main graph and every subgraph."""
        return self._stats.node_count

    @property
    def subgraph_count(self) -> int:
        """Nested graphs held by control-flow nodes."""
        return self._stats.subgraph_count

    @property
    def initializer_count(self) -> int:
        """Initializers (dense and sparse) in all graphs."""
        return self._stats.initializer_count

    @property
    def parameter_count(self) -> int:
        """Elements of every weight in the graph and its subgraphs.

        Initializers, `Constant` nodes and the float attributes of ONNX-ML nodes (where a
        scikit-learn model keeps its coefficients); not those in model-local functions.
        """
        stats = self._stats
        return stats.initializer_parameters + stats.constant_parameters + stats.ml_parameters

    @property
    def initializer_bytes(self) -> int:
        """Bytes the initializers occupy once loaded (external data included)."""
        return self._stats.initializer_bytes

    @property
    def parameters(self) -> dict[str, dict[str, int]]:
        """Where the weights are, each with a count, its elements and its bytes.

        Initializers (external data among them), Constant nodes, ONNX-ML nodes' attributes.
        """
        stats = self._stats
        return {
            "initializers": {
                "count": stats.initializer_count,
                "parameters": stats.initializer_parameters,
                "bytes": stats.initializer_bytes,
                "external_bytes": self.external_data.total_bytes,
            },
            "constants": {
                "count": stats.constant_count,
                "parameters": stats.constant_parameters,
                "bytes": stats.constant_bytes,
            },
            "ml_attributes": {
                "count": stats.ml_node_count,
                "parameters": stats.ml_parameters,
                "bytes": stats.ml_bytes,
            },
        }

    @functools.cached_property
    def sha256(self) -> str:
        """SHA-256 of the model file (or serialized bytes); external data is not included."""
        digest = hashlib.sha256()
        if self.path is not None:
            with self.path.open("rb") as stream:
                while chunk := stream.read(_HASH_CHUNK):
                    digest.update(chunk)
        else:
            digest.update(self.serialized())
        return digest.hexdigest()

    @functools.cached_property
    def compatibility(self) -> Compatibility:
        """The model's IR version and opsets against the installed onnxruntime."""
        return check_compatibility(
            self.metadata.ir_version,
            self.metadata.opset_imports,
            self._stats.min_ir_version,
            runtime.limits(),
        )

    @property
    def problems(self) -> tuple[WorkbenchError, ...]:
        """What would stop a session from being created: incompatibility, missing weights."""
        found = (self.compatibility.error, self.external_data.problem)
        return tuple(p for p in found if p is not None)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Plain-sentence warnings (the messages of `problems`)."""
        return tuple(p.message for p in self.problems)

    def ensure_runnable(self) -> None:
        """Raise the first of `problems`; called before any session is created."""
        if self.problems:
            raise self.problems[0]

    def check(self) -> CheckResult:
        """Run onnx.checker; where it complains, ask onnxruntime whether it runs the model.

        A model the checker rejects but onnxruntime accepts gets a `CheckerWarning` and a
        result; one that both reject raises `InvalidModelError`.
        """
        message = self.checker_message()
        if not message:
            return CheckResult(checker_ok=True, checker_message="", runtime_accepts=None)
        self.ensure_runnable()
        refusal = self._runtime_refusal()
        if refusal:
            raise InvalidModelError.both_refuse(self.label, message, refusal)
        warnings.warn(
            f"onnx.checker complains about {self.label} ({message}), but onnxruntime runs it.",
            CheckerWarning,
            stacklevel=2,
        )
        return CheckResult(checker_ok=False, checker_message=message, runtime_accepts=True)

    @property
    def label(self) -> str:
        """How messages name this model: its path, or a placeholder for in-memory models."""
        if self._original is not None:
            return self._original.label
        return repr(str(self.path)) if self.path is not None else "the in-memory model"

    def checker_message(self) -> str:
        """onnx.checker's complaint about the model, or "" when it passes."""
        import onnx.checker  # noqa: PLC0415  (heavy: loads on first use)

        try:
            # By path, the checker handles models over 2 GiB and checks external-data files.
            onnx.checker.check_model(str(self.path) if self.path else self.proto)
        except Exception as exc:
            return first_line(str(exc)) or type(exc).__name__
        return ""

    def _runtime_refusal(self) -> str:
        options = SessionConfig.make("cpu", opt_level="disabled").session_options()
        options.log_severity_level = 4  # the refusal is the answer, not something to log
        return open_ort_session(self.session_source, options, [providers.CPU]).error

    def serialized(self) -> bytes:
        """The model's protobuf bytes (external data stays external); serialized once."""
        if self._serialized is None:
            self._serialized = self.proto.SerializeToString()
        return self._serialized

    @functools.cached_property
    def session_source(self) -> SessionSource:
        """What a session needs of this model: the file (else its bytes) and the signature."""
        folder = self.external_data.base_dir
        location: str | bytes = str(self.path) if self.path is not None else self.serialized()
        external = (
            str(folder) if self.path is None and self.external_data.files and folder else None
        )
        return SessionSource(
            name=self.name,
            label=self.label,
            location=location,
            external_folder=external,
            inputs=self.inputs,
            outputs=self.outputs,
            checker=FeedChecker(self.inputs, self.overridable_initializers),
            hints=DimHints(self.proto, self.metadata.metadata_props, self.inputs),
        )

    @property
    def output_names(self) -> list[str]:
        """Names of the model's outputs, in order."""
        return self.session_source.output_names

    @property
    def feed_checker(self) -> FeedChecker:
        """Deprecated: `model.session_source.checker` (sessions validate feeds themselves)."""
        _renamed("Model.feed_checker", "Model.session_source.checker")
        return self.session_source.checker

    def check_output_names(self, names: Sequence[str]) -> None:
        """Deprecated: `model.session_source.select_outputs(names)`."""
        _renamed("Model.check_output_names()", "Model.session_source.select_outputs()")
        self.session_source.select_outputs(names)

    def ort_source(self) -> tuple[str | bytes, str | None]:
        """Deprecated: `model.session_source` (location, external_folder)."""
        _renamed("Model.ort_source()", "Model.session_source")
        source = self.session_source
        return source.location, source.external_folder

    def session(self, provider: str = "cpu", **options: Any) -> Session:
        """A session on `provider`, cached per configuration (the oldest closed past a bound).

        Options: provider_options, opt_level, intra_op_threads, inter_op_threads,
        execution_mode, allow_fallback, use_tf32 (see `SessionConfig.make`).
        """
        return self.sessions.get(provider, options, self.open_session)

    def open_session(self, config: SessionConfig) -> Session:
        """A new session (not cached); a model both onnx.checker and onnxruntime refuse says so."""
        self.ensure_runnable()
        try:
            return Session.open(self.session_source, config)
        except SessionError as error:
            checker = self.checker_message()
            if checker:
                raise InvalidModelError.both_refuse(
                    self.label, checker, error.runtime_message
                ) from None
            raise

    def run(
        self,
        feeds: Mapping[str, Any] | None = None,
        provider: str = "cpu",
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
        **session_options: Any,
    ) -> RunResult:
        """Run once and return named outputs, the providers applied and the wall time.

        Give the inputs that matter (`feeds`, any subset, validated; `values`, e.g.
        `{"sr": 16000}`): the others are synthesized from the signature, with dims from what
        you gave, then `shapes`, `dims`, `batch`, sizes the model suggests, and defaults
        (see `Session.prepare_feeds`); `ranges` and `seed` shape their values.
        `io_binding=True` copies inputs to the provider's device first and times only the
        device-resident run (outputs are copied back afterwards).
        """
        return self.session(provider, **session_options).run(
            feeds,
            outputs,
            values=values,
            dims=dims,
            shapes=shapes,
            batch=batch,
            seed=seed,
            ranges=ranges,
            allow_nonfinite=allow_nonfinite,
            io_binding=io_binding,
        )

    def show_graph(
        self,
        height: int = 600,
        *,
        optimized: bool | str = False,
        provider: str = "cpu",
        opt_level: str = "all",
        server: str | None = None,
        token: str | None = None,
    ) -> GraphView:
        """The graph in Netron, embedded in the notebook (see `workbench.show_graph`).

        Overlays (a profile, the placement, a comparison drawn on the graph) need
        `workbench.show_graph(model, overlay=...)`, which measures what they draw.
        """
        from workbench.graphview.view import graph_files, show  # noqa: PLC0415  (loads when shown)

        def graphs() -> tuple[list[GraphFile], None]:
            files = graph_files(self, optimized=optimized, provider=provider, opt_level=opt_level)
            return files, None

        return show(self, graphs, height=height, optimized=optimized, server=server, token=token)

    def close(self) -> None:
        """Release every cached session, and the memory (GPU memory too) they hold."""
        self.sessions.close()
        if self._named is not None and self._named is not self:
            self._named.close()

    def __enter__(self) -> Model:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def with_ir_version(self, ir_version: int) -> Model:
        """A copy stamped with another IR version (the fix for IR numbers bumped by a writer)."""
        import onnx  # noqa: PLC0415  (heavy: loads on first use)

        proto = onnx.ModelProto()
        proto.CopyFrom(self.proto)
        proto.ir_version = ir_version
        return Model(proto, base_dir=self.external_data.base_dir)

    def named(self) -> Model:
        """The model with every node uniquely named: itself, or a private copy.

        Profiles, optimized graphs, placements and overlays use it, so they all name the
        same nodes (model/names.py says how unnamed nodes are named). The file is never
        changed; the copy keeps the original's external-data folder, name and label.
        """
        if self._named is None:
            if not names.needs_names(self.proto):
                self._named = self
            else:
                import onnx  # noqa: PLC0415  (heavy: loads on first use)

                proto = onnx.ModelProto()
                proto.CopyFrom(self.proto)
                names.name_nodes(proto)
                self._named = Model(proto, base_dir=self.external_data.base_dir)
                self._named._original = self
        return self._named

    def blocks(self) -> list[Block]:
        """The repeated blocks (the layers of an encoder), found by structure, in order.

        Each has its `index`, its `nodes` (names as `named()` gives them) and the name
        prefix they share as its `label`; [] when nothing repeats. `subgraph(block=i)`
        cuts one out.
        """
        if self._blocks is None:
            given = [blocks.node_path(node) for node in self.proto.graph.node]
            self._blocks = blocks.find_blocks(self.named().proto.graph, given)
        return list(self._blocks)

    def subgraph(
        self,
        *,
        around: str | None = None,
        depth: int = 1,
        between: tuple[str, str] | None = None,
        nodes: list[str] | None = None,
        block: int | None = None,
    ) -> Model:
        """Part of the model as a model of its own, to inspect, run and benchmark.

        Around a node (`depth` hops along its tensors), between two tensors, a list of
        nodes (names as `named()` gives them), or one of `blocks()`. Its boundary tensors
        become its inputs and outputs; external weights stay where they are; onnx's checker
        passes it, or an error says why not.
        """
        if block is not None:
            if nodes is not None:
                raise WorkbenchError("Pass block= or nodes=, not both.", "E.g. subgraph(block=3).")
            nodes = list(self._block(block).nodes)
        proto = extract.subgraph(
            self.named().proto, around=around, depth=depth, between=between, nodes=nodes
        )
        return Model(proto, base_dir=self.external_data.base_dir)

    def _block(self, index: int) -> Block:
        found = self.blocks()
        if not found:
            raise WorkbenchError(
                f"{self.label} has no repeated blocks: no run of nodes repeats back to back.",
                "Cut a part with subgraph(around=NODE, depth=N) or between=(A, B) instead.",
            )
        if not -len(found) <= index < len(found):
            raise WorkbenchError(
                f"Block {index} is out of range: {self.label} has {len(found)} blocks "
                f"(0 to {len(found) - 1}).",
                "model.blocks() lists them.",
            )
        return found[index]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model atomically to `path`; external-data references stay as they are."""
        target = Path(path).expanduser()
        folder = self.external_data.base_dir
        if self.external_data.files and (
            folder is None or target.parent.resolve() != folder.resolve()
        ):
            raise ExternalDataError(
                f"The model keeps its weights in {len(self.external_data.files)} external-data "
                f"file(s) next to it; saving it to {str(target.parent)!r} would leave them behind.",
                f"Save it in the model's own folder ({folder}), or copy the weight files "
                "along with it.",
            )
        atomic_write(target, self.proto.SerializeToString(), what="the model")
        return target

    def as_dict(self) -> dict[str, Any]:
        """Everything inspection knows, JSON-ready (what `onnx-workbench info --json` prints)."""
        meta = self.metadata
        return {
            "path": str(self.path) if self.path else None,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "ir_version": meta.ir_version,
            "opset_imports": dict(meta.opset_imports),
            "producer_name": meta.producer_name,
            "producer_version": meta.producer_version,
            "domain": meta.domain,
            "model_version": meta.model_version,
            "doc_string": meta.doc_string,
            "graph_name": meta.graph_name,
            "metadata_props": dict(meta.metadata_props),
            "inputs": [v.as_dict() for v in self.inputs],
            "outputs": [v.as_dict() for v in self.outputs],
            "ops": self.ops,
            "node_count": self.node_count,
            "subgraph_count": self.subgraph_count,
            "initializer_count": self.initializer_count,
            "parameter_count": self.parameter_count,
            "initializer_bytes": self.initializer_bytes,
            "parameters": self.parameters,
            "external_data": self.external_data.as_dict(),
            "compatibility": self.compatibility.as_dict(),
            "warnings": list(self.warnings),
        }

    def __repr__(self) -> str:
        meta = self.metadata
        return (
            f"<Model {self.name!r}: IR {meta.ir_version}, {plural(len(self.inputs), 'input')}, "
            f"{plural(len(self.outputs), 'output')}, {plural(self.node_count, 'node')}, "
            f"{plural(self.parameter_count, 'parameter')}>"
        )

    def summary(self) -> dict[str, Any]:
        """Deprecated: use `as_dict()`, as every other result does."""
        _renamed("Model.summary()", "Model.as_dict()")
        return self.as_dict()

    def text(self, *, full: bool = False) -> str:
        """The model as text; long metadata values and doc strings are shortened unless `full`.

        An OCR model's 18,000-line character list would otherwise flood a terminal.
        """
        return render("model.txt.j2", **self.render_context(), full=full).rstrip("\n")

    def render_context(self) -> dict[str, Any]:
        """The facts the card and the text summary show, in display order."""
        meta = self.metadata
        ext = self.external_data
        facts = [
            ("Path", str(self.path) if self.path else "(in memory)"),
            ("Producer", f"{meta.producer_name} {meta.producer_version}".strip()),
            ("Domain", meta.domain),
            ("Model version", str(meta.model_version) if meta.model_version else ""),
            ("Graph", meta.graph_name),
            ("IR version", str(meta.ir_version)),
            ("Opsets", ", ".join(f"{d} {v}" for d, v in meta.opset_imports.items())),
            ("File size", human_bytes(self.size_bytes) if self.size_bytes is not None else ""),
            (
                "Nodes",
                f"{self.node_count:,}"
                + (f" ({self.subgraph_count} subgraphs)" if self.subgraph_count else ""),
            ),
            ("Parameters", parameters_text(self.parameters)),
        ]
        if ext.files:
            facts.append(
                ("External data", f"{len(ext.files)} file(s), {human_bytes(ext.total_bytes)}")
            )
        ops = self.ops
        top = list(ops.items())[:TOP_OPS]
        graph_doc = meta.graph_doc_string if meta.graph_doc_string != meta.doc_string else ""
        return {
            "title": self.name,
            "facts": [(k, v) for k, v in facts if v],
            "doc_string": meta.doc_string,
            "graph_doc_string": graph_doc,
            "metadata_props": meta.metadata_props,
            "inputs": [_io_row(v) for v in self.inputs],
            "outputs": [_io_row(v) for v in self.outputs],
            "top_ops": top,
            "other_ops": (len(ops) - len(top), sum(ops.values()) - sum(c for _, c in top)),
            "max_op": max(ops.values(), default=1),
            "node_total": sum(ops.values()),
            "op_types": len(ops),
            "warnings": [f"{p.message} {p.hint}" for p in self.problems],
            "runtime": self.compatibility.runtime,
            **_shortened_texts(meta.doc_string, graph_doc, meta.metadata_props),
        }

    def graph_text(self, limit: int = 40) -> str:
        """The graph as text: inputs, outputs, and the first `limit` nodes in order."""
        graph = self.proto.graph
        nodes = [
            {
                "op": walk.op_key(node.domain, node.op_type),
                "name": decoded(node.name),
                "inputs": ", ".join(map(decoded, node.input)),
                "outputs": ", ".join(map(decoded, node.output)),
            }
            for node in list(graph.node)[:limit]
        ]
        more = len(graph.node) - len(nodes)
        return render("graph.txt.j2", model=self, nodes=nodes, more=more).rstrip("\n")


def _renamed(old: str, new: str) -> None:
    warnings.warn(f"{old} is deprecated; use {new} (the old name goes in 0.3).",
                  DeprecationWarning, stacklevel=3)  # fmt: skip


def _shortened_texts(doc: str, graph_doc: str, metadata: Mapping[str, str]) -> dict[str, Any]:
    """Text views' short forms of the long values, and whether any was shortened.

    Descriptions are prose: wrapped, up to 8 lines. Metadata values are data (a class
    list, a JSON config): up to 2 lines, long ones cut.
    """
    docs = [
        (title, text, *shortened(text, lines=8, width=100, wrap=True))
        for title, text in (("Description", doc), ("Graph description", graph_doc))
        if text
    ]
    values = [(key, value, *shortened(value)) for key, value in metadata.items()]
    return {
        "descriptions": [(title, whole, short) for title, whole, short, _ in docs],
        "metadata": [(key, whole, short) for key, whole, short, _ in values],
        "cut": any(cut for *_, cut in (*docs, *values)),
    }


def _io_row(value: ValueInfo) -> dict[str, Any]:
    kind = value.type.kind
    row = {
        "name": value.name,
        "type": value.dtype if kind == "tensor" and value.dtype else value.type.text,
        "shape": value.shape_text,
    }
    return {**row, "cells": [row["name"], row["type"], row["shape"]]}


def load(source: ModelLike, *, base_dir: str | os.PathLike[str] | None = None) -> Model:
    """Load an ONNX model from a path, bytes or an `onnx.ModelProto`.

    External-data weights are located (relative to the model's folder, or `base_dir` for
    in-memory models) but not read. Problems that would stop a session, such as an IR
    version too new for the installed onnxruntime, are raised as warnings here and as
    errors when a session is created.
    """
    import onnx  # noqa: PLC0415  (heavy: imported when a model is loaded)

    folder = Path(base_dir) if base_dir is not None else None
    if isinstance(source, Model):
        return source
    if isinstance(source, (str, os.PathLike)):
        path = _existing_file(Path(source))
        data = path.read_bytes()
        proto = parse_model(data, repr(str(path)))
        model = Model(proto, path=path, base_dir=folder or path.parent, size_bytes=len(data))
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        proto = parse_model(data, "The given data")
        model = Model(proto, base_dir=folder, size_bytes=len(data), data=data)
    elif isinstance(source, onnx.ModelProto):
        model = Model(source, base_dir=folder)
    else:
        raise WorkbenchError(
            f"load() takes a path, bytes or an onnx.ModelProto, not {type(source).__name__}.",
            "Pass the model's file path, e.g. workbench.load('model.onnx').",
        )
    _warn_problems(model)
    return model


def _existing_file(path: Path) -> Path:
    path = path.expanduser()
    try:
        path.stat()
    except FileNotFoundError:
        pass
    except OSError as exc:  # a name too long, a permission denied...
        raise ModelNotFoundError(
            f"Cannot read a model at {str(path)[:200]!r}: {exc.strerror or exc}.",
            "Check the path and the file's permissions.",
        ) from None
    if path.is_file():
        return path.absolute()  # the model (and its external data) survive a later chdir / %cd
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*.onnx"))
        listing = ", ".join(found[:10]) if found else "none"
        raise ModelNotFoundError(
            f"{str(path)!r} is a folder, not a model file. ONNX files in it: {listing}.",
            "Pass the path of one .onnx file.",
        )
    hint = f"Check the path; relative paths start from {Path.cwd()}."
    if path.parent.is_dir():
        nearby = [p.name for p in path.parent.iterdir() if p.suffix in (".onnx", ".ort")]
        close = difflib.get_close_matches(path.name, nearby, n=3)
        if close:
            hint = f"Did you mean {' or '.join(repr(str(path.parent / c)) for c in close)}?"
    raise ModelNotFoundError(f"No model file at {str(path)!r}.", hint)


def _warn_problems(model: Model) -> None:
    for problem in model.problems:
        category = (
            CompatibilityWarning
            if isinstance(problem, IncompatibleModelError)
            else ExternalDataWarning
        )
        warnings.warn(f"{problem.message} {problem.hint}", category, stacklevel=3)


def _metadata(proto: onnx.ModelProto) -> Metadata:
    return Metadata(
        producer_name=proto.producer_name,
        producer_version=proto.producer_version,
        domain=proto.domain,
        model_version=proto.model_version,
        doc_string=proto.doc_string,
        graph_name=proto.graph.name,
        graph_doc_string=proto.graph.doc_string,
        metadata_props={p.key: p.value for p in proto.metadata_props},
        ir_version=proto.ir_version,
        opset_imports={(o.domain or "ai.onnx"): o.version for o in proto.opset_import},
    )
