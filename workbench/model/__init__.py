"""Loading and inspecting models.

Parsing, the graph walk, external data, the signature, element types and compatibility with
the installed runtime; `model.py` holds `Model`.

Kept free of imports: its modules sit at different layers (CONTRIBUTING.md).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    import onnx

    from workbench.model.model import Model

# What every public function that takes a model accepts; `workbench.load()` turns it into one.
ModelLike = Union[str, "os.PathLike[str]", bytes, "onnx.ModelProto", "Model"]
