"""Receptive fields: which network-input positions each output element of a layer depends on.

Per spatial dimension, the receptive field of a layer is the largest extent ``max - min + 1``, over all of the
layer's output elements, of the network-input positions that element depends on: those whose gradient is
non-zero for generic inputs and weights. It is computed on the network's actual sizes, borders included:

* at a border, a window that reaches into the padding depends on fewer input positions (zero padding has no
  input behind it); a ``reflect``/``replicate`` padding reads the mirrored or repeated positions, a ``circular``
  one the other end of the input (so that border element's window spans the whole input);
* a ConvTranspose output element depends on the inputs ``i`` with ``o + padding = i*stride + j*dilation`` for a
  tap ``j``; which ones depends on the element's phase, so the largest window is taken over every phase;
* MaxPool depends on its whole window (the maximum may be anywhere in it); MaxUnpool on every input whose
  pooling window covers the position (the indices of a MaxPool with the same kernel, stride and padding);
* Upsample ``nearest``/``nearest-exact`` read one position each, chosen as PyTorch 2.13 chooses it (in float32
  arithmetic, as its kernels compute the index); ``linear``/``bilinear``/``trilinear`` two and ``bicubic``
  four per dimension, less where the interpolation weight is exactly zero (weights in exact arithmetic from the
  scale as written); ``area`` its adaptive-pooling window;
* a join (``concat`` along the channels, ``add``) depends on what its inputs depend on: each channel of a
  concat keeps its own input's window, an ``add`` the union; element-wise layers change nothing. Norms count as
  element-wise: the statistics a norm computes over the batch or the plane (BatchNorm in training,
  InstanceNorm, GroupNorm) are left out, as in the usual receptive-field arithmetic;
* a Linear acts on the last dimension and a softmax over a spatial dimension reads all of it; after a Flatten
  or an Unflatten (or a concat along another axis than the channels) the output no longer has the input's
  spatial layout, and the receptive field is undefined (``None``).

The window is tracked exactly: per dimension and per output position, the first and last input position read,
per run of channels that share them. So the result is exact for every layer, and layers whose sizes exceed
:data:`LIMIT` positions per dimension are not tracked.

>>> from tconvcalc.core.tensor import TensorShape
>>> start(TensorShape((8,), 1, 1)).size()
[1]
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from tconvcalc.core.blocks import (
    AddSpec,
    ConcatSpec,
    ElementwiseSpec,
    FlattenSpec,
    LinearSpec,
    UnflattenSpec,
)
from tconvcalc.core.layer import LayerResult, LayerShape
from tconvcalc.core.specs import AvgPoolSpec, MaxPoolSpec, MaxUnpoolSpec, UpsampleSpec
from tconvcalc.core.tensor import TensorShape

LIMIT = 1 << 16  # positions per dimension beyond which receptive fields are not tracked
EMPTY = (1 << 62, -1)  # (first, last) of a window that reads nothing
Reads = list[range | list[int]]  # per output position, the input positions it reads (a range where it can)
Windows = tuple[tuple[int, ...], tuple[int, ...]]  # (first, last) per output position, in one dimension


@dataclass(frozen=True)
class Segment:
    """A run of ``channels`` consecutive channels (None: the tensor has no channel axis) sharing their windows:
    per spatial dimension, per position, the first and last network-input position read."""

    channels: int | None
    windows: tuple[Windows, ...]


@dataclass(frozen=True)
class Field:
    """The windows of every element of one layer's output."""

    segments: tuple[Segment, ...]

    def size(self) -> list[int]:
        """The receptive field: per spatial dimension, the largest extent over every output element. An element
        whose window is empty in one dimension depends on nothing (a product with an empty factor)."""
        dims = len(self.segments[0].windows)
        best = [0] * dims
        for seg in self.segments:
            extents = [[b - a + 1 for a, b in zip(*seg.windows[dim]) if b >= a] for dim in range(dims)]
            if all(extents):
                best = [max(x, max(e)) for x, e in zip(best, extents)]
        return best

    def extents(self, dim: int, channels: int) -> list[list[tuple[int, int] | None]]:
        """Per channel and per position of dimension ``dim``, the window ``(first, last)`` (None: empty)."""
        rows: list[list[tuple[int, int] | None]] = []
        for seg in self.segments:
            lo, hi = seg.windows[dim]
            row = [(a, b) if b >= a else None for a, b in zip(lo, hi)]
            rows += [row] * (channels if seg.channels is None else seg.channels)
        return rows


