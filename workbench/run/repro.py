"""`Localization.repro(folder)`: the first bad tensor's node as a model of its own, to share.

The part is the candidate's node that produces the tensor, with what it reads through:
quantize-dequantize pairs (so its inputs are the float tensors the reference also has) and
nodes that compute only from weights. Its inputs are the reference's values on the worst
sample (where the reference has them), its expected outputs the reference's: running the
part on its inputs shows the node's own error, apart from everything before it.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import WorkbenchError
from workbench.ort.options import SessionConfig
from workbench.ort.quantized import DEQUANT_OUTPUT_SUFFIX
from workbench.run.compare import with_every_node_output
from workbench.text import printable

if TYPE_CHECKING:
    import onnx

    from workbench.model.model import Model
    from workbench.run.localize import Localization, TensorError

_THROUGH = ("QuantizeLinear", "DequantizeLinear", "Constant", "Cast")


def write_repro(result: Localization, bad: TensorError, folder: Path) -> Path:
    """Write part.onnx, test_data_set_0 and README.md into `folder` (see the module)."""
    import onnx  # noqa: PLC0415  (heavy: loaded already, the models are parsed)

    assert result.models is not None
    reference, candidate = result.models
    named = candidate.named()
    part = named.subgraph(
        nodes=_part_nodes(named.proto.graph, bad.node, qdq=result.matching == "qdq")
    )
    sample = result.feeds[bad.worst_sample]
    ref_values = _every_value(reference, sample, result.reference["provider"])
    cand_values = _every_value(candidate, sample, result.candidate["provider"])
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "test_data_set_0"
    data.mkdir(exist_ok=True)
    for old in data.glob("*.pb"):
        old.unlink()
    for index, value in enumerate(part.inputs):
        known = ref_values.get(value.name, cand_values.get(value.name))
        if known is None:
            raise WorkbenchError(
                f"No value of {printable(value.name)!r}, an input of the part, was computed.",
                "Localize again; if this persists, cut the part yourself with subgraph().",
            )
        _write(data / f"input_{index}.pb", onnx.numpy_helper.from_array(known, value.name))
    written = 0
    for value in part.outputs:
        expected = ref_values.get(value.name.removesuffix(DEQUANT_OUTPUT_SUFFIX))
        if expected is not None:
            tensor = onnx.numpy_helper.from_array(expected, value.name)
            _write(data / f"output_{written}.pb", tensor)
            written += 1
    _save_whole(part, folder / "part.onnx")
    command = _command(result, bad)
    (folder / "README.md").write_text(
        f"# {printable(bad.tensor)} drifts at {printable(bad.node)} ({bad.op_type})\n\n"
        f"{result.candidate['name']} on {result.candidate['provider']} against "
        f"{result.reference['name']} on {result.reference['provider']}: max abs error "
        f"{bad.max_abs_error:.3g}, SQNR {bad.sqnr_db:.1f} dB over {result.samples} samples "
        f"(worst: sample {bad.worst_sample}). `part.onnx` is that node alone; "
        "`test_data_set_0` holds its inputs and the reference's outputs from that sample.\n\n"
        f"Show the difference: `{command}`\n",
        encoding="utf-8",
    )
    return folder


def _part_nodes(graph: onnx.GraphProto, node: str, *, qdq: bool) -> list[str]:
    """The node, and the quantize-dequantize, cast and weight-only nodes it reads through.

    In a QDQ graph, also the quantize-dequantize pair after it: what was compared is the
    value the next node reads.
    """
    producer = {out: n for n in graph.node for out in n.output if out}
    weights = {t.name for t in graph.initializer}
    chosen = {node}
    if qdq:
        chosen |= _qdq_after(graph, node)
    pending = [n for n in graph.node if n.name == node]
    while pending:
        current = pending.pop()
        if current.op_type == "QuantizeLinear" and current.name != node:
            continue  # its input is the float activation the reference has too
        for tensor in current.input:
            found = producer.get(tensor)
            if found is None or found.name in chosen or tensor in weights:
                continue
            if found.op_type in _THROUGH or _from_weights_only(found, producer, weights):
                chosen.add(found.name)
                pending.append(found)
    return [n.name for n in graph.node if n.name in chosen]


def _qdq_after(graph: onnx.GraphProto, node: str) -> set[str]:
    """The QuantizeLinear nodes reading `node`'s outputs, and the DequantizeLinear after them."""
    readers: dict[str, list[onnx.NodeProto]] = {}
    for n in graph.node:
        for tensor in n.input:
            readers.setdefault(tensor, []).append(n)
    outputs = [out for n in graph.node if n.name == node for out in n.output]
    found = set()
    for out in outputs:
        for quantize in readers.get(out, []):
            if quantize.op_type == "QuantizeLinear":
                found.add(quantize.name)
                found |= {d.name for d in readers.get(quantize.output[0], [])
                          if d.op_type == "DequantizeLinear"}  # fmt: skip
    return found


def _from_weights_only(
    node: onnx.NodeProto, producer: dict[str, onnx.NodeProto], weights: set[str]
) -> bool:
    seen: set[str] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if current.name in seen:
            continue
        seen.add(current.name)
        for tensor in current.input:
            if not tensor or tensor in weights:
                continue
            found = producer.get(tensor)
            if found is None:  # a graph input: it depends on the data
                return False
            pending.append(found)
    return True


def _every_value(model: Model, feeds: dict[str, Any], provider: str) -> dict[str, Any]:
    """Every tensor of one unoptimized run (the graph's inputs included)."""
    marked = with_every_node_output(model.named())
    wanted = {v.name for v in marked.inputs}
    try:
        with marked.open_session(SessionConfig.make(provider, opt_level="disabled")) as session:
            ran = session.run({k: v for k, v in feeds.items() if k in wanted})
    finally:
        marked.close()
    return {**ran.feeds, **ran.outputs}


def _save_whole(part: Model, path: Path) -> None:
    """Save the part with its weights inside: a few nodes' weights travel in one file."""
    import onnx  # noqa: PLC0415  (heavy: loaded already, the models are parsed)
    from onnx.external_data_helper import (  # noqa: PLC0415  (as above)
        load_external_data_for_model,
    )

    proto = onnx.ModelProto()
    proto.CopyFrom(part.proto)
    base = part.external_data.base_dir
    if part.external_data.files and base is not None:
        load_external_data_for_model(proto, str(base))
    path.write_bytes(proto.SerializeToString())


def _write(path: Path, tensor: onnx.TensorProto) -> None:
    path.write_bytes(tensor.SerializeToString())


def _command(result: Localization, bad: TensorError) -> str:
    provider = result.candidate["provider"]
    return shlex.join([
        "onnx-workbench", "compare", "part.onnx", "--providers", provider,
        "--expected", "test_data_set_0", "--inputs", "test_data_set_0",
        "--rtol", f"{bad.rtol:g}", "--atol", f"{bad.atol:g}",
    ])  # fmt: skip
