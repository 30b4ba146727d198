"""The layers around the convolutions, as PyTorch builds them: activations, dropout, identity, norms, flatten,
unflatten, linear, and the joins of skip connections (concat, add).

Each is a frozen spec with its torch constructor's argument names (``type`` is the torch class in lower case)
and a size rule with torch 2.13's refusals; :mod:`tconvcalc.core.model` is the one entry to them and to the
convolution-family specs of :mod:`tconvcalc.core.specs`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from tconvcalc.core.catalog import BLOCK_CLASS_TYPES, ELEMENTWISE
from tconvcalc.core.errors import LayerError, UsageError
from tconvcalc.core.specs import INT_LIMIT, show
from tconvcalc.core.tensor import ResizeShape, TensorShape, check_tensor

REQUIRED = {"threshold": ("threshold", "value")}


@dataclass(frozen=True)
class ElementwiseSpec:
    """An element-wise layer (``relu``, ``gelu``, ``dropout``...): the output has the input's shape."""

    kind: str
    args: tuple[tuple[str, Any], ...] = ()

    @property
    def TYPE(self) -> str:  # noqa: N802 - the same attribute as every spec class's ClassVar
        return self.kind

    @property
    def TORCH(self) -> str:  # noqa: N802
        return ELEMENTWISE[self.kind][0]

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.args).get(key, default)


@dataclass(frozen=True)
class BatchNormSpec:
    """``nn.BatchNorm{1,2,3}d``: needs a batched input; ``num_features`` must be the channel count."""

    TYPE: ClassVar[str] = "batchnorm"
    TORCH: ClassVar[str] = "BatchNorm"
    num_features: int | None = None
    eps: float = 1e-5
    momentum: float | None = 0.1
    affine: bool = True
    track_running_stats: bool = True
    bias: bool = True  # with affine: the shift (PyTorch 2.x); without it, C parameters instead of 2C


@dataclass(frozen=True)
class InstanceNormSpec:
    """``nn.InstanceNorm{1,2,3}d`` (not affine by default)."""

    TYPE: ClassVar[str] = "instancenorm"
    TORCH: ClassVar[str] = "InstanceNorm"
    num_features: int | None = None
    eps: float = 1e-5
    momentum: float | None = 0.1
    affine: bool = False
    track_running_stats: bool = False
    bias: bool = True


@dataclass(frozen=True)
class GroupNormSpec:
    """``nn.GroupNorm(num_groups, num_channels)``: ``num_groups`` must divide the channels."""

    TYPE: ClassVar[str] = "groupnorm"
    TORCH: ClassVar[str] = "GroupNorm"
    num_groups: int = 0
    num_channels: int | None = None
    eps: float = 1e-5
    affine: bool = True
    bias: bool = True


@dataclass(frozen=True)
class FlattenSpec:
    """``nn.Flatten(start_dim=1, end_dim=-1)``."""

    TYPE: ClassVar[str] = "flatten"
    TORCH: ClassVar[str] = "Flatten"
    start_dim: int = 1
    end_dim: int = -1


@dataclass(frozen=True)
class UnflattenSpec:
    """``nn.Unflatten(dim, unflattened_size)``; one size may be -1."""

    TYPE: ClassVar[str] = "unflatten"
    TORCH: ClassVar[str] = "Unflatten"
    dim: int = 1
    unflattened_size: tuple[int, ...] = ()


@dataclass(frozen=True)
class LinearSpec:
    """``nn.Linear(in_features, out_features, bias=True)`` on the last dimension."""

    TYPE: ClassVar[str] = "linear"
    TORCH: ClassVar[str] = "Linear"
    out_features: int = 0
    in_features: int | None = None
    bias: bool = True


@dataclass(frozen=True)
class ConcatSpec:
    """``torch.cat(tensors, dim)``: a join of two or more earlier outputs."""

    TYPE: ClassVar[str] = "concat"
    TORCH: ClassVar[str] = "cat"
    dim: int = 1


