"""MaxPool, AvgPool, MaxUnpool and interpolate on real numbers, with the values of torch 2.13's CPU kernels.

Each function takes a validated spec (:mod:`tconvcalc.core.specs`) and a batched array ``(N, C, *spatial)``;
sizes and refusals come from :func:`tconvcalc.core.model.apply_layer` (never re-derived here), and the memory
budget is checked before any array is allocated.

Where torch's CPU kernels do their index arithmetic in a particular precision, so does this module:

* ``nearest``/``nearest-exact``: ``src = min(floor(dst * scale), in - 1)`` (``(dst + 0.5) * scale`` for exact)
  in float32, ``scale = 1/scale_factor`` when a scale factor is used, else ``in/out``; in 2-D only, an axis
  of the same size or exactly twice the input takes the shortcut ``dst`` or ``dst >> 1`` (torch's
  ``nearest_idx``), whatever the scale factor.
* ``linear``/``bilinear``/``trilinear``/``bicubic``: ``src = scale * (dst + 0.5) - 0.5`` (clamped at 0 except
  bicubic), or ``dst * (in-1)/(out-1)`` with ``align_corners``; in the input's precision (float32 or float64).
  bicubic is Keys' cubic convolution with ``A = -0.75`` and edge-clamped taps.
* ``area``: adaptive average pooling, windows ``[floor(o*in/out), ceil((o+1)*in/out))``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tconvcalc.core import pool, sizes
from tconvcalc.core.budget import check_memory
from tconvcalc.core.errors import LayerError, UsageError
from tconvcalc.core.model import apply_layer
from tconvcalc.core.specs import AvgPoolSpec, LayerSpec, MaxPoolSpec, MaxUnpoolSpec, UpsampleSpec, torch_name
from tconvcalc.core.tensor import ResizeShape, TensorShape


def _shape(spec: LayerSpec, x: np.ndarray, batched: bool) -> ResizeShape:
    source = TensorShape(tuple(x.shape[2:]), x.shape[1], x.shape[0] if batched else None)
    result = apply_layer(spec, source)
    assert isinstance(result, ResizeShape)
    return result


def _per_dim(value: Any, n: int, name: str, default: Any = None) -> tuple[int, ...]:
    return sizes.per_dim(default if value is None else value, n, name)


def _windows(
    xp: np.ndarray, k: tuple[int, ...], s: tuple[int, ...], d: tuple[int, ...], out: tuple[int, ...]
) -> np.ndarray:
    """(N, C, *out, prod(k)) windows of the padded ``xp`` (a copy)."""
    n = len(k)
    k_eff = tuple(sizes.effective_kernel(kk, dd) for kk, dd in zip(k, d))
    view = np.lib.stride_tricks.sliding_window_view(xp, k_eff, axis=tuple(range(2, 2 + n)))
    pick: tuple[slice, ...] = (slice(None), slice(None))
    pick += tuple(slice(0, (o - 1) * ss + 1, ss) for o, ss in zip(out, s))
    pick += tuple(slice(None, None, dd) for dd in d)
    w = view[pick]
    return w.reshape(*w.shape[: 2 + n], math.prod(k))


def _pool_geometry(
    spec: MaxPoolSpec | AvgPoolSpec, spatial: tuple[int, ...], out: tuple[int, ...]
) -> tuple[tuple[int, ...], ...]:
    n = len(spatial)
    k = _per_dim(spec.kernel_size, n, "kernel_size")
    s = _per_dim(spec.stride, n, "stride", k)
    p = _per_dim(spec.padding, n, "padding")
    d = _per_dim(getattr(spec, "dilation", 1), n, "dilation")
    # right padding: enough for the last window (ceil_mode may reach past i + p)
    right = tuple(
        max(pp, (o - 1) * ss + dd * (kk - 1) + 1 - i - pp) for i, o, kk, ss, pp, dd in zip(spatial, out, k, s, p, d)
    )
    return k, s, p, d, right


def max_pool(
    spec: MaxPoolSpec, x: np.ndarray, batched: bool = True, memory_limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``F.max_pool{n}d(..., return_indices=True)``: values and flat per-plane indices of the unpadded input."""
    lay = _shape(spec, x, batched)
    spatial, out = tuple(x.shape[2:]), lay.output.spatial
    k, s, p, d, right = _pool_geometry(spec, spatial, out)
    cells = x.shape[0] * x.shape[1] * math.prod(out) * math.prod(k)
    check_memory(cells * (x.itemsize * 3 + 8 * 2) + x.size * 8 * 2, memory_limit, lay.layer)
    pads = [(0, 0), (0, 0), *zip(p, right)]
    xp = np.pad(x, pads, constant_values=-np.inf)
    flat = np.arange(math.prod(spatial), dtype=np.int64).reshape(1, 1, *spatial)
    where = np.pad(flat, pads, constant_values=-1)
    vals = _windows(xp, k, s, d, out)
    idx = _windows(where, k, s, d, out)[0, 0]  # (*out, taps)
    valid = idx >= 0
    # torch scans the window in order and keeps a value if it is > the best so far or NaN (so the last NaN);
    # a window of only -inf keeps its first in-bounds position.
    best = np.argmax(vals, axis=-1)
    nan = np.isnan(vals)
    last_nan = vals.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
    best = np.where(nan.any(axis=-1), last_nan, best)
    all_neg_inf = np.all((vals == -np.inf) | ~valid, axis=-1)
    values = np.take_along_axis(vals, best[..., None], axis=-1)[..., 0]
    indices = np.take_along_axis(np.broadcast_to(idx, vals.shape), best[..., None], axis=-1)[..., 0]
    # such a window keeps torch's starting index: per dimension the first tap at or past 0 (even past the end)
    start = np.zeros(out, dtype=np.int64)
    for dim, (o, ss, pp, dd) in enumerate(zip(out, s, p, d)):
        first = np.arange(o) * ss - pp
        first = np.where(first < 0, first + (-first + dd - 1) // dd * dd, first)
        shape = [1] * len(out)
        shape[dim] = o
        start = start * spatial[dim] + first.reshape(shape)
    indices = np.where(all_neg_inf, start, indices)
    return np.ascontiguousarray(values), np.ascontiguousarray(indices)


def avg_pool(spec: AvgPoolSpec, x: np.ndarray, batched: bool = True, memory_limit: int | None = None) -> np.ndarray:
    """``F.avg_pool{n}d``: the window's sum divided by ``divisor_override``, or the window's size clipped to the
    padded input (``count_include_pad``), or to the input."""
    lay = _shape(spec, x, batched)
    spatial, out = tuple(x.shape[2:]), lay.output.spatial
    k, s, p, d, right = _pool_geometry(spec, spatial, out)
    cells = x.shape[0] * x.shape[1] * math.prod(out) * math.prod(k)
    check_memory(cells * x.itemsize * 2 + x.size * x.itemsize * 2, memory_limit, lay.layer)
    xp = np.pad(x, [(0, 0), (0, 0), *zip(p, right)])
    total = _windows(xp, k, s, d, out).sum(axis=-1)
    if spec.divisor_override is not None:
        return np.ascontiguousarray(total / x.dtype.type(spec.divisor_override))
    divisor = np.ones(out, dtype=np.int64)
    for dim, (i, o, kk, ss, pp) in enumerate(zip(spatial, out, k, s, p)):
        start = np.arange(o) * ss - pp
        end = np.minimum(start + kk, i + pp)
        count = end - start if spec.count_include_pad else np.minimum(end, i) - np.maximum(start, 0)
        shape = [1] * len(out)
        shape[dim] = o
        divisor = divisor * count.reshape(shape)
    return np.ascontiguousarray(total / divisor.astype(x.dtype))


def max_unpool(
    spec: MaxUnpoolSpec, x: np.ndarray, indices: np.ndarray, batched: bool = True, memory_limit: int | None = None
) -> np.ndarray:
    """``F.max_unpool{n}d``: each value written at its flat per-plane index of a zero output."""
    lay = _shape(spec, x, batched)
    out = lay.output.spatial
    if indices.shape != x.shape:
        raise LayerError(f"indices of shape {indices.shape} must have the input's shape {x.shape}", param="indices")
    if indices.dtype.kind not in "iu":
        if indices.dtype.kind != "f" or not np.all(np.isfinite(indices)) or np.any(indices != np.round(indices)):
            raise UsageError("--indices must be integers (MaxPool's return_indices)", param="indices")
    idx = indices.astype(np.int64)
    plane = math.prod(out)
    check_memory(x.shape[0] * x.shape[1] * plane * x.itemsize + idx.nbytes, memory_limit, lay.layer)
    bad = (idx < 0) | (idx >= plane)
    if plane and bad.any():  # torch checks the indices only when there is an output to write
        raise LayerError(
            f"Found an invalid max index: {int(idx[bad].flat[0])} (output volumes are of size {'x'.join(map(str, out))})",
            param="indices",
        )
    result = np.zeros((x.shape[0], x.shape[1], plane), dtype=x.dtype)
    if not plane:
        return result.reshape(x.shape[0], x.shape[1], *out)
    flat_idx = idx.reshape(x.shape[0], x.shape[1], -1)
    np.put_along_axis(result, flat_idx, x.reshape(x.shape[0], x.shape[1], -1), axis=2)
    return result.reshape(x.shape[0], x.shape[1], *out)


def _source_scale(scale_factor: float | None, align_corners: bool, i: int, o: int, ft: Any) -> Any:
    if align_corners:
        return ft((i - 1) / (o - 1)) if o > 1 else ft(0)
    if scale_factor is not None and scale_factor > 0:
        return ft(1.0 / scale_factor)
    return ft(i) / ft(o)


def _nearest_index(i: int, o: int, scale_factor: float | None, exact: bool, shortcut: bool) -> np.ndarray:
    """torch's ``nearest_neighbor_compute_source_index`` (``floorf(dst * scale)`` in float32) and its exact
    variant (``floorf((dst + 0.5) * scale)``, the product in double), with the scale cast to float32.

    ``shortcut``: torch's 2-D kernel (``nearest_idx``) copies an axis whose size is unchanged and
    halves the index of one exactly doubled, whatever the scale factor."""
    dst = np.arange(o)
    if shortcut and o == i:
        return dst
    if shortcut and o == 2 * i:
        return dst >> 1
    scale = np.float32(_source_scale(scale_factor, False, i, o, np.float64))
    if exact:
        pos = ((dst + 0.5) * np.float64(scale)).astype(np.float32)
    else:
        pos = dst.astype(np.float32) * scale
    return np.minimum(np.floor(pos).astype(np.int64), i - 1)


def _linear_weights(
    i: int, o: int, scale_factor: float | None, align_corners: bool, ft: Any
) -> tuple[np.ndarray, np.ndarray]:
    """(o, i) matrix of linear interpolation weights along one axis, as ``compute_indices_weights_linear``."""
    scale = _source_scale(scale_factor, align_corners, i, o, ft)
    dst = np.arange(o).astype(ft)
    src = dst * scale if align_corners else scale * (dst + ft(0.5)) - ft(0.5)
    src = np.maximum(src, ft(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), i - 1)
    lam1 = np.clip(src - i0.astype(ft), ft(0), ft(1)).astype(ft)
    lam0 = (ft(1) - lam1).astype(ft)
    i1 = i0 + (i0 < i - 1)
    m = np.zeros((o, i), dtype=ft)
    np.add.at(m, (np.arange(o), i0), lam0)
    np.add.at(m, (np.arange(o), i1), lam1)
    return m, src


def _cubic_weights(i: int, o: int, scale_factor: float | None, align_corners: bool, ft: Any) -> np.ndarray:
    """(o, i) matrix of bicubic weights along one axis (A = -0.75, taps clamped to the edge)."""
    scale = _source_scale(scale_factor, align_corners, i, o, ft)
    dst = np.arange(o).astype(ft)
    src = dst * scale if align_corners else scale * (dst + ft(0.5)) - ft(0.5)
    i0 = np.floor(src).astype(np.int64)
    t = (src - i0.astype(ft)).astype(ft)
    a = ft(-0.75)

    def near(x: Any) -> Any:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: Any) -> Any:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    coeffs = [far(t + 1), near(t), near(1 - t), far(2 - t)]
    m = np.zeros((o, i), dtype=ft)
    for j, c in enumerate(coeffs):
        np.add.at(m, (np.arange(o), np.clip(i0 - 1 + j, 0, i - 1)), c.astype(ft))
    return m


