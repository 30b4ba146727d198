"""One layer applied to one tensor shape: :func:`apply` is the only place where a spec meets a size.

``shape``, ``shape --layer``, ``--compare``, ``shape --batch``, ``check`` and the engine all reach the size
rules through :func:`apply` (or, for the Python API, :func:`conv_transpose_layer` and :func:`conv_layer`,
which share its geometry). Results are frozen values whose ``to_json()`` keys are documented in the README.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tconvcalc.core import pool, sizes
from tconvcalc.core.errors import LayerError, UsageError
from tconvcalc.core.specs import (
    AvgPoolSpec,
    ConvSpec,
    ConvTransposeSpec,
    LayerSpec,
    MaxPoolSpec,
    MaxUnpoolSpec,
    UpsampleSpec,
    torch_name,
)
from tconvcalc.core.tensor import ResizeShape, TensorShape, check_tensor


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


LayerResult = LayerShape | ResizeShape


def channels_for(shape: TensorShape, out_channels: int | None, groups: int) -> tuple[int | None, int | None]:
    """Validate channels against groups as PyTorch does; return (in_channels, out_channels)."""
    if groups < 1:
        raise LayerError(f"groups={groups} must be a positive integer", param="groups")
    check_tensor(shape)
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
    """Apply one layer of the convolution family to ``shape``; raises LayerError for what PyTorch refuses.

    >>> apply(MaxPoolSpec(kernel_size=3, stride=1), TensorShape((8, 8), 1, 1)).output_shape
    (1, 1, 6, 6)
    """
    n = shape.dims
    if isinstance(spec, (ConvTransposeSpec, ConvSpec)) and spec.in_channels is not None:
        _check_in_channels(spec, shape)
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
    check_tensor(shape, isinstance(spec, UpsampleSpec) and spec.mode == "area" and n < 3)
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


def _check_in_channels(spec: ConvSpec | ConvTransposeSpec, shape: TensorShape) -> None:
    """``in_channels``, when given, must be the input's channel count, as PyTorch's module checks it."""
    cin = spec.in_channels
    assert cin is not None
    if cin < 1:
        raise LayerError(f"in_channels={cin} must be at least 1", param="in_channels")
    if shape.channels is not None and shape.channels != cin:
        raise LayerError(
            f"in_channels={cin} but the input {list(shape.as_tuple())} has {shape.channels} channels (PyTorch: "
            f"expected input to have {cin} channels, but got {shape.channels} channels instead)",
            param="in_channels",
        )


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
