"""Measurements drawn on the graph: a profile, the placement, a comparison, or your own data.

`show_graph(model, overlay=...)` builds an `Overlay` here and the viewer draws it
(extensions/viewer/src/host.js): a fill and a label per node, a legend, the top nodes listed
beside the graph (a click centres one), and a node's values when it is selected.

Each kind is drawn on one graph, and says which:
- a profile and the placement: on the graph onnxruntime ran (optimized with the profile's
  own configuration), since that is where the time went; the nodes onnxruntime fused say
  which original nodes they came from (model/names.py);
- a comparison and your own data: on the original graph, whose node outputs were compared
  (your data may ask for the optimized one).
Nodes are keyed by their identity (`Model.named()`). Keys that name no node, values that
are not numbers, a profile of another model or configuration: each is said in a note, and
the graph still draws.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.errors import WorkbenchError
from workbench.graphview.view import GraphFile, graph_files, optimized_graph
from workbench.model import names
from workbench.model.diff import ModelDiff
from workbench.ort import providers
from workbench.ort.options import SessionConfig
from workbench.ort.profiling import NodePlacement, ProfileResult
from workbench.ort.session import Session
from workbench.run.compare import Comparison
from workbench.run.localize import Localization
from workbench.text import plural, printable

if TYPE_CHECKING:
    import onnx

    from workbench.model.model import Model

TOP = 10  # nodes listed beside the graph
# Sequential, colour-blind safe, readable on light and dark backgrounds: viridis, from the
# lightest (least) to the darkest (most).
VIRIDIS = (
    "#fde725", "#b5de2b", "#6ece58", "#35b779", "#1f9e89",
    "#26828e", "#31688e", "#3e4989", "#482878", "#440154",
)  # fmt: skip
# Okabe and Ito's colour-blind safe palette, one colour per execution provider.
PROVIDER_FILLS = {
    providers.CPU: "#56B4E9",
    providers.CUDA: "#009E73",
    providers.TENSORRT: "#E69F00",
    "DmlExecutionProvider": "#CC79A7",
    "OpenVINOExecutionProvider": "#0072B2",
    "CoreMLExecutionProvider": "#F0E442",
}
_OTHER_FILLS = ("#999999", "#882255", "#44AA99", "#AA4499")
MEMCPY_FILL = "#D55E00"  # vermillion: copies between devices stand out from every provider
OUTLINE = "#D55E00"  # the first diverging node
MEMCPY_OPS = ("MemcpyToHost", "MemcpyFromHost")
# A diff's changes, in Okabe and Ito's palette: bluish green new, vermillion gone, orange
# changed, sky blue only renamed.
DIFF_FILLS = {"added": "#009E73", "removed": "#D55E00", "changed": "#E69F00",
              "renamed": "#56B4E9"}  # fmt: skip
_LABEL_CHARS = 60


@dataclass(frozen=True)
class Mark:
    """What the viewer draws on one node."""

    fill: str = ""  # CSS colour; "" leaves the node as netron draws it
    ink: str = ""  # the text colour that reads on `fill`
    label: str = ""  # short text beside the node
    details: tuple[tuple[str, str], ...] = ()  # shown when the node is selected
    outline: str = ""  # a stroke around the node


@dataclass
class Overlay:
    """One overlay on one graph, and what matched. `show_graph(..., overlay=...)` makes it."""

    kind: str  # "profile", "placement", "compare" or "data"
    graph: str  # "optimized" or "original": the graph it is drawn on
    title: str
    marks: dict[str, Mark]
    legend: dict[str, Any]  # {"scale": {...}} or {"categories": [...]}
    top: list[str] = field(default_factory=list)  # node names, most first
    top_caption: str = ""
    matched: int = 0  # overlay entries that named a node of the graph
    unmatched: list[str] = field(default_factory=list)  # keys that named none
    notes: list[str] = field(default_factory=list)  # what to know: mismatches, skipped values
    summary: list[str] = field(default_factory=list)  # what it shows, in a sentence or two
    attributed_share: float | None = None  # profiles: matched kernel time / model_run time
    session: dict[str, Any] = field(default_factory=dict)  # the graph's configuration

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (what `--json` prints): everything but the per-node marks."""
        return {
            "kind": self.kind,
            "graph": self.graph,
            "title": self.title,
            "matched": self.matched,
            "unmatched": self.unmatched,
            "attributed_share": self.attributed_share,
            "notes": self.notes,
            "summary": self.summary,
            "top": [{"node": n, "label": self.marks[n].label} for n in self.top],
            "session": self.session,
        }

    def payload(self) -> dict[str, Any]:
        """What the viewer gets (host.js draws it; every string is shown as text)."""
        return {
            "title": self.title,
            "nodes": {
                name: {
                    "fill": mark.fill,
                    "ink": mark.ink,
                    "label": mark.label,
                    "outline": mark.outline,
                    "details": [list(d) for d in mark.details],
                }
                for name, mark in self.marks.items()
            },
            "legend": self.legend,
            "summary": self.summary,
            "notes": self.notes + ([self.unmatched_text()] if self.unmatched else []),
            "top": {"caption": self.top_caption, "nodes": self.top},
        }

    def unmatched_text(self) -> str:
        """The keys that named no node of the graph, a few of them by name."""
        shown = ", ".join(repr(printable(k)) for k in self.unmatched[:5])
        more = f" and {len(self.unmatched) - 5} more" if len(self.unmatched) > 5 else ""
        return f"{plural(len(self.unmatched), 'key')} named no node: {shown}{more}"

    def text(self) -> str:
        """A few lines: what is drawn where, what matched, the top nodes, the notes."""
        lines = [f"{self.title} (on the {self.graph} graph): {plural(self.matched, 'node')}"]
        lines += self.summary
        if self.unmatched:
            lines.append(self.unmatched_text())
        if self.top:
            lines.append(f"{self.top_caption}:")
            lines += [f"  {printable(n)}: {self.marks[n].label}" for n in self.top]
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Overlay {self.kind} on the {self.graph} graph: {self.matched} matched, "
            f"{len(self.unmatched)} unmatched>"
        )


