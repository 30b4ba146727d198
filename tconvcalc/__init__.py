"""tconvcalc: shape and arithmetic calculator for transposed convolutions, exactly as PyTorch 2.13.

The size arithmetic imported here is pure Python; the NumPy engine is loaded on first use.
"""

from __future__ import annotations

from tconvcalc.errors import ExitStatus, LayerError, ResourceError, TConvError, UsageError
from tconvcalc.layer import LayerShape, TensorShape, conv_layer, conv_transpose_layer
from tconvcalc.shapes import conv_output_size, conv_transpose_output_size, output_padding_for_size

__version__ = "0.1.0"

__all__ = [
    "ExitStatus",
    "LayerError",
    "LayerShape",
    "ResourceError",
    "TConvError",
    "TensorShape",
    "UsageError",
    "__version__",
    "conv_layer",
    "conv_output_size",
    "conv_transpose_layer",
    "conv_transpose_output_size",
    "output_padding_for_size",
]