@dataclass(frozen=True)
class AddSpec:
    """``a + b (+ ...)``: a join whose shapes broadcast as torch broadcasts."""

    TYPE: ClassVar[str] = "add"
    TORCH: ClassVar[str] = "add"


BlockSpec = (
    ElementwiseSpec
    | BatchNormSpec
    | InstanceNormSpec
    | GroupNormSpec
    | FlattenSpec
    | UnflattenSpec
    | LinearSpec
    | ConcatSpec
    | AddSpec
)
BLOCKS: dict[str, type[Any]] = {
    cls.TYPE: cls
    for cls in (
        BatchNormSpec,
        InstanceNormSpec,
        GroupNormSpec,
        FlattenSpec,
        UnflattenSpec,
        LinearSpec,
        ConcatSpec,
        AddSpec,
    )
}
assert tuple(BLOCKS) == BLOCK_CLASS_TYPES, "core/catalog.py names the block types"
BLOCK_TYPES = (*ELEMENTWISE, *BLOCKS)
_REQUIRED_FIELDS = {"groupnorm": ("num_groups",), "unflatten": ("dim", "unflattened_size"), "linear": ("out_features",)}
_FLOAT = {"eps", "momentum"}
_INT = {"num_features", "num_groups", "num_channels", "start_dim", "end_dim", "dim", "out_features", "in_features"}
_BOOL = {"affine", "track_running_stats", "bias"}


def _typed(key: str, kind: str, value: Any) -> Any:
    if kind == "bool":
        if not isinstance(value, bool):
            raise UsageError(f"{key} must be true or false, got {show(value)}", param=key)
        return value
    if kind == "int" or kind == "ints":
        values = value if kind == "ints" and isinstance(value, (list, tuple)) else [value]
        if kind == "ints" and (not isinstance(value, (list, tuple)) or not value):
            raise UsageError(f"{key} must be a list of integers, got {show(value)}", param=key)
        for v in values:
            if type(v) is not int or abs(v) >= INT_LIMIT:
                raise UsageError(f"{key} must be an integer, got {show(value)}", param=key)
        return tuple(values) if kind == "ints" else value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
            raise UsageError(f"{key} must be a finite number, got {show(value)}", param=key)
        return float(value)
    choices = kind.split("|")
    if value not in choices:
        raise UsageError(f"{key}={show(value)} is not one of {', '.join(choices)}", param=key)
    return value


def parse_block(kind: str, mapping: Mapping[str, Any], ignore: frozenset[str]) -> BlockSpec:
    """The spec of block type ``kind`` from PyTorch keyword names (usage errors name the key)."""
    values = {k: v for k, v in mapping.items() if k != "type" and k not in ignore}
    if kind in ELEMENTWISE:
        allowed = ELEMENTWISE[kind][1]
        args = []
        for key, value in values.items():
            if key not in allowed:
                raise UsageError(f"unknown key {show(key)} for type {kind!r}", param=str(key))
            args.append((key, None if value is None and key == "dim" else _typed(key, allowed[key], value)))
        for key in REQUIRED.get(kind, ()):
            if key not in values:
                raise UsageError(f"missing {key!r} for type {kind!r}", param=key)
        return ElementwiseSpec(kind, tuple(args))
    cls = BLOCKS[kind]
    names = {f.name for f in fields(cls)}
    typed: dict[str, Any] = {}
    for key, value in values.items():
        if key not in names:
            raise UsageError(f"unknown key {show(key)} for type {kind!r}", param=str(key))
        if key == "momentum" and value is None:
            typed[key] = None
        elif key == "num_features" or key == "num_channels" or key == "in_features":
            typed[key] = None if value is None else _typed(key, "int", value)
        else:
            kinds = (
                "ints" if key == "unflattened_size" else "float" if key in _FLOAT else "int" if key in _INT else "bool"
            )
            typed[key] = _typed(key, kinds, value)
    for key in _REQUIRED_FIELDS.get(kind, ()):
        if key not in typed:
            raise UsageError(f"missing {key!r} for type {kind!r}", param=key)
    spec: BlockSpec = cls(**typed)
    return spec


