"""The one way in to a layer: :func:`parse_layer` reads any layer type from PyTorch keyword names and
:func:`apply_layer` applies it to a shape. ``shape``, ``--batch``, ``check`` and the model readers use these
two, so a layer means the same thing wherever it is written.

>>> from tconvcalc.core.tensor import TensorShape, bounded
>>> apply_layer(parse_layer({"type": "leakyrelu", "negative_slope": 0.2}), TensorShape((8, 8), 3, 1)).output_shape
(1, 3, 8, 8)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tconvcalc.core import catalog
from tconvcalc.core.errors import UsageError
from tconvcalc.core.layer import LayerResult, apply
from tconvcalc.core.specs import (
    SPECS,
    AvgPoolSpec,
    ConvSpec,
    ConvTransposeSpec,
    LayerSpec,
    MaxPoolSpec,
    MaxUnpoolSpec,
    UpsampleSpec,
    parse_spec,
    show,
    spec_items,
)
from tconvcalc.core.tensor import TensorShape, bounded

if TYPE_CHECKING:
    from tconvcalc.core.blocks import BlockSpec

    AnySpec = LayerSpec | BlockSpec
else:
    AnySpec = Any
TYPES = catalog.TYPES
BLOCK_TYPES = (*catalog.ELEMENTWISE, *catalog.BLOCK_CLASS_TYPES)  # their specs (core/blocks.py) load on first use
CONVOLUTION_FAMILY = (ConvTransposeSpec, ConvSpec, MaxPoolSpec, AvgPoolSpec, MaxUnpoolSpec, UpsampleSpec)


def parse_layer(mapping: Mapping[str, Any], ignore: frozenset[str] = frozenset()) -> AnySpec:
    """The spec of ``mapping["type"]`` (default ``tconv``); unknown types, keys and values are usage errors."""
    kind = mapping.get("type", "tconv")
    if isinstance(kind, str) and kind in BLOCK_TYPES:
        from tconvcalc.core import blocks

        return blocks.parse_block(kind, mapping, ignore)
    if not isinstance(kind, str) or kind not in SPECS:
        raise UsageError(f"unknown type {show(kind)}; use one of {', '.join(TYPES)}", param="type")
    return parse_spec(mapping, ignore)


def apply_layer(spec: AnySpec, shape: TensorShape) -> LayerResult:
    """One layer applied to one input (a join needs :func:`tconvcalc.core.blocks.join` and its inputs)."""
    if isinstance(spec, CONVOLUTION_FAMILY):
        return bounded(apply(spec, shape))
    from tconvcalc.core import blocks

    return bounded(blocks.apply_block(spec, shape))


def torch_name(spec: AnySpec, dims: int) -> str:
    """The PyTorch class a spec builds for an input of ``dims`` spatial dimensions."""
    if spec.TYPE in catalog.ELEMENTWISE or spec.TYPE in ("upsample", "groupnorm", "flatten", "unflatten"):
        return spec.TORCH
    if spec.TYPE in ("linear", "concat", "add"):
        return spec.TORCH
    return f"{spec.TORCH}{max(dims, 1)}d"


def settings(spec: AnySpec) -> dict[str, Any]:
    """The spec's arguments that differ from PyTorch's defaults, JSON-ready."""
    args = getattr(spec, "args", None)  # an element-wise spec keeps its arguments as given
    if args is not None:
        return dict(args)
    return spec_items(spec)
