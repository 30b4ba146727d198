"""Three other computations of the transposed convolution, for teaching and cross-checking the fast path.

* ``scatter``: the textbook loop, vectorised: every input element times the kernel, added into its window;
* ``matrix``: ``W^T y`` with ``W`` the sparse matrix of the convolution with the same weight;
* ``zero-insert``: ``s-1`` zeros between inputs, padding ``d(k-1)-p`` (``+op`` at the end), then a stride-1
  correlation with the spatially flipped kernel (convolution-arithmetic relationship 14).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tconvcalc.core.budget import check_memory
from tconvcalc.core.errors import UsageError
from tconvcalc.engine.matrix import build_memory, matrix_from_weight
from tconvcalc.engine.problem import Problem, conv_forward, prepare


def scatter(p: Problem) -> np.ndarray:
    """Every (input element, kernel tap) product added at ``i*s - p_begin + j*d``, summed with bincount."""
    lay, y, w = p.layer, p.x, p.w
    n, groups = y.shape[0], lay.groups
    cin_g, cout_g, kernel = w.shape[0] // groups, w.shape[1], w.shape[2:]
    dims, spatial, out_sp = lay.dims, y.shape[2:], lay.output_spatial
    target = np.zeros((1,) * (2 * dims), dtype=np.int64)
    inside = np.ones((1,) * (2 * dims), dtype=bool)
    for dim in range(dims):
        f = (
            np.arange(spatial[dim])[:, None] * lay.stride[dim]
            - lay.padding[dim][0]
            + np.arange(kernel[dim])[None, :] * lay.dilation[dim]
        )
        shape = [1] * (2 * dims)
        shape[dim], shape[dims + dim] = spatial[dim], kernel[dim]
        target = target * out_sp[dim] + f.reshape(shape)
        inside = inside & ((f >= 0) & (f < out_sp[dim])).reshape(shape)
    p_in, p_out, taps = math.prod(spatial), math.prod(out_sp), math.prod(kernel)
    target = np.broadcast_to(target, (*spatial, *kernel)).reshape(p_in, taps)
    inside = np.broadcast_to(inside, (*spatial, *kernel)).reshape(p_in, taps)
    # products (N, G, C_in/g, P_in, C_out/g, taps)
    yg = y.reshape(n, groups, cin_g, p_in, 1, 1)
    wg = w.reshape(groups, cin_g, 1, cout_g, taps)[None]
    products = yg * wg
    channel = (np.arange(n)[:, None] * groups + np.arange(groups)[None, :])[:, :, None, None, None, None]
    channel = channel * cout_g + np.arange(cout_g)[None, None, None, None, :, None]
    index = channel * p_out + target[None, None, None, :, None, :]
    keep = np.broadcast_to(inside[None, None, None, :, None, :], products.shape)
    full = np.broadcast_to(index, products.shape)
    out = np.bincount(full[keep], weights=products[keep], minlength=n * groups * cout_g * p_out)
    return out.reshape(p.out_shape)


def scatter_memory(p: Problem) -> int:
    """Peak bytes of :func:`scatter` and :meth:`Problem.finish`: the (input element, tap) targets and mask, every
    product, its output index, the kept entries, and bincount's float64 weights and output."""
    lay, item = p.layer, p.dtype.itemsize
    n, cin, cout_g = p.x.shape[0], p.x.shape[1], p.w.shape[1]
    cin_g = cin // lay.groups
    pairs = math.prod(lay.input_spatial) * math.prod(lay.kernel_size)  # (input element, tap)
    products = n * cin * cout_g * pairs
    index = products // cin_g * 8
    kept = products * (8 + item + (8 if item != 8 else 0))  # index and value of each kept product; f64 weights
    out = p.out_size * 8  # bincount's output, float64
    return int(
        max(2 * 9 * pairs, 9 * pairs + products * item + index + kept) + out + p.finish_bytes(8, same_dtype=False)
    )


def matrix(p: Problem) -> np.ndarray:
    """``W^T y``: W of the convolution from the ConvT output size back to its input size, same weight."""
    lay = p.layer
    w_matrix = matrix_from_weight(
        p.w, lay.output_spatial, lay.input_spatial, lay.stride, lay.padding, lay.dilation, lay.groups
    )
    transposed = w_matrix.T
    del w_matrix  # one copy held while multiplying, not two
    y = p.x.reshape(p.x.shape[0], -1)
    return transposed.matvec(y).reshape(p.out_shape)


