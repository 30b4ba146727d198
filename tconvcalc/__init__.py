"""tconvcalc: shape and arithmetic calculator for transposed convolutions, exactly as PyTorch 2.13.

The size arithmetic imported here is pure Python; the NumPy engine is loaded on first use.
"""

from __future__ import annotations

from typing import Any

from tconvcalc.core.errors import ExitStatus, LayerError, ResourceError, TConvError, UsageError
from tconvcalc.core.layer import LayerShape, conv_layer, conv_transpose_layer
from tconvcalc.core.sizes import conv_output_size, conv_transpose_output_size, output_padding_for_size
from tconvcalc.core.tensor import TensorShape

__version__ = "0.1.0"

_LAZY = {  # NumPy-backed names, imported on first use so that `import tconvcalc` stays light
    "conv_transpose": "tconvcalc.engine.functional",
    "conv": "tconvcalc.engine.functional",
    "conv_matrix": "tconvcalc.engine.matrix",
    "SparseMatrix": "tconvcalc.engine.matrix",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tconvcalc' has no attribute {name!r}")


__all__ = [
    "ExitStatus",
    "LayerError",
    "LayerShape",
    "ResourceError",
    "SparseMatrix",
    "TConvError",
    "TensorShape",
    "UsageError",
    "__version__",
    "conv",
    "conv_layer",
    "conv_matrix",
    "conv_output_size",
    "conv_transpose",
    "conv_transpose_layer",
    "conv_transpose_output_size",
    "output_padding_for_size",
]
