"""One layer applied to one tensor shape: :func:`apply` is the only place where a spec meets a size.

``shape``, ``shape --layer``, ``--compare``, ``shape --batch``, ``check`` and the engine all reach the size
rules through :func:`apply` (or, for the Python API, :func:`conv_transpose_layer` and :func:`conv_layer`,
which share its geometry). Results are frozen values whose ``to_json()`` keys are documented in the README.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tconvcalc.core import pool, sizes
from tconvcalc.core.errors import LayerError, UsageError
from tconvcalc.core.specs import (
    INT_LIMIT,
    AvgPoolSpec,
    ConvSpec,
    ConvTransposeSpec,
    LayerSpec,
    MaxPoolSpec,
    MaxUnpoolSpec,
    UpsampleSpec,
    implied_dims,
    show,
    torch_name,
)

DEFAULT_DIMS = 2


@dataclass(frozen=True)
class TensorShape:
    """A tensor's shape split into ``(N, C, *spatial)``; ``batch`` and ``channels`` may be absent."""

    spatial: tuple[int, ...]
    channels: int | None = None
    batch: int | None = None

    @classmethod
    def from_tuple(cls, shape: Sequence[int], dims: int) -> TensorShape:
        """Read ``shape`` as spatial (``dims`` values), ``(C, *spatial)`` or ``(N, C, *spatial)``."""
        values = tuple(shape)
        extra = len(values) - dims
        if extra == 0:
            return cls(values)
        if extra == 1:
            return cls(values[1:], channels=values[0])
        if extra == 2:
            return cls(values[2:], channels=values[1], batch=values[0])
        raise UsageError(
            f"input has {len(values)} values: with {dims} spatial dimension(s) give 1, {dims}, {dims + 1} "
            f"(C, ...) or {dims + 2} (N, C, ...)",
            param="input",
        )

    @classmethod
    def read(
        cls, values: Sequence[int], dims: int | None, specs: Sequence[LayerSpec] = (), implied: Sequence[int] = ()
    ) -> TensorShape:
        """The one rule for reading a SIZE, in every command and config.

        1. an explicit ``dims`` wins; 2. otherwise per-dimension lists of n >= 2 values in the layers imply n
        spatial dimensions; 3. otherwise 2 (images). Then one value is every spatial size, ``dims`` values are
        spatial, ``dims+1`` are ``(C, ...)`` and ``dims+2`` are ``(N, C, ...)``. ``implied`` adds dimension
        counts named elsewhere (a convention's options).

        >>> TensorShape.read((1, 8, 64), None)
        TensorShape(spatial=(8, 64), channels=1, batch=None)
        >>> TensorShape.read((2, 8, 4, 16, 16), None, [ConvTransposeSpec(kernel_size=(3, 4, 4))]).spatial
        (4, 16, 16)
        """
        found = {n for n in (*implied, *(implied_dims(s) for s in specs)) if n is not None}
        if dims is not None:
            if not 1 <= dims <= 3:
                raise UsageError(f"dims={dims} must be 1, 2 or 3", param="dims")
            clash = found - {dims}
            if clash:
                raise UsageError(f"dims={dims} but the layers give {clash.pop()} values per dimension", param="dims")
            n = dims
        elif len(found) > 1:
            a, b = sorted(found)[:2]
            raise UsageError(f"the layers give {a} values per dimension in one place and {b} in another")
        else:
            n = found.pop() if found else DEFAULT_DIMS
        values = tuple(values)
        if len(values) == 1:
            return cls(values * n)
        return cls.from_tuple(values, n)

    def as_tuple(self) -> tuple[int, ...]:
        lead = [v for v in (self.batch, self.channels) if v is not None]
        return (*lead, *self.spatial)

    @property
    def dims(self) -> int:
        return len(self.spatial)


