"""Layers described as PyTorch constructor arguments, and whole networks checked layer by layer.

One function, :func:`apply`, maps a layer spec (``{"type": "tconv", "kernel_size": 4, ...}``) and an input
shape to the layer's result; ``check``, ``shape --batch`` and ``shape --layer`` all use it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tconvcalc.core import pool, sizes
from tconvcalc.core.errors import LayerError, TConvError, UsageError
from tconvcalc.core.layer import TensorShape, conv_layer, conv_transpose_layer

KEYS: dict[str, frozenset[str]] = {
    "conv": frozenset(
        {"out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias", "padding_mode"}
    ),
    "tconv": frozenset(
        {
            "out_channels",
            "kernel_size",
            "stride",
            "padding",
            "output_padding",
            "dilation",
            "groups",
            "bias",
            "output_size",
        }
    ),
    "maxpool": frozenset({"kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"}),
    "avgpool": frozenset({"kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"}),
    "maxunpool": frozenset({"kernel_size", "stride", "padding", "output_size"}),
    "upsample": frozenset({"scale_factor", "size", "mode", "align_corners", "recompute_scale_factor"}),
}
COMMON = frozenset({"name", "type", "expect", "match"})
TORCH_NAMES = {
    "conv": "Conv",
    "tconv": "ConvTranspose",
    "maxpool": "MaxPool",
    "avgpool": "AvgPool",
    "maxunpool": "MaxUnpool",
    "upsample": "Upsample",
}


@dataclass(frozen=True)
class Applied:
    """One layer applied to one input shape."""

    output: TensorShape
    parameters: int
    macs: int


class ConfigError(UsageError):
    """A malformed config, located by layer index and key so that the file's line can be named."""

    def __init__(self, message: str, layer: int | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.layer, self.key = layer, key


def validate_keys(spec: Mapping[str, Any], where: str, index: int | None = None) -> str:
    """The layer's type, after refusing unknown types and keys (usage errors: exit 2)."""
    kind = spec.get("type")
    if kind not in KEYS:
        raise ConfigError(f"{where}: unknown type {kind!r}; use one of {', '.join(KEYS)}", index, "type")
    extra = spec.keys() - KEYS[kind]
    unknown = sorted(extra - COMMON) if extra else ()
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} for type {kind!r}", index, unknown[0])
    return str(kind)


def _get(spec: Mapping[str, Any], key: str, default: Any = None) -> Any:
    return spec[key] if key in spec else default


def _flag(spec: Mapping[str, Any], key: str, default: bool) -> bool:
    value = spec.get(key, default)
    if not isinstance(value, bool):
        raise UsageError(f"{key} must be true or false, got {value!r}")
    return value


def _required(spec: Mapping[str, Any], key: str) -> Any:
    if key not in spec:
        raise UsageError(f"missing {key!r} for type {spec.get('type')!r}")
    return spec[key]


