"""`workbench.requantize()`: a measured fix for a quantized variant that loses accuracy.

The localization of the variant names the nodes that add the most error; the variant is
quantized again with those nodes left in float (onnxruntime's `nodes_to_exclude`), and both
are evaluated side by side with the reference: error and speed, measured, not guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbench.errors import WorkbenchError
from workbench.run.localize import Localization
from workbench.text import plural, printable
from workbench.variant.evaluate import Evaluation, evaluate
from workbench.variant.recipes import build, calibration_digest, recipe_list, recipe_of

QUANTIZED_RECIPES = ("int8-dynamic", "int8-static")


def requantize(
    localization: Localization,
    *,
    worst: int = 3,
    exclude: Sequence[str] | None = None,
    calibration: Any = None,
    providers: Sequence[str] | None = None,
    time_budget: float = 1.0,
    runs: int | None = None,
) -> Evaluation:
    """Quantize again without the worst nodes; the old and the new variant side by side.

    `localization`: `localize(reference, variant)` of a variant made by the int8 recipes.
    The `worst` nodes that add the most error (`Localization.worst_nodes`) stay in float,
    or the nodes named in `exclude`. An int8-static variant calibrated on your data needs
    it again (`calibration=`), unless the localization's samples were that data. Accuracy
    is measured on the localization's samples; latency on `providers` (default: the
    candidate's).
    """
    if localization.models is None:
        raise WorkbenchError(
            "This localization was read back from a report: it holds no models.",
            "Run workbench.localize(reference, variant) again, then requantize() it.",
        )
    reference, variant = localization.models
    recorded = recipe_of(variant) or {}
    kind = recorded.get("recipe")
    if kind not in QUANTIZED_RECIPES or recorded.get("source_sha256") != reference.sha256:
        raise WorkbenchError(
            f"{variant.label} is not an int8 variant of {reference.label} made here, so "
            "there is no recipe to run again.",
            "Localize a variant from workbench.variants(reference, ['int8-static']) (or "
            "int8-dynamic) against its reference.",
        )
    names = list(exclude) if exclude is not None else _exclusions(localization, worst)
    if not names:
        raise WorkbenchError(
            "No node adds error to exclude: every tensor is as accurate as what it reads.",
            "Name nodes yourself: requantize(result, exclude=[...]).",
        )
    options = dict(recorded.get("options") or {})
    calibration = _calibration(localization, options, calibration)
    (recipe,) = recipe_list(
        [kind],
        per_channel=bool(options.get("per_channel", False)),
        quant_format=str(options.get("quant_format", "QDQ")),
        nodes_to_exclude=names,
    )
    # The exclusions name nodes as `named()` does: quantize that copy, so they match.
    fixed = build(reference.named(), recipe, calibration=calibration)
    new_name = f"{kind}-excluding-{len(names)}"
    result = evaluate(
        reference,
        {kind: variant, new_name: fixed},
        providers or [localization.candidate["provider"]],
        list(localization.feeds),
        time_budget=time_budget,
        runs=runs,
    )
    result.data = localization.data  # the same samples
    if dict(fixed.ops) == dict(variant.ops):
        result.notes.append(
            "onnxruntime's quantizer left every node quantized: the names excluded are not "
            "in the model it quantized (quant_pre_process fuses some nodes first); name "
            "others with exclude=[...]."
        )
    shown = ", ".join(repr(printable(n)) for n in names)
    result.notes.append(
        f"{new_name} leaves {plural(len(names), 'node')} in float: {shown}"
        + (" (those that add the most error, by localize())." if exclude is None else ".")
    )
    return result


def _exclusions(localization: Localization, count: int) -> list[str]:
    """The worst nodes the quantizer changed, by the names it knows them (the reference's).

    A QDQ variant keeps its compute nodes' names; a dynamic one renames them, so the
    reference's node that produced the same tensor stands in. A node the quantizer left
    alone (the same op, reading no dequantized tensor) only carries error from before it.
    """
    assert localization.models is not None
    reference, variant = (m.named().proto.graph for m in localization.models)
    ops = {n.name: n.op_type for n in reference.node}
    producer = {out: n.name for n in reference.node for out in n.output}
    dequantized = {out for n in variant.node if n.op_type == "DequantizeLinear" for out in n.output}
    untouched = {n.name for n in variant.node if ops.get(n.name) == n.op_type
                 and not dequantized & set(n.input)}  # fmt: skip
    tensor_of = {t.node: t.tensor for t in localization.tensors}
    found: list[str] = []
    for node in localization.worst_nodes(len(tensor_of)):
        name = node if node in ops else producer.get(tensor_of.get(node, ""), "")
        if name and node not in untouched and name not in found:
            found.append(name)
    return found[:count]


def _calibration(localization: Localization, options: dict[str, Any], given: Any) -> Any:
    """The calibration data the variant was made with: given, synthetic, or the samples."""
    recorded = options.get("calibration")
    if given is not None or recorded in (None, "synthetic"):
        return given
    if recorded == calibration_digest(list(localization.feeds)):
        return list(localization.feeds)
    raise WorkbenchError(
        "The variant was calibrated on data of yours that this localization did not run on.",
        "Pass it again: requantize(result, calibration=...) (the same feeds, .npz or "
        "test_data_set folders).",
    )
