"""What ``tconvcalc run`` computes: the layout rules for bare tensors, output_size, methods and ``--check``."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tconvcalc.core import sizes
from tconvcalc.core.budget import CALL_OVERHEAD_BYTES, DEFAULT_MEMORY_LIMIT, check_memory
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
    a, b = a.astype(np.float64, copy=False), b.astype(np.float64, copy=False)
    with np.errstate(invalid="ignore"):
        agree = (a == b) | (np.isnan(a) & np.isnan(b))
        return float(np.where(agree, 0.0, np.abs(a - b)).max(initial=0.0))


OutputStep = tuple[str, Callable[[tuple[int, ...], int], int]]  # (what, bytes for (result shape, itemsize))


def run_memory(
    p: problem.Problem, method: str, check: bool, output: OutputStep | None, shape: tuple[int, ...]
) -> tuple[int, str, str]:
    """The peak bytes of a whole ``run``, what the run is, and the step that reaches the peak: the computation,
    with ``check`` every other method beside the result and the differences, and the caller's ``output`` step
    (printing ``--json``, say) beside the result of ``shape``."""
    transposed = p.layer.operation == "conv_transpose"
    held = p.out_size * p.dtype.itemsize
    name = "conv_transpose" if transposed else "conv"
    what = name if method == "fast" else f"{name} --method {method}"
    main = (
        functional.conv_transpose_memory(p, method)
        if transposed
        else CALL_OVERHEAD_BYTES + p.conversion_bytes() + problem.conv_memory(p)
    )
    steps = [(main, what)]
    if check:
        what = f"{name} --check (all four methods)"
        steps += [(held + functional.conv_transpose_memory(p, m), f"method {m}") for m in functional.METHODS]
        steps.append((2 * held + 3 * p.out_size * 8, "the differences"))  # the other result, as float64, minus, abs
    if output is not None:
        steps.append((held + output[1](shape, p.dtype.itemsize), f"{output[0]} of {math.prod(shape):,} values"))
    need, step = max(steps, key=lambda item: item[0])
    return need, what, step


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
    output: OutputStep | None = None,
) -> RunResult:
    """Run a ConvTranspose (or, with ``transposed=False``, a Conv) on tensors in the CLI's layouts.

    Everything the call allocates, ``output`` (the caller's step that prints the result) included, is checked
    against ``memory_limit`` before anything is computed: :func:`run_memory`."""
    n = infer_dims(weight, dims)
    x, w, bare = _layout(input, weight, n)
    if transposed:
        if padding_mode != "zeros":  # torch's refusal, before any work
            problem.plan("conv_transpose", x, w, bias, stride, padding, output_padding, dilation, groups, padding_mode)
        if output_size is not None:
            batched = x.ndim == n + 2
            source = TensorShape(tuple(x.shape[-n:]), x.shape[-n - 1], x.shape[0] if batched else None)
            derived = conv_transpose_layer(
                source, w.shape[2:], stride, padding, output_padding, dilation, groups, w.shape[1] * groups, output_size
            )
            output_padding = derived.output_padding
        planned = problem.plan("conv_transpose", x, w, bias, stride, padding, output_padding, dilation, groups)
    else:
        if method != "fast":
            raise UsageError(f"--method {method} explains the transposed convolution; the forward one has one method")
        if check:
            raise UsageError("--check compares the four computations of the transposed convolution; drop --conv")
        planned = problem.plan("conv", x, w, bias, stride, padding, 0, dilation, groups, padding_mode)
    if method not in functional.METHODS:
        raise UsageError(f"unknown method {method!r}; choose fast, scatter, matrix or zero-insert")
    shape = planned.out_shape if planned.batched else planned.out_shape[1:]  # as returned below
    if bare and shape[0] == 1:
        shape = shape[1:]
    needed, what, step = run_memory(planned, method, check, output, shape)
    check_memory(needed, memory_limit, what, step)
    if transposed:
        out = functional.conv_transpose(
            x, w, bias, stride, padding, output_padding, groups, dilation, method=method, memory_limit=None
        )
    else:
        out = functional.conv(
            x, w, bias, stride, padding, dilation, groups, padding_mode=padding_mode, memory_limit=None
        )
    checks: dict[str, float] = {}
    finite = np.isfinite(out)  # the scale of the finite values (an infinite one would pass anything); a mask, no copy
    scale = max(abs(float(out.max(initial=0.0, where=finite))), abs(float(out.min(initial=0.0, where=finite))))
    tolerance = _tolerance(out.dtype, scale)
    if check:
        for other in functional.METHODS:
            if other != method:
                alt = functional.conv_transpose(
                    x, w, bias, stride, padding, output_padding, groups, dilation, method=other, memory_limit=None
                )
                checks[other] = difference(alt, out)
                del alt
    if bare and out.shape[0] == 1:
        out = out[0]
    return RunResult(out, planned.layer, method, input, weight, checks, tolerance)