def resolve(  # noqa: PLR0911  (one return per kind of overlay)
    model: Model,
    overlay: Any,
    *,
    provider: str | None = None,
    opt_level: str | None = None,
    optimized: bool | str = False,
    top: int = TOP,
) -> tuple[Overlay, GraphFile]:
    """The overlay `overlay` stands for, and the graph it is drawn on."""
    if optimized == "both":
        raise WorkbenchError(
            "An overlay is drawn on one graph.",
            "Drop optimized='both': a profile and the placement are drawn on the graph "
            "onnxruntime ran, a comparison on the original, your data where optimized= says.",
        )
    if optimized and isinstance(overlay, Comparison | Localization | ModelDiff):
        raise WorkbenchError(
            "A comparison, a localization or a diff is drawn on the original graph.",
            "Drop optimized=True.",
        )
    if isinstance(overlay, ProfileResult):
        return _profile(model, overlay, provider=provider, opt_level=opt_level, top=top)
    if isinstance(overlay, str):
        return _by_name(model, overlay, provider=provider, opt_level=opt_level, top=top)
    if isinstance(overlay, Session):
        return _placement(model, overlay.placement(), overlay.config, top=top)
    if isinstance(overlay, Comparison):
        return _comparison(model, overlay, provider=provider, top=top)
    if isinstance(overlay, Localization):
        return _localization(model, overlay, top=top)
    if isinstance(overlay, ModelDiff):
        return _diff(model, overlay, top=top)
    if (
        isinstance(overlay, Sequence)
        and overlay
        and all(isinstance(p, NodePlacement) for p in overlay)
    ):
        config = SessionConfig.make(provider or "cpu", opt_level=opt_level or "all")
        return _placement(model, list(overlay), config, top=top)
    return _user_data(model, overlay, optimized=optimized, provider=provider,
                      opt_level=opt_level, top=top)  # fmt: skip