@dataclass(frozen=True)
class LayerShape:
    """A Conv or ConvTranspose applied to a shape; the fields (and ``layer``, ``macs``) are JSON keys."""

    operation: str  # "conv_transpose" or "conv"
    dims: int
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    batch: int | None
    in_channels: int | None
    out_channels: int | None
    groups: int
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    full_size: tuple[int, ...]  # ConvT: (i-1)*s + k_eff before cropping; conv: the padded input
    weight_shape: tuple[int, ...] | None
    parameters: int | None  # weight plus bias (when bias=True)
    bias: bool = True
    padding_mode: str = "zeros"

    @property
    def layer(self) -> str:
        return f"{'ConvTranspose' if self.operation == 'conv_transpose' else 'Conv'}{self.dims}d"

    @property
    def type(self) -> str:
        return "tconv" if self.operation == "conv_transpose" else "conv"

    @property
    def input_spatial(self) -> tuple[int, ...]:
        return self.input_shape[len(self.input_shape) - self.dims :]

    @property
    def output_spatial(self) -> tuple[int, ...]:
        return self.output_shape[len(self.output_shape) - self.dims :]

    @property
    def output(self) -> TensorShape:
        return TensorShape(self.output_spatial, self.out_channels, self.batch)

    @property
    def macs(self) -> int:
        """Multiply-accumulates; a ConvTranspose counts by its input (the MACs of its dual convolution)."""
        if self.in_channels is None or self.out_channels is None:
            return 0
        per_tap = (self.batch or 1) * math.prod(self.kernel_size)
        if self.operation == "conv":
            return per_tap * self.out_channels * (self.in_channels // self.groups) * math.prod(self.output_spatial)
        return per_tap * self.in_channels * (self.out_channels // self.groups) * math.prod(self.input_spatial)

    def to_json(self) -> dict[str, Any]:
        # by hand rather than dataclasses.asdict (which deep-copies): this runs per line of shape --batch
        return {
            "layer": self.layer,
            "type": self.type,
            "operation": self.operation,
            "dims": self.dims,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "batch": self.batch,
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "groups": self.groups,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": [list(p) for p in self.padding],
            "output_padding": list(self.output_padding),
            "dilation": list(self.dilation),
            "padding_mode": self.padding_mode,
            "full_size": list(self.full_size),
            "weight_shape": None if self.weight_shape is None else list(self.weight_shape),
            "bias": self.bias,
            "parameters": self.parameters,
            "macs": self.macs,
        }


@dataclass(frozen=True)
class ResizeShape:
    """A pooling, unpooling or upsampling layer applied to a shape: no weights, channels unchanged."""

    type: str  # maxpool, avgpool, maxunpool, upsample
    layer: str  # MaxPool2d, ..., Upsample
    input: TensorShape
    output: TensorShape
    settings: dict[str, Any] = field(default_factory=dict)  # the layer's parameters, one value per dimension

    parameters = 0
    macs = 0

    @property
    def dims(self) -> int:
        return self.input.dims

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.input.as_tuple()

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.output.as_tuple()

    def to_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "type": self.type,
            "operation": self.type,
            "dims": self.dims,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "batch": self.input.batch,
            "in_channels": self.input.channels,
            "out_channels": self.output.channels,
            **self.settings,
            "parameters": 0,
            "macs": 0,
        }


LayerResult = LayerShape | ResizeShape


def _check_tensor(shape: TensorShape, empty_channels: bool = False) -> None:
    """Batch, channels and spatial sizes must be positive (PyTorch skips its checks on an empty batch, so
    tconvcalc refuses one: there is no answer to mirror). ``empty_channels``: PyTorch's adaptive average
    pooling (interpolate's 'area' in 1-D and 2-D) accepts zero channels."""
    if shape.batch is not None and shape.batch < 1:
        raise LayerError(f"batch size {shape.batch} must be at least 1", param="input")
    if shape.channels is not None and shape.channels < (0 if empty_channels else 1):
        raise LayerError(f"channels={shape.channels} must be at least 1", param="input")
    sizes.check_input_size(shape.spatial)


def channels_for(shape: TensorShape, out_channels: int | None, groups: int) -> tuple[int | None, int | None]:
    """Validate channels against groups as PyTorch does; return (in_channels, out_channels)."""
    if groups < 1:
        raise LayerError(f"groups={groups} must be a positive integer", param="groups")
    _check_tensor(shape)
    cin = shape.channels
    if cin is None:
        if out_channels is not None:
            raise UsageError(
                f"out_channels={out_channels} needs the input's channel count: give the input as (C, ...) or "
                "(N, C, ...)",
                param="out_channels",
            )
        return None, None
    cout = cin if out_channels is None else out_channels
    if cout < 1:
        raise LayerError(f"out_channels={cout} must be at least 1", param="out_channels")
    for name, c in (("in_channels", cin), ("out_channels", cout)):
        if c % groups:
            raise LayerError(f"{name}={c} is not divisible by groups={groups}", param="groups")
    return cin, cout


def _output_size_spatial(want: int | Sequence[int], shape: TensorShape, what: str, full: int) -> tuple[int, ...]:
    """``output_size`` as PyTorch reads it: ``dims`` values, or a full shape of ``dims + full`` values whose
    leading values are dropped unread; one value (an int, or a list of one) is every spatial size, as for
    kernel_size."""
    n = shape.dims
    if isinstance(want, int):
        return (want,) * n
    if len(want) == 1:
        return tuple(want) * n
    if len(want) == n:
        return tuple(want)
    if shape.channels is not None and len(want) == n + full:
        return tuple(want[full:])
    lengths = f"{n}" if shape.channels is None else f"{n} or {n + full}"
    raise UsageError(f"{what}: output_size must have {lengths} elements (got {len(want)})", param="output_size")


def _finish_conv(
    operation: str,
    shape: TensorShape,
    spatial_out: tuple[int, ...],
    full: tuple[int, ...],
    channels: tuple[int | None, int | None],
    groups: int,
    geometry: tuple[tuple[int, ...], tuple[int, ...], sizes.Pads, tuple[int, ...], tuple[int, ...]],
    bias: bool,
    padding_mode: str,
) -> LayerShape:
    cin, cout = channels
    k, s, pads, op, d = geometry
    weight: tuple[int, ...] | None = None
    params: int | None = None
    if cin is not None and cout is not None:
        weight = (cin, cout // groups, *k) if operation == "conv_transpose" else (cout, cin // groups, *k)
        params = math.prod(weight) + (cout if bias else 0)
    out = TensorShape(spatial_out, channels=cout, batch=shape.batch)
    return LayerShape(
        operation=operation,
        dims=len(k),
        input_shape=shape.as_tuple(),
        output_shape=out.as_tuple(),
        batch=shape.batch,
        in_channels=cin,
        out_channels=cout,
        groups=groups,
        kernel_size=k,
        stride=s,
        padding=pads,
        output_padding=op,
        dilation=d,
        full_size=full,
        weight_shape=weight,
        parameters=params,
        bias=bias,
        padding_mode=padding_mode,
    )


def conv_transpose_layer(
    shape: TensorShape,
    kernel_size: sizes.IntArg,
    stride: sizes.IntArg = 1,
    padding: sizes.PaddingArg = 0,
    output_padding: sizes.IntArg = 0,
    dilation: sizes.IntArg = 1,
    groups: int = 1,
    out_channels: int | None = None,
    output_size: int | Sequence[int] | None = None,
    bias: bool = True,
    padding_mode: str = "zeros",
) -> LayerShape:
    """Shapes of ``nn.ConvTranspose{n}d(C_in, out_channels, ...)`` applied to ``shape``.

    ``output_size`` is ``forward(output_size=...)``: it replaces ``output_padding`` (as in PyTorch).

    >>> conv_transpose_layer(TensorShape((6, 6), 20, 1), 5, 3, 2, out_channels=10).output_shape
    (1, 10, 16, 16)
    """
    n = shape.dims
    if isinstance(padding, str):
        raise LayerError(
            f"padding={padding!r}: PyTorch's ConvTranspose has no string padding; use output_size for an exact size",
            param="padding",
        )
    if padding_mode != "zeros":
        raise LayerError(
            f'padding_mode={padding_mode!r}: only "zeros" padding mode is supported for ConvTranspose{n}d',
            param="padding_mode",
        )
    k, s, d = (
        sizes.per_dim(kernel_size, n, "kernel_size"),
        sizes.per_dim(stride, n, "stride"),
        sizes.per_dim(dilation, n, "dilation"),
    )
    pads, op = sizes.pads_per_side(padding, n), sizes.per_dim(output_padding, n, "output_padding")
    channels = channels_for(shape, out_channels, groups)
    if output_size is not None:
        want = _output_size_spatial(output_size, shape, f"ConvTranspose{n}d", 1 if shape.batch is None else 2)
        sizes.check_hyperparameters(k, s, pads, d)
        op = sizes.output_padding_for_size(want, shape.spatial, k, s, pads, d)
    sizes.check_hyperparameters(k, s, pads, d, op)
    out = sizes.conv_transpose_sizes(shape.spatial, k, s, pads, op, d)
    full = tuple(sizes.full_size(i, ki, si, di) for i, ki, si, di in zip(shape.spatial, k, s, d))
    return _finish_conv("conv_transpose", shape, out, full, channels, groups, (k, s, pads, op, d), bias, "zeros")


def conv_layer(
    shape: TensorShape,
    kernel_size: sizes.IntArg,
    stride: sizes.IntArg = 1,
    padding: sizes.PaddingArg = 0,
    dilation: sizes.IntArg = 1,
    groups: int = 1,
    out_channels: int | None = None,
    bias: bool = True,
    padding_mode: str = "zeros",
) -> LayerShape:
    """Shapes of ``nn.Conv{n}d(C_in, out_channels, ...)`` applied to ``shape``.

    ``padding_mode`` 'reflect' needs each side's padding below the input size, 'circular' at most the input
    size (it may wrap around once), as ``F.pad``.

    >>> conv_layer(TensorShape((16, 16), 10, 1), 5, 3, 2, out_channels=20).output_shape
    (1, 20, 6, 6)
    """
    n = shape.dims
    k, s, d = (
        sizes.per_dim(kernel_size, n, "kernel_size"),
        sizes.per_dim(stride, n, "stride"),
        sizes.per_dim(dilation, n, "dilation"),
    )
    channels = channels_for(shape, out_channels, groups)
    pads = sizes.resolve_conv_padding(padding, k, s, d)
    sizes.check_hyperparameters(k, s, pads, d)
    _check_padding_mode(padding_mode, pads, shape.spatial)
    out = sizes.conv_sizes(shape.spatial, k, s, pads, d)
    full = tuple(i + pb + pe for i, (pb, pe) in zip(shape.spatial, pads))
    return _finish_conv("conv", shape, out, full, channels, groups, (k, s, pads, (0,) * n, d), bias, padding_mode)


def _check_padding_mode(mode: str, pads: sizes.Pads, spatial: Sequence[int]) -> None:
    for dim, ((pb, pe), i) in enumerate(zip(pads, spatial)):
        if mode == "reflect" and max(pb, pe) >= i:
            raise LayerError(
                f"padding_mode='reflect': padding ({pb}, {pe}) must be smaller than the input size {i} (dim {dim})",
                param="padding_mode",
                dim=dim,
            )
        if mode == "circular" and max(pb, pe) > i:
            raise LayerError(
                f"padding_mode='circular': padding ({pb}, {pe}) wraps around more than once: it must be at most "
                f"the input size {i} (dim {dim})",
                param="padding_mode",
                dim=dim,
            )


def _resize(spec: LayerSpec, shape: TensorShape, out: tuple[int, ...], settings: dict[str, Any]) -> ResizeShape:
    return ResizeShape(
        spec.TYPE, torch_name(spec, shape.dims), shape, TensorShape(out, shape.channels, shape.batch), settings
    )


def apply(spec: LayerSpec, shape: TensorShape) -> LayerResult:
    """Apply one layer to ``shape``; raises LayerError for what PyTorch refuses.

    An output size of 2**63 or more is refused too (PyTorch's sizes are int64): every size that leaves a layer,
    and so every size the next layer reads, stays within the bound its inputs were parsed with.

    >>> apply(MaxPoolSpec(kernel_size=3, stride=1), TensorShape((8, 8), 1, 1)).output_shape
    (1, 1, 6, 6)
    """
    result = _apply(spec, shape)
    for dim, size in enumerate(result.output.spatial):
        if size >= INT_LIMIT:
            raise LayerError(f"output size {show(size)} (dim {dim}) is 2**63 or more: PyTorch's sizes are int64")
    return result


def _apply(spec: LayerSpec, shape: TensorShape) -> LayerResult:
    n = shape.dims
    if isinstance(spec, ConvTransposeSpec):
        return conv_transpose_layer(
            shape,
            spec.kernel_size,
            spec.stride,
            spec.padding,
            spec.output_padding,
            spec.dilation,
            spec.groups,
            spec.out_channels,
            spec.output_size,
            spec.bias,
            spec.padding_mode,
        )
    if isinstance(spec, ConvSpec):
        return conv_layer(
            shape,
            spec.kernel_size,
            spec.stride,
            spec.padding,
            spec.dilation,
            spec.groups,
            spec.out_channels,
            spec.bias,
            spec.padding_mode,
        )
    _check_tensor(shape, isinstance(spec, UpsampleSpec) and spec.mode == "area" and n < 3)
    if isinstance(spec, (MaxPoolSpec, AvgPoolSpec)):
        kind = "max" if isinstance(spec, MaxPoolSpec) else "avg"
        dilation = spec.dilation if isinstance(spec, MaxPoolSpec) else 1
        if isinstance(spec, AvgPoolSpec) and spec.divisor_override is not None and n == 1:
            raise UsageError(
                "AvgPool1d has no divisor_override (AvgPool2d and AvgPool3d have)", param="divisor_override"
            )
        if isinstance(spec, AvgPoolSpec) and spec.divisor_override == 0:
            raise LayerError("divisor_override=0: the divisor must not be zero", param="divisor_override")
        out = pool.pool_size(shape.spatial, spec.kernel_size, spec.stride, spec.padding, dilation, spec.ceil_mode, kind)
        settings = _pool_settings(spec, n)
        return _resize(spec, shape, out, settings)
    if isinstance(spec, MaxUnpoolSpec):
        want = None
        if spec.output_size is not None:
            want = _output_size_spatial(spec.output_size, shape, f"MaxUnpool{n}d", 2)
        out = pool.unpool_size(shape.spatial, spec.kernel_size, spec.stride, spec.padding, want)
        settings = _pool_settings(spec, n)
        if want is not None:
            settings["output_size"] = list(want)
        return _resize(spec, shape, out, settings)
    if shape.channels is not None and shape.batch is None:
        raise LayerError(
            "Upsample/interpolate needs a batched input (N, C, *spatial): PyTorch reads an unbatched "
            f"(C, *spatial) tensor of {n + 1} axes as {n - 1}-D (N, C, ...)"
        )
    out = pool.upsample_size(shape.spatial, spec.scale_factor, spec.size, spec.mode, spec.align_corners)
    scale = spec.scale_factor
    settings = {
        "mode": spec.mode,
        "scale_factor": None if scale is None else list(pool.scales(scale, n)),
        "size": None if spec.size is None else list(out),
        "align_corners": spec.align_corners,
    }
    return _resize(spec, shape, out, settings)


def _pool_settings(spec: MaxPoolSpec | AvgPoolSpec | MaxUnpoolSpec, n: int) -> dict[str, Any]:
    kernel = sizes.per_dim(spec.kernel_size, n, "kernel_size")
    out: dict[str, Any] = {
        "kernel_size": list(kernel),
        "stride": list(kernel if spec.stride is None else sizes.per_dim(spec.stride, n, "stride")),
        "padding": list(sizes.per_dim(spec.padding, n, "padding")),
    }
    if isinstance(spec, MaxPoolSpec):
        out.update(dilation=list(sizes.per_dim(spec.dilation, n, "dilation")), ceil_mode=spec.ceil_mode)
        out["return_indices"] = spec.return_indices
    if isinstance(spec, AvgPoolSpec):
        out.update(
            ceil_mode=spec.ceil_mode,
            count_include_pad=spec.count_include_pad,
            divisor_override=spec.divisor_override,
        )
    return out


def format_shape(shape: tuple[int, ...]) -> str:
    """``(1, 10, 16, 16)`` -> ``1x10x16x16``."""
    return "x".join(str(v) for v in shape)
