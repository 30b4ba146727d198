"""The sparse matrix ``W`` of a convolution: ``conv(x) = W x`` and ``conv_transpose(y) = W^T y``.

Flattening is row-major over ``(channel, *spatial)``. The weight is PyTorch's Conv layout
``(C_out, C_in/groups, *k)``, which is also the ConvTranspose layout ``(C_in_T, C_out_T/groups, *k)`` of the
transposed convolution that multiplies by ``W^T``: the same tensor serves both.
``W[(co, o), (ci, i)] = w[co, ci - g*C_in/g, j]`` whenever ``i = o*s - p_begin + j*d`` lies inside the input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from tconvcalc.core import sizes
from tconvcalc.core.budget import DEFAULT_MEMORY_LIMIT, check_memory
from tconvcalc.core.errors import LayerError


@dataclass(frozen=True)
class SparseMatrix:
    """A matrix in coordinate form: ``matrix[row[n], col[n]] = value[n]``, rows sorted."""

    shape: tuple[int, int]
    row: np.ndarray
    col: np.ndarray
    value: np.ndarray

    @property
    def nnz(self) -> int:
        return int(self.value.size)

    @property
    def T(self) -> SparseMatrix:  # noqa: N802 (the matrix convention)
        order = np.lexsort((self.row, self.col))
        return SparseMatrix((self.shape[1], self.shape[0]), self.col[order], self.row[order], self.value[order])

    def todense(self) -> np.ndarray:
        dense = np.zeros(self.shape, dtype=self.value.dtype)
        dense[self.row, self.col] = self.value
        return dense

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """``self @ x`` for ``x`` of shape ``(cols,)`` or ``(batch, cols)``; vectorised with bincount."""
        batch = np.atleast_2d(x)
        out = np.stack(
            [np.bincount(self.row, weights=self.value * xb[self.col], minlength=self.shape[0]) for xb in batch]
        )
        return out if x.ndim == 2 else out[0]


def _positions(out_size: int, in_size: int, k: int, s: int, pb: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Input index ``o*s - pb + j*d`` for every (output o, tap j), and whether it lies inside the input."""
    index = np.arange(out_size)[:, None] * s - pb + np.arange(k)[None, :] * d
    return index, (index >= 0) & (index < in_size)


