"""A tensor's shape as layers see it, ``(N, C, *spatial)`` with N and C optional; the one SIZE rule; and the
result of every layer that has no convolution geometry (pools, upsampling, activations, norms, joins...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tconvcalc.core import sizes
from tconvcalc.core.errors import LayerError, UsageError
from tconvcalc.core.specs import INT_LIMIT, implied_dims

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
        cls, values: Sequence[int], dims: int | None, specs: Sequence[Any] = (), implied: Sequence[int] = ()
    ) -> TensorShape:
        """The one rule for reading a SIZE, in every command and config.

        1. an explicit ``dims`` wins; 2. otherwise per-dimension lists of n >= 2 values in the layers imply n
        spatial dimensions; 3. otherwise 2 (images). Then one value is every spatial size, ``dims`` values are
        spatial, ``dims+1`` are ``(C, ...)`` and ``dims+2`` are ``(N, C, ...)``. ``implied`` adds dimension
        counts named elsewhere (a convention's options).

        >>> TensorShape.read((1, 8, 64), None)
        TensorShape(spatial=(8, 64), channels=1, batch=None)
        >>> from tconvcalc.core.specs import ConvTransposeSpec
        >>> TensorShape.read((2, 8, 4, 16, 16), None, [ConvTransposeSpec(kernel_size=(3, 4, 4))]).spatial
        (4, 16, 16)
        """
        found = {n for n in (*implied, *(implied_dims(s) for s in specs)) if n is not None}
        if dims is not None:
            if not 0 <= dims <= 3:
                raise UsageError(f"dims={dims} must be 0 (a (N, features) input), 1, 2 or 3", param="dims")
            clash = found - {dims}
            if clash and dims != 0:  # dims = 0: (N, features), made spatial later by an Unflatten
                raise UsageError(f"dims={dims} but the layers give {clash.pop()} values per dimension", param="dims")
            n = dims
        elif len(found) > 1:
            a, b = sorted(found)[:2]
            raise UsageError(f"the layers give {a} values per dimension in one place and {b} in another")
        else:
            n = found.pop() if found else DEFAULT_DIMS
        values = tuple(values)
        if len(values) == 1 and n > 0:
            return cls(values * n)
        return cls.from_tuple(values, n)

    def as_tuple(self) -> tuple[int, ...]:
        lead = [v for v in (self.batch, self.channels) if v is not None]
        return (*lead, *self.spatial)

    @property
    def dims(self) -> int:
        return len(self.spatial)

    @classmethod
    def like(cls, full: Sequence[int], batched: bool) -> TensorShape:
        """A whole shape read as ``(N, C, *rest)`` (batched) or ``(C, *rest)``: after a Flatten or a Linear."""
        values = tuple(full)
        if batched:
            return cls(values[2:], values[1] if len(values) > 1 else None, values[0] if values else None)
        return cls(values[1:], values[0] if values else None)


@dataclass(frozen=True)
class ResizeShape:
    """Any layer but Conv/ConvTranspose applied to a shape: pools, upsampling, activations, norms, joins..."""

    type: str  # maxpool, avgpool, maxunpool, upsample
    layer: str  # MaxPool2d, ..., Upsample
    input: TensorShape
    output: TensorShape
    settings: dict[str, Any] = field(default_factory=dict)  # the layer's parameters, one value per dimension
    parameters: int | None = 0  # torch's sum(p.numel() for p in module.parameters())
    macs: int = 0  # multiply-accumulates (Linear); pools, norms and activations count 0

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
            "parameters": self.parameters,
            "macs": self.macs,
        }


def check_tensor(shape: TensorShape, empty_channels: bool = False) -> None:
    """Batch, channels and spatial sizes must be positive (PyTorch skips its checks on an empty batch, so
    tconvcalc refuses one: there is no answer to mirror). ``empty_channels``: PyTorch's adaptive average
    pooling (interpolate's 'area' in 1-D and 2-D) accepts zero channels."""
    if shape.batch is not None and shape.batch < 1:
        raise LayerError(f"batch size {shape.batch} must be at least 1", param="input")
    if shape.channels is not None and shape.channels < (0 if empty_channels else 1):
        raise LayerError(f"channels={shape.channels} must be at least 1", param="input")
    sizes.check_input_size(shape.spatial)


def format_shape(shape: tuple[int, ...]) -> str:
    """``(1, 10, 16, 16)`` -> ``1x10x16x16``."""
    return "x".join(str(v) for v in shape)


R = TypeVar("R", bound="ResizeShape | Any")


def bounded(result: R) -> R:
    """A layer's result, refused if a size leaving it is 2**63 or more (PyTorch's sizes are int64): every size
    the next layer reads then stays within the bound its inputs were parsed with."""
    for dim, size in enumerate(result.output.as_tuple()):
        if size >= INT_LIMIT:
            raise LayerError(
                f"output size of {size.bit_length()} bits (axis {dim}) is 2**63 or more: PyTorch's sizes are int64"
            )
    return result
