"""The test-model registry: small generated models, each stating its IR version and opsets.

`build(name)` gives the ModelProto; `write(name, folder)` saves it (with its external data,
where it has some) and returns the path. Models stay within what onnxruntime 1.20+ reads,
except those whose point is to be too new.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

IR = 8
OPSET = 17
ML_OPSET = 3
_node = helper.make_node
_tensor = helper.make_tensor_value_info

REGISTRY: dict[str, Callable[[], onnx.ModelProto]] = {}


def model(builder: Callable[[], onnx.ModelProto]) -> Callable[[], onnx.ModelProto]:
    """Register a builder under its function name."""
    REGISTRY[builder.__name__] = builder
    return builder


def make(
    nodes: list[onnx.NodeProto],
    inputs: list[onnx.ValueInfoProto],
    outputs: list[onnx.ValueInfoProto],
    *,
    initializers: list[onnx.TensorProto] | None = None,
    opsets: dict[str, int] | None = None,
    ir_version: int = IR,
    name: str = "test",
    **fields: object,
) -> onnx.ModelProto:
    """make_model with the IR version and opsets always explicit (never onnx's defaults)."""
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=initializers or [])
    imports = [helper.make_opsetid(d, v) for d, v in (opsets or {"": OPSET}).items()]
    return helper.make_model(graph, opset_imports=imports, ir_version=ir_version, **fields)


def build(name: str) -> onnx.ModelProto:
    """A fresh copy of a registered model."""
    return REGISTRY[name]()


def write(name: str, folder: Path) -> Path:
    """Save a registered model under `folder`; external-data models keep a weights file."""
    proto = build(name)
    path = folder / f"{name}.onnx"
    if name in EXTERNAL:
        onnx.save_model(
            proto,
            path,
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=f"{name}.weights",
            size_threshold=0,
        )
    else:
        onnx.save_model(proto, path)
    return path


EXTERNAL = {"external_weights"}


