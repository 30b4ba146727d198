"""The NumPy engine's public functions: ``conv_transpose`` and ``conv`` with the semantics of ``torch.nn.functional``.

``conv_transpose(y, w)`` is the adjoint of ``conv(x, w)`` with the same weight tensor: with ``W`` the matrix
of the convolution, ``conv(x) = W x`` and ``conv_transpose(y) = W^T y``. Three further views compute the same
numbers for teaching and cross-checking (:mod:`tconvcalc.engine.views`); the fast path
(:mod:`tconvcalc.engine.transpose`) is one GEMM per (batch, group) plus a col2im pass of flat shifted adds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tconvcalc.core import sizes
from tconvcalc.core.budget import CALL_OVERHEAD_BYTES, DEFAULT_MEMORY_LIMIT, check_memory
from tconvcalc.core.errors import UsageError
from tconvcalc.engine import transpose, views
from tconvcalc.engine.matrix import MatrixResult
from tconvcalc.engine.problem import Problem, conv_forward, conv_memory, plan

METHODS = ("fast", "scatter", "matrix", "zero-insert")

# Inf and NaN in the data, or products past float64's range, are results like any other (torch computes them
# without a word): NumPy's RuntimeWarnings about them are silenced where the engine computes.
quiet = np.errstate(all="ignore")


def conv_transpose_memory(p: Problem, method: str) -> int:
    """Peak bytes ``conv_transpose`` allocates for ``p`` with ``method``, converting the operands included;
    checked against the memory budget before anything is allocated."""
    estimate = {
        "fast": transpose.fast_memory,
        "scatter": views.scatter_memory,
        "matrix": views.matrix_memory,
        "zero-insert": views.zero_insert_memory,
    }.get(method)
    if estimate is None:
        raise UsageError(f"unknown method {method!r}; choose fast, scatter, matrix or zero-insert")
    return CALL_OVERHEAD_BYTES + p.conversion_bytes() + estimate(p)


@quiet
def conv_transpose(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: sizes.IntArg = 1,
    padding: sizes.PaddingArg = 0,
    output_padding: sizes.IntArg = 0,
    groups: int = 1,
    dilation: sizes.IntArg = 1,
    *,
    method: str = "fast",
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
) -> np.ndarray:
    """Transposed convolution with the semantics and argument order of ``F.conv_transpose{1,2,3}d``.

    ``weight`` is ``(C_in, C_out/groups, *k)``; the dimension is ``weight.ndim - 2``; input is
    ``(N, C_in, *spatial)`` or unbatched ``(C_in, *spatial)``. float32 stays float32, anything else is float64.
    ``method`` picks one of the equivalent computations in :data:`METHODS`.

    >>> conv_transpose([[[[0, 1], [2, 3]]]], [[[[0, 1], [2, 3]]]]).astype(int).tolist()
    [[[[0, 0, 1], [0, 4, 6], [4, 12, 9]]]]
    """
    p = plan("conv_transpose", input, weight, bias, stride, padding, output_padding, dilation, groups)
    check_memory(
        conv_transpose_memory(p, method),
        memory_limit,
        "conv_transpose" if method == "fast" else f"conv_transpose --method {method}",
    )
    p = p.converted()
    if method == "fast":
        return p.finish(transpose.conv_transpose_fast(p))
    return p.finish(views.conv_transpose_view(p, method, None))


@quiet
def conv(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: sizes.IntArg = 1,
    padding: sizes.PaddingArg = 0,
    dilation: sizes.IntArg = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
) -> np.ndarray:
    """Convolution (cross-correlation) with the semantics and argument order of ``F.conv{1,2,3}d``.

    ``weight`` is ``(C_out, C_in/groups, *k)``; ``padding`` may be ``'same'`` or ``'valid'``. ``padding_mode``
    is ``nn.Conv{n}d``'s: the input padded as ``F.pad(mode=...)`` (``'zeros'``, ``'reflect'``, ``'replicate'``,
    ``'circular'``) before an unpadded correlation.

    >>> conv([[0., 1, 2, 3]], [[[1., 1]]]).tolist()
    [[1.0, 3.0, 5.0]]
    """
    p = plan("conv", input, weight, bias, stride, padding, 0, dilation, groups, padding_mode)
    check_memory(CALL_OVERHEAD_BYTES + p.conversion_bytes() + conv_memory(p), memory_limit, "conv")
    q = p.converted()
    return q.finish(conv_forward(q))


@quiet
def verify(result: MatrixResult, seed: int = 0, memory_limit: int | None = DEFAULT_MEMORY_LIMIT) -> float:
    """Multiply by a random tensor and compare with ``conv`` (or ``conv_transpose``); the largest difference."""
    rng = np.random.default_rng(seed)
    w = result.weight.astype(np.float64)
    pads = tuple(pb for pb, _ in result.padding)
    if result.transposed:
        y = rng.standard_normal(result.output_shape)
        expected = conv_transpose(
            y,
            w,
            None,
            result.stride,
            pads,
            result.output_padding,
            result.groups,
            result.dilation,
            memory_limit=memory_limit,
        )
        got = result.matrix.matvec(y.ravel())
    else:
        x = rng.standard_normal(result.input_shape)
        expected = conv(
            x, w, None, result.stride, result.padding, result.dilation, result.groups, memory_limit=memory_limit
        )
        got = result.matrix.matvec(x.ravel())
    return float(np.abs(got - expected.ravel()).max(initial=0.0))
