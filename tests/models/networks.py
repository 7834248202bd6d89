"""Full-size network shapes with random weights, for GPU checks and benchmark scripts.

The layer structure and sizes match the real networks (so latency does too); the weights are
random, scaled to keep activations finite. Generated in a few seconds, so no download.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.models import make

_node = helper.make_node


class _Builder:
    """Collects nodes and initializers; each layer helper returns its output's name."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[onnx.TensorProto] = []

    def weight(self, name: str, shape: tuple[int, ...], scale: float) -> str:
        values = self.rng.standard_normal(shape, dtype=np.float32) * np.float32(scale)
        self.weights.append(numpy_helper.from_array(values, name))
        return name

    def constant(self, name: str, values: np.ndarray) -> str:
        self.weights.append(numpy_helper.from_array(values, name))
        return name

    def op(self, op_type: str, inputs: list[str], name: str, **attributes: object) -> str:
        self.nodes.append(_node(op_type, inputs, [name], name=name, **attributes))
        return name


def resnet50(seed: int = 0) -> onnx.ModelProto:
    """ResNet-50 as deployed (batch norm folded into conv biases): bottlenecks 3-4-6-3,
    25.5M parameters, input image[batch, 3, 224, 224], output logits[batch, 1000]."""
    net = _Builder(seed)

    def conv(name: str, x: str, cin: int, cout: int, *, kernel: int = 1, stride: int = 1) -> str:
        # A small gain on each block's last conv keeps the residual sum from growing.
        gain = 0.3 if name.endswith("conv3") else 1.4
        w = net.weight(
            f"{name}.weight", (cout, cin, kernel, kernel), gain / np.sqrt(cin * kernel**2)
        )
        b = net.constant(f"{name}.bias", np.zeros(cout, np.float32))
        pads = [kernel // 2] * 4
        return net.op(
            "Conv", [x, w, b], name, kernel_shape=[kernel] * 2, strides=[stride] * 2, pads=pads
        )

    x = net.op("Relu", [conv("stem.conv", "image", 3, 64, kernel=7, stride=2)], "stem.relu")
    x = net.op("MaxPool", [x], "stem.pool", kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4)
    channels = 64
    for stage, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512), strict=True)):
        for block in range(blocks):
            name = f"layer{stage + 1}.{block}"
            stride = 2 if block == 0 and stage > 0 else 1
            y = net.op("Relu", [conv(f"{name}.conv1", x, channels, width)], f"{name}.relu1")
            y = conv(f"{name}.conv2", y, width, width, kernel=3, stride=stride)
            y = conv(f"{name}.conv3", net.op("Relu", [y], f"{name}.relu2"), width, width * 4)
            if block == 0:
                x = conv(f"{name}.downsample", x, channels, width * 4, stride=stride)
            x = net.op("Relu", [net.op("Add", [y, x], f"{name}.add")], f"{name}.relu")
            channels = width * 4
    x = net.op("Flatten", [net.op("GlobalAveragePool", [x], "pool")], "flatten")
    fc_w = net.weight("fc.weight", (1000, channels), 1 / np.sqrt(channels))
    fc_b = net.constant("fc.bias", np.zeros(1000, np.float32))
    net.nodes.append(_node("Gemm", [x, fc_w, fc_b], ["logits"], name="fc", transB=1))
    return make(
        net.nodes,
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1000])],
        initializers=net.weights,
        name="resnet50",
    )


def encoder(layers: int = 12, width: int = 768, heads: int = 12, seed: int = 0) -> onnx.ModelProto:
    """A BERT-base-sized transformer encoder (post-norm, GELU): x[batch, seq, width] in,
    the same shape out; 85M parameters with the defaults. Opset 20 (Gelu)."""
    net = _Builder(seed)
    head = width // heads
    split = net.constant("shape.split", np.array([0, 0, heads, head], np.int64))
    merge = net.constant("shape.merge", np.array([0, 0, width], np.int64))
    scale = net.constant("attention.scale", np.array(1 / np.sqrt(head), np.float32))

    def linear(x: str, cin: int, cout: int, name: str) -> str:
        w = net.weight(f"{name}.weight", (cin, cout), 1 / np.sqrt(cin))
        b = net.constant(f"{name}.bias", np.zeros(cout, np.float32))
        return net.op("Add", [net.op("MatMul", [x, w], f"{name}.matmul"), b], name)

    def norm(x: str, name: str) -> str:
        gamma = net.constant(f"{name}.weight", np.ones(width, np.float32))
        beta = net.constant(f"{name}.bias", np.zeros(width, np.float32))
        return net.op("LayerNormalization", [x, gamma, beta], name, axis=-1)

    x = "x"
    for layer in range(layers):
        name = f"layer{layer}"
        q, k, v = (
            net.op("Reshape", [linear(x, width, width, f"{name}.{p}"), split], f"{name}.{p}.heads")
            for p in ("query", "key", "value")
        )
        q = net.op("Transpose", [q], f"{name}.query.t", perm=[0, 2, 1, 3])
        k = net.op("Transpose", [k], f"{name}.key.t", perm=[0, 2, 3, 1])
        v = net.op("Transpose", [v], f"{name}.value.t", perm=[0, 2, 1, 3])
        scores = net.op(
            "Mul", [net.op("MatMul", [q, k], f"{name}.scores"), scale], f"{name}.scaled"
        )
        probs = net.op("Softmax", [scores], f"{name}.softmax", axis=-1)
        context = net.op("MatMul", [probs, v], f"{name}.context")
        context = net.op("Transpose", [context], f"{name}.context.t", perm=[0, 2, 1, 3])
        context = net.op("Reshape", [context, merge], f"{name}.context.merged")
        attended = linear(context, width, width, f"{name}.output")
        x = norm(net.op("Add", [attended, x], f"{name}.residual1"), f"{name}.norm1")
        hidden = net.op("Gelu", [linear(x, width, 4 * width, f"{name}.ffn1")], f"{name}.gelu")
        ffn = linear(hidden, 4 * width, width, f"{name}.ffn2")
        x = norm(net.op("Add", [ffn, x], f"{name}.residual2"), f"{name}.norm2")
    net.nodes.append(_node("Identity", [x], ["hidden"], name="output"))
    return make(
        net.nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", width])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "seq", width])],
        initializers=net.weights,
        opsets={"": 20},
        ir_version=9,
        name="encoder",
    )
