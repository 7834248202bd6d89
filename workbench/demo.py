"""The built-in demo model: a small, deterministic CNN image classifier with random weights."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from workbench._version import __version__
from workbench.cache import cache_dir

if TYPE_CHECKING:
    import numpy as np
    import onnx

# Bump when the graph changes, so cached copies are rebuilt under a new name.
DEMO_REVISION = 1
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# IR 8 / opset 17 are read by every onnxruntime this package supports.
_IR_VERSION, _OPSET = 8, 17


def demo_model() -> Path:
    """Path to the demo model, written to the user cache on first use.

    `tinynet`: input `image` float32 [batch, 3, 32, 32]; outputs `logits` and
    `probabilities` float32 [batch, 10]. Conv/BatchNorm/Relu/MaxPool stages, a residual
    block, global pooling and a Gemm head, about 15k parameters (60 KB).
    """
    data = build_demo_model().SerializeToString()
    path = cache_dir(f"demo-r{DEMO_REVISION}") / "tinynet.onnx"
    if not path.is_file() or path.read_bytes() != data:
        temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        temporary.write_bytes(data)
        temporary.replace(path)  # atomic: concurrent kernels never see half a file
    return path


def build_demo_model() -> onnx.ModelProto:
    """The demo model as a ModelProto; the same bytes on every call and machine."""
    import numpy as np  # noqa: PLC0415  (heavy: loads on first use)
    from onnx import TensorProto, helper, numpy_helper  # noqa: PLC0415  (heavy: loads on first use)

    # The legacy RandomState stream is frozen across numpy versions: weights never drift.
    rng = np.random.RandomState(20261127)
    weights: list[onnx.TensorProto] = []

    def weight(name: str, *shape: int, scale: float = 0.1) -> str:
        array = (rng.standard_normal(shape) * scale).astype(np.float32)
        weights.append(numpy_helper.from_array(array, name))
        return name

    def constant(name: str, array: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(array.astype(np.float32), name))
        return name

    node = helper.make_node
    nodes = [
        node(
            "Conv",
            ["image", weight("stem.conv.weight", 16, 3, 3, 3), weight("stem.conv.bias", 16)],
            ["stem.conv"],
            name="stem/Conv",
            pads=[1, 1, 1, 1],
        ),
        node(
            "BatchNormalization",
            [
                "stem.conv",
                constant("stem.bn.scale", 1 + 0.1 * rng.standard_normal(16)),
                weight("stem.bn.bias", 16),
                weight("stem.bn.mean", 16),
                constant("stem.bn.var", 1 + rng.random_sample(16)),
            ],
            ["stem.bn"],
            name="stem/BatchNormalization",
            epsilon=1e-5,
        ),
        node("Relu", ["stem.bn"], ["stem.relu"], name="stem/Relu"),
        node(
            "MaxPool",
            ["stem.relu"],
            ["stem.pool"],
            name="stem/MaxPool",
            kernel_shape=[2, 2],
            strides=[2, 2],
        ),
        node(
            "Conv",
            [
                "stem.pool",
                weight("stage1.conv.weight", 32, 16, 3, 3, scale=0.05),
                weight("stage1.conv.bias", 32),
            ],
            ["stage1.conv"],
            name="stage1/Conv",
            pads=[1, 1, 1, 1],
        ),
        node("Relu", ["stage1.conv"], ["stage1.relu"], name="stage1/Relu"),
        node(
            "MaxPool",
            ["stage1.relu"],
            ["stage1.pool"],
            name="stage1/MaxPool",
            kernel_shape=[2, 2],
            strides=[2, 2],
        ),
        node(
            "Conv",
            [
                "stage1.pool",
                weight("block.conv.weight", 32, 32, 3, 3, scale=0.03),
                weight("block.conv.bias", 32),
            ],
            ["block.conv"],
            name="block/Conv",
            pads=[1, 1, 1, 1],
        ),
        node("Relu", ["block.conv"], ["block.relu"], name="block/Relu"),
        node("Add", ["stage1.pool", "block.relu"], ["block.add"], name="block/Add"),
        node("GlobalAveragePool", ["block.add"], ["head.pool"], name="head/GlobalAveragePool"),
        node("Flatten", ["head.pool"], ["head.flat"], name="head/Flatten", axis=1),
        node(
            "Gemm",
            ["head.flat", weight("head.fc.weight", 10, 32), weight("head.fc.bias", 10)],
            ["logits"],
            name="head/Gemm",
            transB=1,
        ),
        node("Softmax", ["logits"], ["probabilities"], name="head/Softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tinynet",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 32, 32])],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10]),
        ],
        initializer=weights,
        doc_string="Stem, one stage, a residual block and a linear head.",
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", _OPSET)],
        ir_version=_IR_VERSION,
        producer_name="onnx-workbench",
        producer_version=__version__,
        doc_string=(
            "TinyNet: a small CNN image classifier for 32x32 RGB images, generated by "
            "onnx-workbench for demos and tests. Its weights are random: the predictions "
            "mean nothing, the shapes and timings do."
        ),
        domain="ai.onnx-workbench.demo",
        model_version=DEMO_REVISION,
    )
    helper.set_model_props(
        model,
        {
            "author": "onnx-workbench",
            "license": "MIT",
            "classes": ",".join(CLASSES),
            "preprocessing": "RGB, NCHW, float32 scaled to [0, 1]",
        },
    )
    return model
