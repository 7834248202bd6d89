"""`workbench.variants()`: the model optimized, converted or quantized, each a `Model`.

Every recipe uses onnxruntime's own tools, shipped in its wheel: its offline graph
optimization, `onnxruntime.transformers.float16`, and `onnxruntime.quantization`
(`quant_pre_process`, `quantize_dynamic`, `quantize_static`). A variant is saved under the
cache, keyed by the source's hash and the recipe (or in a folder you name), with its recipe
in `metadata_props` (`onnx_workbench.recipe`: what was done, the tool and its version, the
source's sha256), so a file found later says where it came from. A recipe that does not
apply raises `VariantSkipped`, a tool that fails `VariantFailed`; `variants()` leaves those
out with a warning, `evaluate()` makes them rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.cache import cache_dir
from workbench.errors import WorkbenchError
from workbench.model.model import Model, load
from workbench.ort import runtime
from workbench.ort.options import SessionConfig
from workbench.ort.quantized import QUANTIZED_OPS
from workbench.ort.session import save_optimized
from workbench.run.samples import sample_feeds, synthetic_samples
from workbench.text import first_line

RECIPES = ("ort-optimized", "fp16", "fp16-mixed", "int8-dynamic", "int8-static")
RECIPE_KEY = "onnx_workbench.recipe"  # the metadata_props entry a variant carries
# fp16-mixed keeps these in float32: reductions, normalizations and exponentials lose the
# most precision in half (their sums and exponents overflow or round away small terms).
FP16_MIXED_BLOCK_LIST = (
    "Softmax", "LogSoftmax", "LayerNormalization", "BatchNormalization",
    "InstanceNormalization", "GroupNormalization", "ReduceMean", "ReduceSum", "ReduceL2",
    "ReduceLogSumExp", "Pow", "Sqrt", "Exp", "Log", "Erf", "Div", "Reciprocal",
)  # fmt: skip
QUANT_FORMATS = ("QDQ", "QOperator")
SYNTHETIC_CALIBRATION_SAMPLES = 16
if TYPE_CHECKING:
    from workbench.model import ModelLike

_PROTOBUF_LIMIT = 2**31 - 2**26  # leave room: save weights apart past ~1.9 GB
_MEMO: dict[tuple[str, str, str], Model] = {}  # (source sha256, recipe key, folder) -> variant


class VariantSkipped(WorkbenchError):
    """The recipe does not apply to this model (nothing to quantize, already fp16...)."""


class VariantFailed(WorkbenchError):
    """The tool behind the recipe failed on this model."""


@dataclass(frozen=True)
class Recipe:
    """One variant to make: its name, the recipe (or "file") and the options it takes."""

    name: str
    kind: str  # one of RECIPES, or "file" (a model the user made)
    options: Mapping[str, Any] = field(default_factory=dict)

    def key(self) -> str:
        """What identifies the variant of a given source (its cache key)."""
        return json.dumps({"kind": self.kind, **self.options}, sort_keys=True, default=str)


def recipe_list(
    recipes: Sequence[str] | Mapping[str, Any] | str,
    *,
    opt_level: str = "extended",
    provider: str = "cpu",
    per_channel: bool = False,
    quant_format: str = "QDQ",
    fp16_block_list: Sequence[str] | None = None,
    nodes_to_exclude: Sequence[str] = (),
) -> list[Recipe]:
    """The recipes asked for: names (a list or "fp16,int8-dynamic"), or name -> file."""
    if isinstance(recipes, str):
        recipes = [r.strip() for r in recipes.split(",") if r.strip()]
    if quant_format not in QUANT_FORMATS:
        raise WorkbenchError(
            f"Unknown quantization format {quant_format!r}.", "Use 'QDQ' (default) or 'QOperator'."
        )
    options: dict[str, dict[str, Any]] = {
        "ort-optimized": {"opt_level": SessionConfig.make(provider, opt_level=opt_level).opt_level,
                          "provider": SessionConfig.make(provider).provider},
        "fp16": {"keep_io_types": True},
        "fp16-mixed": {"keep_io_types": True,
                       "op_block_list": sorted(fp16_block_list or FP16_MIXED_BLOCK_LIST)},
        "int8-dynamic": {"per_channel": per_channel, "weight_type": "QInt8"},
        "int8-static": {"per_channel": per_channel, "quant_format": quant_format},
    }  # fmt: skip
    if nodes_to_exclude:  # only then: the cache keys of plain variants stay as they were
        for kind in ("int8-dynamic", "int8-static"):
            options[kind]["nodes_to_exclude"] = sorted(nodes_to_exclude)
    chosen = []
    if isinstance(recipes, Mapping):
        for name, value in recipes.items():
            if str(value) in RECIPES:
                chosen.append(Recipe(str(name), str(value), options[str(value)]))
            elif isinstance(value, str | os.PathLike) and (
                Path(value).suffix in (".onnx", ".ort") or Path(value).exists()
            ):
                chosen.append(Recipe(str(name), "file", {"path": os.fspath(value)}))
            else:
                raise WorkbenchError(
                    f"Variant {name!r}: {value!r} is neither a recipe nor a model file.",
                    f"Recipes: {', '.join(RECIPES)}; or a path to an .onnx file.",
                )
        return chosen
    for name in recipes:
        if name not in RECIPES:
            raise WorkbenchError(
                f"Unknown variant recipe {name!r}.",
                f"Recipes: {', '.join(RECIPES)}; a model of your own goes in a dict: "
                "variants(model, {'mine': 'other.onnx'}).",
            )
        chosen.append(Recipe(name, name, options[name]))
    return chosen


def variants(
    model: ModelLike,
    recipes: Sequence[str] | Mapping[str, Any] | str,
    *,
    calibration: Any = None,
    folder: str | os.PathLike[str] | None = None,
    opt_level: str = "extended",
    provider: str = "cpu",
    per_channel: bool = False,
    quant_format: str = "QDQ",
    fp16_block_list: Sequence[str] | None = None,
    nodes_to_exclude: Sequence[str] = (),
) -> dict[str, Model]:
    """The model's variants by name: each a `Model`, saved with its recipe in its metadata.

    `recipes`: any of "ort-optimized" (onnxruntime's offline optimization at `opt_level`
    for `provider`), "fp16" (float32 IO kept), "fp16-mixed" (precision-sensitive ops kept in
    float32: `FP16_MIXED_BLOCK_LIST`, or `fp16_block_list`), "int8-dynamic", "int8-static"
    (QDQ, or `quant_format="QOperator"`; `per_channel` and `nodes_to_exclude`, nodes left in
    float, for both int8 recipes), or a dict
    name -> recipe or your own .onnx file. `calibration` (int8-static): feeds (a dict or a
    list of dicts), an .npz file or a test_data_set folder; without it, synthetic feeds
    calibrate, and a warning says that proves nothing about accuracy. Variants are cached by
    the source's hash and the recipe (or saved in `folder`). A recipe that does not apply,
    or whose tool fails, is left out with a warning saying why.
    """
    source = load(model)
    made: dict[str, Model] = {}
    chosen = recipe_list(recipes, opt_level=opt_level, provider=provider,
                         per_channel=per_channel, quant_format=quant_format,
                         fp16_block_list=fp16_block_list,
                         nodes_to_exclude=nodes_to_exclude)  # fmt: skip
    for recipe in chosen:
        try:
            made[recipe.name] = build(source, recipe, calibration=calibration, folder=folder)
        except (VariantSkipped, VariantFailed) as error:
            warnings.warn(f"{recipe.name}: {error.message}", stacklevel=2)
    return made


def build(
    model: Model,
    recipe: Recipe,
    *,
    calibration: Any = None,
    folder: str | os.PathLike[str] | None = None,
) -> Model:
    """One variant of `model`, made (or found in the cache) and loaded."""
    if recipe.kind == "file":
        return load(recipe.options["path"])
    samples: list[dict[str, Any]] = []
    if recipe.kind == "int8-static":  # the calibration data is part of the recipe
        samples = calibration_feeds(model, calibration)
        digest = "synthetic" if calibration is None else calibration_digest(samples)
        recipe = Recipe(recipe.name, recipe.kind, {**recipe.options, "calibration": digest})
    memo = (model.sha256, recipe.key(), os.fspath(folder) if folder else "")
    known = _MEMO.get(memo)
    if known is not None and known.path is not None and known.path.is_file():
        return known
    target = _target(model, recipe, folder)
    if not target.is_file() or _recorded(target) != recipe.key():
        make = {
            "ort-optimized": _optimized,
            "fp16": _fp16,
            "fp16-mixed": _fp16,
            "int8-dynamic": _int8_dynamic,
            "int8-static": _int8_static,
        }[recipe.kind]
        with tempfile.TemporaryDirectory(prefix="onnx-workbench-variant-") as work:
            made, notes = make(model, recipe, Path(work), samples)
            _stamp(made, model, recipe, notes)
            _save(made, target)
    _MEMO[memo] = load(target)
    return _MEMO[memo]


def recipe_of(model: Model) -> dict[str, Any] | None:
    """The recipe a variant carries in its metadata, or None for a model that is not one."""
    text = model.metadata.metadata_props.get(RECIPE_KEY)
    if not text:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


# --- the recipes ---------------------------------------------------------------------------


def _optimized(model: Model, recipe: Recipe, work: Path, _: Any) -> tuple[Any, list[str]]:
    import onnx  # noqa: PLC0415  (heavy: loads on first use)

    config = SessionConfig.make(recipe.options["provider"], opt_level=recipe.options["opt_level"])
    path = work / "optimized.onnx"
    model.ensure_runnable()
    error = save_optimized(model.session_source, config, path, weights="optimized.onnx.data",
                           min_external_bytes=1024)  # fmt: skip
    if error:
        raise VariantFailed(f"onnxruntime could not optimize the model: {error}", "")
    return onnx.load(str(path)), []  # weights read back in: the variant is saved whole


def _fp16(model: Model, recipe: Recipe, work: Path, _: Any) -> tuple[Any, list[str]]:
    from onnxruntime.transformers.float16 import (  # noqa: PLC0415  (heavy: loads on use)
        convert_float_to_float16,
    )

    if {op.rpartition("::")[2] for op in model.ops} & QUANTIZED_OPS:
        raise VariantSkipped(
            "The model is quantized: onnxruntime's float16 converter does not convert "
            "quantized graphs (it would leave integer ops between float16 tensors).",
            "",
        )
    proto = _whole_proto(model)
    weights = _weight_types(proto)
    if _FLOAT16 in weights and _FLOAT32 not in weights:
        raise VariantSkipped("The model's weights are float16 already: nothing to convert.", "")
    if not _has_float32(proto):
        raise VariantSkipped("The model holds no float32 tensor: nothing to convert.", "")
    block = recipe.options.get("op_block_list")
    try:
        with _quiet():
            converted = convert_float_to_float16(
                proto, keep_io_types=bool(recipe.options["keep_io_types"]),
                op_block_list=list(block) if block else None,
            )  # fmt: skip
    except Exception as error:  # the converter raises whatever it meets
        raise VariantFailed(f"onnxruntime's float16 converter failed: {error}", "") from None
    return converted, []


def _int8_dynamic(model: Model, recipe: Recipe, work: Path, _: Any) -> tuple[Any, list[str]]:
    from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: PLC0415  (heavy: loads on use)

    source, notes = _prepared(model, work)
    out = work / "int8.onnx"
    try:
        with _quiet():
            quantize_dynamic(
                source, out, per_channel=bool(recipe.options["per_channel"]),
                weight_type=QuantType.QInt8, use_external_data_format=_large(model),
                nodes_to_exclude=list(recipe.options.get("nodes_to_exclude", [])),
            )  # fmt: skip
    except Exception as error:
        raise VariantFailed(f"onnxruntime's quantize_dynamic failed: {error}", "") from None
    return _quantized(out), notes


def _int8_static(
    model: Model, recipe: Recipe, work: Path, samples: list[dict[str, Any]]
) -> tuple[Any, list[str]]:
    from onnxruntime.quantization import (  # noqa: PLC0415  (heavy: loads on use)
        CalibrationDataReader,
        QuantFormat,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._left = iter(samples)

        def get_next(self) -> dict[str, Any] | None:
            return next(self._left, None)

    source, notes = _prepared(model, work)
    out = work / "int8.onnx"
    try:
        with _quiet():
            quantize_static(
                source, out, Reader(),
                quant_format=getattr(QuantFormat, recipe.options["quant_format"]),
                per_channel=bool(recipe.options["per_channel"]),
                use_external_data_format=_large(model),
                nodes_to_exclude=list(recipe.options.get("nodes_to_exclude", [])),
            )  # fmt: skip
    except Exception as error:
        raise VariantFailed(f"onnxruntime's quantize_static failed: {error}", "") from None
    if recipe.options["calibration"] == "synthetic":
        notes.append(
            f"calibrated on {SYNTHETIC_CALIBRATION_SAMPLES} synthetic samples: no evidence "
            "of accuracy on real data"
        )
    return _quantized(out), notes


def calibration_feeds(model: Model, calibration: Any) -> list[dict[str, Any]]:
    """Feeds to calibrate with: the user's (dicts, a file, a folder) or synthetic ones."""
    if calibration is None:
        warnings.warn(
            f"int8-static calibrates on {SYNTHETIC_CALIBRATION_SAMPLES} synthetic samples: its "
            "accuracy figures are no evidence of accuracy on real data. Pass calibration= "
            "(feeds, an .npz file or a test_data_set folder).",
            stacklevel=4,
        )
        return synthetic_samples(model, SYNTHETIC_CALIBRATION_SAMPLES)
    return sample_feeds(model, calibration, count=0)[0]


