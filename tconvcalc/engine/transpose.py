"""The fast path of ``conv_transpose``: GEMM then col2im, without building the zero-inserted input.

``cols = w_g^T y_g`` holds every input element's scaled kernel, one ``(C_out/g, P)`` block per tap. Tap ``j``
of input ``i`` lands at ``f = i*s + j*d`` of the full output, i.e. in phase ``r = (j*d) mod s`` at grid offset
``q = (j*d) div s``. The output is accumulated phase by phase on a grid whose inner dimensions are padded to
the grid width, so that each tap is ONE flat, shifted, contiguous add (rows of thousands of elements rather
than image rows), and the phases are then interleaved into the cropped output. The batch is processed in
chunks whose GEMM result fits in cache.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tconvcalc.core.layer import LayerShape
    from tconvcalc.engine.problem import Problem

CHUNK_BYTES = 4 << 20  # the GEMM result of one batch chunk stays within this (an L2-sized working set)


def buffer_size(lay: LayerShape) -> tuple[int, ...]:
    """The full output, extended where output_padding reaches past it (those values are bias only)."""
    return tuple(max(f, pb + o) for f, (pb, _), o in zip(lay.full_size, lay.padding, lay.output_spatial))


def phase_grid(lay: LayerShape) -> tuple[int, ...]:
    """Per dim, the number of output positions of each phase: ``ceil(buffer / stride)``."""
    return tuple(-(-b // s) for b, s in zip(buffer_size(lay), lay.stride))


def _tap_targets(lay: LayerShape, grid: tuple[int, ...]) -> list[tuple[tuple[int, ...], int]]:
    """For every tap in C order: (its phase, the residues ``(j*d) mod s`` per dim; flat offset on the grid)."""
    strides = [math.prod(grid[k + 1 :]) for k in range(lay.dims)]
    targets = []
    for tap in np.ndindex(*lay.kernel_size):
        residues, offset = [], 0
        for j, d, s, g in zip(tap, lay.dilation, lay.stride, strides):
            residues.append((j * d) % s)
            offset += (j * d) // s * g
        targets.append((tuple(residues), offset))
    return targets


def used_phases(lay: LayerShape) -> list[tuple[int, ...]]:
    """The phases some tap lands on, at most one per tap. The other ``prod(stride)`` phases hold only zeros
    (and the bias): they are never visited, so a stride of 3000 costs no more than a stride of 2."""
    per_dim = [sorted({(j * d) % s for j in range(k)}) for k, d, s in zip(lay.kernel_size, lay.dilation, lay.stride)]
    return list(itertools.product(*per_dim))


def used_phase_count(lay: LayerShape) -> int:
    """``len(used_phases(lay))`` without listing them: tap residues ``j*d mod s`` cycle through the multiples of
    ``gcd(d, s)``, so a dimension has ``min(k, s / gcd(d, s))`` of them."""
    return math.prod(min(k, s // math.gcd(d, s)) for k, d, s in zip(lay.kernel_size, lay.dilation, lay.stride))


def _phase_windows(
    lay: LayerShape, phases: list[tuple[int, ...]]
) -> list[tuple[int, tuple[slice, ...], tuple[slice, ...]]]:
    """For every used phase present in the cropped output: (its index in ``phases``, output slices, grid slices)."""
    windows = []
    for index, residues in enumerate(phases):
        out_sl, grid_sl = [], []
        for r, s, (pb, _), size in zip(residues, lay.stride, lay.padding, lay.output_spatial):
            first = (r - pb) % s  # first output o with (o + pb) mod s == r
            if first >= size:
                break
            count = (size - 1 - first) // s + 1
            out_sl.append(slice(first, None, s))
            grid_sl.append(slice((first + pb) // s, (first + pb) // s + count))
        else:
            windows.append((index, tuple(out_sl), tuple(grid_sl)))
    return windows


def _chunk(n: int, cols_per_item: int, itemsize: int) -> int:
    """Batch items per chunk: the GEMM result of one chunk stays within CHUNK_BYTES."""
    return max(1, min(n, CHUNK_BYTES // max(1, cols_per_item * itemsize)))


def conv_transpose_fast(p: Problem) -> np.ndarray:
    """GEMM + flat col2im per batch chunk; returns ``(N, C_out, *out)`` before bias."""
    lay, x, w = p.layer, p.x, p.w
    n, groups = x.shape[0], lay.groups
    cin_g, cout_g, kernel = w.shape[0] // groups, w.shape[1], w.shape[2:]
    taps, spatial, grid = math.prod(kernel), x.shape[2:], phase_grid(lay)
    # pad the inner spatial dims of the input to the grid: a tap's add is then one flat window
    padded = (spatial[0], *grid[1:])
    if padded != spatial:
        xp = np.zeros((n, x.shape[1], *padded), dtype=x.dtype)
        inside: tuple[Any, ...] = (Ellipsis, *(slice(0, i) for i in spatial))
        xp[inside] = x
    else:
        xp = x
    length = math.prod(padded)
    # weight (G, C_in/g, C_out/g, *k) -> (G, taps*C_out/g, C_in/g): rows ordered (tap, out channel)
    wt = np.ascontiguousarray(
        w.reshape(groups, cin_g, cout_g, taps).transpose(0, 3, 2, 1).reshape(groups, taps * cout_g, cin_g)
    )
    inner = math.prod(grid[1:])
    plane = (grid[0] + 1) * inner  # one spare outer row: a shifted window never runs off the end
    phases = used_phases(lay)
    index = {residues: i for i, residues in enumerate(phases)}
    targets = [(index[residues], offset) for residues, offset in _tap_targets(lay, grid)]
    windows = _phase_windows(lay, phases)
    every = len(phases) == math.prod(lay.stride)  # otherwise the phases no tap reaches hold zeros
    out = (np.empty if every else np.zeros)((n, groups, cout_g, *lay.output_spatial), dtype=x.dtype)
    chunk = _chunk(n, groups * taps * cout_g * length, x.dtype.itemsize)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        cols = np.matmul(wt, xp[start:stop].reshape(stop - start, groups, cin_g, length))
        cols = cols.reshape(stop - start, groups, taps, cout_g, length)
        acc = np.zeros((stop - start, groups, len(phases), cout_g, plane), dtype=x.dtype)
        for t, (phase, offset) in enumerate(targets):
            acc[:, :, phase, :, offset : offset + length] += cols[:, :, t]
        grids = acc.reshape(stop - start, groups, len(phases), cout_g, grid[0] + 1, *grid[1:])  # a view
        for phase, out_sl, grid_sl in windows:
            target: tuple[Any, ...] = (slice(start, stop), slice(None), slice(None), *out_sl)
            source: tuple[Any, ...] = (slice(None), slice(None), phase, slice(None), *grid_sl)
            out[target] = grids[source]
    return out.reshape(p.out_shape)


def fast_memory(p: Problem) -> int:
    """Peak bytes of :func:`conv_transpose_fast` and :meth:`Problem.finish`: the re-laid weight, the padded
    input, the output, and one chunk's GEMM result and phase grids (used phases only)."""
    lay, item = p.layer, p.dtype.itemsize
    n, cin, cout = p.x.shape[0], p.x.shape[1], lay.out_channels or 0
    grid = phase_grid(lay)
    taps = math.prod(lay.kernel_size)
    length = lay.input_spatial[0] * math.prod(grid[1:])
    padded = n * cin * length if length != math.prod(lay.input_spatial) else 0
    cols = cout * taps * length
    acc = cout * used_phase_count(lay) * (grid[0] + 1) * math.prod(grid[1:])
    chunk = _chunk(n, cols, item)
    return (p.w.size + padded + p.out_size + chunk * (cols + acc)) * item + p.finish_bytes(item)