def matrix_memory(p: Problem) -> int:
    """Peak bytes of :func:`matrix` and :meth:`Problem.finish`: building W (:func:`~tconvcalc.engine.matrix.build_memory`), its
    transpose beside it (entries, sort order, the sort's own buffer), then the products and the float64 result."""
    lay, item = p.layer, p.dtype.itemsize
    entries = p.x.shape[1] * math.prod(lay.input_spatial) * p.w.shape[1] * math.prod(lay.kernel_size)
    held = entries * (16 + item)
    transpose = 2 * held + entries * 16
    rows = p.out_size // p.x.shape[0]
    multiply = held + entries * (2 * item + (8 if item != 8 else 0)) + 2 * p.out_size * 8 + rows * 8
    build = build_memory(entries, math.prod(lay.input_spatial) * math.prod(lay.kernel_size), item)
    return int(max(build, transpose, multiply) + p.finish_bytes(8, same_dtype=False))


def zero_insert(p: Problem) -> np.ndarray:
    """Stride-1 correlation of the zero-inserted, padded input with the flipped kernel."""
    lay, y, w = p.layer, p.x, p.w
    n, cin, dims, groups = y.shape[0], y.shape[1], lay.dims, lay.groups
    stretched = tuple((i - 1) * s + 1 for i, s in zip(lay.input_spatial, lay.stride))
    z = np.zeros((n, cin, *stretched), dtype=y.dtype)
    every: tuple[Any, ...] = (Ellipsis, *(slice(None, None, s) for s in lay.stride))
    z[every] = y
    for dim in range(dims):
        extent = lay.dilation[dim] * (lay.kernel_size[dim] - 1)
        begin = extent - lay.padding[dim][0]
        end = extent - lay.padding[dim][1] + lay.output_padding[dim]
        axis = 2 + dim
        if begin < 0:  # negative padding crops
            z = np.take(z, np.arange(-begin, z.shape[axis]), axis=axis)
            begin = 0
        if end < 0:
            z = np.take(z, np.arange(0, z.shape[axis] + end), axis=axis)
            end = 0
        widths = [(0, 0)] * z.ndim
        widths[axis] = (begin, end)
        z = np.pad(z, widths)
    cin_g, cout_g = cin // groups, w.shape[1]
    # ConvT weight (C_in, C_out/g, *k) -> Conv weight (C_out, C_in/g, *k), spatially flipped
    reverse: tuple[Any, ...] = (Ellipsis, *(slice(None, None, -1) for _ in range(dims)))
    flipped = w[reverse]
    conv_w = flipped.reshape(groups, cin_g, cout_g, *lay.kernel_size).swapaxes(1, 2)
    conv_w = conv_w.reshape(groups * cout_g, cin_g, *lay.kernel_size)
    q = prepare("conv", z, conv_w, None, 1, 0, 0, lay.dilation, groups)
    return conv_forward(q)


def zero_insert_memory(p: Problem) -> int:
    """Peak bytes of :func:`zero_insert` and :meth:`Problem.finish`, following its steps: the zero-inserted
    input, each crop and pad (old and new copy side by side), the flipped kernel, the im2col patches, the output."""
    lay, item = p.layer, p.dtype.itemsize
    lead = p.x.shape[0] * p.x.shape[1]
    extent = [(i - 1) * s + 1 for i, s in zip(lay.input_spatial, lay.stride)]
    peak = current = lead * math.prod(extent)
    for dim in range(lay.dims):
        span = lay.dilation[dim] * (lay.kernel_size[dim] - 1)
        begin = span - lay.padding[dim][0]
        end = span - lay.padding[dim][1] + lay.output_padding[dim]
        for cut in (min(begin, 0), min(end, 0)):
            if cut:
                extent[dim] += cut
                new = lead * math.prod(extent)
                peak, current = max(peak, current + new), new
        extent[dim] += max(begin, 0) + max(end, 0)
        new = lead * math.prod(extent)
        peak, current = max(peak, current + new), new
    patches = lead * math.prod(lay.kernel_size) * math.prod(lay.output_spatial)
    compute = current + 2 * p.w.size + patches + p.out_size
    return int(max(peak, compute) * item + p.finish_bytes(item))


def conv_transpose_view(p: Problem, method: str, memory_limit: int | None) -> np.ndarray:
    """Compute ``p`` with one of the views (not the fast path), within the memory budget."""
    table = {
        "scatter": (scatter, scatter_memory),
        "matrix": (matrix, matrix_memory),
        "zero-insert": (zero_insert, zero_insert_memory),
    }
    if method not in table:
        raise UsageError(f"unknown method {method!r}; choose fast, scatter, matrix or zero-insert")
    compute, memory = table[method]
    check_memory(memory(p), memory_limit, f"conv_transpose --method {method}")
    return compute(p)