@model
def symbolic_dims() -> onnx.ModelProto:
    """Symbolic dims with awkward names, an unknown dim and an unknown rank."""
    x = helper.make_tensor_value_info("tokens", TensorProto.FLOAT, ["batch size", "seq-len", 8])
    mask = helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch size", None, 1])
    anything = helper.make_tensor_value_info("anything", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(np.ones((8, 4), np.float32), "w")
    return make(
        [
            _node("MatMul", ["tokens", "w"], ["projected"]),
            _node("Mul", ["projected", "mask"], ["masked"]),
            _node("Identity", ["anything"], ["same"]),
        ],
        [x, mask, anything],
        [
            _tensor("masked", TensorProto.FLOAT, ["batch size", "seq-len", 4]),
            _tensor("same", TensorProto.FLOAT, None),
        ],
        initializers=[w],
    )


@model
def control_flow() -> onnx.ModelProto:
    """If with two branches, a Loop and a Scan: nodes inside subgraphs count."""
    then_graph = helper.make_graph(
        [_node("Add", ["x", "x"], ["then_out"])],
        "then",
        [],
        [_tensor("then_out", TensorProto.FLOAT, [2])],
    )
    else_graph = helper.make_graph(
        [_node("Sub", ["x", "x"], ["else_out"]), _node("Abs", ["else_out"], ["else_abs"])],
        "else",
        [],
        [_tensor("else_abs", TensorProto.FLOAT, [2])],
    )
    loop_body = helper.make_graph(
        [_node("Identity", ["cond_in"], ["cond_out"]), _node("Add", ["acc_in", "x"], ["acc_out"])],
        "loop_body",
        [
            _tensor("i", TensorProto.INT64, []),
            _tensor("cond_in", TensorProto.BOOL, []),
            _tensor("acc_in", TensorProto.FLOAT, [2]),
        ],
        [_tensor("cond_out", TensorProto.BOOL, []), _tensor("acc_out", TensorProto.FLOAT, [2])],
    )
    scan_body = helper.make_graph(
        [_node("Add", ["sum_in", "row"], ["sum_out"]), _node("Identity", ["sum_out"], ["row_out"])],
        "scan_body",
        [_tensor("sum_in", TensorProto.FLOAT, [2]), _tensor("row", TensorProto.FLOAT, [2])],
        [_tensor("sum_out", TensorProto.FLOAT, [2]), _tensor("row_out", TensorProto.FLOAT, [2])],
    )
    trips = numpy_helper.from_array(np.array(3, np.int64), "trips")
    true = numpy_helper.from_array(np.array(True), "true")
    return make(
        [
            _node("ReduceSum", ["x"], ["total"], keepdims=0),
            _node("Greater", ["total", "zero"], ["positive"]),
            _node("If", ["positive"], ["branch"], then_branch=then_graph, else_branch=else_graph),
            _node("Loop", ["trips", "true", "x"], ["looped"], body=loop_body),
            _node("Scan", ["x", "rows"], ["summed", "scanned"], body=scan_body, num_scan_inputs=1),
        ],
        [_tensor("x", TensorProto.FLOAT, [2]), _tensor("rows", TensorProto.FLOAT, [3, 2])],
        [
            _tensor("branch", TensorProto.FLOAT, [2]),
            _tensor("looped", TensorProto.FLOAT, [2]),
            _tensor("summed", TensorProto.FLOAT, [2]),
            _tensor("scanned", TensorProto.FLOAT, [3, 2]),
        ],
        initializers=[trips, true, numpy_helper.from_array(np.array(0, np.float32), "zero")],
    )


@model
def ml_classifier() -> onnx.ModelProto:
    """ONNX-ML: LinearClassifier then ZipMap, whose output is seq(map(int64, tensor(float)))."""
    classifier = _node(
        "LinearClassifier",
        ["features"],
        ["label", "scores"],
        domain="ai.onnx.ml",
        classlabels_ints=[0, 1, 2],
        coefficients=[float(i % 5) / 5 for i in range(12)],
        intercepts=[0.1, 0.2, 0.3],
        post_transform="SOFTMAX",
    )
    zipmap = _node(
        "ZipMap", ["scores"], ["probabilities"], domain="ai.onnx.ml", classlabels_int64s=[0, 1, 2]
    )
    probabilities = helper.make_value_info(
        "probabilities",
        helper.make_sequence_type_proto(
            helper.make_map_type_proto(
                TensorProto.INT64, helper.make_tensor_type_proto(TensorProto.FLOAT, [])
            )
        ),
    )
    return make(
        [classifier, zipmap],
        [_tensor("features", TensorProto.FLOAT, ["N", 4])],
        [_tensor("label", TensorProto.INT64, ["N"]), probabilities],
        opsets={"": OPSET, "ai.onnx.ml": ML_OPSET},
        producer_name="skl2onnx-like",
    )


@model
def ml_map_input() -> onnx.ModelProto:
    """ONNX-ML: a map(string, float) input vectorized by DictVectorizer."""
    features = helper.make_value_info(
        "features",
        helper.make_map_type_proto(
            TensorProto.STRING, helper.make_tensor_type_proto(TensorProto.FLOAT, [])
        ),
    )
    return make(
        [
            _node(
                "DictVectorizer",
                ["features"],
                ["vector"],
                domain="ai.onnx.ml",
                string_vocabulary=["a", "b", "c"],
            )
        ],
        [features],
        [_tensor("vector", TensorProto.FLOAT, [1, 3])],
        opsets={"": OPSET, "ai.onnx.ml": ML_OPSET},
    )


@model
def sequences_and_optionals() -> onnx.ModelProto:
    """A sequence output and an optional output."""
    seq_type = helper.make_sequence_type_proto(
        helper.make_tensor_type_proto(TensorProto.FLOAT, [2])
    )
    opt_type = helper.make_optional_type_proto(
        helper.make_tensor_type_proto(TensorProto.FLOAT, [2])
    )
    return make(
        [_node("SequenceConstruct", ["a", "b"], ["pair"]), _node("Optional", ["a"], ["maybe"])],
        [_tensor("a", TensorProto.FLOAT, [2]), _tensor("b", TensorProto.FLOAT, [2])],
        [helper.make_value_info("pair", seq_type), helper.make_value_info("maybe", opt_type)],
    )


@model
def mixed_io() -> onnx.ModelProto:
    """float16, int8, bool and string inputs and outputs."""
    return make(
        [
            _node("Add", ["half", "half"], ["half_twice"]),
            _node("Identity", ["small"], ["small_copy"]),
            _node("Not", ["flag"], ["not_flag"]),
            _node("Identity", ["text"], ["text_copy"]),
        ],
        [
            _tensor("half", TensorProto.FLOAT16, [2, 2]),
            _tensor("small", TensorProto.INT8, [4]),
            _tensor("flag", TensorProto.BOOL, [3]),
            _tensor("text", TensorProto.STRING, [2]),
        ],
        [
            _tensor("half_twice", TensorProto.FLOAT16, [2, 2]),
            _tensor("small_copy", TensorProto.INT8, [4]),
            _tensor("not_flag", TensorProto.BOOL, [3]),
            _tensor("text_copy", TensorProto.STRING, [2]),
        ],
    )


@model
def external_weights() -> onnx.ModelProto:
    """Two weight tensors that `write` stores in an external-data file."""
    w1 = numpy_helper.from_array(np.arange(64, dtype=np.float32).reshape(8, 8), "w1")
    w2 = numpy_helper.from_array(np.ones((8, 2), np.float32), "w2")
    return make(
        [_node("MatMul", ["x", "w1"], ["h"]), _node("MatMul", ["h", "w2"], ["y"])],
        [_tensor("x", TensorProto.FLOAT, ["batch", 8])],
        [_tensor("y", TensorProto.FLOAT, ["batch", 2])],
        initializers=[w1, w2],
    )


@model
def contrib_ops() -> onnx.ModelProto:
    """A com.microsoft contrib op and int8 quantization, as quantized exports contain."""
    scale = numpy_helper.from_array(np.array(0.05, np.float32), "scale")
    zero = numpy_helper.from_array(np.array(0, np.int8), "zero_point")
    return make(
        [
            _node("QuantizeLinear", ["x", "scale", "zero_point"], ["q"]),
            _node("DequantizeLinear", ["q", "scale", "zero_point"], ["dq"]),
            _node("FusedMatMul", ["dq", "dq"], ["y"], domain="com.microsoft", alpha=1.0, transB=1),
        ],
        [_tensor("x", TensorProto.FLOAT, [3, 3])],
        [_tensor("y", TensorProto.FLOAT, [3, 3])],
        initializers=[scale, zero],
        opsets={"": OPSET, "com.microsoft": 1},
    )


@model
def ir_stamped_too_new() -> onnx.ModelProto:
    """What onnx 1.23's make_model writes by default: IR 14, but nothing that needs it."""
    return make(
        [_node("Relu", ["x"], ["y"])],
        [_tensor("x", TensorProto.FLOAT, [2])],
        [_tensor("y", TensorProto.FLOAT, [2])],
        ir_version=99,
    )


@model
def opset_too_new() -> onnx.ModelProto:
    """An ai.onnx opset beyond any released onnxruntime."""
    return make(
        [_node("Relu", ["x"], ["y"])],
        [_tensor("x", TensorProto.FLOAT, [2])],
        [_tensor("y", TensorProto.FLOAT, [2])],
        opsets={"": 999},
    )


@model
def new_dtype_new_ir() -> onnx.ModelProto:
    """A FLOAT6 initializer needs IR 14: lowering the IR number cannot fix it."""
    six = helper.make_tensor("six", TensorProto.FLOAT6E2M3, [2], vals=b"\x00\x01", raw=True)
    return make(
        [_node("Cast", ["six"], ["y"], to=TensorProto.FLOAT)],
        [],
        [_tensor("y", TensorProto.FLOAT, [2])],
        initializers=[six],
        ir_version=99,
    )


@model
def checker_fails_runtime_refuses() -> onnx.ModelProto:
    """A node reads a tensor nothing produces."""
    return make(
        [_node("Add", ["x", "ghost"], ["y"])],
        [_tensor("x", TensorProto.FLOAT, [2])],
        [_tensor("y", TensorProto.FLOAT, [2])],
    )


@model
def reshape_baked() -> onnx.ModelProto:
    """A "dynamic" seq dim that only works when batch*seq is a multiple of 128 (an exporter
    baked one length into a Reshape): synthetic feeds with default dims fail inside it."""
    target = numpy_helper.from_array(np.array([-1, 16, 8], np.int64), "target_shape")
    return make(
        [_node("Reshape", ["tokens", "target_shape"], ["blocks"], name="encoder/Reshape")],
        [_tensor("tokens", TensorProto.FLOAT, ["batch", "seq"])],
        [_tensor("blocks", TensorProto.FLOAT, [None, 16, 8])],
        initializers=[target],
    )


STANDARD_DTYPES = {
    "float32": TensorProto.FLOAT,
    "float64": TensorProto.DOUBLE,
    "float16": TensorProto.FLOAT16,
    "int8": TensorProto.INT8,
    "int16": TensorProto.INT16,
    "int32": TensorProto.INT32,
    "int64": TensorProto.INT64,
    "uint8": TensorProto.UINT8,
    "uint16": TensorProto.UINT16,
    "uint32": TensorProto.UINT32,
    "uint64": TensorProto.UINT64,
    "bool": TensorProto.BOOL,
    "string": TensorProto.STRING,
}
SPECIAL_DTYPES = {
    "bfloat16": TensorProto.BFLOAT16,
    "float8_e4m3fn": TensorProto.FLOAT8E4M3FN,
    "float8_e5m2": TensorProto.FLOAT8E5M2,
    "int4": TensorProto.INT4,
    "uint4": TensorProto.UINT4,
}


@model
def standard_dtypes() -> onnx.ModelProto:
    """One Identity per element type numpy and onnxruntime exchange directly."""
    return make(
        [_node("Identity", [f"in_{name}"], [f"out_{name}"]) for name in STANDARD_DTYPES],
        [_tensor(f"in_{name}", code, ["n"]) for name, code in STANDARD_DTYPES.items()],
        [_tensor(f"out_{name}", code, ["n"]) for name, code in STANDARD_DTYPES.items()],
    )


@model
def special_dtypes() -> onnx.ModelProto:
    """Types numpy lacks, in and out: each is cast to float and back."""
    nodes, inputs, outputs = [], [], []
    for name, code in SPECIAL_DTYPES.items():
        nodes.append(_node("Cast", [f"in_{name}"], [f"as_float_{name}"], to=TensorProto.FLOAT))
        nodes.append(_node("Cast", [f"as_float_{name}"], [f"out_{name}"], to=code))
        inputs.append(_tensor(f"in_{name}", code, ["n"]))
        outputs.append(_tensor(f"as_float_{name}", TensorProto.FLOAT, ["n"]))
        outputs.append(_tensor(f"out_{name}", code, ["n"]))
    return make(nodes, inputs, outputs, opsets={"": 21}, ir_version=10)


@model
def sequence_input() -> onnx.ModelProto:
    """A seq(tensor(float)) input concatenated into one tensor."""
    items = helper.make_value_info(
        "items",
        helper.make_sequence_type_proto(helper.make_tensor_type_proto(TensorProto.FLOAT, ["k"])),
    )
    return make(
        [_node("ConcatFromSequence", ["items"], ["joined"], axis=0)],
        [items],
        [_tensor("joined", TensorProto.FLOAT, [None])],
    )


@model
def optional_input() -> onnx.ModelProto:
    """An optional(tensor(float)) input, tested for presence."""
    maybe = helper.make_value_info(
        "maybe",
        helper.make_optional_type_proto(helper.make_tensor_type_proto(TensorProto.FLOAT, [3])),
    )
    return make(
        [_node("OptionalHasElement", ["maybe"], ["present"])],
        [maybe],
        [_tensor("present", TensorProto.BOOL, [])],
        opsets={"": 18},
    )


@model
def fixed_batch() -> onnx.ModelProto:
    """Batch fixed at 1 by the exporter."""
    return make(
        [_node("Relu", ["x"], ["y"])],
        [_tensor("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [_tensor("y", TensorProto.FLOAT, [1, 3, 8, 8])],
    )


@model
def two_inputs_shared_dims() -> onnx.ModelProto:
    """input_ids and attention_mask share [batch, seq], as transformer exports do."""
    return make(
        [
            _node("Cast", ["input_ids"], ["ids_float"], to=TensorProto.FLOAT),
            _node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
            _node("Mul", ["ids_float", "mask_float"], ["masked"]),
        ],
        [
            _tensor("input_ids", TensorProto.INT64, ["batch", "seq"]),
            _tensor("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        [_tensor("masked", TensorProto.FLOAT, ["batch", "seq"])],
    )


@model
def small_cnn() -> onnx.ModelProto:
    """A deeper float32 CNN (8 conv layers) for tolerance tests: big enough to accumulate
    rounding like a real network."""
    rng = np.random.RandomState(3)
    nodes, weights, previous, channels = [], [], "image", 3
    for layer in range(8):
        out_channels = 16 if layer < 7 else 10
        weights.append(
            numpy_helper.from_array(
                (
                    rng.standard_normal((out_channels, channels, 3, 3))
                    * np.sqrt(2.0 / (channels * 9))
                ).astype(np.float32),
                f"conv{layer}.weight",
            )
        )
        nodes.append(
            _node(
                "Conv",
                [previous, f"conv{layer}.weight"],
                [f"conv{layer}"],
                name=f"conv{layer}",
                pads=[1, 1, 1, 1],
            )
        )
        nodes.append(_node("Relu", [f"conv{layer}"], [f"relu{layer}"], name=f"relu{layer}"))
        previous, channels = f"relu{layer}", out_channels
    nodes.append(_node("GlobalAveragePool", [previous], ["pooled"], name="pool"))
    nodes.append(_node("Flatten", ["pooled"], ["logits"], name="flatten"))
    return make(
        nodes,
        [_tensor("image", TensorProto.FLOAT, ["batch", 3, 32, 32])],
        [_tensor("logits", TensorProto.FLOAT, ["batch", 10])],
        initializers=weights,
    )


@model
def square_matmul() -> onnx.ModelProto:
    """x @ x for a square [n, n] input: run time grows as n cubed (for slow-run tests)."""
    return make(
        [_node("MatMul", ["x", "x"], ["y"])],
        [_tensor("x", TensorProto.FLOAT, ["n", "n"])],
        [_tensor("y", TensorProto.FLOAT, ["n", "n"])],
    )


@model
def outer_product() -> onnx.ModelProto:
    """a[batch, 1] @ b[1, batch]: feeds of a few MB, an output of batch^2 floats (1 TiB at
    batch 2^19): a real out-of-memory failure that the synthetic-feed size guard lets through."""
    return make(
        [_node("MatMul", ["a", "b"], ["y"])],
        [
            _tensor("a", TensorProto.FLOAT, ["batch", 1]),
            _tensor("b", TensorProto.FLOAT, [1, "batch"]),
        ],
        [_tensor("y", TensorProto.FLOAT, ["batch", "batch"])],
    )


def large_chain(path: Path, blocks: int = 250, width: int = 320) -> Path:
    """A ~100 MB model: `blocks` x (MatMul, Add, Relu, Mul), 4 nodes and 3 initializers each
    (1,000 nodes over 750 initializers with the defaults). Written straight to `path`."""
    rng = np.random.default_rng(0)
    nodes, weights, previous = [], [], "x"
    for index in range(blocks):
        w, b, s = f"block{index}.weight", f"block{index}.bias", f"block{index}.scale"
        weights += [
            numpy_helper.from_array(rng.standard_normal((width, width), np.float32) * 0.05, w),
            numpy_helper.from_array(np.zeros(width, np.float32), b),
            numpy_helper.from_array(np.ones(width, np.float32), s),
        ]
        nodes += [
            _node("MatMul", [previous, w], [f"h{index}.mm"], name=f"block{index}/MatMul"),
            _node("Add", [f"h{index}.mm", b], [f"h{index}.add"], name=f"block{index}/Add"),
            _node("Relu", [f"h{index}.add"], [f"h{index}.relu"], name=f"block{index}/Relu"),
            _node("Mul", [f"h{index}.relu", s], [f"h{index}"], name=f"block{index}/Mul"),
        ]
        previous = f"h{index}"
    proto = make(
        nodes,
        [_tensor("x", TensorProto.FLOAT, ["batch", width])],
        [_tensor(previous, TensorProto.FLOAT, ["batch", width])],
        initializers=weights,
        name="large_chain",
    )
    onnx.save_model(proto, path)
    return path


@model
def vad_like() -> onnx.ModelProto:
    """Weights in Constant nodes inside If branches, and a scalar int64 sample rate, as a
    voice-activity model has: the branch taken depends on the rate's value."""

    def branch(name: str, scale: float) -> onnx.GraphProto:
        weight = numpy_helper.from_array(np.full((1, 4), scale, np.float32), f"{name}_w")
        return helper.make_graph(
            [
                _node("Constant", [], [f"{name}_weight"], value=weight),
                _node("MatMul", ["level", f"{name}_weight"], [f"{name}_speech"], name=name),
            ],
            name,
            [],
            [_tensor(f"{name}_speech", TensorProto.FLOAT, ["batch", 4])],
        )

    rate = numpy_helper.from_array(np.array(16000, np.int64), "rate")
    return make(
        [
            _node("ReduceMean", ["audio"], ["level"], axes=[1], keepdims=1),
            _node("Constant", [], ["expected_rate"], value=rate),
            _node("Equal", ["sr", "expected_rate"], ["is_16k"]),
            _node(
                "If",
                ["is_16k"],
                ["speech"],
                then_branch=branch("at16k", 1.0),
                else_branch=branch("other", -1.0),
            ),
        ],
        [
            _tensor("audio", TensorProto.FLOAT, ["batch", "samples"]),
            _tensor("sr", TensorProto.INT64, []),
        ],
        [_tensor("speech", TensorProto.FLOAT, ["batch", 4])],
    )


@model
def unnamed_nodes() -> onnx.ModelProto:
    """Nodes without names, as many exporters write: Conv+Relu fuse on the CPU, Reshape and
    Softmax stay."""
    rng = np.random.RandomState(5)
    weight = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
    shape = numpy_helper.from_array(np.array([1, -1], np.int64), "shape")
    return make(
        [
            _node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
            _node("Relu", ["c"], ["r"]),
            _node("Reshape", ["r", "shape"], ["s"]),
            _node("Softmax", ["s"], ["y"], name="softmax"),
        ],
        [_tensor("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [_tensor("y", TensorProto.FLOAT, [1, 256])],
        initializers=[weight, shape],
    )


def renamed(proto: onnx.ModelProto) -> onnx.ModelProto:
    """The same graph with every node, value and initializer renamed (another exporter)."""
    copy = onnx.ModelProto()
    copy.CopyFrom(proto)
    names: dict[str, str] = {}
    for index, node in enumerate(copy.graph.node):
        node.name = f"node{index}"
        for output in node.output:
            names[output] = f"value{len(names)}"
    for tensor in copy.graph.initializer:
        names[tensor.name] = f"weight{len(names)}"
        tensor.name = names[tensor.name]
    for node in copy.graph.node:
        node.input[:] = [names.get(t, t) for t in node.input]
        node.output[:] = [names.get(t, t) for t in node.output]
    for value in copy.graph.output:
        value.name = names.get(value.name, value.name)
    return copy
