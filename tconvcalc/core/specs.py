"""One spec per layer type: a typed, frozen value with PyTorch's constructor names, parsed once.

Every source of a layer (command-line options, a config's ``[[layer]]`` table, a ``shape --batch`` line) is
first a mapping of PyTorch keyword names to values; :func:`parse_spec` is the only place that checks those
values' types and choices and builds the spec. Size rules live in :mod:`tconvcalc.core.layer` (``apply``).

>>> parse_spec({"type": "tconv", "kernel_size": 4, "stride": 2, "padding": 1})
ConvTransposeSpec(kernel_size=4, out_channels=None, stride=2, padding=1, output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros', output_size=None, in_channels=None)
>>> parse_spec({"type": "maxpool", "kernel_size": 2, "strides": 2})
Traceback (most recent call last):
tconvcalc.core.errors.UsageError: unknown key 'strides' for type 'maxpool'
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from tconvcalc.core.catalog import CONVOLUTION_FAMILY_TYPES, PADDING_MODES, UPSAMPLE_MODES
from tconvcalc.core.errors import UsageError

IntOrTuple = int | tuple[int, ...]
MAX_DIMS = 3


@dataclass(frozen=True)
class ConvTransposeSpec:
    """``nn.ConvTranspose{n}d`` (and ``forward(output_size=...)``)."""

    TYPE: ClassVar[str] = "tconv"
    TORCH: ClassVar[str] = "ConvTranspose"
    kernel_size: IntOrTuple
    out_channels: int | None = None
    stride: IntOrTuple = 1
    padding: IntOrTuple = 0
    output_padding: IntOrTuple = 0
    groups: int = 1
    bias: bool = True
    dilation: IntOrTuple = 1
    padding_mode: str = "zeros"
    output_size: IntOrTuple | None = None
    in_channels: int | None = None  # optional, as PyTorch's constructor: checked against the input's channels


@dataclass(frozen=True)
class ConvSpec:
    """``nn.Conv{n}d``; ``padding`` may be ``'same'`` or ``'valid'``."""

    TYPE: ClassVar[str] = "conv"
    TORCH: ClassVar[str] = "Conv"
    kernel_size: IntOrTuple
    out_channels: int | None = None
    stride: IntOrTuple = 1
    padding: IntOrTuple | str = 0
    dilation: IntOrTuple = 1
    groups: int = 1
    bias: bool = True
    padding_mode: str = "zeros"
    in_channels: int | None = None  # optional, as PyTorch's constructor: checked against the input's channels


@dataclass(frozen=True)
class MaxPoolSpec:
    """``nn.MaxPool{n}d``; ``stride`` defaults to ``kernel_size``."""

    TYPE: ClassVar[str] = "maxpool"
    TORCH: ClassVar[str] = "MaxPool"
    kernel_size: IntOrTuple
    stride: IntOrTuple | None = None
    padding: IntOrTuple = 0
    dilation: IntOrTuple = 1
    return_indices: bool = False
    ceil_mode: bool = False


@dataclass(frozen=True)
class AvgPoolSpec:
    """``nn.AvgPool{n}d``; ``stride`` defaults to ``kernel_size``."""

    TYPE: ClassVar[str] = "avgpool"
    TORCH: ClassVar[str] = "AvgPool"
    kernel_size: IntOrTuple
    stride: IntOrTuple | None = None
    padding: IntOrTuple = 0
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor_override: int | None = None


@dataclass(frozen=True)
class MaxUnpoolSpec:
    """``nn.MaxUnpool{n}d`` (and ``forward(output_size=...)``); ``stride`` defaults to ``kernel_size``."""

    TYPE: ClassVar[str] = "maxunpool"
    TORCH: ClassVar[str] = "MaxUnpool"
    kernel_size: IntOrTuple
    stride: IntOrTuple | None = None
    padding: IntOrTuple = 0
    output_size: IntOrTuple | None = None


@dataclass(frozen=True)
class UpsampleSpec:
    """``nn.Upsample`` / ``F.interpolate``: exactly one of ``size`` and ``scale_factor``."""

    TYPE: ClassVar[str] = "upsample"
    TORCH: ClassVar[str] = "Upsample"
    size: IntOrTuple | None = None
    scale_factor: float | tuple[float, ...] | None = None
    mode: str = "nearest"
    align_corners: bool | None = None
    recompute_scale_factor: bool | None = None


LayerSpec = ConvTransposeSpec | ConvSpec | MaxPoolSpec | AvgPoolSpec | MaxUnpoolSpec | UpsampleSpec
SPECS: dict[str, type[LayerSpec]] = {
    cls.TYPE: cls for cls in (ConvTransposeSpec, ConvSpec, MaxPoolSpec, AvgPoolSpec, MaxUnpoolSpec, UpsampleSpec)
}
assert tuple(SPECS) == CONVOLUTION_FAMILY_TYPES, "core/catalog.py names the layer types"
TYPES = tuple(SPECS)

# How each key's value is read; a key's kind is the same in every layer type that has it.
_INT_OR_TUPLE = {"kernel_size", "stride", "padding", "output_padding", "dilation", "size"}
_OPTIONAL_INT = {"out_channels", "in_channels", "divisor_override"}
_BOOL = {"bias", "return_indices", "ceil_mode", "count_include_pad"}
_OPTIONAL_BOOL = {"align_corners", "recompute_scale_factor"}
_SHAPE = {"output_size"}
# An int output_size is every spatial size, as an int kernel_size is every kernel size.
# Keys whose list length names the number of spatial dimensions (output_size may be a full shape).
PER_DIM_KEYS = ("kernel_size", "stride", "padding", "output_padding", "dilation", "size", "scale_factor")


# Every integer a config or a --batch line gives is below 2**63 in magnitude (PyTorch's sizes are int64): a
# larger one is refused here, before it reaches any arithmetic or str() (CPython refuses str() past 4,300 digits).
INT_LIMIT = 2**63


def integer(value: Any, key: str) -> int:
    """``value`` as an integer within :data:`INT_LIMIT`; a bool, float, string... is a usage error naming ``key``.

    >>> integer(3, "groups")
    3
    >>> integer(3.0, "groups")
    Traceback (most recent call last):
    tconvcalc.core.errors.UsageError: groups must be an integer, got 3.0
    """
    if type(value) is not int:
        raise UsageError(f"{key} must be an integer, got {show(value)}", param=key)
    return _bounded(value, key)


def _bounded(value: int, key: str) -> int:
    if not -INT_LIMIT < value < INT_LIMIT:
        raise UsageError(f"{key}={show(value)} is out of range: integers must be below 2**63 in magnitude", param=key)
    return value


def int_list(value: Any, key: str) -> list[int]:
    """A non-empty list of integers within :data:`INT_LIMIT` (a config's ``input`` and ``expect``, a batch line's
    ``input``).

    >>> int_list([1, 3, 64, 64], "input")
    [1, 3, 64, 64]
    >>> int_list([1, "3"], "input")
    Traceback (most recent call last):
    tconvcalc.core.errors.UsageError: input must be a list of integers, got [1, '3']
    """
    if type(value) is not list or not value or not all(type(v) is int for v in value):
        raise UsageError(f"{key} must be a list of integers, got {show(value)}", param=key)
    for v in value:
        _bounded(v, key)
    return value


def _ints(value: Any, key: str, *, full_shape: bool = False) -> IntOrTuple:
    if type(value) is int:
        return _bounded(value, key)
    if isinstance(value, (list, tuple)) and value and all(type(v) is int for v in value):
        limit = MAX_DIMS + 2 if full_shape else MAX_DIMS
        if len(value) > limit:
            raise UsageError(f"{key} has {len(value)} values; at most {limit}", param=key)
        return tuple(_bounded(v, key) for v in value)
    raise UsageError(f"{key} must be an integer or a list of 1 to 3 integers, got {show(value)}", param=key)


class _ShortRepr(reprlib.Repr):
    """reprlib's bounded repr (depth, lengths), with long integers shown by their size: ``repr`` of an integer of
    more than 4,300 digits raises, and deep nesting would recurse."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxlist, self.maxtuple, self.maxdict = 3, 4, 4, 3
        self.maxset = self.maxfrozenset = self.maxdeque = self.maxarray = 4
        self.maxstring, self.maxother = 30, 30

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() <= 100:  # 30 digits
            return repr(x)
        return f"<an integer of about {int(x.bit_length() * math.log10(2)):,} digits>"


