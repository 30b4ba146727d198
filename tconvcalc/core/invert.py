"""Undoing a convolution's shape change and finding layers for a wanted size; pure integers, no NumPy.

A Conv maps every input size in ``[lo, lo + s - 1]`` to the same output ``o``, with
``lo = (o-1)*s - 2p + d(k-1) + 1`` (the ConvT size at output_padding 0). The ConvTranspose with the same
hyperparameters restores input size ``i`` with ``output_padding = (i + 2p - d(k-1) - 1) mod s``
(Dumoulin & Visin's ``a``, generalised to dilation); it is always below the stride, so PyTorch accepts it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from tconvcalc.core import sizes
from tconvcalc.core.budget import MAX_LISTED_PREIMAGE, MAX_SOLVE_CANDIDATES, check_bound
from tconvcalc.core.errors import LayerError, UsageError


@dataclass(frozen=True)
class DimInverse:
    """One spatial dimension of :func:`invert_conv`."""

    input_size: int
    conv_output: int
    output_padding: int  # restores input_size
    preimage: tuple[int, int]  # every input size the conv maps to conv_output: [smallest, largest]
    output_padding_range: tuple[int, int]  # the output_padding restoring the smallest and the largest

    @property
    def restores(self) -> tuple[tuple[int, int], ...] | None:
        """(size, output_padding) for each size of the preimage, in order; None when the preimage holds more than
        :data:`~tconvcalc.core.budget.MAX_LISTED_PREIMAGE` sizes (a stride of 10^9 has 10^9 of them): size
        ``preimage[0] + j`` then needs ``output_padding_range[0] + j``."""
        lo, hi = self.preimage
        if hi - lo + 1 > MAX_LISTED_PREIMAGE:
            return None
        return tuple((size, self.output_padding_range[0] + size - lo) for size in range(lo, hi + 1))


def invert_dim(i: int, k: int, s: int, p: int, d: int) -> DimInverse:
    """The inverse of one dimension of a Conv with symmetric padding ``p``; O(1) whatever the stride.

    >>> invert_dim(24, 3, 2, 1, 1).output_padding, invert_dim(23, 3, 2, 1, 1).output_padding
    (1, 0)
    >>> invert_dim(24, 3, 2, 1, 1).preimage, invert_dim(24, 3, 2, 1, 1).restores
    ((23, 24), ((23, 0), (24, 1)))
    >>> invert_dim(16, 3, 10**9, 1, 1).preimage, invert_dim(16, 3, 10**9, 1, 1).restores
    ((1, 1000000000), None)
    """
    (o,) = sizes.conv_output_size((i,), k, s, p, d)
    lo = sizes.full_size(o, k, s, d) - 2 * p  # the ConvT size at output_padding 0
    first, last = max(lo, 1), lo + s - 1
    return DimInverse(
        i,
        o,
        sizes.restoring_output_padding(i, k, s, 2 * p, d),
        (first, last),
        (first - lo, last - lo),
    )


def symmetric_padding(pads: sizes.Pads, what: str) -> tuple[int, ...]:
    """PyTorch's ConvTranspose pads symmetrically; refuse (with a way out) a conv padded asymmetrically."""
    for dim, (pb, pe) in enumerate(pads):
        if pb != pe:
            raise LayerError(
                f"{what} pads ({pb}, {pe}) in dim {dim}, unequal sides: no ConvTranspose padding reproduces it "
                f"(it would need 2p - output_padding = {pb + pe} with output_padding below the stride); the exact "
                f"adjoint is padding={min(pb, pe)} with the {'last' if pe > pb else 'first'} {abs(pe - pb)} "
                f"element(s) sliced off"
            )
    return tuple(pb for pb, _ in pads)


def uniform_overlap(k: int, s: int, d: int) -> bool:
    """Whether every interior output position of the ConvT gets the same number of taps (no checkerboard).

    Tap ``j`` lands on residue ``(j*d) mod s``; the overlap is uniform when every residue gets as many taps.

    >>> uniform_overlap(4, 2, 1), uniform_overlap(3, 2, 1), uniform_overlap(3, 3, 2)
    (True, False, True)
    """
    counts = [0] * s
    for j in range(k):
        counts[(j * d) % s] += 1
    return len(set(counts)) == 1


