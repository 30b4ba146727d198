"""A whole layer's shapes: batch, channels, groups, the weight, and the spatial arithmetic of :mod:`shapes`.

:func:`conv_transpose_layer` and :func:`conv_layer` return a frozen :class:`LayerShape` whose field
names are the keys of ``tconvcalc shape --json``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tconvcalc.core import sizes
from tconvcalc.core.errors import LayerError, UsageError


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
            f"a shape of {len(values)} values does not fit {dims} spatial dimensions "
            f"(give {dims}, {dims + 1} for (C, ...) or {dims + 2} for (N, C, ...))"
        )

    def as_tuple(self) -> tuple[int, ...]:
        lead = [v for v in (self.batch, self.channels) if v is not None]
        return (*lead, *self.spatial)


@dataclass(frozen=True)
class LayerShape:
    """Everything ``shape`` reports about one layer; the fields are the JSON keys."""

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
    parameters: int | None  # weight plus bias

    @property
    def input_spatial(self) -> tuple[int, ...]:
        return self.input_shape[len(self.input_shape) - self.dims :]

    @property
    def output_spatial(self) -> tuple[int, ...]:
        return self.output_shape[len(self.output_shape) - self.dims :]

    def to_json(self) -> dict[str, Any]:
        # by hand rather than dataclasses.asdict (which deep-copies): this runs per line of shape --batch
        return {
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
            "full_size": list(self.full_size),
            "weight_shape": None if self.weight_shape is None else list(self.weight_shape),
            "parameters": self.parameters,
        }


def _check_channels(shape: TensorShape, out_channels: int | None, groups: int) -> tuple[int | None, int | None]:
    """Validate batch/channels/groups as PyTorch does; return (in_channels, out_channels)."""
    if groups < 1:
        raise LayerError(f"groups={groups} must be a positive integer")
    if shape.batch is not None and shape.batch < 1:
        # PyTorch skips most checks on an empty batch (it accepts dilation=0 there): no answer to mirror.
        raise LayerError(f"batch size {shape.batch} must be at least 1")
    cin = shape.channels
    if cin is None:
        if out_channels is not None:
            raise UsageError(
                f"out_channels={out_channels} needs the input's channel count: give the input as (C, ...) or (N, C, ...)"
            )
        return None, None
    cout = cin if out_channels is None else out_channels
    for name, c in (("in_channels", cin), ("out_channels", cout)):
        if c < 1:
            raise LayerError(f"{name}={c} must be at least 1")
        if c % groups:
            raise LayerError(f"{name}={c} is not divisible by groups={groups}")
    return cin, cout


def _finish(
    operation: str,
    shape: TensorShape,
    spatial_out: tuple[int, ...],
    full: tuple[int, ...],
    cin: int | None,
    cout: int | None,
    groups: int,
    k: tuple[int, ...],
    s: tuple[int, ...],
    pads: sizes.Pads,
    op: tuple[int, ...],
    d: tuple[int, ...],
) -> LayerShape:
    weight: tuple[int, ...] | None = None
    params: int | None = None
    if cin is not None and cout is not None:
        weight = (cin, cout // groups, *k) if operation == "conv_transpose" else (cout, cin // groups, *k)
        params = math.prod(weight) + cout
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
    output_size: Sequence[int] | None = None,
) -> LayerShape:
    """Shapes of ``nn.ConvTranspose{n}d(C_in, out_channels, ...)`` applied to ``shape``.

    ``output_size`` is ``forward(output_size=...)``: it replaces ``output_padding`` (as in PyTorch).

    >>> conv_transpose_layer(TensorShape((6, 6), 20, 1), 5, 3, 2, out_channels=10).output_shape
    (1, 10, 16, 16)
    """
    n = len(shape.spatial)
    if isinstance(padding, str):
        raise LayerError(
            f"padding={padding!r}: PyTorch's ConvTranspose has no string padding; use --output-size for an exact size"
        )
    k, s, d = (
        sizes.per_dim(kernel_size, n, "kernel_size"),
        sizes.per_dim(stride, n, "stride"),
        sizes.per_dim(dilation, n, "dilation"),
    )
    pads, op = sizes.pads_per_side(padding, n), sizes.per_dim(output_padding, n, "output_padding")
    cin, cout = _check_channels(shape, out_channels, groups)
    if output_size is not None:
        if len(output_size) != n:
            raise UsageError(f"output_size has {len(output_size)} values but the layer has {n} spatial dimensions")
        sizes.check_hyperparameters(k, s, pads, d)
        sizes.check_input_size(shape.spatial)
        op = sizes.output_padding_for_size(output_size, shape.spatial, k, s, pads, d)
    sizes.check_hyperparameters(k, s, pads, d, op)
    sizes.check_input_size(shape.spatial)
    out = sizes.conv_transpose_sizes(shape.spatial, k, s, pads, op, d)  # validated above
    full = tuple((i - 1) * si + sizes.effective_kernel(ki, di) for i, ki, si, di in zip(shape.spatial, k, s, d))
    return _finish("conv_transpose", shape, out, full, cin, cout, groups, k, s, pads, op, d)


def conv_layer(
    shape: TensorShape,
    kernel_size: sizes.IntArg,
    stride: sizes.IntArg = 1,
    padding: sizes.PaddingArg = 0,
    dilation: sizes.IntArg = 1,
    groups: int = 1,
    out_channels: int | None = None,
) -> LayerShape:
    """Shapes of ``nn.Conv{n}d(C_in, out_channels, ...)`` applied to ``shape``.

    >>> conv_layer(TensorShape((16, 16), 10, 1), 5, 3, 2, out_channels=20).output_shape
    (1, 20, 6, 6)
    """
    n = len(shape.spatial)
    k, s, d = (
        sizes.per_dim(kernel_size, n, "kernel_size"),
        sizes.per_dim(stride, n, "stride"),
        sizes.per_dim(dilation, n, "dilation"),
    )
    cin, cout = _check_channels(shape, out_channels, groups)
    pads = sizes.resolve_conv_padding(padding, k, s, d)
    sizes.check_hyperparameters(k, s, pads, d)
    sizes.check_input_size(shape.spatial)
    out = sizes.conv_sizes(shape.spatial, k, s, pads, d)  # validated above
    full = tuple(i + pb + pe for i, (pb, pe) in zip(shape.spatial, pads))
    return _finish("conv", shape, out, full, cin, cout, groups, k, s, pads, (0,) * n, d)


def format_shape(shape: tuple[int, ...]) -> str:
    """``(1, 10, 16, 16)`` -> ``1x10x16x16``."""
    return "x".join(str(v) for v in shape)