_SHORT = _ShortRepr()


def show(value: Any) -> str:
    """Any value, however large or deep, as a short one-line text for a message.

    >>> show(3.0), show("8"), show([[[[[3]]]]]), show(10**5000)
    ('3.0', "'8'", '[[[[...]]]]', '<an integer of about 5,000 digits>')
    """
    text = _SHORT.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _scale(value: Any, key: str) -> float | tuple[float, ...]:
    def one(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise UsageError(f"{key} must be a number or a list of numbers, got {show(value)}", param=key)
        f = float(_bounded(v, key)) if isinstance(v, int) else v
        if not math.isfinite(f):
            raise UsageError(f"{key} must be finite, got {show(value)}", param=key)
        return f

    if isinstance(value, (list, tuple)):
        if not value or len(value) > MAX_DIMS:
            raise UsageError(f"{key} must have 1 to 3 values, got {show(value)}", param=key)
        return tuple(one(v) for v in value)
    return one(value)


def _choice(value: Any, key: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise UsageError(f"{key}={show(value)} is not one of {', '.join(choices)}", param=key)
    return value


def _value(key: str, value: Any) -> Any:
    """The typed value of one key, or a UsageError naming the key."""
    if key in _INT_OR_TUPLE:
        if key == "padding" and isinstance(value, str):
            return value  # 'same'/'valid': Conv only; ConvSpec's rules check it in apply()
        return _ints(value, key)
    if key in _OPTIONAL_INT:
        return None if value is None else integer(value, key)
    if key == "groups":
        return integer(value, key)
    if key in _BOOL or key in _OPTIONAL_BOOL:
        if value is None and key in _OPTIONAL_BOOL:
            return None
        if not isinstance(value, bool):
            raise UsageError(f"{key} must be true or false, got {show(value)}", param=key)
        return value
    if key in _SHAPE:
        if value is None:
            return None
        return _ints(value, key, full_shape=True)
    if key == "scale_factor":
        return None if value is None else _scale(value, key)
    if key == "padding_mode":
        return _choice(value, key, PADDING_MODES)
    if key == "mode":
        return _choice(value, key, UPSAMPLE_MODES)
    raise AssertionError(key)  # pragma: no cover - every field has a kind above


def parse_spec(mapping: Mapping[str, Any], ignore: frozenset[str] = frozenset()) -> LayerSpec:
    """The spec of ``mapping[type]`` from PyTorch keyword names; unknown types, keys and bad values are
    usage errors naming the key. Keys in ``ignore`` (a config's ``name``, ``expect``...) are skipped.
    ``padding='same'|'valid'`` is checked for Conv here; everything about sizes waits for ``apply``."""
    kind = mapping.get("type", "tconv")
    if not isinstance(kind, str) or kind not in SPECS:
        raise UsageError(f"unknown type {show(kind)}; use one of {', '.join(TYPES)}", param="type")
    cls = SPECS[kind]
    names = {f.name for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in mapping.items():
        if key == "type" or key in ignore:
            continue
        if key not in names:
            raise UsageError(
                f"unknown key {show(key)} for type {kind!r}", param=key if isinstance(key, str) else show(key)
            )
        values[key] = _value(key, value)
    if "output_padding" in values and "output_size" in values:
        raise UsageError(
            "give output_padding or output_size, not both (output_size replaces output_padding, as in PyTorch)",
            param=("output_padding", "output_size"),
        )
    if "kernel_size" in names and "kernel_size" not in values:
        raise UsageError(f"missing 'kernel_size' for type {kind!r}", param="kernel_size")
    padding = values.get("padding")
    if isinstance(padding, str) and (cls is not ConvSpec or padding not in ("same", "valid")):
        if cls is ConvSpec:
            raise UsageError(f"invalid padding string {padding!r}, should be 'same' or 'valid'", param="padding")
        raise UsageError(
            f"padding={show(padding)}: {cls.TORCH} takes integers (PyTorch's ConvTranspose has no string padding; "
            "use output_size for an exact size)",
            param="padding",
        )
    return cls(**values)


def implied_dims(spec: Any) -> int | None:
    """The number of spatial dimensions the spec's per-dimension lists name (2 or more values), or None.

    >>> implied_dims(ConvTransposeSpec(kernel_size=(3, 4, 4))), implied_dims(ConvTransposeSpec(kernel_size=3))
    (3, None)
    """
    found: dict[int, str] = {}
    for key in PER_DIM_KEYS:
        value = getattr(spec, key, None)
        if isinstance(value, tuple) and len(value) >= 2:
            found.setdefault(len(value), key)
    if len(found) > 1:
        (n1, k1), (n2, k2) = sorted(found.items())[:2]
        raise UsageError(f"{k1} has {n1} values but {k2} has {n2}: give one value per spatial dimension", param=k2)
    return next(iter(found), None)


def torch_name(spec: LayerSpec, dims: int) -> str:
    """``ConvTranspose2d``, ``MaxPool1d``... (``Upsample`` has no dimension in its name)."""
    return spec.TORCH if isinstance(spec, UpsampleSpec) else f"{spec.TORCH}{dims}d"


def spec_items(spec: Any) -> dict[str, Any]:
    """The spec's fields that differ from their defaults, JSON-ready (tuples as lists)."""
    out: dict[str, Any] = {}
    for f in fields(spec):
        value = getattr(spec, f.name)
        if value != f.default:
            out[f.name] = list(value) if isinstance(value, tuple) else value
    return out