def _needs_batch(shape: TensorShape, name: str) -> None:
    if shape.batch is None and shape.channels is not None:
        raise LayerError(
            f"{name} needs a batched input (N, C, ...): PyTorch reads an unbatched (C, ...) tensor as (N, C, ...) "
            "of one dimension fewer"
        )


def _dim(dim: int, rank: int, key: str) -> int:
    if not -rank <= dim < rank:
        raise LayerError(
            f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim})", param=key
        )
    return dim % rank


def apply_block(spec: BlockSpec, shape: TensorShape) -> ResizeShape:
    """One block layer applied to ``shape`` (joins go through :func:`join`)."""
    if isinstance(spec, (ConcatSpec, AddSpec)):
        raise UsageError(f'{spec.TYPE} joins two or more tensors: give it `from = ["a", "b"]` in a check config')
    batched = shape.batch is not None
    full = shape.as_tuple()
    n = shape.dims
    if isinstance(spec, ElementwiseSpec):
        check_tensor(shape)
        params = 0
        if spec.kind == "prelu":
            count = spec.get("num_parameters", 1)
            if count not in (1, shape.channels):
                raise LayerError(
                    f"PReLU num_parameters={count} must be 1 or the channel count {shape.channels}",
                    param="num_parameters",
                )
            params = count
        if spec.kind == "dropout" and not 0 <= spec.get("p", 0.5) <= 1:
            raise LayerError(f"dropout probability has to be between 0 and 1, but got {spec.get('p')}", param="p")
        if spec.kind in ("softmax", "logsoftmax") and spec.get("dim") is not None:
            _dim(spec.get("dim"), len(full), "dim")
        return ResizeShape(spec.kind, spec.TORCH, shape, shape, dict(spec.args), params)
    if isinstance(spec, (BatchNormSpec, InstanceNormSpec, GroupNormSpec)):
        check_tensor(shape)
        name = spec.TORCH if isinstance(spec, GroupNormSpec) else f"{spec.TORCH}{max(n, 1)}d"
        if not isinstance(spec, InstanceNormSpec):
            _needs_batch(shape, name)
        c = shape.channels
        if c is None:
            raise UsageError(f"{name} needs the input's channel count: give the input as (N, C, ...)", param="input")
        if isinstance(spec, GroupNormSpec):
            given = spec.num_channels
            if spec.num_groups < 1 or c % spec.num_groups:
                raise LayerError(
                    f"num_channels={c} must be divisible by num_groups={spec.num_groups}", param="num_groups"
                )
        else:
            given = spec.num_features
            if isinstance(spec, InstanceNormSpec) and n == 0:
                raise LayerError(f"{name} needs spatial dimensions: got an input of {len(full)} dimensions")
        # Checked as torch builds modules: in training mode, where a norm needs more than one value to normalise.
        spatial = math.prod(shape.spatial)
        values = {"batchnorm": (shape.batch or 1) * spatial, "instancenorm": spatial}.get(spec.TYPE)
        if isinstance(spec, GroupNormSpec):
            values = (shape.batch or 1) * (c // max(spec.num_groups, 1)) * spatial
        if values == 1:
            what = "spatial element" if isinstance(spec, InstanceNormSpec) else "value per channel"
            raise LayerError(f"{name}: expected more than 1 {what} when training, got input size {list(full)}")
        if given is not None and given != c and (not isinstance(spec, InstanceNormSpec) or spec.affine):
            raise LayerError(f"{name}: the input has {c} channels, not {given}", param="num_features")
        return ResizeShape(spec.TYPE, name, shape, shape, {}, (1 + spec.bias) * c if spec.affine else 0)
    if isinstance(spec, FlattenSpec):
        rank = len(full)
        start, end = _dim(spec.start_dim, rank, "start_dim"), _dim(spec.end_dim, rank, "end_dim")
        if start > end:
            raise LayerError("flatten() has invalid args: start_dim cannot come after end_dim", param="start_dim")
        out = (*full[:start], math.prod(full[start : end + 1]), *full[end + 1 :])
        return ResizeShape(spec.TYPE, "Flatten", shape, TensorShape.like(out, batched))
    if isinstance(spec, UnflattenSpec):
        d = _dim(spec.dim, len(full), "dim")
        sizes = list(spec.unflattened_size)
        if sizes.count(-1) > 1:
            raise LayerError("unflatten: only one dimension can be inferred (-1)", param="unflattened_size")
        known = math.prod(v for v in sizes if v != -1)
        if -1 in sizes and known and full[d] % known == 0:
            sizes[sizes.index(-1)] = full[d] // known
        if math.prod(sizes) != full[d] or any(v < 0 for v in sizes):
            raise LayerError(
                f"unflatten: Provided sizes {list(spec.unflattened_size)} don't multiply up to the size of dim {d} "
                f"({full[d]}) in the input tensor",
                param="unflattened_size",
            )
        out = (*full[:d], *sizes, *full[d + 1 :])
        return ResizeShape(spec.TYPE, "Unflatten", shape, TensorShape.like(out, batched))
    assert isinstance(spec, LinearSpec)
    check_tensor(shape)
    if spec.out_features < 0:
        raise LayerError(f"out_features={spec.out_features} must not be negative", param="out_features")
    features = full[-1]
    if spec.in_features is not None and spec.in_features != features:
        raise LayerError(
            f"mat1 and mat2 shapes cannot be multiplied: the input's last dimension is {features}, "
            f"in_features is {spec.in_features}",
            param="in_features",
        )
    out = (*full[:-1], spec.out_features)
    params = features * spec.out_features + (spec.out_features if spec.bias else 0)
    macs = math.prod(full[:-1]) * features * spec.out_features
    return ResizeShape(spec.TYPE, "Linear", shape, TensorShape.like(out, batched), {}, params, macs)


def join(spec: ConcatSpec | AddSpec, inputs: Sequence[TensorShape]) -> ResizeShape:
    """``torch.cat`` or a sum of earlier outputs, with torch's shape rules and messages."""
    if len(inputs) < 2:
        raise UsageError(f"{spec.TYPE} joins two or more tensors; `from` names {len(inputs)}", param="from")
    shapes = [s.as_tuple() for s in inputs]
    batched = inputs[0].batch is not None
    if isinstance(spec, ConcatSpec):
        rank = len(shapes[0])
        for other in shapes[1:]:
            if len(other) != rank:
                raise LayerError(
                    f"Tensors must have same number of dimensions: got {rank} and {len(other)} "
                    f"(shapes {list(shapes[0])} and {list(other)})"
                )
        d = _dim(spec.dim, rank, "dim")
        for number, other in enumerate(shapes[1:], 1):
            for axis, (a, b) in enumerate(zip(shapes[0], other)):
                if axis != d and a != b:
                    raise LayerError(
                        f"Sizes of tensors must match except in dimension {d}. Expected size {a} but got size {b} "
                        f"for tensor number {number} in the list (shapes {list(shapes[0])} and {list(other)})"
                    )
        out = list(shapes[0])
        out[d] = sum(s[d] for s in shapes)
        return ResizeShape("concat", "cat", inputs[0], TensorShape.like(out, batched), {"dim": spec.dim})
    out_rev: list[int] = []
    for shape in shapes:
        rev = list(reversed(shape))
        for axis, size in enumerate(rev):
            if axis == len(out_rev):
                out_rev.append(size)
            elif out_rev[axis] != size and 1 not in (out_rev[axis], size):
                raise LayerError(
                    f"The size of tensor a ({out_rev[axis]}) must match the size of tensor b ({size}) at non-singleton "
                    f"dimension {len(shape) - 1 - axis} (shapes {[list(s) for s in shapes]})"
                )
            elif out_rev[axis] == 1:
                out_rev[axis] = size
    longest = max(shapes, key=len)
    out = list(reversed(out_rev))
    return ResizeShape(
        "add", "add", inputs[shapes.index(longest)], TensorShape.like(out, len(longest) > len(shapes[0]) or batched)
    )
