"""Models as third parties make them: exported from torch, converted by skl2onnx, quantized by
onnxruntime's quantizer, or shaped like published ones (weights in `Constant` nodes inside
`If`/`Loop` bodies, scalar config inputs).

Each `ThirdParty` says how it is built and which inputs a user would give (`partial`). The
exporters come with the `examples` extra; `build()` raises pytest's skip when one is missing
(CI installs it, so there nothing is skipped). Each model builds in well under a second but
the torch dynamo export (about 3 s); the whole set in about 10 s, once per test session.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.models import build, make

_node = helper.make_node
_tensor = helper.make_tensor_value_info


@dataclass(frozen=True)
class ThirdParty:
    """A third-party-style model: its builder, what it needs, and what a user would give."""

    build: Callable[[Path], Path]  # writes the model into the folder, returns its path
    needs: tuple[str, ...] = ()  # modules of the examples extra
    partial: dict[str, Any] = field(default_factory=dict)  # feeds a user gives (the rest synthetic)
    values: dict[str, Any] = field(default_factory=dict)  # values a user sets (--value)


def _torch_cnn(folder: Path) -> Path:
    """A small CNN from torch's TorchScript exporter, dynamic batch (what most tutorials do)."""
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(16, 10),
    ).eval()
    path = folder / "torch_cnn.onnx"
    torch.onnx.export(
        net,
        (torch.zeros(1, 3, 32, 32),),
        str(path),
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        dynamo=False,
    )
    return path


def _torch_detector(folder: Path) -> Path:
    """A detector head from torch's dynamo exporter: free height and width, and output dims
    that are expressions of them (boxes [batch, (h//8)*(w//8), 6]), as YOLO-style exports
    have."""
    import torch

    class Head(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = torch.nn.Sequential(
                torch.nn.Conv2d(3, 8, 3, stride=2, padding=1),
                torch.nn.ReLU(),
                torch.nn.Conv2d(8, 16, 3, stride=2, padding=1),
                torch.nn.ReLU(),
                torch.nn.Conv2d(16, 6, 3, stride=2, padding=1),
            )

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            grid = self.backbone(images)  # [batch, 6, h/8, w/8]
            return grid.flatten(2).transpose(1, 2).sigmoid()  # [batch, cells, 6]

    torch.manual_seed(0)
    path = folder / "torch_detector.onnx"
    batch, height, width = (torch.export.Dim(n, min=1, max=4096) for n in ("batch", "h", "w"))
    torch.onnx.export(
        Head().eval(),
        (torch.zeros(1, 3, 64, 96),),
        str(path),
        input_names=["images"],
        output_names=["boxes"],
        dynamic_shapes={"images": {0: batch, 2: 8 * height, 3: 8 * width}},
        dynamo=True,
        verbose=False,
    )
    return path


def _transformer_encoder(folder: Path) -> Path:
    """A BERT-style encoder: int64 token ids and an attention mask, both [batch, seq]."""
    import torch

    class Encoder(torch.nn.Module):
        # Attention written out, as BERT's code does (torch's MultiheadAttention exports with
        # the example's batch and sequence baked into a Reshape).
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(1000, 32)
            self.qkv = torch.nn.Linear(32, 96)
            self.norm = torch.nn.LayerNorm(32)
            self.pool = torch.nn.Linear(32, 32)

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> Any:
            x = self.embed(input_ids)
            batch, sequence = input_ids.shape
            q, k, v = self.qkv(x).reshape(batch, sequence, 3, 4, 8).permute(2, 0, 3, 1, 4)
            scores = q @ k.transpose(-1, -2) / 8**0.5
            scores = scores + (1.0 - attention_mask[:, None, None, :].float()) * -10000.0
            attended = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, sequence, 32)
            hidden = self.norm(x + attended)
            return hidden, torch.tanh(self.pool(hidden[:, 0]))

    torch.manual_seed(0)
    path = folder / "transformer_encoder.onnx"
    ids = torch.ones(2, 16, dtype=torch.int64)
    torch.onnx.export(
        Encoder().eval(),
        (ids, torch.ones_like(ids)),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["last_hidden_state", "pooler_output"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "sequence"},
            "attention_mask": {0: "batch", 1: "sequence"},
            "last_hidden_state": {0: "batch", 1: "sequence"},
            "pooler_output": {0: "batch"},
        },
        dynamo=False,
    )
    return path


def _loop_with_constants(folder: Path) -> Path:
    """A `Loop` whose body holds its weights as `Constant` nodes; the trip count is a scalar
    input (`steps`), as in iterative decoders and RNN-style exports."""
    weight = numpy_helper.from_array(np.eye(4, dtype=np.float32) * 0.5, "w")
    body = helper.make_graph(
        [
            _node("Constant", [], ["weight"], value=weight),
            _node("MatMul", ["state_in", "weight"], ["product"]),
            _node("Tanh", ["product"], ["state_out"]),
            _node("Identity", ["keep_going"], ["cond_out"]),
        ],
        "body",
        [
            _tensor("iteration", TensorProto.INT64, []),
            _tensor("keep_going", TensorProto.BOOL, []),
            _tensor("state_in", TensorProto.FLOAT, ["batch", 4]),
        ],
        [
            _tensor("cond_out", TensorProto.BOOL, []),
            _tensor("state_out", TensorProto.FLOAT, ["batch", 4]),
        ],
    )
    proto = make(
        [
            _node("Constant", [], ["true"], value=numpy_helper.from_array(np.array(True), "t")),
            _node("Loop", ["steps", "true", "state"], ["final"], body=body),
        ],
        [
            _tensor("state", TensorProto.FLOAT, ["batch", 4]),
            _tensor("steps", TensorProto.INT64, []),
        ],
        [_tensor("final", TensorProto.FLOAT, ["batch", 4])],
        name="loop_with_constants",
    )
    return _save(proto, folder, "loop_with_constants")