# --- helpers ------------------------------------------------------------------------------


def calibration_digest(samples: list[dict[str, Any]]) -> str:
    """What identifies calibration feeds: a hash of every array's name, type, shape, bytes."""
    import numpy as np  # noqa: PLC0415  (with the feeds, loaded already)

    digest = hashlib.sha256()
    for sample in samples:
        for name in sorted(sample):
            array = np.ascontiguousarray(sample[name])
            digest.update(f"{name}|{array.dtype}|{array.shape}|".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def _recorded(path: Path) -> str:
    """The recipe key a variant file carries ("" for a file that carries none)."""
    found = recipe_of(load(path))
    if found is None:
        return ""
    return json.dumps({"kind": found.get("recipe"), **found.get("options", {})}, sort_keys=True,
                      default=str)  # fmt: skip


def _target(model: Model, recipe: Recipe, folder: str | os.PathLike[str] | None) -> Path:
    file = f"{model.name}.{recipe.name}.onnx"
    if folder is not None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder) / file
    key = hashlib.sha256(f"{model.sha256}|{recipe.key()}".encode()).hexdigest()[:24]
    return cache_dir("variants", key) / file


def _stamp(proto: Any, model: Model, recipe: Recipe, notes: list[str]) -> None:
    """Write the recipe (and what to know of it) into the variant's metadata_props."""
    rt = runtime.ort()
    record = {
        "recipe": recipe.kind,
        "options": dict(recipe.options),
        "tool": "onnxruntime",
        "tool_version": rt.__version__,
        "source_sha256": model.sha256,
        "source_name": model.name,
        "notes": notes,
    }
    kept = [p for p in proto.metadata_props if p.key != RECIPE_KEY]
    del proto.metadata_props[:]
    proto.metadata_props.extend(kept)
    entry = proto.metadata_props.add()
    entry.key, entry.value = RECIPE_KEY, json.dumps(record, sort_keys=True, default=str)


