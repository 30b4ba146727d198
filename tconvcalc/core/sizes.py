"""Pure-integer size arithmetic of convolutions and transposed convolutions, exactly as PyTorch 2.13.

No NumPy, no rich: this module is imported on the fast path of ``tconvcalc shape --json``.
Padding is held per side, ``((begin, end), ...)``, one pair per spatial dimension; PyTorch's
``padding=p`` is ``(p, p)``. Dimensions in messages are spatial and counted from 0.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

from tconvcalc.core.errors import LayerError, UsageError

IntArg = int | Sequence[int]
Pads = tuple[tuple[int, int], ...]
PaddingArg = int | str | Sequence[int] | Sequence[Sequence[int]]


def _as_int(value: object, name: str) -> int:
    if type(value) is int:  # the common case, without the ABC checks below (shape --batch runs this a lot)
        return value
    if isinstance(value, bool):
        raise UsageError(f"{name} must be an integer, got {value!r}", param=name)
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise UsageError(f"{name} must be an integer, got {value!r}", param=name) from None


def per_dim(value: IntArg, ndim: int, name: str) -> tuple[int, ...]:
    """Expand an int, or a sequence of 1 or ``ndim`` ints, to one int per spatial dimension.

    >>> per_dim(3, 2, "kernel_size"), per_dim((2, 1), 2, "stride")
    ((3, 3), (2, 1))
    >>> per_dim((1, 2, 3), 2, "stride")
    Traceback (most recent call last):
    tconvcalc.core.errors.UsageError: stride has 3 values but the layer has 2 spatial dimensions
    """
    kind = type(value)
    if kind is int:
        return (value,) * ndim  # type: ignore[return-value]
    if (kind is tuple or kind is list) and all(type(v) is int for v in value):  # type: ignore[union-attr]
        values = tuple(value)  # type: ignore[arg-type]
        if len(values) == ndim:
            return values
        if len(values) == 1:
            return values * ndim
    if isinstance(value, str):
        raise UsageError(f"{name} must be an integer or one integer per dimension, got {value!r}")
    if isinstance(value, Sequence):
        values = tuple(_as_int(v, name) for v in value)
        if len(values) == 1:
            return values * ndim
        if len(values) != ndim:
            raise UsageError(f"{name} has {len(values)} values but the layer has {ndim} spatial dimensions", param=name)
        return values
    return (_as_int(value, name),) * ndim


def pads_per_side(padding: PaddingArg, ndim: int) -> Pads:
    """Normalise PyTorch-style padding (int or one int per dim) or explicit ``(begin, end)`` pairs.

    >>> pads_per_side(1, 2), pads_per_side(((0, 1), (2, 2)), 2)
    (((1, 1), (1, 1)), ((0, 1), (2, 2)))
    """
    if isinstance(padding, str):
        raise UsageError(f"padding={padding!r} is a string; this operation needs integers")
    if (
        isinstance(padding, Sequence)
        and padding
        and all(isinstance(p, Sequence) and not isinstance(p, str) for p in padding)
    ):
        pairs = []
        for p in padding:
            side = tuple(_as_int(v, "padding") for v in p)  # type: ignore[union-attr]
            if len(side) != 2:
                raise UsageError(f"a padding pair must be (begin, end), got {tuple(side)}")
            pairs.append((side[0], side[1]))
        if len(pairs) != ndim:
            raise UsageError(f"padding has {len(pairs)} pairs but the layer has {ndim} spatial dimensions")
        return tuple(pairs)
    return tuple((p, p) for p in per_dim(padding, ndim, "padding"))  # type: ignore[arg-type]


def same_padding(kernel_size: Sequence[int], dilation: Sequence[int]) -> Pads:
    """PyTorch's ``padding='same'`` split: total ``d*(k-1)``, the extra element at the end.

    >>> same_padding((4, 3), (1, 3))
    ((1, 2), (3, 3))
    """
    pads = []
    for k, d in zip(kernel_size, dilation):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def effective_kernel(k: int, d: int) -> int:
    """The extent of a dilated kernel, ``d*(k-1) + 1``."""
    return d * (k - 1) + 1


def full_size(i: int, k: int, s: int, d: int) -> int:
    """The transposed convolution's output before any crop: ``(i-1)*s + d*(k-1) + 1``.

    Every ConvT size (PyTorch's, each framework's placement, the inverse of a Conv) is this minus a crop.

    >>> full_size(5, 3, 2, 1)
    11
    """
    return (i - 1) * s + effective_kernel(k, d)


def stretched_size(i: int, s: int) -> int:
    """The input with ``s-1`` zeros inserted between its elements (Dumoulin & Visin's stretched input).

    >>> stretched_size(3, 2)
    5
    """
    return (i - 1) * s + 1


def zero_insert_border(k: int, d: int, crop: tuple[int, int]) -> tuple[int, int]:
    """The zeros around the stretched input in the zero-insertion view, for a crop ``(begin, end)`` of the full
    output: ``d(k-1) - begin`` and ``d(k-1) - end``; negative means that many stretched elements are cut off.

    PyTorch's crop ``(p, p - op)`` gives ``d(k-1) - p`` at the start and ``d(k-1) - p + op`` at the end
    (relationship 14, with dilation): a stride-1 correlation over it gives ``full_size - begin - end`` values.

    >>> zero_insert_border(3, 1, (1, 0)), zero_insert_border(2, 1, (3, 3))
    ((1, 2), (-2, -2))
    """
    extent = effective_kernel(k, d) - 1
    return extent - crop[0], extent - crop[1]


def output_padding_limit(s: int, d: int) -> int:
    """PyTorch accepts ``0 <= output_padding < max(stride, dilation)``."""
    return max(s, d)


def restoring_output_padding(i: int, k: int, s: int, padding_total: int, d: int) -> int:
    """The ``output_padding`` with which the ConvT undoes a Conv of input size ``i``: Dumoulin & Visin's ``a``,
    ``(i + 2p - d(k-1) - 1) mod s`` (``padding_total`` = both sides). Always below the stride.

    >>> restoring_output_padding(24, 3, 2, 2, 1), restoring_output_padding(23, 3, 2, 2, 1)
    (1, 0)
    """
    return (i + padding_total - effective_kernel(k, d)) % s


def check_hyperparameters(
    kernel_size: Sequence[int],
    stride: Sequence[int],
    padding: Pads,
    dilation: Sequence[int],
    output_padding: Sequence[int] | None = None,
) -> None:
    """Refuse what PyTorch refuses before it looks at the input sizes.

    >>> check_hyperparameters((3,), (2,), ((1, 1),), (1,), (2,))
    Traceback (most recent call last):
    tconvcalc.core.errors.LayerError: output_padding=2 must be smaller than stride=2 or dilation=1 (dim 0)
    """
    for dim, (k, s, (pb, pe), d) in enumerate(zip(kernel_size, stride, padding, dilation)):
        if k < 1:
            raise LayerError(f"kernel_size={k} must be at least 1 (dim {dim})", param="kernel_size", dim=dim)
        if s < 1:
            raise LayerError(f"stride={s} must be at least 1 (dim {dim})", param="stride", dim=dim)
        if d < 1:
            raise LayerError(f"dilation={d} must be at least 1 (dim {dim})", param="dilation", dim=dim)
        if pb < 0 or pe < 0:
            shown = pb if pb == pe else f"({pb}, {pe})"
            raise LayerError(f"padding={shown} must not be negative (dim {dim})", param="padding", dim=dim)
    if output_padding is None:
        return
    for dim, (op, s, d) in enumerate(zip(output_padding, stride, dilation)):
        if op < 0:
            raise LayerError(f"output_padding={op} must not be negative (dim {dim})", param="output_padding", dim=dim)
        if op >= output_padding_limit(s, d):
            raise LayerError(
                f"output_padding={op} must be smaller than stride={s} or dilation={d} (dim {dim})",
                param="output_padding",
                value=op,
                allowed=f"0 <= output_padding < {output_padding_limit(s, d)}",
                dim=dim,
            )


def check_input_size(input_size: Sequence[int]) -> None:
    """Spatial sizes must be at least 1 (PyTorch refuses empty spatial dimensions)."""
    for dim, i in enumerate(input_size):
        if i < 1:
            raise LayerError(f"input size {i} must be at least 1 (dim {dim})")


def convt_formula(i: int, k: int, s: int, pad: tuple[int, int], op: int, d: int) -> str:
    """The transposed-convolution size formula with the numbers substituted."""
    pb, pe = pad
    crop = f"2*{pb}" if pb == pe else f"({pb}+{pe})"
    return f"({i}-1)*{s} - {crop} + {d}*({k}-1) + {op} + 1"


def conv_formula(i: int, k: int, s: int, pad: tuple[int, int], d: int) -> str:
    """The convolution size formula with the numbers substituted."""
    pb, pe = pad
    grow = f"2*{pb}" if pb == pe else f"({pb}+{pe})"
    return f"floor(({i} + {grow} - {d}*({k}-1) - 1)/{s}) + 1"


def conv_transpose_sizes(
    input_size: Sequence[int],
    kernel_size: Sequence[int],
    stride: Sequence[int],
    padding: Pads,
    output_padding: Sequence[int],
    dilation: Sequence[int],
) -> tuple[int, ...]:
    """The ConvT sizes for already validated per-dim parameters; refuses a non-positive output."""
    out = []
    for dim, (i, k, s, (pb, pe), op, d) in enumerate(
        zip(input_size, kernel_size, stride, padding, output_padding, dilation)
    ):
        o = full_size(i, k, s, d) - pb - pe + op
        if o < 1:
            formula = convt_formula(i, k, s, (pb, pe), op, d)
            raise LayerError(f"output size {o} is not positive (dim {dim}): {formula} = {o}")
        out.append(o)
    return tuple(out)


def conv_transpose_output_size(
    input_size: Sequence[int],
    kernel_size: IntArg,
    stride: IntArg = 1,
    padding: PaddingArg = 0,
    output_padding: IntArg = 0,
    dilation: IntArg = 1,
) -> tuple[int, ...]:
    """Spatial output size of ``ConvTranspose{1,2,3}d``: ``(i-1)*s - 2p + d*(k-1) + op + 1`` per dim.

    >>> conv_transpose_output_size((6, 6), 5, stride=3, padding=2)
    (16, 16)
    >>> conv_transpose_output_size((2,), 1, padding=1)
    Traceback (most recent call last):
    tconvcalc.core.errors.LayerError: output size 0 is not positive (dim 0): (2-1)*1 - 2*1 + 1*(1-1) + 0 + 1 = 0
    """
    n = len(input_size)
    k, s, d = per_dim(kernel_size, n, "kernel_size"), per_dim(stride, n, "stride"), per_dim(dilation, n, "dilation")
    pads, op = pads_per_side(padding, n), per_dim(output_padding, n, "output_padding")
    check_hyperparameters(k, s, pads, d, op)
    check_input_size(input_size)
    return conv_transpose_sizes(input_size, k, s, pads, op, d)


def conv_output_size(
    input_size: Sequence[int],
    kernel_size: IntArg,
    stride: IntArg = 1,
    padding: PaddingArg = 0,
    dilation: IntArg = 1,
) -> tuple[int, ...]:
    """Spatial output size of ``Conv{1,2,3}d``: ``floor((i + 2p - d*(k-1) - 1)/s) + 1`` per dim.

    ``padding`` may also be ``'valid'`` or ``'same'`` (stride 1 only), as in PyTorch.

    >>> conv_output_size((16, 16), 5, stride=3, padding=2)
    (6, 6)
    >>> conv_output_size((5,), 7)
    Traceback (most recent call last):
    tconvcalc.core.errors.LayerError: padded input size 5 (input 5 + padding 0+0) is smaller than the dilated kernel 7 = 1*(7-1)+1 (dim 0)
    """
    n = len(input_size)
    k, s, d = per_dim(kernel_size, n, "kernel_size"), per_dim(stride, n, "stride"), per_dim(dilation, n, "dilation")
    pads = resolve_conv_padding(padding, k, s, d)
    check_hyperparameters(k, s, pads, d)
    check_input_size(input_size)
    return conv_sizes(input_size, k, s, pads, d)


def resolve_conv_padding(
    padding: PaddingArg, kernel_size: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> Pads:
    """Turn a Conv ``padding`` (ints, pairs, ``'valid'`` or ``'same'``) into per-side pads."""
    n = len(kernel_size)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            for dim, s in enumerate(stride):
                if s != 1:
                    raise LayerError(
                        f"padding='same' is not supported for strided convolutions (stride={s}, dim {dim})"
                    )
            return same_padding(kernel_size, dilation)
        raise UsageError(f"invalid padding string {padding!r}, should be 'same' or 'valid'")
    return pads_per_side(padding, n)


def conv_sizes(
    input_size: Sequence[int],
    kernel_size: Sequence[int],
    stride: Sequence[int],
    padding: Pads,
    dilation: Sequence[int],
) -> tuple[int, ...]:
    """The Conv sizes for already validated per-dim parameters; refuses an input smaller than the kernel."""
    out = []
    for dim, (i, k, s, (pb, pe), d) in enumerate(zip(input_size, kernel_size, stride, padding, dilation)):
        padded, k_eff = i + pb + pe, effective_kernel(k, d)
        if padded < k_eff:
            raise LayerError(
                f"padded input size {padded} (input {i} + padding {pb}+{pe}) is smaller than the "
                f"dilated kernel {k_eff} = {d}*({k}-1)+1 (dim {dim})"
            )
        out.append((padded - k_eff) // s + 1)
    return tuple(out)


def output_padding_for_size(
    output_size: Sequence[int],
    input_size: Sequence[int],
    kernel_size: Sequence[int],
    stride: Sequence[int],
    padding: Pads,
    dilation: Sequence[int],
) -> tuple[int, ...]:
    """The ``output_padding`` that PyTorch derives from ``forward(output_size=...)``.

    Valid sizes per dim are ``[m, m + stride - 1]`` with ``m`` the size at ``output_padding=0``
    (PyTorch's range uses the stride only, even where dilation would allow more).

    >>> output_padding_for_size((24,), (12,), (3,), (2,), ((1, 1),), (1,))
    (1,)
    >>> output_padding_for_size((25,), (12,), (3,), (2,), ((1, 1),), (1,))
    Traceback (most recent call last):
    tconvcalc.core.errors.LayerError: requested an output size of (25,), but valid sizes range from (23,) to (24,) for an input of (12,)
    """
    low = [
        full_size(i, k, s, d) - pb - pe
        for i, k, s, (pb, pe), d in zip(input_size, kernel_size, stride, padding, dilation)
    ]
    high = [m + s - 1 for m, s in zip(low, stride)]
    if any(not lo <= o <= hi for o, lo, hi in zip(output_size, low, high)):
        if low == high:
            raise LayerError(
                f"requested an output size of {tuple(output_size)}, but the only valid size is {tuple(low)} "
                f"for an input of {tuple(input_size)}",
                param="output_size",
            )
        raise LayerError(
            f"requested an output size of {tuple(output_size)}, but valid sizes range from "
            f"{tuple(low)} to {tuple(high)} for an input of {tuple(input_size)}",
            param="output_size",
        )
    return tuple(o - m for o, m in zip(output_size, low))