def apply(spec: Mapping[str, Any], source: TensorShape) -> Applied:
    """Apply one layer spec to ``source``; raises LayerError for what PyTorch refuses."""
    kind = str(spec.get("type"))
    if kind in ("conv", "tconv"):
        if _get(spec, "padding_mode", "zeros") != "zeros":
            raise LayerError(
                f"padding_mode={spec['padding_mode']!r}: only 'zeros' changes no shape "
                "(and ConvTranspose supports only 'zeros')"
            )
        args = (_required(spec, "kernel_size"), _get(spec, "stride", 1), _get(spec, "padding", 0))
        groups, cout = _get(spec, "groups", 1), _get(spec, "out_channels")
        if kind == "conv":
            lay = conv_layer(source, *args, _get(spec, "dilation", 1), groups, cout)
        else:
            lay = conv_transpose_layer(
                source,
                *args,
                _get(spec, "output_padding", 0),
                _get(spec, "dilation", 1),
                groups,
                cout,
                _get(spec, "output_size"),
            )
        params = (lay.parameters or 0) - (0 if _flag(spec, "bias", True) else (lay.out_channels or 0))
        batch = lay.batch or 1
        if lay.in_channels is None or lay.out_channels is None:
            macs = 0
        elif kind == "conv":
            macs = (
                batch
                * lay.out_channels
                * (lay.in_channels // groups)
                * math.prod(lay.kernel_size)
                * math.prod(lay.output_spatial)
            )
        else:  # by its input: equals the MACs of the dual convolution
            macs = (
                batch
                * lay.in_channels
                * (lay.out_channels // groups)
                * math.prod(lay.kernel_size)
                * math.prod(lay.input_spatial)
            )
        return Applied(TensorShape.from_tuple(lay.output_shape, lay.dims), params, macs)
    if kind in ("maxpool", "avgpool"):
        _flag(spec, "ceil_mode", False)
        out = pool.pool_size(
            source.spatial,
            _required(spec, "kernel_size"),
            _get(spec, "stride"),
            _get(spec, "padding", 0),
            _get(spec, "dilation", 1),
            _get(spec, "ceil_mode", False),
            kind[:3],
        )
    elif kind == "maxunpool":
        want = _get(spec, "output_size")
        if want is not None:
            want = tuple(sizes.per_dim(want, len(want), "output_size"))[-len(source.spatial) :]
        out = pool.unpool_size(
            source.spatial, _required(spec, "kernel_size"), _get(spec, "stride"), _get(spec, "padding", 0), want
        )
    else:
        out = pool.upsample_size(
            source.spatial,
            _get(spec, "scale_factor"),
            _get(spec, "size"),
            _get(spec, "mode", "nearest"),
            _get(spec, "align_corners"),
        )
    return Applied(TensorShape(out, source.channels, source.batch), 0, 0)


def describe(spec: Mapping[str, Any], dims: int) -> str:
    """``ConvTranspose2d(k=4, s=2, p=1)``-style summary of a spec; defaults are left out.

    >>> describe({"type": "tconv", "kernel_size": [4, 4], "stride": 2, "output_padding": [0, 0]}, 2)
    'ConvTranspose2d(k=4, s=2)'
    """
    names = {
        "kernel_size": "k",
        "stride": "s",
        "padding": "p",
        "output_padding": "op",
        "dilation": "d",
        "groups": "g",
        "scale_factor": "scale",
        "out_channels": "out",
    }
    defaults = {"padding": 0, "output_padding": 0, "dilation": 1, "groups": 1, "ceil_mode": False}
    parts = []
    for key, value in spec.items():
        if key in COMMON or key in ("input", "dims", "out_channels"):  # channels show in the shapes
            continue
        if isinstance(value, (list, tuple)) and len(set(value)) == 1:
            value = value[0]
        if key in defaults and value == defaults[key]:
            continue
        parts.append(f"{names.get(key, key)}={list(value) if isinstance(value, (list, tuple)) else value}")
    suffix = "" if spec.get("type") == "upsample" else f"{dims}d"
    return f"{TORCH_NAMES.get(str(spec.get('type')), '?')}{suffix}({', '.join(parts)})"


def fix_for(spec: Mapping[str, Any], source: TensorShape, want: Sequence[int]) -> str | None:
    """The output_padding or padding that would make this layer produce the spatial size ``want``."""
    kind = spec.get("type")
    n = len(source.spatial)
    try:
        k = sizes.per_dim(spec.get("kernel_size", 1), n, "kernel_size")
        s = sizes.per_dim(spec.get("stride", 1), n, "stride")
        d = sizes.per_dim(spec.get("dilation", 1), n, "dilation")
        p = sizes.per_dim(spec.get("padding", 0), n, "padding")
    except TConvError:
        return None
    if kind == "tconv":
        ops, pads = [], []
        for i, kk, ss, dd, pp, w in zip(source.spatial, k, s, d, p, want):
            op = w - ((i - 1) * ss - 2 * pp + dd * (kk - 1) + 1)
            if 0 <= op < max(ss, dd):
                ops.append(op)
                pads.append(pp)
                continue
            for op in range(max(ss, dd)):
                twice = (i - 1) * ss + dd * (kk - 1) + op + 1 - w
                if twice >= 0 and twice % 2 == 0:
                    ops.append(op)
                    pads.append(twice // 2)
                    break
            else:
                return None
        text = f"output_padding={_val(ops)}"
        return text if tuple(pads) == tuple(p) else f"padding={_val(pads)}, {text}"
    if kind == "conv":
        pads = []
        for i, kk, ss, dd, w in zip(source.spatial, k, s, d, want):
            k_eff = sizes.effective_kernel(kk, dd)
            low = (w - 1) * ss + k_eff - i
            candidates = [q for q in range(max(0, -(-low // 2)), (low + ss - 1) // 2 + 1)]
            if not candidates:
                return None
            pads.append(candidates[0])
        return f"padding={_val(pads)}"
    return None


def _val(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else str(tuple(values))


@dataclass
class Step:
    """One row of a checked network; the fields (but ``spec``) are the JSON keys."""

    name: str
    type: str
    layer: str
    input_shape: list[int] | None
    output_shape: list[int] | None = None
    parameters: int = 0
    macs: int = 0
    status: str = "not reached"  # ok | invalid | expect failed | match failed | not reached
    message: str | None = None
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in (
                "name",
                "type",
                "layer",
                "input_shape",
                "output_shape",
                "parameters",
                "macs",
                "status",
                "message",
                "fix",
            )
        }


@dataclass
class Report:
    """A checked network: ``ok`` when every layer is valid and every expect/match holds."""

    input: list[int]
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.status == "ok" for step in self.steps)

    @property
    def first_failure(self) -> Step | None:
        return next((step for step in self.steps if step.status != "ok"), None)

    def to_json(self) -> dict[str, Any]:
        failure = self.first_failure
        return {
            "ok": self.ok,
            "input": self.input,
            "layers": [s.to_json() for s in self.steps],
            "first_failure": None if failure is None else failure.name,
            "total_parameters": sum(s.parameters for s in self.steps),
            "total_macs": sum(s.macs for s in self.steps),
        }


def _int_list(value: Any, what: str) -> list[int]:
    if type(value) is not list or not value or not all(type(v) is int for v in value):
        raise UsageError(f"{what} must be a list of integers, got {value!r}")
    return value


def validate_config(config: Mapping[str, Any]) -> tuple[list[int], int, list[dict[str, Any]]]:
    """Input shape, number of spatial dims and layer specs of a config; usage errors name the problem."""
    unknown = sorted(set(config) - {"input", "layer", "dims"})
    if unknown:
        raise UsageError(f"unknown top-level key {unknown[0]!r} (expected input, layer and optionally dims)")
    if "input" not in config:
        raise UsageError("missing 'input' (the input shape, (N, C, *spatial) or (C, *spatial))")
    shape = _int_list(config["input"], "input")
    dims = config.get("dims", len(shape) - 2)
    if not isinstance(dims, int) or not 1 <= dims <= 3 or not 1 <= len(shape) - dims <= 2:
        raise UsageError(
            f"input {shape} with dims={dims}: give (N, C, *spatial) or (C, *spatial) with 1 to 3 spatial dims"
        )
    layers = config.get("layer", [])
    if not isinstance(layers, list) or not layers:
        raise UsageError('no layers: add [[layer]] tables (TOML) or a "layer" list (JSON)')
    names: set[str] = {"input"}
    for index, spec in enumerate(layers):
        if not isinstance(spec, dict):
            raise UsageError(f"layer {index + 1} is not a table")
        name = spec.get("name", f"layer{index + 1}")
        validate_keys(spec, f"layer {index + 1} ({name})", index)
        if name in names:
            raise UsageError(f"layer {index + 1}: duplicate name {name!r}")
        if "match" in spec and spec["match"] not in names:
            raise ConfigError(
                f"layer {index + 1} ({name}): match={spec['match']!r} names no earlier layer", index, "match"
            )
        if "expect" in spec:
            _int_list(spec["expect"], f"layer {index + 1} ({name}): expect")
        names.add(name)
    return shape, dims, layers


def check(config: Mapping[str, Any], input_shape: Sequence[int] | None = None, with_expect: bool = True) -> Report:
    """Run the layers in order; stop at the first invalid one, keep going past failed expect/match."""
    shape, dims, layers = validate_config(config)
    if input_shape is not None:
        shape = list(input_shape)
    report = Report(shape)
    outputs: dict[str, TensorShape] = {"input": TensorShape.from_tuple(shape, dims)}
    current = outputs["input"]
    stopped = False
    for index, spec in enumerate(layers):
        name = spec.get("name", f"layer{index + 1}")
        step = Step(name, spec["type"], describe(spec, dims), list(current.as_tuple()) if not stopped else None)
        report.steps.append(step)
        if stopped:
            continue
        try:
            applied = apply(spec, current)
        except UsageError as exc:  # a malformed value: the config is at fault, not the numbers
            raise ConfigError(f"layer {index + 1} ({name}): {exc}", index) from None
        except LayerError as exc:
            step.status, step.message, stopped = "invalid", str(exc), True
            continue
        step.output_shape, step.parameters, step.macs = (
            list(applied.output.as_tuple()),
            applied.parameters,
            applied.macs,
        )
        step.status = "ok"
        if with_expect and "expect" in spec and list(spec["expect"]) != step.output_shape:
            step.status = "expect failed"
            step.message = f"expected {spec['expect']}, got {step.output_shape}"
        if "match" in spec:
            target = outputs[spec["match"]].spatial
            if tuple(applied.output.spatial) != tuple(target):
                step.status = "match failed"
                step.message = (
                    f"spatial size {list(applied.output.spatial)} does not match {spec['match']!r} {list(target)}"
                )
                step.fix = fix_for(spec, current, target)
        outputs[name] = current = applied.output
    return report


def sweep(config: Mapping[str, Any], low: int, high: int) -> list[int]:
    """The spatial sizes in [low, high] (every spatial dim set to it) for which the network passes
    (expectations ignored: they hold for one size)."""
    shape, dims, _ = validate_config(config)
    lead = shape[: len(shape) - dims]
    return [v for v in range(low, high + 1) if check(config, [*lead, *([v] * dims)], with_expect=False).ok]


def describe_sizes(sizes: Sequence[int], low: int, high: int) -> str:
    """``multiples of 16 from 32 to 256``, ``every size from 3 to 40``, or runs like ``32-35, 48-51``.

    >>> describe_sizes([32, 48, 64], 1, 70), describe_sizes([3, 4, 5], 3, 5), describe_sizes([4, 5, 9], 1, 9)
    ('multiples of 16 from 32 to 64', 'every size from 3 to 5', '4-5, 9')
    """
    if not sizes:
        return f"none from {low} to {high}"
    if len(sizes) == high - low + 1:
        return f"every size from {low} to {high}"
    steps = {b - a for a, b in zip(sizes, sizes[1:])}
    if len(sizes) > 2 and len(steps) == 1:
        step = steps.pop()
        if sizes[0] % step == 0:
            return f"multiples of {step} from {sizes[0]} to {sizes[-1]}"
        return f"every {step}th size from {sizes[0]} to {sizes[-1]} ({sizes[0]} mod {step})"
    runs: list[str] = []
    start = sizes[0]
    for a, b in zip(sizes, [*sizes[1:], -1]):
        if b != a + 1:
            runs.append(f"{start}-{a}" if a != start else f"{a}")
            start = b
    return ", ".join(runs)
