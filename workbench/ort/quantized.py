"""What onnxruntime's quantizer writes: its ops and the names it gives tensors.

Kept here rather than imported from `onnxruntime.quantization`, whose import takes about
a second (the values are those of its `quant_utils`).
"""

from __future__ import annotations

# Ops a quantized model holds (QDQ, QOperator and dynamic quantization).
QUANTIZED_OPS = frozenset({
    "MatMulInteger", "ConvInteger", "DynamicQuantizeLinear", "QLinearMatMul", "QLinearConv",
    "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeMatMul", "MatMulIntegerToFloat",
    "QGemm", "QAttention", "QLinearAdd", "QLinearMul",
})  # fmt: skip
QDQ_OPS = ("QuantizeLinear", "DequantizeLinear")
# QOperator ops consume and produce integer tensors under new names.
QOPERATOR_PREFIXES = ("QLinear", "QGemm", "QAttention", "QEmbedLayerNormalization")
QUANT_INPUT_SUFFIX = "_QuantizeLinear_Input"  # a QDQ graph output's producer output, renamed
DEQUANT_OUTPUT_SUFFIX = "_DequantizeLinear_Output"  # a dequantized activation