def _by_name(
    model: Model, name: str, *, provider: str | None, opt_level: str | None, top: int
) -> tuple[Overlay, GraphFile]:
    """`overlay="profile"` (profiled here, once) or `overlay="placement"`."""
    config = SessionConfig.make(provider or "cpu", opt_level=opt_level or "all")
    if name == "placement":
        with model.named().open_session(config) as session:
            placed = session.placement()
        return _placement(model, placed, config, top=top)
    if name == "profile":
        from workbench.run.profile import profile  # noqa: PLC0415  (a run: only on demand)

        return _profile(model, profile(model, config.provider, opt_level=config.opt_level), top=top)
    raise WorkbenchError(
        f"Unknown overlay {name!r}.",
        "Pass 'profile', 'placement', a ProfileResult, a Comparison, a session, or your "
        "own data (a dict, a pandas Series or DataFrame keyed by node name).",
    )


# --- the kinds ---------------------------------------------------------------------------


def _profile(
    model: Model,
    profile: ProfileResult,
    *,
    provider: str | None = None,
    opt_level: str | None = None,
    top: int,
) -> tuple[Overlay, GraphFile]:
    notes = []
    if profile.session:
        # Only what shapes the graph: a report's provider options may name paths on disk.
        config = SessionConfig.make(
            profile.session.get("provider") or profile.provider,
            opt_level=str(profile.session.get("opt_level") or "all"),
        )
    else:
        config = SessionConfig.make(profile.provider, opt_level=opt_level or "all")
        notes.append(
            "The profile does not record its session settings (it predates onnx-workbench "
            f"0.2): it is drawn on the graph optimized at {config.opt_level!r} on "
            f"{config.provider}."
        )
    asked = (provider and providers.resolve(provider) != config.provider) or (
        opt_level and opt_level != config.opt_level
    )
    if asked and profile.session:
        notes.append(
            f"The profile was taken on {config.provider} at optimization level "
            f"{config.opt_level!r}: it is drawn on that graph, not on the one asked for "
            f"({provider or config.provider}, {opt_level or config.opt_level!r})."
        )
    if not providers.probe(config.provider).usable:
        notes.append(
            f"The profile was taken on {config.provider}, which cannot run here: it is drawn "
            "on the CPU's graph at the same level, where nodes onnxruntime fused or placed "
            "differently do not match."
        )
        config = SessionConfig.make("cpu", opt_level=config.opt_level)
    if profile.model_sha256 and profile.model_sha256 != model.sha256:
        notes.append(
            f"The profile was taken on another model (sha256 {profile.model_sha256[:12]}, "
            f"this one is {model.sha256[:12]}): nodes that do not match are listed as "
            "unmatched."
        )
    graph, proto = optimized_graph(model, config)
    known = _node_ops(proto)
    origins = names.lineage(model.named().proto.graph, proto.graph)
    run_ms = sum(profile.model_run_ms)
    runs = max(profile.runs, 1)
    total = run_ms or sum(r["total_ms"] for r in profile.rows) or 1.0
    matched = [r for r in profile.rows if r["node"] in known]
    largest = max((r["total_ms"] for r in matched), default=0.0)
    marks = {}
    for row in matched:
        share = row["total_ms"] / total
        fill = _scale_colour(row["total_ms"] / largest if largest else 0.0)
        details = [
            ("time per run", f"{row['total_ms'] / runs:.4g} ms"),
            ("share of run time", f"{100 * share:.1f}%"),
            ("calls per run", f"{row['calls'] / runs:g}"),
            ("op type", str(row["op_type"])),
            ("provider", str(row["provider"])),
        ]
        details.append(_origin_detail(row["node"], origins))
        marks[row["node"]] = Mark(
            fill,
            _ink(fill),
            f"{row['total_ms'] / runs:.3g} ms · {100 * share:.1f}%",
            tuple(details),
        )
    # A node inside a subgraph runs within its parent's time: only the main graph's add up.
    main = {node.name for node in proto.graph.node}
    attributed = sum(r["total_ms"] for r in matched if r["node"] in main)
    share = attributed / run_ms if run_ms else None
    summary = [
        f"Share of run time per node over {plural(profile.runs, 'run')} on "
        f"{config.provider} (optimization level {config.opt_level!r})."
    ]
    if share is not None:
        summary.append(
            f"{100 * share:.1f}% of run time is on the nodes drawn; the other "
            f"{100 * max(0.0, 1 - share):.1f}% is onnxruntime's own work between kernels "
            "(and nodes that matched none)."
        )
    else:
        summary.append("The profile has no whole-run times: shares are of kernel time.")
    added = [n for n in known if origins.get(n, None) == ()]
    if added:
        notes.append(
            f"{plural(len(added), 'node')} that onnxruntime added (layout changes, copies; "
            f"e.g. {printable(added[0])!r}) came from no original node: the time shown on "
            "them is theirs alone."
        )
    overlay = Overlay(
        "profile",
        "optimized",
        "Profile: share of run time",
        marks,
        _scale_legend("share of run time", 0.0, 100 * largest / total, "%"),
        top=[r["node"] for r in matched[:top]],
        top_caption="Hottest nodes",
        matched=len(matched),
        unmatched=[str(r["node"]) for r in profile.rows if r["node"] not in known],
        notes=notes,
        summary=summary,
        attributed_share=share,
        session=config.as_dict(),
    )
    return overlay, graph


