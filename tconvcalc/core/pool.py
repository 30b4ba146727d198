"""Sizes of the other encoder/decoder layers, exactly as PyTorch 2.13: MaxPool, AvgPool, MaxUnpool, Upsample.

Pure integers (and one float product for ``scale_factor``); no NumPy.

* Pool: ``floor_or_ceil((i + 2p - d(k-1) - 1) / s) + 1``; with ``ceil_mode`` the last window must start
  inside the input or its left padding, else it is dropped. PyTorch requires ``p <= k/2`` (the raw kernel).
* MaxUnpool: ``(i-1)*s - 2p + k``; an ``output_size`` must lie strictly between that minus and plus the stride.
* Upsample/interpolate: ``floor(i * scale_factor)`` (a float product, as ``F.interpolate``), or ``size``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tconvcalc.core import sizes
from tconvcalc.core.errors import LayerError, UsageError

MODES = {"nearest": None, "nearest-exact": None, "area": None, "linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")


def pool_size(
    input_size: Sequence[int],
    kernel_size: sizes.IntArg,
    stride: sizes.IntArg | None = None,
    padding: sizes.IntArg = 0,
    dilation: sizes.IntArg = 1,
    ceil_mode: bool = False,
    kind: str = "max",
) -> tuple[int, ...]:
    """Spatial output of ``MaxPool{n}d`` / ``AvgPool{n}d`` (``kind='avg'``: dilation 1; in 3-D PyTorch also
    requires the unpadded input to be at least the kernel).

    >>> pool_size((7, 7), 2), pool_size((6, 6), 3, 2, ceil_mode=True), pool_size((4,), 2, 2, 1, ceil_mode=True)
    ((3, 3), (3, 3), (3,))
    >>> pool_size((7,), 2, padding=2)
    Traceback (most recent call last):
    tconvcalc.core.errors.LayerError: padding=2 must be at most half of kernel_size=2 (dim 0)
    """
    n = len(input_size)
    k = sizes.per_dim(kernel_size, n, "kernel_size")
    s = k if stride is None else sizes.per_dim(stride, n, "stride")
    p, d = sizes.per_dim(padding, n, "padding"), sizes.per_dim(dilation, n, "dilation")
    sizes.check_hyperparameters(k, s, tuple((q, q) for q in p), d)
    sizes.check_input_size(input_size)
    out = []
    for dim, (i, kk, ss, pp, dd) in enumerate(zip(input_size, k, s, p, d)):
        if 2 * pp > kk:
            raise LayerError(f"padding={pp} must be at most half of kernel_size={kk} (dim {dim})")
        if kind == "avg" and n == 3 and i < kk:
            raise LayerError(
                f"input size {i} is smaller than kernel_size={kk} (dim {dim}; AvgPool3d ignores padding here)"
            )
        span = i + 2 * pp - dd * (kk - 1) - 1 + (ss - 1 if ceil_mode else 0)
        o = span // ss + 1
        if ceil_mode and (o - 1) * ss >= i + pp:
            o -= 1  # the last window would start in the right padding
        if o < 1:
            raise LayerError(
                f"output size {o} is not positive (dim {dim}): input {i} + padding 2*{pp} is smaller "
                f"than the window {dd}*({kk}-1)+1"
            )
        out.append(o)
    return tuple(out)


def unpool_size(
    input_size: Sequence[int],
    kernel_size: sizes.IntArg,
    stride: sizes.IntArg | None = None,
    padding: sizes.IntArg = 0,
    output_size: Sequence[int] | None = None,
) -> tuple[int, ...]:
    """Spatial output of ``MaxUnpool{n}d``: ``(i-1)*s - 2p + k``, or a valid ``output_size``.

    >>> unpool_size((3, 3), 2), unpool_size((3, 3), 2, output_size=(7, 7))
    ((6, 6), (7, 7))
    >>> unpool_size((3,), 2, output_size=(8,))
    Traceback (most recent call last):
    tconvcalc.core.errors.LayerError: invalid output_size (8,): dim 0 must be between 4 and 8, exclusive
    """
    n = len(input_size)
    k = sizes.per_dim(kernel_size, n, "kernel_size")
    s = k if stride is None else sizes.per_dim(stride, n, "stride")
    p = sizes.per_dim(padding, n, "padding")
    sizes.check_hyperparameters(k, s, tuple((q, q) for q in p), (1,) * n)
    default = tuple(sizes.full_size(i, kk, ss, 1) - 2 * pp for i, kk, ss, pp in zip(input_size, k, s, p))
    if output_size is None:
        for dim, o in enumerate(default):
            if o < 0:
                raise LayerError(
                    f"output size {o} is negative (dim {dim}): ({input_size[dim]}-1)*{s[dim]} - 2*{p[dim]} + {k[dim]}"
                )
        return default
    if len(output_size) != n:
        raise UsageError(f"output_size has {len(output_size)} values but the layer has {n} spatial dimensions")
    for dim, (o, m, ss) in enumerate(zip(output_size, default, s)):
        if o < 0:
            raise LayerError(f"invalid output_size {tuple(output_size)}: dim {dim} is negative")
        if not m - ss < o < m + ss:
            raise LayerError(
                f"invalid output_size {tuple(output_size)}: dim {dim} must be between {m - ss} and {m + ss}, exclusive"
            )
    return tuple(output_size)


def upsample_size(
    input_size: Sequence[int],
    scale_factor: float | Sequence[float] | None = None,
    size: sizes.IntArg | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> tuple[int, ...]:
    """Spatial output of ``nn.Upsample`` / ``F.interpolate``.

    >>> upsample_size((7, 7), 1.5), upsample_size((10,), 1.1), upsample_size((5, 5), size=(3, 4))
    ((10, 10), (11,), (3, 4))
    """
    n = len(input_size)
    if mode not in MODES:
        raise UsageError(f"mode={mode!r} is not one of {', '.join(MODES)}", param="mode")
    needed = MODES[mode]
    if needed is not None and needed != n:
        raise LayerError(f"mode={mode!r} needs {needed} spatial dimension(s), the input has {n}")
    if align_corners is not None and mode not in INTERPOLATING:
        raise LayerError(f"align_corners can only be set with the interpolating modes {', '.join(INTERPOLATING)}")
    if (scale_factor is None) == (size is None):
        raise UsageError("give exactly one of size or scale_factor")
    if size is not None:
        out = sizes.per_dim(size, n, "size")
    else:
        factors = scales(scale_factor, n)
        products = [float(i) * f for i, f in zip(input_size, factors)]
        for dim, (i, f, product) in enumerate(zip(input_size, factors, products)):
            if not math.isfinite(product):  # 1e308 * 4: no size (torch's int64 cast of inf is undefined)
                raise LayerError(f"input size {i} * scale_factor {f} is too large for a size (dim {dim})")
        out = tuple(math.floor(p) for p in products)
    smallest = 0 if mode == "area" else 1  # 'area' is adaptive average pooling, which allows empty outputs
    for dim, (i, o) in enumerate(zip(input_size, out)):
        if o < smallest or i < 1:
            raise LayerError(f"input and output sizes must be positive, got input {i} and output {o} (dim {dim})")
    return out


def scales(scale_factor: float | Sequence[float] | None, n: int) -> tuple[float, ...]:
    if isinstance(scale_factor, (int, float)) and not isinstance(scale_factor, bool):
        return (float(scale_factor),) * n
    if isinstance(scale_factor, Sequence) and not isinstance(scale_factor, str):
        values = tuple(float(f) for f in scale_factor)
        if len(values) != n:
            raise LayerError(f"scale_factor has {len(values)} values but the input has {n} spatial dimensions")
        return values
    raise UsageError(f"scale_factor must be a number or one per dimension, got {scale_factor!r}")