def _scalar_config(folder: Path) -> Path:
    """Scores with two config inputs: a float temperature (a scalar) and an int64 `k` ([1], as
    TopK wants): the top-k probabilities of a classifier or a sampler."""
    proto = make(
        [
            _node("Div", ["scores", "temperature"], ["scaled"]),
            _node("Softmax", ["scaled"], ["probabilities"], axis=-1),
            _node("TopK", ["probabilities", "k"], ["top", "indices"], axis=-1),
        ],
        [
            _tensor("scores", TensorProto.FLOAT, ["batch", "classes"]),
            _tensor("temperature", TensorProto.FLOAT, []),
            _tensor("k", TensorProto.INT64, [1]),
        ],
        [
            _tensor("top", TensorProto.FLOAT, ["batch", "k_out"]),
            _tensor("indices", TensorProto.INT64, ["batch", "k_out"]),
        ],
        name="scalar_config",
    )
    return _save(proto, folder, "scalar_config")


def _sklearn_pipeline(folder: Path) -> Path:
    """skl2onnx's scaler + logistic regression: a label tensor and probabilities as a
    sequence of maps (ZipMap), the most common scikit-learn export."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    proto = to_onnx(pipeline, x[:1], target_opset={"": 17, "ai.onnx.ml": 3})
    return _save(proto, folder, "sklearn_pipeline")


def _sklearn_strings(folder: Path) -> Path:
    """A string input (one-hot encoded category) and string labels: tensors of strings in
    and out, which synthetic feeds and every view must handle."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    colors = np.array([["red"], ["green"], ["blue"], ["red"], ["green"], ["blue"]], dtype=object)
    labels = np.array(["warm", "cool", "cool", "warm", "cool", "cool"], dtype=object)
    pipeline = make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression())
    pipeline.fit(colors, labels)
    proto = to_onnx(
        pipeline, colors[:1], target_opset={"": 17, "ai.onnx.ml": 3}, options={"zipmap": False}
    )
    return _save(proto, folder, "sklearn_strings")


def _int8_dynamic(folder: Path) -> Path:
    """The transformer encoder after onnxruntime's `quantize_dynamic`: int8 weights,
    DynamicQuantizeLinear and MatMulInteger."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source = _built(folder, "transformer_encoder")
    path = folder / "int8_dynamic.onnx"
    quantize_dynamic(source, path, weight_type=QuantType.QInt8)
    return path


def _int8_static(folder: Path) -> Path:
    """The torch CNN after onnxruntime's `quantize_static` in the QOperator format: QLinearConv
    and com.microsoft contrib ops (QLinearGlobalAveragePool, ...), calibrated on random images."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        quantize_static,
    )

    class Images(CalibrationDataReader):
        def __init__(self) -> None:
            rng = np.random.default_rng(0)
            self.batches = iter(
                [{"input": rng.random((1, 3, 32, 32), dtype=np.float32)} for _ in range(4)]
            )

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    source = _built(folder, "torch_cnn")
    path = folder / "int8_static.onnx"
    quantize_static(source, path, Images(), quant_format=QuantFormat.QOperator)
    return path


def _save(proto: onnx.ModelProto, folder: Path, name: str) -> Path:
    path = folder / f"{name}.onnx"
    onnx.save(proto, path)
    return path


def _built(folder: Path, name: str) -> Path:
    """`name` built into `folder` once (quantized models start from another one)."""
    path = folder / f"{name}.onnx"
    return path if path.is_file() else MODELS[name].build(folder)


MODELS: dict[str, ThirdParty] = {
    "torch_cnn": ThirdParty(
        _torch_cnn, ("torch",), partial={"input": np.ones((2, 3, 32, 32), np.float32)}
    ),
    "torch_detector": ThirdParty(
        _torch_detector,
        ("torch", "onnxscript"),
        partial={"images": np.ones((1, 3, 64, 128), np.float32)},
    ),
    "transformer_encoder": ThirdParty(
        _transformer_encoder,
        ("torch",),
        partial={"input_ids": np.arange(24, dtype=np.int64).reshape(2, 12)},
    ),
    "loop_with_constants": ThirdParty(_loop_with_constants, values={"steps": 3}),
    "vad_like": ThirdParty(
        lambda folder: _save(build("vad_like"), folder, "vad_like"), values={"sr": 16000}
    ),
    "scalar_config": ThirdParty(_scalar_config, values={"temperature": 0.7, "k": [3]}),
    "sklearn_pipeline": ThirdParty(
        _sklearn_pipeline, ("skl2onnx", "sklearn"), partial={"X": np.zeros((5, 4), np.float32)}
    ),
    "sklearn_strings": ThirdParty(
        _sklearn_strings, ("skl2onnx", "sklearn"), partial={"X": np.array([["red"], ["blue"]])}
    ),
    "int8_dynamic": ThirdParty(
        _int8_dynamic, ("torch",), partial={"attention_mask": np.ones((1, 8), np.int64)}
    ),
    "int8_static": ThirdParty(_int8_static, ("torch",), values={"input": 0.5}),
}


@functools.cache
def missing(name: str) -> str | None:
    """The first module `name` needs that is not installed, or None."""
    return next((m for m in MODELS[name].needs if importlib.util.find_spec(m) is None), None)