def _placement(
    model: Model, placed: list[NodePlacement], config: SessionConfig, *, top: int
) -> tuple[Overlay, GraphFile]:
    graph, proto = optimized_graph(model, config)
    known = _node_ops(proto)
    matched = [p for p in placed if p.node in known]
    is_copy = {p.node: p.op_type in MEMCPY_OPS or known[p.node] in MEMCPY_OPS for p in matched}
    counts = Counter(p.provider for p in matched if not is_copy[p.node])
    copies = sum(is_copy.values())
    fills = _provider_fills(list(counts))
    marks = {}
    for p in matched:
        copy = is_copy[p.node]
        fill = MEMCPY_FILL if copy else fills[p.provider]
        label = "copy to host" if "ToHost" in p.op_type else "copy to device"
        marks[p.node] = Mark(
            fill,
            _ink(fill),
            label if copy else providers.short_name(p.provider),
            (("provider", p.provider), ("op type", p.op_type)),
            outline=MEMCPY_FILL if copy else "",
        )
    main = counts.most_common(1)[0][0] if counts else config.provider
    elsewhere = [p.node for p in matched if p.provider != main or marks[p.node].outline]
    categories = [
        {"fill": fills[name], "text": f"{name}: {plural(count, 'node')}"}
        for name, count in counts.most_common()
    ]
    if copies:
        categories.append({"fill": MEMCPY_FILL, "text": f"copies between devices: {copies}"})
    summary = [
        f"Which provider runs each node, with {config.provider} asked for (optimization "
        f"level {config.opt_level!r})."
    ]
    if main == config.provider and len(counts) > 1:
        summary.append(f"{plural(len(elsewhere), 'node')} run elsewhere or copy data.")
    overlay = Overlay(
        "placement",
        "optimized",
        "Placement: execution provider per node",
        marks,
        {"categories": categories},
        top=elsewhere[:top],
        top_caption=f"Not on {main}",
        matched=len(matched),
        unmatched=[p.node for p in placed if p.node not in known],
        summary=summary,
        session=config.as_dict(),
    )
    return overlay, graph