def matrix_from_weight(
    weight: np.ndarray,
    input_spatial: Sequence[int],
    output_spatial: Sequence[int],
    stride: Sequence[int],
    pads: sizes.Pads,
    dilation: Sequence[int],
    groups: int,
) -> SparseMatrix:
    """W for explicit input and output sizes (the transposed view needs the ConvT's own sizes)."""
    cout, cin_g, kernel = weight.shape[0], weight.shape[1], weight.shape[2:]
    dims, cout_g = len(kernel), cout // groups
    p_in, p_out, taps = math.prod(input_spatial), math.prod(output_spatial), math.prod(kernel)
    # per spatial dim (O_d, K_d) positions; combine into flat (P_out, taps) input index and mask
    flat = np.zeros((1,) * (2 * dims), dtype=np.int64)
    mask = np.ones((1,) * (2 * dims), dtype=bool)
    for dim in range(dims):
        idx, ok = _positions(
            output_spatial[dim], input_spatial[dim], kernel[dim], stride[dim], pads[dim][0], dilation[dim]
        )
        shape = [1] * (2 * dims)
        shape[dim], shape[dims + dim] = output_spatial[dim], kernel[dim]
        flat = flat * input_spatial[dim] + idx.reshape(shape)
        mask = mask & ok.reshape(shape)
    flat = np.broadcast_to(flat, (*output_spatial, *kernel)).reshape(p_out, taps)
    mask = np.broadcast_to(mask, (*output_spatial, *kernel)).reshape(p_out, taps)
    # entries ordered (co, o, ci, tap): rows come out sorted
    co = np.arange(cout)[:, None, None, None]
    ci = (co // cout_g) * cin_g + np.arange(cin_g)[None, None, :, None]
    full = (cout, p_out, cin_g, taps)
    keep = np.broadcast_to(mask[None, :, None, :], full)
    row = np.broadcast_to(co * p_out + np.arange(p_out)[None, :, None, None], full)[keep]
    col = np.broadcast_to(ci * p_in + flat[None, :, None, :], full)[keep]
    value = np.broadcast_to(weight.reshape(cout, 1, cin_g, taps), full)[keep]
    return SparseMatrix((cout * p_out, groups * cin_g * p_in), row, col, value)


def build_memory(entries: int, positions_taps: int, itemsize: int) -> int:
    """Peak bytes of :func:`matrix_from_weight` for ``entries`` candidate entries (``C_out * P_out * C_in/g *
    taps``, an upper bound of the non-zeros) and ``positions_taps`` (``P_out * taps``): the flat input index and
    mask (twice, while they are built), the full column index before masking, the kept rows, columns and values."""
    return 2 * 9 * positions_taps + entries * (8 + 16 + itemsize)


@dataclass(frozen=True)
class MatrixPlan:
    """What :func:`build` would make, known before anything is allocated: ``W``'s shape, its candidate entries
    (``C_out * P_out * C_in/g * taps``, at least its non-zeros) and the peak bytes of building (and transposing) it."""

    shape: tuple[int, int]
    entries: int
    peak: int
    held: int  # bytes of W (rows, columns and values of every entry) once built
    input_spatial: tuple[int, ...]
    output_spatial: tuple[int, ...]


def plan(
    weight_shape: Sequence[int],
    itemsize: int,
    input_size: Sequence[int],
    stride: sizes.IntArg = 1,
    padding: sizes.PaddingArg = 0,
    dilation: sizes.IntArg = 1,
    groups: int = 1,
    transpose: bool = False,
) -> MatrixPlan:
    """The size of :func:`build`'s matrix from the shapes alone (refusing what it would refuse), for the budget."""
    dims = len(weight_shape) - 2
    if not 1 <= dims <= 3:
        raise LayerError(f"weight must have 3 to 5 axes (C_out, C_in/groups, *k), got shape {tuple(weight_shape)}")
    size = tuple(input_size)
    if len(size) not in (dims, dims + 1):
        raise LayerError(f"input size {size} must be (C_in, *spatial) or spatial with {dims} dimensions")
    if groups < 1 or weight_shape[0] % groups:
        raise LayerError(f"groups={groups} must be positive and divide the weight's {weight_shape[0]} output channels")
    spatial, k = size[-dims:], tuple(weight_shape[2:])
    s, d = sizes.per_dim(stride, dims, "stride"), sizes.per_dim(dilation, dims, "dilation")
    pads = sizes.resolve_conv_padding(padding, k, s, d)
    out = sizes.conv_output_size(spatial, k, s, pads, d)
    cout, cin_g = weight_shape[0], weight_shape[1]
    p_in, p_out, taps = math.prod(spatial), math.prod(out), math.prod(k)
    entries = cout * p_out * cin_g * taps
    held = entries * (16 + itemsize)
    peak = build_memory(entries, p_out * taps, itemsize)
    if transpose:  # the sort order, the sort's buffer and the transposed copy beside W
        peak = max(peak, 2 * held + entries * 16)
    return MatrixPlan((cout * p_out, groups * cin_g * p_in), entries, peak, held, spatial, out)


def conv_matrix(
    weight: Any,
    input_size: Sequence[int],
    stride: sizes.IntArg = 1,
    padding: sizes.PaddingArg = 0,
    dilation: sizes.IntArg = 1,
    groups: int = 1,
) -> SparseMatrix:
    """The matrix W with ``conv(x, weight, ...) == W @ x.ravel()`` for ``x`` of ``input_size``.

    ``input_size`` is ``(C_in, *spatial)`` or spatial only (then ``C_in = C_in/groups * groups``).

    >>> conv_matrix([[[[1, 2], [3, 4]]]], (3, 3)).todense().tolist()[0]
    [1, 2, 0, 3, 4, 0, 0, 0, 0]
    """
    w = np.asarray(weight)
    dims = w.ndim - 2
    if not 1 <= dims <= 3:
        raise LayerError(f"weight must have 3 to 5 axes (C_out, C_in/groups, *k), got shape {w.shape}")
    size = tuple(input_size)
    spatial = size[-dims:] if len(size) in (dims, dims + 1) else None
    if spatial is None:
        raise LayerError(f"input size {size} must be (C_in, *spatial) or spatial with {dims} dimensions")
    if groups < 1 or w.shape[0] % groups:
        raise LayerError(f"groups={groups} must be positive and divide the weight's {w.shape[0]} output channels")
    if len(size) == dims + 1 and size[0] != w.shape[1] * groups:
        raise LayerError(
            f"input has {size[0]} channels, but the weight {w.shape} with groups={groups} expects {w.shape[1] * groups}"
        )
    k, s, d = w.shape[2:], sizes.per_dim(stride, dims, "stride"), sizes.per_dim(dilation, dims, "dilation")
    pads = sizes.resolve_conv_padding(padding, k, s, d)
    out = sizes.conv_output_size(spatial, k, s, pads, d)
    return matrix_from_weight(w, spatial, out, s, pads, d, groups)


class SymbolicLabels(Sequence[str]):
    """The labels ``w11, w12, ...`` of a symbolic weight's entries, each made when first asked for: a summary of
    a huge W never makes its kernel's millions of labels."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape
        self.sep = "" if max(shape[2:]) <= 9 else ","
        self._made: dict[int, str] = {}

    def __len__(self) -> int:
        return math.prod(self.shape)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        index %= len(self)
        label = self._made.get(index)
        if label is None:
            rest, coords = index, []
            for extent in reversed(self.shape):
                rest, coord = divmod(rest, extent)
                coords.append(coord)
            co, ci, *tap = reversed(coords)
            digits = self.sep.join(str(j + 1) for j in tap)
            label = self._made[index] = f"w{digits}" if self.shape[:2] == (1, 1) else f"w[{co},{ci}]{digits}"
        return label

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


def symbolic_weight(
    kernel_size: Sequence[int], out_channels: int = 1, in_channels_per_group: int = 1
) -> tuple[np.ndarray, SymbolicLabels]:
    """A weight whose values are 1-based indices into ``labels``: ``w11, w12, ...`` as textbooks write them.

    >>> weight, labels = symbolic_weight((2, 2))
    >>> weight.tolist(), list(labels)
    ([[[[1, 2], [3, 4]]]], ['w11', 'w12', 'w21', 'w22'])
    """
    shape = (out_channels, in_channels_per_group, *kernel_size)
    return np.arange(1, math.prod(shape) + 1).reshape(shape), SymbolicLabels(shape)


def overlap_counts(
    kernel_size: Sequence[int],
    input_size: Sequence[int],
    stride: Sequence[int],
    pads: sizes.Pads,
    dilation: Sequence[int],
) -> np.ndarray:
    """For the transposed convolution back to ``input_size``: how many (input element, tap) pairs land on each
    output position. These are the column counts of the single-channel ``W``."""
    dims = len(kernel_size)
    out = sizes.conv_output_size(input_size, kernel_size, stride, pads, dilation)
    ones = np.ones((1, 1, *kernel_size))
    pattern = matrix_from_weight(ones, input_size, out, stride, pads, dilation, 1)
    return np.bincount(pattern.col, minlength=math.prod(input_size)).reshape(tuple(input_size)[:dims])


@dataclass(frozen=True)
class MatrixResult:
    """``tconvcalc matrix``: W (or W^T), what its rows and columns are, and the transposed layer's output_padding."""

    matrix: SparseMatrix
    transposed: bool
    input_shape: tuple[int, ...]  # (C_in, *spatial) of the convolution
    output_shape: tuple[int, ...]  # (C_out, *spatial) of the convolution
    output_padding: tuple[int, ...]  # what the transposed convolution needs to map back to input_shape
    weight: np.ndarray
    stride: tuple[int, ...]
    padding: sizes.Pads
    dilation: tuple[int, ...]
    groups: int

    @property
    def dims(self) -> int:
        return len(self.stride)

    def dense(self, labels: Sequence[str] | None = None, limit: int | None = DEFAULT_MEMORY_LIMIT) -> np.ndarray:
        """The matrix as a dense array (of numbers, or of the ``labels`` of a symbolic weight), within the budget."""
        m = self.matrix
        check_memory(
            math.prod(m.shape) * 8,
            limit,
            f"a dense {m.shape[0]:,} x {m.shape[1]:,} matrix (use --format coo or --save FILE.npz)",
        )
        if labels is None:
            return np.asarray(m.todense())
        out: np.ndarray = np.full(m.shape, "0", dtype=object)
        out[m.row, m.col] = [labels[int(v) - 1] for v in m.value]
        return out


def build(
    weight: np.ndarray,
    input_size: Sequence[int],
    stride: sizes.IntArg = 1,
    padding: sizes.PaddingArg = 0,
    dilation: sizes.IntArg = 1,
    groups: int = 1,
    transpose: bool = False,
) -> MatrixResult:
    """W of ``conv(x, weight)`` for ``x`` of ``input_size`` (spatial or ``(C_in, *spatial)``), or its transpose."""
    from tconvcalc.core.invert import symmetric_padding

    dims = weight.ndim - 2
    matrix = conv_matrix(weight, input_size, stride, padding, dilation, groups)
    spatial = tuple(input_size)[-dims:]
    k, s, d = weight.shape[2:], sizes.per_dim(stride, dims, "stride"), sizes.per_dim(dilation, dims, "dilation")
    pads = sizes.resolve_conv_padding(padding, k, s, d)
    out = sizes.conv_output_size(spatial, k, s, pads, d)
    op: tuple[int, ...] = ()
    if transpose:
        symmetric_padding(pads, f"padding={padding!r}")
        op = tuple(
            sizes.restoring_output_padding(i, kk, ss, pb + pe, dd)
            for i, (pb, pe), dd, kk, ss in zip(spatial, pads, d, k, s)
        )
        matrix = matrix.T
    return MatrixResult(
        matrix, transpose, (weight.shape[1] * groups, *spatial), (weight.shape[0], *out), op, weight, s, pads, d, groups
    )
