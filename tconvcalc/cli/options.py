"""The command line's option groups, each parsed once into one typed value.

A layer's options keep PyTorch's keyword names (``--kernel-size`` is ``kernel_size``), default to "not given"
(``None``), and become the same mapping a config's ``[[layer]]`` table or a ``--batch`` line is: one parser
(:func:`tconvcalc.core.specs.parse_spec`) checks them all. An option that does not apply to the layer asked
for is a usage error naming it; none is ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from tconvcalc.cli import tokens
from tconvcalc.core.catalog import CONVOLUTION_FAMILY_TYPES
from tconvcalc.core.errors import UsageError

if TYPE_CHECKING:
    from tconvcalc.core.model import AnySpec

# The flag of every parameter: how the CLI boundary names a parameter in an error.
FLAGS = {
    "kernel_size": "--kernel-size",
    "stride": "--stride",
    "padding": "--padding",
    "output_padding": "--output-padding",
    "dilation": "--dilation",
    "groups": "--groups",
    "out_channels": "--out-channels",
    "output_size": "--output-size",
    "bias": "--no-bias",
    "padding_mode": "--padding-mode",
    "ceil_mode": "--ceil-mode",
    "count_include_pad": "--count-include-pad",
    "divisor_override": "--divisor-override",
    "return_indices": "--return-indices",
    "scale_factor": "--scale-factor",
    "mode": "--mode",
    "align_corners": "--align-corners",
    "recompute_scale_factor": "--recompute-scale-factor",
    "size": "--output-size",
    "dims": "--dims",
    "input": "SIZE",
    "type": "--layer",
}
_PER_DIM = {"kernel_size", "stride", "padding", "output_padding", "dilation"}


@dataclass(frozen=True)
class LayerOptions:
    """A layer's options as given on the command line (tokens not yet parsed); ``None`` means not given."""

    kernel_size: str | None = None
    stride: str | None = None
    padding: str | None = None
    output_padding: str | None = None
    dilation: str | None = None
    groups: int | None = None
    out_channels: int | None = None
    output_size: str | None = None
    bias: bool | None = None
    padding_mode: str | None = None
    ceil_mode: bool | None = None
    count_include_pad: bool | None = None
    divisor_override: int | None = None
    return_indices: bool | None = None
    scale_factor: str | None = None
    mode: str | None = None
    align_corners: bool | None = None
    recompute_scale_factor: bool | None = None

    def given_tokens(self) -> dict[str, Any]:
        """The options given, as the tokens given (``None`` left out)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def given(self) -> dict[str, Any]:
        """The options given, under PyTorch's names, as typed values (tokens parsed)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            token = getattr(self, f.name)
            if token is None:
                continue
            if f.name in _PER_DIM:
                out[f.name] = _ints(token, f.name)
            elif f.name == "output_size":
                values = tokens.parse_ints(token, FLAGS[f.name])
                out[f.name] = values[0] if len(values) == 1 else values
            elif f.name == "scale_factor":
                out[f.name] = _floats(token)
            else:
                out[f.name] = token
        return out

    def implied_dims(self) -> list[int]:
        """How many values the per-dimension options give, where they give 2 or more (see TensorShape.read)."""
        counts = []
        for key in ("kernel_size", "stride", "dilation", "output_padding", "padding"):
            token = getattr(self, key)
            if token is not None and token.strip().lower() not in ("same", "valid") and "[" not in token:
                parts = token.replace("x", ",").split(",")
                if len(parts) >= 2:
                    counts.append(len(parts))
        return counts

    def spec(self, kind: str, allowed: frozenset[str] | None = None) -> AnySpec:
        """The spec of layer type ``kind``; an option it has no parameter for (or, with ``allowed``, one this
        command does not use) is refused, naming the flag."""
        values = self.given()
        if allowed is not None:
            for key in values:
                if key not in allowed:
                    raise UsageError(f"{FLAGS[key]} does not apply to this command", param=key)
        if kind == "upsample" and "output_size" in values:  # interpolate's size: the output size wanted
            values["size"] = values.pop("output_size")
        from tconvcalc.core.model import parse_layer
        from tconvcalc.core.specs import SPECS

        names = {f.name for f in fields(SPECS[kind])} if kind in CONVOLUTION_FAMILY_TYPES else set()
        for key in values:
            if key not in names:
                where = SPECS[kind].TORCH if kind in SPECS else f"--layer {kind}"
                raise UsageError(f"{FLAGS[key]} does not apply to {where}", param=key)
        return parse_layer({"type": kind, **values})


def _ints(token: str, key: str) -> int | str | tuple[int, ...]:
    if key == "padding" and token.strip().lower() in ("same", "valid"):
        return token.strip()  # as written: torch takes only 'same'/'valid' (the spec refuses 'SAME')
    values = tokens.parse_ints(token, FLAGS[key])
    return values[0] if len(values) == 1 else values


def _floats(token: str) -> float | tuple[float, ...]:
    try:
        values = tuple(float(v) for v in token.replace("x", ",").split(","))
    except ValueError:
        raise UsageError(f"--scale-factor: {token!r} is not a number or one number per dimension") from None
    if not all(math.isfinite(v) for v in values):
        raise UsageError(f"--scale-factor: {token!r} must be finite")
    return values[0] if len(values) == 1 else values


@dataclass(frozen=True)
class ConventionOptions:
    """Whose parameters these are (``--convention``/``--from``) and that framework's own options."""

    convention: str | None = None
    pads: str | None = None
    auto_pad: str | None = None
    output_shape: str | None = None
    consistent: bool = False
    weight_layout: str | None = None
    transpose_kernel: bool = False
    cropping: str | None = None
    layout: str | None = None

    @property
    def channel_layout(self) -> str:
        """The layout SIZE, --output-shape and tensors are read in: --layout, else the framework's default."""
        from tconvcalc.core.conventions import DEFAULT_CHANNEL_LAYOUT

        return self.layout or DEFAULT_CHANNEL_LAYOUT.get(self.name, "channels_first")

    @property
    def name(self) -> str:
        return self.convention or "torch"

    @property
    def placed(self) -> bool:
        """Whether the layer is described in another framework's terms (a placement, not torch's layer)."""
        return self.name != "torch" or any(
            v is not None for v in (self.pads, self.auto_pad, self.output_shape, self.cropping, self.layout)
        )

    def check(self) -> None:
        """Refuse a framework option given with a convention that has no such option."""
        name = self.name
        if name != "onnx" and (self.pads is not None or self.auto_pad is not None):
            raise UsageError("--pads and --auto-pad are ONNX attributes: add --convention onnx")
        if name not in ("onnx", "tf") and self.output_shape is not None:
            raise UsageError(f"--output-shape belongs to onnx and tf; for {name} use the convention's own options")
        if self.consistent and name != "jax":
            raise UsageError("--consistent-padding is JAX's use_consistent_padding: add --convention jax")
        if self.transpose_kernel and name != "jax":
            raise UsageError("--transpose-kernel is JAX's option: add --convention jax")
        if self.cropping is not None and name != "matlab":
            raise UsageError("--cropping is MATLAB's 'Cropping': add --convention matlab", param="cropping")