def _comparison(
    model: Model, comparison: Comparison, *, provider: str | None, top: int
) -> tuple[Overlay, GraphFile]:
    (graph,) = graph_files(model, named=True)
    known = _node_ops(model.named().proto)
    candidates = list(dict.fromkeys(e.provider for e in comparison.node_errors))
    wanted = providers.resolve(provider) if provider else (candidates[0] if candidates else "")
    notes = []
    if comparison.model_sha256 and comparison.model_sha256 != model.sha256:
        notes.append(
            f"The comparison was made on another model (sha256 {comparison.model_sha256[:12]}, "
            f"this one is {model.sha256[:12]})."
        )
    if not candidates and comparison.baseline == "expected":
        notes.append(
            "No intermediate tensors were compared: expected outputs have none. Pass a "
            "reference model as the baseline: compare(..., expected=model, intermediates=True)."
        )
    elif not candidates:
        skipped = [f"{r.provider} ({r.reason})" for r in comparison.rows if r.reason]
        notes.append(
            "No intermediate tensors were compared"
            + (f" (not run: {'; '.join(skipped)})" if skipped else "")
            + ": compare(..., intermediates=True) compares every node's output."
        )
    elif wanted not in candidates:
        raise WorkbenchError(
            f"The comparison has no node errors for {wanted}.",
            f"Pick one of: {', '.join(candidates)}.",
        )
    if len(candidates) > 1:
        others = ", ".join(c for c in candidates if c != wanted)
        notes.append(f"Drawn for {wanted}; the comparison also covers {others} (provider=...).")
    errors = [
        _Error(e.node, e.op_type, e.output, e.status, e.max_abs_error, e.max_rel_error,
               f"{e.mismatches} of {e.elements} outside tolerance")
        for e in comparison.node_errors
        if e.provider == wanted
    ]  # fmt: skip
    first = next((d.node for d in comparison.divergences if d.provider == wanted), "")
    summary = [
        f"Largest absolute error of each node's outputs on {wanted or 'no provider'} against "
        f"{comparison.baseline}, compared on the unoptimized graph (exposing every node's "
        "output blocks onnxruntime's fusions)."
    ]
    return _errors(graph, known, errors, first=first, kind="compare", summary=summary,
                   notes=notes, top=top, details=[("provider", wanted)])  # fmt: skip


def _localization(model: Model, result: Localization, *, top: int) -> tuple[Overlay, GraphFile]:
    """Error per tensor of a localization, on the candidate's (original) graph."""
    (graph,) = graph_files(model, named=True)
    known = _node_ops(model.named().proto)
    notes = []
    if result.candidate.get("sha256") and result.candidate["sha256"] != model.sha256:
        notes.append(
            f"The localization's candidate is another model ({result.candidate.get('name')}); "
            "drawn where node names match: show_graph(candidate, overlay=result)."
        )
    errors = [
        _Error(t.node, t.op_type, t.tensor, t.status, t.max_abs_error, t.max_rel_error,
               f"SQNR {t.sqnr_db:.1f} dB, {t.mismatches} of {t.elements} outside tolerance "
               f"over {result.samples} samples")
        for t in result.tensors
    ]  # fmt: skip
    first = result.first
    summary = [
        f"Largest absolute error of each tensor of {result.candidate.get('name')} on "
        f"{result.candidate.get('provider')} against {result.reference.get('name')} on "
        f"{result.reference.get('provider')}, over {result.samples} samples, on the "
        "unoptimized graph."
    ]
    return _errors(graph, known, errors, first=first.node if first else "", kind="localize",
                   summary=summary, notes=notes, top=top, details=[])  # fmt: skip