def _save(proto: Any, target: Path) -> None:
    """Write the variant atomically; weights beside it past protobuf's 2 GB limit."""
    import onnx  # noqa: PLC0415  (heavy: loads on first use)

    partial = target.with_name(f".{target.name}.partial")
    large = proto.ByteSize() > _PROTOBUF_LIMIT
    onnx.save_model(proto, str(partial), save_as_external_data=large,
                    location=f"{target.name}.data" if large else None)  # fmt: skip
    partial.replace(target)


def _whole_proto(model: Model) -> Any:
    """The model's protobuf with its external weights read in (the converter needs them)."""
    import onnx  # noqa: PLC0415  (heavy: loads on first use)

    if model.path is not None:
        return onnx.load(str(model.path))
    proto = onnx.ModelProto()
    proto.CopyFrom(model.proto)
    folder = model.external_data.base_dir
    if model.external_data.files and folder is not None:
        from onnx.external_data_helper import load_external_data_for_model  # noqa: PLC0415  (as above)

        load_external_data_for_model(proto, str(folder))
    return proto


_FLOAT32, _FLOAT16 = 1, 10  # onnx.TensorProto.FLOAT, FLOAT16


def _weight_types(proto: Any) -> set[int]:
    """Element types of the main graph's initializers and Constant tensors."""
    types = {t.data_type for t in proto.graph.initializer}
    for node in proto.graph.node:
        if node.op_type == "Constant":
            types.update(a.t.data_type for a in node.attribute if a.name == "value")
    return types


