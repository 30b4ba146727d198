"""What ``tconvcalc run`` computes: the layout rules for bare tensors, output_size, methods and ``--check``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tconvcalc.core import sizes
from tconvcalc.core.budget import DEFAULT_MEMORY_LIMIT
from tconvcalc.core.errors import LayerError, UsageError
from tconvcalc.core.layer import LayerShape, conv_transpose_layer
from tconvcalc.core.tensor import TensorShape
from tconvcalc.engine import functional, problem


@dataclass(frozen=True)
class RunResult:
    """The output (in the input's layout), the layer it came from, and the cross-checks made."""

    output: np.ndarray
    layer: LayerShape
    method: str
    input: np.ndarray  # as given (bare or not)
    weight: np.ndarray
    checks: dict[str, float] = field(default_factory=dict)  # method -> max |difference| from the fast path
    tolerance: float = 0.0

    @property
    def check_passed(self) -> bool:
        return all(diff <= self.tolerance for diff in self.checks.values())


def infer_dims(weight: np.ndarray, dims: int | None) -> int:
    """``--dims`` if given, else ``weight.ndim - 2`` for a full weight, else the bare kernel's ndim."""
    if dims is not None:
        return dims
    guess = weight.ndim - 2 if weight.ndim >= 3 else weight.ndim
    if not 1 <= guess <= 3:
        raise UsageError(f"cannot tell the dimension from a weight of shape {weight.shape}; give --dims")
    return guess


def _layout(x: np.ndarray, w: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Bare tensors (``dims`` axes) become one channel; returns (input, weight, input_was_bare)."""
    if w.ndim == dims:
        w = w.reshape(1, 1, *w.shape)
    elif w.ndim != dims + 2:
        raise LayerError(
            f"weight of shape {w.shape}: with --dims {dims} give {dims} axes (a bare kernel) or "
            f"{dims + 2} axes (PyTorch's layout)"
        )
    bare = x.ndim == dims
    if bare:
        x = x.reshape(1, *x.shape)
    elif x.ndim not in (dims + 1, dims + 2):
        raise LayerError(
            f"input of shape {x.shape}: with --dims {dims} give {dims}, {dims + 1} (C, ...) or "
            f"{dims + 2} (N, C, ...) axes"
        )
    return x, w, bare


def _tolerance(dtype: np.dtype[Any], scale: float) -> float:
    eps = 1e-5 if dtype == np.float32 else 1e-12
    return eps * max(1.0, scale)


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """The largest |a - b|, where the same NaN or the same infinity in both counts as agreement.

    >>> difference(np.array([np.nan, np.inf, 1.0]), np.array([np.nan, np.inf, 1.5]))
    0.5
    """
    a, b = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(invalid="ignore"):
        agree = (a == b) | (np.isnan(a) & np.isnan(b))
        return float(np.where(agree, 0.0, np.abs(a - b)).max(initial=0.0))


@functional.quiet
def run(
    input: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None = None,
    *,
    dims: int | None = None,
    transposed: bool = True,
    stride: sizes.IntArg = 1,
    padding: sizes.PaddingArg = 0,
    output_padding: sizes.IntArg = 0,
    output_size: Sequence[int] | None = None,
    dilation: sizes.IntArg = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    method: str = "fast",
    check: bool = False,
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
) -> RunResult:
    """Run a ConvTranspose (or, with ``transposed=False``, a Conv) on tensors in the CLI's layouts."""
    n = infer_dims(weight, dims)
    x, w, bare = _layout(input, weight, n)
    if transposed:
        if padding_mode != "zeros":  # torch's refusal, before any work
            problem.prepare(
                "conv_transpose", x, w, bias, stride, padding, output_padding, dilation, groups, padding_mode
            )
        if output_size is not None:
            batched = x.ndim == n + 2
            source = TensorShape(tuple(x.shape[-n:]), x.shape[-n - 1], x.shape[0] if batched else None)
            derived = conv_transpose_layer(
                source, w.shape[2:], stride, padding, output_padding, dilation, groups, w.shape[1] * groups, output_size
            )
            output_padding = derived.output_padding
        out = functional.conv_transpose(
            x, w, bias, stride, padding, output_padding, groups, dilation, method=method, memory_limit=memory_limit
        )
        prepared = problem.prepare("conv_transpose", x, w, bias, stride, padding, output_padding, dilation, groups)
    else:
        if method != "fast":
            raise UsageError(f"--method {method} explains the transposed convolution; the forward one has one method")
        out = functional.conv(
            x, w, bias, stride, padding, dilation, groups, padding_mode=padding_mode, memory_limit=memory_limit
        )
        prepared = problem.prepare("conv", x, w, bias, stride, padding, 0, dilation, groups, padding_mode)
    checks: dict[str, float] = {}
    tolerance = _tolerance(out.dtype, float(np.abs(out[np.isfinite(out)]).max(initial=0.0)))  # finite scale
    if check:
        if not transposed:
            raise UsageError("--check compares the four computations of the transposed convolution; drop --conv")
        for other in functional.METHODS:
            if other != method:
                alt = functional.conv_transpose(
                    x,
                    w,
                    bias,
                    stride,
                    padding,
                    output_padding,
                    groups,
                    dilation,
                    method=other,
                    memory_limit=memory_limit,
                )
                checks[other] = difference(alt, out)
    if bare and out.shape[0] == 1:
        out = out[0]
    return RunResult(out, prepared.layer, method, input, weight, checks, tolerance)