def _diff(model: Model, diff: ModelDiff, *, top: int) -> tuple[Overlay, GraphFile]:
    """A model diff on model b (added, changed, renamed nodes) or on model a (removed)."""
    (graph,) = graph_files(model, named=True)
    named = model.named().proto.graph.node
    side = "a" if model.sha256 == diff.a.get("sha256") != diff.b.get("sha256") else "b"
    notes = []
    if model.sha256 not in (diff.a.get("sha256"), diff.b.get("sha256")):
        notes.append(
            f"This model is neither side of the diff ({diff.a.get('name')} -> "
            f"{diff.b.get('name')}); drawn as model b, where node names match."
        )

    def identity(label: str) -> str:  # "#5" (an unnamed node) -> the name show_graph draws
        if label.startswith("#") and label[1:].isdigit() and int(label[1:]) < len(named):
            return str(named[int(label[1:])].name)
        return label

    marks: dict[str, Mark] = {}
    if side == "b":
        for n in diff.nodes_added:
            marks[identity(n["name"])] = _diff_mark("added", n["op_type"])
        for n in diff.nodes_renamed:
            marks[identity(n["b"])] = _diff_mark("renamed", "", (("was", n["a"]),))
    else:
        for n in diff.nodes_removed:
            marks[identity(n["name"])] = _diff_mark("removed", n["op_type"])
        for n in diff.nodes_renamed:
            marks[identity(n["a"])] = _diff_mark("renamed", "", (("now", n["b"]),))
    for change in diff.nodes_changed:
        what = tuple((c["what"], f"{c['a']} -> {c['b']}") for c in change["changes"])
        marks[identity(change[side])] = _diff_mark("changed", change["op_type"], what)
    # A node reading weights whose values, type or shape changed is changed too.
    weights = {
        t["name"]: t for t in diff.initializers if t["change"] in ("values", "type or shape")
    }
    for node in named:
        for tensor in (t for t in node.input if t in weights and node.name not in marks):
            change = weights[tensor]
            detail = (f"weight {tensor}", f"{change['change']}: {change['a']} -> {change['b']}")
            marks[node.name] = _diff_mark("changed", node.op_type, (detail,))
    known = {node.name for node in named}
    other = diff.nodes_removed if side == "b" else diff.nodes_added
    if other:
        shown = ", ".join(repr(printable(n["name"])) for n in other[:5])
        where = "only in model a (draw it on a)" if side == "b" else "only in model b"
        notes.append(f"{plural(len(other), 'node')} {where}: {shown}"
                     f"{' and more' if len(other) > 5 else ''}.")  # fmt: skip
    counts = Counter(m.label for m in marks.values())
    overlay = Overlay(
        "diff",
        "original",
        f"Diff: {diff.a.get('name')} -> {diff.b.get('name')} (model {side})",
        {k: v for k, v in marks.items() if k in known},
        {"categories": [{"fill": DIFF_FILLS[label], "text": f"{label}: {count}"}
                        for label, count in counts.items()]},
        top=[k for k, v in marks.items() if k in known and v.label != "renamed"][:top],
        top_caption="Changed nodes",
        matched=sum(k in known for k in marks),
        unmatched=[k for k in marks if k not in known],
        notes=notes,
        summary=[", ".join(f"{count} {label}" for label, count in counts.items())
                 or "No node differs."],
    )  # fmt: skip
    return overlay, graph


def _diff_mark(change: str, op_type: str, details: tuple[tuple[str, str], ...] = ()) -> Mark:
    fill = DIFF_FILLS[change]
    shown = (("change", change), *((("op type", op_type),) if op_type else ()), *details)
    return Mark(fill, _ink(fill), change, shown)


@dataclass(frozen=True)
class _Error:
    """One compared tensor, as the error overlays draw it."""

    node: str
    op_type: str
    tensor: str
    status: str
    max_abs: float
    max_rel: float
    detail: str


def _errors(
    graph: GraphFile,
    known: Mapping[str, str],
    errors: Sequence[_Error],
    *,
    first: str,
    kind: str,
    summary: list[str],
    notes: list[str],
    top: int,
    details: list[tuple[str, str]],
) -> tuple[Overlay, GraphFile]:
    """Each node filled by its largest error (log scale), the first one outlined."""
    by_node: dict[str, list[_Error]] = {}
    for error in errors:
        by_node.setdefault(error.node, []).append(error)
    worst = {n: max(_ordered(e.max_abs) for e in errs) for n, errs in by_node.items()}
    positive = [v for v in worst.values() if v > 0 and math.isfinite(v)]
    low, high = (min(positive), max(positive)) if positive else (0.0, 0.0)
    marks = {}
    for node, errs in by_node.items():
        if node not in known:
            continue
        value = worst[node]
        fill = _scale_colour(_log_position(value, low, high))
        failed = any(e.status == "mismatch" for e in errs)
        rel = max(_ordered(e.max_rel) for e in errs)
        shown = [*details, ("op type", errs[0].op_type)]
        shown += [(f"output {e.tensor}", f"max abs {e.max_abs:.3g}, max rel {e.max_rel:.3g}, "
                   f"{e.detail}") for e in errs]  # fmt: skip
        marks[node] = Mark(
            fill,
            _ink(fill),
            f"{'✗ ' if failed else ''}abs {value:.2g} · rel {rel:.2g}",
            tuple(shown),
            outline=OUTLINE if node == first else "",
        )
    if first:
        summary = [*summary, f"The first node beyond tolerance, {printable(first)!r}, is outlined."]
    overlay = Overlay(
        kind,
        "original",
        "Comparison: error per node" if kind == "compare" else "Localization: error per tensor",
        marks,
        _scale_legend("max abs error (log scale)", low, high, ""),
        top=sorted(marks, key=lambda n: worst[n], reverse=True)[:top],
        top_caption="Largest errors",
        matched=len(marks),
        unmatched=[n for n in by_node if n not in known],
        notes=notes,
        summary=summary,
    )
    return overlay, graph