def start(shape: TensorShape) -> Field | None:
    """The network input: every position depends on itself."""
    if shape.dims == 0 or max(shape.spatial) > LIMIT:
        return None
    windows = tuple((tuple(range(n)), tuple(range(n))) for n in shape.spatial)
    return Field((Segment(shape.channels, windows),))


# Reads per dimension: for each output position, the range of input positions it reads.


def _window(n_in: int, n_out: int, k: int, s: int, pad: int, d: int, mode: str = "zeros") -> Reads:
    """Conv and pools: output ``o`` reads ``o*s - pad + j*d`` for the taps ``j`` that land in the input (with
    ``mode`` other than zeros, the padded positions read the mirrored, repeated or wrapped input)."""
    out: Reads = []
    for o in range(n_out):
        first = o * s - pad
        last = first + (k - 1) * d
        if mode != "zeros" and (first < 0 or last >= n_in):
            out.append([_pad_index(first + j * d, n_in, mode) for j in range(k)])
            continue
        j_lo = 0 if first >= 0 else (-first + d - 1) // d
        j_hi = min(k - 1, (n_in - 1 - first) // d) if first <= n_in - 1 else -1
        out.append(range(first + j_lo * d, first + j_hi * d + 1, d) if j_lo <= j_hi else range(0))
    return out


def _pad_index(u: int, n: int, mode: str) -> int:
    if 0 <= u < n:
        return u
    if mode == "reflect":
        return -u if u < 0 else 2 * (n - 1) - u
    if mode == "replicate":
        return min(max(u, 0), n - 1)
    return u % n  # circular


def _transposed(n_in: int, n_out: int, k: int, s: int, pad: int, d: int) -> Reads:
    """ConvTranspose and MaxUnpool: output ``o`` reads the inputs ``i`` with ``o + pad = i*s + j*d``."""
    g = math.gcd(d, s)
    s1, d1 = s // g, d // g
    inverse = pow(d1, -1, s1) if s1 > 1 else 0
    out: Reads = []
    for o in range(n_out):
        f = o + pad
        if f % g:
            out.append(range(0))
            continue
        j0 = (f // g) * inverse % s1 if s1 > 1 else 0
        if j0 > k - 1:
            out.append(range(0))
            continue
        count = (k - 1 - j0) // s1 + 1
        i_first = (f - j0 * d) // s  # the largest input index (tap j0)
        i_last = i_first - (count - 1) * d1  # the smallest
        lo = i_last if i_last >= 0 else i_last + (-i_last + d1 - 1) // d1 * d1
        hi = min(i_first, n_in - 1)
        if hi < i_first:
            hi -= (hi - i_last) % d1
        out.append(range(lo, hi + 1, d1) if lo <= hi else range(0))
    return out


def _f32(x: float) -> float:
    """``x`` rounded to float32, as C++ rounds a double assigned to a float."""
    value: float = struct.unpack("f", struct.pack("f", x))[0]
    return value


def _upsample(n_in: int, n_out: int, mode: str, scale: float | None, align: bool, vectorized: bool = False) -> Reads:
    """Upsample/interpolate: the input positions each output reads with a non-zero weight.

    PyTorch 2.13 picks nearest indices in two kernels. Its generic one (1-D, 3-D, and 2-D outputs with H + W above
    128) computes the scale in double and floors the source index after rounding it to float; its vectorized 2-D
    one (``H + W <= 128``) computes the scale in float and special-cases equal and doubled sizes.
    """
    if mode == "area":  # adaptive average pooling
        return [range(o * n_in // n_out, -(-(o + 1) * n_in // n_out)) for o in range(n_out)]
    if mode in ("nearest", "nearest-exact"):
        return [range(i, i + 1) for i in _nearest(n_in, n_out, mode, scale, vectorized)]
    cubic = mode == "bicubic"
    if n_out == n_in and not cubic:
        return [range(o, o + 1) for o in range(n_out)]
    if align:
        ratio = Fraction(n_in - 1, n_out - 1) if n_out > 1 else Fraction(0)
    elif scale is not None and scale > 0:
        ratio = 1 / Fraction(repr(scale))  # the scale as written: 1.1 is 11/10, not its binary neighbour
    else:
        ratio = Fraction(n_in, n_out)
    half = Fraction(1, 2)
    result: Reads = []
    for o in range(n_out):
        x = ratio * o if align else ratio * (o + half) - half
        if not cubic and x < 0:
            x = Fraction(0)
        i0 = min(math.floor(x), n_in - 1)
        t = min(max(x - i0, Fraction(0)), Fraction(1))
        if cubic:
            taps = [1] if t == 0 else [2] if t == 1 else [0, 1, 2, 3]
            result.append(sorted({min(max(i0 - 1 + m, 0), n_in - 1) for m in taps}))
        else:
            i1 = i0 + 1 if i0 < n_in - 1 else i0
            result.append(range(i0, (i1 if t > 0 else i0) + 1))
    return result


def _nearest(n_in: int, n_out: int, mode: str, scale: float | None, vectorized: bool) -> list[int]:
    given = scale is not None and scale > 0
    if vectorized:  # nearest_idx / nearest_exact_idx with compute_scales_value<float>
        if mode == "nearest" and n_out == n_in:
            return list(range(n_out))
        if mode == "nearest" and n_out == 2 * n_in:
            return [o >> 1 for o in range(n_out)]
        r = _f32(1.0 / scale) if given and scale is not None else _f32(n_in / n_out)
        if mode == "nearest":
            found = [math.floor(_f32(o * r)) for o in range(n_out)]
        else:
            found = [math.floor(_f32((o + 0.5) * r)) for o in range(n_out)]
    else:  # HelperInterpNearest(Exact): area_pixel_compute_scale<double>, floorf of the source index
        d = 1.0 / scale if given and scale is not None else n_in / n_out
        if mode == "nearest":
            found = [math.floor(_f32(d * o)) for o in range(n_out)]
        else:
            found = [math.floor(_f32(max(d * (o + 0.5) - 0.5, 0.0) + 0.5)) for o in range(n_out)]
    return [min(i, n_in - 1) for i in found]


def _everything(n_in: int, n_out: int) -> Reads:
    return [range(n_in)] * n_out


def _apply(windows: Windows, reads: Reads) -> Windows:
    lo, hi = windows
    out_lo, out_hi = [], []
    for r in reads:
        if isinstance(r, range):
            if not r:
                out_lo.append(EMPTY[0])
                out_hi.append(EMPTY[1])
                continue
            part = slice(r.start, r.stop, r.step)
            out_lo.append(min(lo[part]))
            out_hi.append(max(hi[part]))
        else:
            out_lo.append(min(lo[i] for i in r))
            out_hi.append(max(hi[i] for i in r))
    return tuple(out_lo), tuple(out_hi)


def _union(parts: Sequence[Windows]) -> Windows:
    if len(parts) == 1:
        return parts[0]
    return tuple(map(min, *(p[0] for p in parts))), tuple(map(max, *(p[1] for p in parts)))


def _merge(segments: Sequence[Segment]) -> Field:
    """Adjacent runs with the same windows become one."""
    out: list[Segment] = []
    for seg in segments:
        if out and out[-1].windows == seg.windows and out[-1].channels is not None and seg.channels is not None:
            out[-1] = Segment(out[-1].channels + seg.channels, seg.windows)
        else:
            out.append(seg)
    return Field(tuple(out))


def _spatial(field: Field, reads: Sequence[Reads | None]) -> Field:
    """The same reads applied to every run of channels (``None``: that dimension is unchanged)."""
    segments = [
        Segment(seg.channels, tuple(w if r is None else _apply(w, r) for w, r in zip(seg.windows, reads)))
        for seg in field.segments
    ]
    return _merge(segments)


def _holes(seg: Segment) -> tuple[tuple[bool, ...], ...]:
    return tuple(tuple(b < a for a, b in zip(*w)) for w in seg.windows)


def _channel_union(field: Field, channels: int | None) -> Field | None:
    """Every channel reads every other: the union of the runs' windows. Exact when the runs have their empty
    windows (positions that read no input: a ConvTranspose with a kernel smaller than its stride) in the same
    places; otherwise the union is no longer a window per dimension, and it is not tracked (None)."""
    segments = field.segments
    if len(segments) > 1 and len({_holes(seg) for seg in segments}) > 1:
        return None
    dims = len(segments[0].windows)
    windows = tuple(_union([seg.windows[d] for seg in segments]) for d in range(dims))
    return Field((Segment(channels, windows),))


def _grouped(field: Field, in_channels: int | None, out_channels: int | None, groups: int) -> Field | None:
    """A convolution's channel mixing: each output group reads the channels of its input group."""
    if in_channels is None or out_channels is None or groups == 1 or len(field.segments) == 1:
        return _channel_union(field, out_channels)
    per_in = in_channels // groups
    bounds = []
    position = 0
    for seg in field.segments:
        count = seg.channels or 0
        bounds.append((position, position + count, seg))
        position += count
    made: list[Segment] = []
    cache: dict[tuple[int, ...], Field | None] = {}
    for g in range(groups):
        lo, hi = g * per_in, (g + 1) * per_in
        hits = tuple(i for i, (a, b, _) in enumerate(bounds) if a < hi and b > lo)
        if hits not in cache:
            cache[hits] = _channel_union(Field(tuple(bounds[i][2] for i in hits)), out_channels // groups)
        found = cache[hits]
        if found is None:
            return None
        made.append(found.segments[0])
    return _merge(made)


def _per_dim(values: Any, dims: int) -> list[int]:
    return list(values) if isinstance(values, (list, tuple)) else [values] * dims


def _channel_axis(shape: TensorShape) -> int | None:
    if shape.channels is None:
        return None
    return 1 if shape.batch is not None else 0


def step(
    spec: Any, sources: Sequence[Field | None], inputs: Sequence[TensorShape], result: LayerResult
) -> Field | None:
    """The windows of a layer's output, from the windows of its inputs (None: undefined from here on)."""
    if not sources or any(f is None for f in sources):
        return None
    fields = [f for f in sources if f is not None]
    out = result.output
    if isinstance(spec, (FlattenSpec, UnflattenSpec)) or out.dims != inputs[0].dims or max(out.spatial or (0,)) > LIMIT:
        return None
    field, shape = fields[0], inputs[0]
    n_in, n_out = shape.spatial, out.spatial
    dims = len(n_in)
    if isinstance(spec, ConcatSpec):
        return _concat(spec, fields, inputs)
    if isinstance(spec, AddSpec):
        return _add(fields, inputs, out)
    if isinstance(result, LayerShape):
        k, s, d = result.kernel_size, result.stride, result.dilation
        pads = [p[0] for p in result.padding]
        if result.operation == "conv":
            mode = result.padding_mode
            reads = [_window(n_in[i], n_out[i], k[i], s[i], pads[i], d[i], mode) for i in range(dims)]
        else:
            reads = [_transposed(n_in[i], n_out[i], k[i], s[i], pads[i], d[i]) for i in range(dims)]
        spatial = _spatial(field, reads)
        return _grouped(spatial, result.in_channels, result.out_channels, result.groups)
    settings = getattr(result, "settings", {})
    if isinstance(spec, (MaxPoolSpec, AvgPoolSpec)):
        k, s, p = settings["kernel_size"], settings["stride"], settings["padding"]
        d = settings.get("dilation", [1] * dims)
        return _spatial(field, [_window(n_in[i], n_out[i], k[i], s[i], p[i], d[i]) for i in range(dims)])
    if isinstance(spec, MaxUnpoolSpec):
        k, s, p = settings["kernel_size"], settings["stride"], settings["padding"]
        return _spatial(field, [_transposed(n_in[i], n_out[i], k[i], s[i], p[i], 1) for i in range(dims)])
    if isinstance(spec, UpsampleSpec):
        given = spec.scale_factor is not None and not spec.recompute_scale_factor
        scales = _per_dim(spec.scale_factor, dims) if given else [None] * dims
        align = bool(spec.align_corners)
        vectorized = dims == 2 and sum(n_out) <= 128  # the kernel PyTorch picks for an NCHW-contiguous input
        return _spatial(
            field, [_upsample(n_in[i], n_out[i], spec.mode, scales[i], align, vectorized) for i in range(dims)]
        )
    if isinstance(spec, LinearSpec):  # the last dimension, every position of it
        return _spatial(field, [None] * (dims - 1) + [_everything(n_in[-1], n_out[-1])])
    if isinstance(spec, ElementwiseSpec) and spec.kind in ("softmax", "logsoftmax"):
        return _softmax(spec, field, shape)
    return field  # element-wise layers and norms


def _softmax(spec: ElementwiseSpec, field: Field, shape: TensorShape) -> Field | None:
    rank = len(shape.as_tuple())
    dim = spec.get("dim")
    if dim is None:  # torch's implicit choice (with a warning): dim 0 for 0-, 1- and 3-dimensional tensors, else 1
        dim = 0 if rank in (0, 1, 3) else 1
    dim %= rank
    if shape.as_tuple()[dim] == 1:  # a softmax over one value is the constant 1: it depends on nothing
        nothing: list[Reads | None] = [[range(0)] * n for n in shape.spatial]
        return _spatial(field, nothing)
    lead = rank - shape.dims
    if dim >= lead:
        axis = dim - lead
        n = shape.spatial[axis]
        whole: list[Reads | None] = [None] * shape.dims
        whole[axis] = _everything(n, n)
        return _spatial(field, whole)
    if dim == _channel_axis(shape):
        return _channel_union(field, shape.channels)
    return field  # the batch axis: each element still reads the same positions


def _concat(spec: ConcatSpec, fields: Sequence[Field], inputs: Sequence[TensorShape]) -> Field | None:
    first = inputs[0]
    axis = _channel_axis(first)
    rank = len(first.as_tuple())
    if axis is None or not -rank <= spec.dim < rank or spec.dim % rank != axis:
        return None  # along the batch or a spatial axis: not tracked
    return _merge([seg for f in fields for seg in f.segments])


def _add(fields: Sequence[Field], inputs: Sequence[TensorShape], out: TensorShape) -> Field | None:
    """A sum of tensors broadcast as torch broadcasts: each element reads the same element of every input (a
    size-1 dimension its only position)."""
    dims = out.dims
    parts: list[Field] = []
    for field, shape in zip(fields, inputs):
        if shape.dims != dims:
            return None
        first: list[Reads | None] = [None if a == b else [range(1)] * b for a, b in zip(shape.spatial, out.spatial)]
        spread: Field | None = _spatial(field, first)
        if spread is not None and shape.channels in (None, 1) and out.channels not in (None, 1):
            spread = _channel_union(spread, out.channels)
        if spread is None:
            return None
        parts.append(spread)
    return _refine(parts, out.channels)


def _refine(parts: Sequence[Field], channels: int | None) -> Field | None:
    """The union, channel by channel, of fields with the same channel count (runs split where any input's do)."""
    if channels is None or any(seg.channels is None for f in parts for seg in f.segments):
        return _channel_union(Field(tuple(seg for f in parts for seg in f.segments)), channels)
    cuts = sorted({0, channels}.union(*(_cuts(f) for f in parts)))
    segments = []
    for a, b in zip(cuts, cuts[1:]):
        found = _channel_union(Field(tuple(_at(f, a) for f in parts)), b - a)
        if found is None:
            return None
        segments.append(found.segments[0])
    return _merge(segments)


def _cuts(field: Field) -> set[int]:
    total, out = 0, set()
    for seg in field.segments:
        total += seg.channels or 0
        out.add(total)
    return out


def _at(field: Field, channel: int) -> Segment:
    total = 0
    for seg in field.segments:
        total += seg.channels or 0
        if channel < total:
            return seg
    return field.segments[-1]
