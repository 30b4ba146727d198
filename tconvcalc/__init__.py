"""tconvcalc: shape and arithmetic calculator for transposed convolutions, exactly as PyTorch 2.13.

Every name is imported on first use: the size arithmetic is pure Python, the engine is NumPy, and the console
script (:mod:`tconvcalc.entry`) installs its Ctrl-C handler before anything that takes time has been imported.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tconvcalc.core.errors import ExitStatus, LayerError, ResourceError, TConvError, UsageError
    from tconvcalc.core.layer import LayerShape, conv_layer, conv_transpose_layer
    from tconvcalc.core.sizes import conv_output_size, conv_transpose_output_size, output_padding_for_size
    from tconvcalc.core.tensor import TensorShape
    from tconvcalc.engine.functional import conv, conv_transpose
    from tconvcalc.engine.matrix import SparseMatrix, conv_matrix

__version__ = "0.1.0"

_LAZY = {  # name -> module; nothing is imported until a name is used
    "ExitStatus": "tconvcalc.core.errors",
    "LayerError": "tconvcalc.core.errors",
    "ResourceError": "tconvcalc.core.errors",
    "TConvError": "tconvcalc.core.errors",
    "UsageError": "tconvcalc.core.errors",
    "LayerShape": "tconvcalc.core.layer",
    "TensorShape": "tconvcalc.core.tensor",
    "conv_layer": "tconvcalc.core.layer",
    "conv_transpose_layer": "tconvcalc.core.layer",
    "conv_output_size": "tconvcalc.core.sizes",
    "conv_transpose_output_size": "tconvcalc.core.sizes",
    "output_padding_for_size": "tconvcalc.core.sizes",
    "conv_transpose": "tconvcalc.engine.functional",  # NumPy
    "conv": "tconvcalc.engine.functional",
    "conv_matrix": "tconvcalc.engine.matrix",
    "SparseMatrix": "tconvcalc.engine.matrix",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tconvcalc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


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