def _user_data(
    model: Model,
    data: Any,
    *,
    optimized: bool | str,
    provider: str | None,
    opt_level: str | None,
    top: int,
) -> tuple[Overlay, GraphFile]:
    column, keys, values, labels, details = _table(data)
    if optimized:
        config = SessionConfig.make(provider or "cpu", opt_level=opt_level or "all")
        graph, proto = optimized_graph(model, config)
    else:
        (graph,) = graph_files(model, named=True)
        proto = model.named().proto
    known = _node_ops(proto)
    matched = [k for k in keys if k in known]
    notes = []
    numbers = {k: values[k] for k in matched if k in values}
    missing = [k for k, v in numbers.items() if not math.isfinite(v)]
    finite = {k: v for k, v in numbers.items() if math.isfinite(v)}
    if missing:
        notes.append(
            f"{plural(len(missing), 'node')} have no number in {column!r} (NaN or infinite, "
            f"e.g. {printable(missing[0])!r}): drawn without a colour."
        )
    if any(v < 0 for v in finite.values()):
        notes.append(
            f"{column!r} has negative values: the scale runs from the smallest "
            f"({min(finite.values()):.4g}) to the largest."
        )
    if not values and labels:
        notes.append("No column holds numbers: the nodes get labels, no colour.")
    low = min(finite.values(), default=0.0)
    high = max(finite.values(), default=0.0)
    marks = {}
    for key in matched:
        value = finite.get(key)
        fill = _scale_colour((value - low) / (high - low) if high > low else 1.0) if (
            value is not None) else ""  # fmt: skip
        text = labels.get(key, "")
        label = f"{value:.4g}" if value is not None else ""
        label = " · ".join(p for p in (label, text) if p)
        marks[key] = Mark(fill, _ink(fill) if fill else "", _clip(label), details.get(key, ()))
    ranked = sorted(finite, key=lambda k: finite[k], reverse=True)
    overlay = Overlay(
        "data",
        "optimized" if optimized else "original",
        f"Your data: {printable(column)}",
        marks,
        _scale_legend(column, low, high, "") if finite else {"categories": []},
        top=ranked[:top],
        top_caption=f"Largest {printable(column)}",
        matched=len(matched),
        unmatched=[k for k in keys if k not in known],
        notes=notes,
        summary=[f"{printable(column)} per node, from your data."],
    )
    return overlay, graph


# --- reading user data ---------------------------------------------------------------------


def _table(
    data: Any,
) -> tuple[
    str, list[str], dict[str, float], dict[str, str], dict[str, tuple[tuple[str, str], ...]]
]:
    """The numeric column's name, the node names, and numbers, labels and details by name."""
    frame = _as_frame(data)
    numeric = [
        c for c in frame.columns
        if frame[c].dtype.kind in "iuf"  # bools and objects are labels
    ]  # fmt: skip
    heat = numeric[0] if numeric else None
    values: dict[str, float] = {}
    labels: dict[str, str] = {}
    details: dict[str, tuple[tuple[str, str], ...]] = {}
    for key, row in frame.iterrows():
        node = str(key)
        if heat is not None:
            values[node] = float(row[heat])
        text = [printable(str(row[c])) for c in frame.columns if c != heat and c not in numeric]
        if text:
            labels[node] = " · ".join(text)
        details[node] = tuple((printable(str(c)), _clip(printable(str(row[c])))) for c in
                              frame.columns)  # fmt: skip
    column = str(heat if heat is not None else frame.columns[0])
    return column, [str(k) for k in frame.index], values, labels, details


