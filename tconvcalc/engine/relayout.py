"""Framework conventions on real numbers: kernels re-laid out as PyTorch's, the full output cropped each way."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tconvcalc.core.budget import check_memory
from tconvcalc.core.conventions import CONVENTIONS, SPATIAL_LETTERS, Crops, Placement, default_layout
from tconvcalc.core.errors import UsageError
from tconvcalc.engine import functional
from tconvcalc.engine.problem import Problem, check_bias, plan


def to_torch_weight(weight: object, layout: str, dims: int, flip: bool = False) -> Any:
    """A kernel in ``layout`` (letters I, O and the spatial ones) as PyTorch's ConvT weight ``(C_in, C_out/g, *k)``.

    ``flip`` mirrors the spatial axes: ``jax.lax.conv_transpose`` with ``transpose_kernel=False`` correlates the
    zero-inserted input with the kernel as given, where PyTorch's transposed convolution uses it mirrored.
    """
    w = np.asarray(weight)
    letters = "IO" + SPATIAL_LETTERS[dims]
    layout = layout.upper()
    if sorted(layout) != sorted(letters) or w.ndim != len(layout):
        raise UsageError(
            f"--weight-layout {layout!r} must order the letters {letters} and match the weight's "
            f"{w.ndim} axes (shape {w.shape})"
        )
    out = w.transpose([layout.index(c) for c in letters])
    if flip:
        mirror: tuple[Any, ...] = (Ellipsis, *(slice(None, None, -1) for _ in range(dims)))
        out = out[mirror]
    return np.ascontiguousarray(out)


def apply_placement(full: object, crops: Crops, bias: object | None = None) -> Any:
    """Crop (or zero-extend, where negative) the full output ``(N, C, *F)``, then add the bias everywhere."""
    out = np.asarray(full)
    lead = out.ndim - len(crops)
    widths = [(0, 0)] * lead + [(max(-b, 0), max(-e, 0)) for b, e in crops]
    if any(w != (0, 0) for w in widths):
        out = np.pad(out, widths)
    window = tuple(slice(max(b, 0), out.shape[lead + dim] - max(e, 0)) for dim, (b, e) in enumerate(crops))
    index: tuple[Any, ...] = (Ellipsis, *window)
    out = out[index]
    if bias is not None:
        b = np.asarray(bias)
        out = out + b.reshape((-1,) + (1,) * len(crops))
    return np.ascontiguousarray(out)


def torch_weight(w: Any, dims: int, convention: str, weight_layout: str | None, transpose_kernel: bool) -> Any:
    """The kernel ``w``, given in ``convention``'s layout (or ``weight_layout``), as PyTorch's ConvT weight.

    A bare kernel (``dims`` axes) is one channel in and out, whatever the layout. JAX with ``transpose_kernel``
    names the forward convolution's axes (its O is our I); without it, JAX does not mirror the kernel.
    """
    if convention not in CONVENTIONS:
        raise UsageError(f"--convention {convention!r}: choose one of {', '.join(CONVENTIONS)}")
    if transpose_kernel and convention != "jax":
        raise UsageError("--transpose-kernel is JAX's option: add --convention jax")
    if w.ndim == dims:
        return np.ascontiguousarray(w.reshape(1, 1, *w.shape))
    layout = weight_layout or default_layout(convention, dims)
    if convention == "jax" and transpose_kernel:
        layout = layout.upper().translate(str.maketrans("IO", "OI"))
    return to_torch_weight(w, layout, dims, flip=convention == "jax" and not transpose_kernel)


def placement_memory(full: Problem, crops: Crops, bias: bool, output: Any = None) -> tuple[int, str]:
    """Peak bytes of :func:`run_placement` and the step that reaches it: the full output (``conv_transpose``),
    its zero-extension where a crop is negative (``np.pad`` copies), the cropped copy (or the bias sum: one of
    them), and the caller's ``output`` step (what, bytes for (shape, itemsize)) for the result."""
    item, lead = full.dtype.itemsize, full.out_shape[:2]
    spatial = full.out_shape[2:]
    extended = [f + max(-b, 0) + max(-e, 0) for f, (b, e) in zip(spatial, crops)]
    cropped = [f - b - e for f, (b, e) in zip(spatial, crops)]
    held = full.out_size * item
    padded = math.prod(lead) * math.prod(extended) * item if extended != list(spatial) else 0
    result = math.prod(lead) * math.prod(cropped) * item
    steps = [
        (functional.conv_transpose_memory(full, "fast"), "the full output"),
        (
            held + padded + (result if bias or any(b > 0 or e > 0 for b, e in crops) else 0),
            "the full output and its crop",
        ),
    ]
    if output is not None:
        shape = (*lead, *cropped)
        steps.append((result + output[1](shape, item), f"{output[0]} of {math.prod(shape):,} values"))
    return max(steps, key=lambda step: step[0])


def run_placement(
    x: Any, w: Any, bias: Any, p: Placement, groups: int, memory_limit: int | None, output: Any = None
) -> Any:
    """The full transposed convolution of ``x`` with PyTorch's weight ``w``, cropped (or zero-extended) as ``p``
    says, plus the bias. A bare input (``len(p.crops)`` axes) gives a bare result for one output channel.
    Everything, the full output and the caller's ``output`` step included, is within ``memory_limit``."""
    dims = len(p.crops)
    bare_input = x.ndim == dims
    if bare_input:
        x = x.reshape(1, *x.shape)
    if bias is not None:
        check_bias(np.shape(bias), w.shape[1] * groups)
    planned = plan("conv_transpose", x, w, None, p.stride, 0, 0, p.dilation, groups)
    needed, step = placement_memory(planned, p.crops, bias is not None, output)
    check_memory(needed, memory_limit, f"conv_transpose ({p.convention} convention)", step)
    full = functional.conv_transpose(x, w, None, p.stride, 0, 0, groups, p.dilation, memory_limit=None)
    out = apply_placement(full, p.crops, bias)
    del full
    return out[0] if bare_input and out.shape[0] == 1 else out