def _has_float32(proto: Any) -> bool:
    graph = proto.graph
    values = (*graph.input, *graph.output, *graph.value_info)
    return _FLOAT32 in _weight_types(proto) or any(
        v.type.tensor_type.elem_type == _FLOAT32 for v in values
    )


def _prepared(model: Model, work: Path) -> tuple[Path, list[str]]:
    """The model as the quantizer wants it, in a file, and what to know of how it was made.

    onnxruntime's `quant_pre_process` where it works (its symbolic shape step needs sympy:
    skipped, and said, without it), else the file with exporters' value_info dropped (it
    can contradict the quantizer's shape inference).
    """
    import onnx  # noqa: PLC0415  (heavy: loads on first use)
    from onnxruntime.quantization.shape_inference import quant_pre_process  # noqa: PLC0415  (as above)

    proto = _whole_proto(model)
    del proto.graph.value_info[:]
    plain = work / "plain.onnx"
    onnx.save_model(proto, str(plain), save_as_external_data=_large(model))
    prepared = work / "prepared.onnx"
    notes = []
    symbolic = importlib.util.find_spec("sympy") is not None
    if not symbolic:
        notes.append(
            "quant_pre_process ran without its symbolic shape inference: it needs sympy "
            "(pip install sympy)"
        )
    try:
        with _quiet():
            quant_pre_process(
                str(plain), str(prepared), skip_symbolic_shape=not symbolic,
                save_as_external_data=_large(model),
            )  # fmt: skip
    except Exception as error:  # the quantizer can still go on without it
        return plain, [f"quant_pre_process failed ({first_line(str(error))}): quantized "
                       "without it"]  # fmt: skip
    return prepared, notes


def _quantized(path: Path) -> Any:
    import onnx  # noqa: PLC0415  (heavy: loads on first use)

    proto = onnx.load(str(path))
    ops = {node.op_type for node in proto.graph.node}
    if not ops & QUANTIZED_OPS:
        raise VariantSkipped(
            "onnxruntime's quantizer found nothing to quantize in this model (it quantizes "
            "MatMul, Conv, Gemm, Gather, Attention and a few more).",
            "",
        )
    return proto


def _large(model: Model) -> bool:
    return (model.size_bytes or 0) + model.external_data.total_bytes > _PROTOBUF_LIMIT


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Onnxruntime's tools log advice at WARNING on the root logger: kept out of the way."""
    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