@dataclass(frozen=True)
class Solution:
    """One layer (per dimension) that maps ``input_size`` to ``output_size``; fields are JSON keys."""

    kernel_size: int
    stride: int
    padding: int
    output_padding: int
    dilation: int
    uniform_overlap: bool
    crops_beyond_kernel: bool  # padding > d(k-1): the crop removes whole kernel windows

    def rank(self) -> tuple[int, ...]:
        return (
            self.crops_beyond_kernel,
            not self.uniform_overlap,
            self.output_padding != 0,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def solve_transpose(i: int, o: int, max_kernel: int, max_stride: int, max_dilation: int) -> list[Solution]:
    """Every ConvTranspose ``(k, s, p, op, d)`` within the bounds with ``(i-1)s - 2p + d(k-1) + op + 1 = o``.

    Ranked: no cropping beyond the kernel, uniform overlap, output_padding 0, then smallest kernel.

    >>> [(x.kernel_size, x.stride, x.padding, x.output_padding) for x in solve_transpose(16, 32, 4, 2, 1)]
    [(2, 2, 0, 0), (4, 2, 1, 0), (1, 2, 0, 1), (3, 2, 1, 1)]
    """
    _check_sizes(i, o)
    found = transpose_solutions(i, o, range(1, max_kernel + 1), range(1, max_stride + 1), range(1, max_dilation + 1))
    return distinct(found, i, transposed=True)


def transpose_solutions(
    i: int, o: int, kernels: Iterable[int], strides: Iterable[int], dilations: Iterable[int]
) -> list[Solution]:
    """The one ConvTranspose solver: every ``(p, op)`` for each ``(k, s, d)`` given, ranked."""
    found = []
    for k in kernels:
        for s in strides:
            for d in dilations:
                for op in range(sizes.output_padding_limit(s, d)):
                    twice_p = sizes.full_size(i, k, s, d) + op - o
                    if twice_p >= 0 and twice_p % 2 == 0:
                        p = twice_p // 2
                        found.append(Solution(k, s, p, op, d, uniform_overlap(k, s, d), p > d * (k - 1)))
    return sorted(found, key=Solution.rank)


def distinct(solutions: list[Solution], i: int, transposed: bool) -> list[Solution]:
    """One of each set of layers that compute the same function, for ``solve``'s list: a one-tap kernel has no
    dilation (d=1 stands for all), and a ConvTranspose of a single input element is not moved by the stride
    (the smallest stride stands for the others with the same kernel, padding, output_padding and dilation)."""
    kept = [x for x in solutions if not (x.kernel_size == 1 and x.dilation > 1)]
    if transposed and i == 1:
        seen: set[tuple[int, int, int, int]] = set()
        by_stride = sorted(kept, key=lambda x: x.stride)
        firsts = []
        for x in by_stride:
            key = (x.kernel_size, x.padding, x.output_padding, x.dilation)
            if key not in seen:
                seen.add(key)
                firsts.append(x)
        kept = firsts
    return sorted(kept, key=Solution.rank)


def solve_conv(i: int, o: int, max_kernel: int, max_stride: int, max_dilation: int) -> list[Solution]:
    """Every Conv ``(k, s, p, d)`` within the bounds with ``floor((i + 2p - d(k-1) - 1)/s) + 1 = o``.

    Ranked: no window wholly in padding, no input left unused at the end, then smallest kernel.
    ``output_padding`` is the one a ConvTranspose needs to undo it; ``uniform_overlap`` is that ConvT's.
    """
    _check_sizes(i, o)
    found = conv_solutions(i, o, range(1, max_kernel + 1), range(1, max_stride + 1), range(1, max_dilation + 1))
    return distinct(found, i, transposed=False)


def conv_solutions(
    i: int, o: int, kernels: Iterable[int], strides: Iterable[int], dilations: Iterable[int]
) -> list[Solution]:
    """The one Conv solver: every symmetric padding ``p`` for each ``(k, s, d)`` given, ranked."""
    found = []
    for k in kernels:
        for s in strides:
            for d in dilations:
                k_eff = sizes.effective_kernel(k, d)
                # i + 2p - k_eff must lie in [(o-1)s, (o-1)s + s - 1]
                low, high = (o - 1) * s + k_eff - i, (o - 1) * s + s - 1 + k_eff - i
                for p in range(max(0, -(-low // 2)), high // 2 + 1):
                    op = sizes.restoring_output_padding(i, k, s, 2 * p, d)
                    found.append(Solution(k, s, p, op, d, uniform_overlap(k, s, d), p >= k_eff))
    return sorted(found, key=Solution.rank)


def search_size(max_kernel: int, max_stride: int, max_dilation: int) -> int:
    """Candidates one dimension's search tries: every ``(k, s, d)`` within the bounds times its ``output_padding``
    values (``max(s, d)`` of them; a Conv's paddings are fewer)."""
    return max_kernel * sum(max(s, d) for s in range(1, max_stride + 1) for d in range(1, max_dilation + 1))


def solve(
    inputs: Sequence[int], outputs: Sequence[int], conv: bool, max_kernel: int, max_stride: int, max_dilation: int
) -> list[list[Solution]]:
    """``tconvcalc solve``: every layer per dimension (1 to 3 of them) within the bounds, ranked. The search,
    candidates per dimension times dimensions, is refused above
    :data:`~tconvcalc.core.budget.MAX_SOLVE_CANDIDATES` before it starts."""
    if len(inputs) != len(outputs):
        raise UsageError(f"IN has {len(inputs)} values and OUT {len(outputs)}; give one per dimension each")
    if not 1 <= len(inputs) <= 3:
        raise UsageError(f"IN and OUT have {len(inputs)} values: give 1 to 3 (one per spatial dimension)")
    for bound, name in ((max_kernel, "--max-kernel"), (max_stride, "--max-stride"), (max_dilation, "--max-dilation")):
        if bound < 1:
            raise UsageError(f"{name}={bound} must be at least 1")
    per_dim = search_size(max_kernel, max_stride, max_dilation)
    check_bound(
        per_dim * len(inputs),
        MAX_SOLVE_CANDIDATES,
        f"candidate layers to try ({per_dim:,} per dimension within --max-kernel {max_kernel}, --max-stride "
        f"{max_stride}, --max-dilation {max_dilation}, x {len(inputs)} dimension(s))",
        "lower the bounds",
    )
    find = solve_conv if conv else solve_transpose
    return [find(i, o, max_kernel, max_stride, max_dilation) for i, o in zip(inputs, outputs)]


def _check_sizes(i: int, o: int) -> None:
    if i < 1 or o < 1:
        raise UsageError(f"sizes must be at least 1, got input {i} and output {o}")


def layer_call(
    kind: str,
    dims: int,
    cin: int | None,
    cout: int | None,
    k: Sequence[int],
    s: Sequence[int],
    p: Sequence[int],
    d: Sequence[int],
    groups: int,
    op: Sequence[int] | None = None,
) -> str:
    """A PyTorch constructor call to paste, e.g. ``nn.ConvTranspose2d(20, 10, kernel_size=5, stride=3, ...)``."""

    def val(v: Sequence[int]) -> str:
        return str(v[0]) if len(set(v)) == 1 else str(tuple(v))

    parts = [
        str(cin) if cin is not None else "in_channels",
        str(cout) if cout is not None else "out_channels",
        f"kernel_size={val(k)}",
        f"stride={val(s)}",
        f"padding={val(p)}",
    ]
    if op is not None:
        parts.append(f"output_padding={val(op)}")
    if groups != 1:
        parts.append(f"groups={groups}")
    if any(v != 1 for v in d):
        parts.append(f"dilation={val(d)}")
    return f"nn.{kind}{dims}d({', '.join(parts)})"


@dataclass(frozen=True)
class ConvInverse:
    """What ``invert-conv`` reports; the fields are its JSON keys."""

    input_shape: tuple[int, ...]
    conv_output_shape: tuple[int, ...]
    output_padding: tuple[int, ...]  # per dim: the ConvT with the same hyperparameters gives back input_shape
    preimage: tuple[tuple[int, int], ...]  # per dim: [smallest, largest] input size with the same conv output
    output_padding_range: tuple[tuple[int, int], ...]  # per dim: the output_padding of the smallest and largest
    restores: tuple[tuple[tuple[int, int], ...] | None, ...]  # per dim: (size, output_padding) pairs, or None
    conv_layer: str
    conv_transpose_layer: str

    def to_json(self) -> dict[str, Any]:
        def lists(v: Any) -> Any:
            return [lists(x) for x in v] if isinstance(v, (tuple, list)) else v

        return {"layer": f"Conv{len(self.output_padding)}d", **{k: lists(v) for k, v in asdict(self).items()}}


def invert_conv(
    shape: Any,
    kernel_size: sizes.IntArg,
    stride: sizes.IntArg = 1,
    padding: sizes.PaddingArg = 0,
    dilation: sizes.IntArg = 1,
    groups: int = 1,
    out_channels: int | None = None,
) -> ConvInverse:
    """The Conv on ``shape`` (a :class:`~tconvcalc.core.tensor.TensorShape`), and the ConvTranspose that undoes it.

    >>> from tconvcalc.core.tensor import TensorShape
    >>> inv = invert_conv(TensorShape((16, 16), 10, 1), 5, 3, 2, out_channels=20)
    >>> inv.conv_output_shape, inv.output_padding
    ((1, 20, 6, 6), (0, 0))
    >>> inv.conv_transpose_layer
    'nn.ConvTranspose2d(20, 10, kernel_size=5, stride=3, padding=2, output_padding=0)'
    """
    from tconvcalc.core.layer import conv_layer

    conv = conv_layer(shape, kernel_size, stride, padding, dilation, groups, out_channels)
    pads = symmetric_padding(conv.padding, f"padding={padding!r}")
    dims = [
        invert_dim(i, k, s, p, d)
        for i, k, s, p, d in zip(conv.input_spatial, conv.kernel_size, conv.stride, pads, conv.dilation)
    ]
    op = tuple(x.output_padding for x in dims)
    args = (conv.kernel_size, conv.stride, pads, conv.dilation, groups)
    return ConvInverse(
        input_shape=conv.input_shape,
        conv_output_shape=conv.output_shape,
        output_padding=op,
        preimage=tuple(x.preimage for x in dims),
        output_padding_range=tuple(x.output_padding_range for x in dims),
        restores=tuple(x.restores for x in dims),
        conv_layer=layer_call("Conv", conv.dims, conv.in_channels, conv.out_channels, *args),
        conv_transpose_layer=layer_call("ConvTranspose", conv.dims, conv.out_channels, conv.in_channels, *args, op=op),
    )