def _area_weights(i: int, o: int, ft: Any) -> np.ndarray:
    m = np.zeros((o, i), dtype=ft)
    for r in range(o):
        start, end = (r * i) // o, -((-(r + 1) * i) // o)
        m[r, start:end] = ft(1) / ft(end - start)
    return m


def interpolate(spec: UpsampleSpec, x: np.ndarray, memory_limit: int | None = None) -> np.ndarray:
    """``F.interpolate(x, size, scale_factor, mode, align_corners, recompute_scale_factor)`` on a batched input."""
    if spec.size is not None and spec.recompute_scale_factor:
        raise UsageError(
            "recompute_scale_factor is not meaningful with an explicit size", param="recompute_scale_factor"
        )
    lay = _shape(spec, x, True)
    spatial, out = tuple(x.shape[2:]), lay.output.spatial
    n = len(spatial)
    ft = x.dtype.type
    check_memory(
        (x.shape[0] * x.shape[1] * (math.prod(out) + math.prod(spatial)) * 2 + sum(a * b for a, b in zip(spatial, out)))
        * x.itemsize,
        memory_limit,
        lay.layer,
    )
    use_scale = spec.scale_factor is not None and not spec.recompute_scale_factor and spec.mode != "area"
    factors: tuple[float | None, ...] = pool.scales(spec.scale_factor, n) if use_scale else (None,) * n
    result = x
    align = bool(spec.align_corners)
    # torch 2.13's 2-D 'nearest' kernel (only the 2-D one: measured against torch) indexes with nearest_idx
    shortcut = spec.mode == "nearest" and n == 2
    for dim, (i, o, f) in enumerate(zip(spatial, out, factors)):
        axis = 2 + dim
        if spec.mode in ("nearest", "nearest-exact"):
            result = np.take(result, _nearest_index(i, o, f, spec.mode == "nearest-exact", shortcut), axis=axis)
            continue
        if i == o and spec.mode in ("linear", "bilinear", "trilinear"):
            continue  # compute_source_index_and_lambda: an axis of unchanged size is copied, whatever the scale
        if spec.mode == "area":
            m = _area_weights(i, o, ft)
        elif spec.mode == "bicubic":
            m = _cubic_weights(i, o, f, align, ft)
        else:
            m, _ = _linear_weights(i, o, f, align, ft)
        result = np.moveaxis(np.tensordot(result, m, axes=([axis], [1])), -1, axis)
    return np.ascontiguousarray(result, dtype=x.dtype)


def torch_layer_name(spec: Any, dims: int) -> str:
    """``MaxPool2d``, ``Upsample``..."""
    return torch_name(spec, dims)