def _as_frame(data: Any) -> Any:
    import pandas as pd  # noqa: PLC0415  (heavy: only user data needs it)

    if isinstance(data, pd.DataFrame):
        frame = data.set_index("node") if "node" in data.columns else data
    elif isinstance(data, pd.Series):
        frame = data.to_frame(name=str(data.name) if data.name is not None else "value")
    elif isinstance(data, Mapping):
        frame = pd.Series(dict(data), dtype=_dtype_of(data.values())).to_frame(name="value")
    else:
        raise WorkbenchError(
            f"An overlay cannot be made from {type(data).__name__}.",
            "Pass a ProfileResult, a Comparison, 'placement', a session, or your own data: a "
            "dict, a pandas Series or DataFrame keyed by node name.",
        )
    if frame.empty or len(frame.columns) == 0:
        raise WorkbenchError(
            "The overlay data is empty.", "Give at least one node name with a value."
        )
    if frame.index.duplicated().any():
        repeated = frame.index[frame.index.duplicated()][0]
        raise WorkbenchError(
            f"The overlay data names node {printable(str(repeated))!r} more than once.",
            "Give one row per node (e.g. data.groupby(level=0).sum()).",
        )
    return frame


def _dtype_of(values: Any) -> str:
    items = list(values)
    numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in items)
    return "float64" if numeric else "object"


# --- helpers --------------------------------------------------------------------------------


def _node_ops(proto: onnx.ModelProto) -> dict[str, str]:
    """Every node of every graph: name -> op type."""
    return {node.name: node.op_type for _, graph in names.graphs(proto) for node in graph.node}


def _origin_detail(node: str, origins: Mapping[str, tuple[str, ...] | None]) -> tuple[str, str]:
    sources = origins.get(node)
    if sources is None:
        return ("original nodes", "not known (in a subgraph, or too far apart to say)")
    if sources == (node,):
        return ("original nodes", "itself")
    if not sources:
        return ("original nodes", "none: onnxruntime added it")
    shown = ", ".join(sources[:8]) + (f" and {len(sources) - 8} more" if len(sources) > 8 else "")
    return ("fused from", shown)


def _scale_colour(position: float) -> str:
    """The viridis colour at `position` in [0, 1] (0: lightest), interpolated."""
    position = min(1.0, max(0.0, position))
    scaled = position * (len(VIRIDIS) - 1)
    index = min(int(scaled), len(VIRIDIS) - 2)
    fraction = scaled - index
    a, b = _rgb(VIRIDIS[index]), _rgb(VIRIDIS[index + 1])
    mixed = (round(x + (y - x) * fraction) for x, y in zip(a, b, strict=True))
    return "#" + "".join(f"{c:02x}" for c in mixed)


def _ordered(value: float) -> float:
    """An error that sorts: NaN (a value on one side only) counts as the worst."""
    return math.inf if math.isnan(value) else value


def _log_position(value: float, low: float, high: float) -> float:
    if not math.isfinite(value):
        return 1.0
    if value <= 0 or high <= 0:
        return 0.0
    if high <= low:
        return 1.0
    return (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _ink(fill: str) -> str:
    """Black or white, whichever reads on `fill` (relative luminance, WCAG)."""
    channels = [c / 255 for c in _rgb(fill)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if luminance > 0.179 else "#ffffff"


def _scale_legend(caption: str, low: float, high: float, unit: str) -> dict[str, Any]:
    return {
        "scale": {
            "caption": caption,
            "stops": list(VIRIDIS),
            "low": f"{low:.3g}{unit}",
            "high": f"{high:.3g}{unit}",
        }
    }


def _provider_fills(names_: list[str]) -> dict[str, str]:
    spare = iter(_OTHER_FILLS * (len(names_) + 1))
    return {name: PROVIDER_FILLS.get(name) or next(spare) for name in names_}


def _clip(text: str) -> str:
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"
