"""Whole networks checked layer by layer, through the one layer model of :mod:`tconvcalc.core.specs` and
:func:`tconvcalc.core.layer.apply` (the same path as ``shape`` and ``shape --batch``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tconvcalc.core import sizes
from tconvcalc.core.budget import MAX_CONFIG_LAYERS, MAX_SWEEP_STEPS, check_bound
from tconvcalc.core.errors import ConfigError, LayerError, TConvError, UsageError
from tconvcalc.core.invert import conv_solutions, transpose_solutions
from tconvcalc.core.layer import TensorShape, apply
from tconvcalc.core.specs import ConvSpec, ConvTransposeSpec, LayerSpec, parse_spec, spec_items, torch_name

COMMON = frozenset({"name", "type", "expect", "match"})


def describe(spec: LayerSpec, dims: int) -> str:
    """``ConvTranspose2d(k=4, s=2, p=1)``-style summary of a spec; defaults and channels are left out.

    >>> describe(ConvTransposeSpec(kernel_size=(4, 4), stride=2, output_padding=(0, 0)), 2)
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
    }
    defaults = {"padding": 0, "output_padding": 0, "dilation": 1, "groups": 1}
    parts = []
    for key, value in spec_items(spec).items():
        if key == "out_channels":  # channels show in the shapes
            continue
        if isinstance(value, list) and len(set(value)) == 1:
            value = value[0]
        if key in defaults and value == defaults[key]:
            continue
        parts.append(f"{names.get(key, key)}={value}")
    return f"{torch_name(spec, dims)}({', '.join(parts)})"


def fix_for(spec: LayerSpec, source: TensorShape, want: Sequence[int]) -> str | None:
    """The output_padding or padding that would make this layer produce the spatial size ``want``, from the
    same solvers as ``tconvcalc solve`` (kernel, stride and dilation kept; the layer's padding kept if it can be)."""
    n = source.dims
    if not isinstance(spec, (ConvTransposeSpec, ConvSpec)) or isinstance(spec.padding, str):
        return None
    try:
        k = sizes.per_dim(spec.kernel_size, n, "kernel_size")
        s = sizes.per_dim(spec.stride, n, "stride")
        d = sizes.per_dim(spec.dilation, n, "dilation")
        p = sizes.per_dim(spec.padding, n, "padding")
    except TConvError:
        return None
    solve = transpose_solutions if isinstance(spec, ConvTransposeSpec) else conv_solutions
    chosen = []
    for i, kk, ss, dd, pp, w in zip(source.spatial, k, s, d, p, want):
        found = solve(i, w, (kk,), (ss,), (dd,))
        if not found:
            return None
        chosen.append(next((x for x in found if x.padding == pp), found[0]))
    pads = [x.padding for x in chosen]
    if isinstance(spec, ConvSpec):
        return f"padding={_val(pads)}"
    text = f"output_padding={_val([x.output_padding for x in chosen])}"
    return text if tuple(pads) == tuple(p) else f"padding={_val(pads)}, {text}"


def _val(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else str(tuple(values))


@dataclass
class Step:
    """One row of a checked network; the fields (but ``spec``) are the JSON keys."""

    name: str
    type: str
    layer: str  # the torch class, e.g. ConvTranspose2d
    summary: str  # ConvTranspose2d(k=4, s=2, p=1)
    input_shape: list[int] | None
    output_shape: list[int] | None = None
    parameters: int | None = 0  # None: unknown (the input has no channel count)
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
                "summary",
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
            "total_parameters": sum(s.parameters or 0 for s in self.steps),
            "total_macs": sum(s.macs for s in self.steps),
        }


def _int_list(value: Any, what: str) -> list[int]:
    if type(value) is not list or not value or not all(type(v) is int for v in value):
        raise UsageError(f"{what} must be a list of integers, got {value!r}")
    return value


@dataclass(frozen=True)
class Network:
    """A parsed config: the input, the number of spatial dimensions, and each layer's name, spec and table."""

    input: TensorShape
    layers: tuple[tuple[str, LayerSpec, Mapping[str, Any]], ...]

    @property
    def dims(self) -> int:
        return self.input.dims


def parse_config(config: Mapping[str, Any]) -> Network:
    """Validate a config (keys, types, names) and read its input with the one SIZE rule; usage errors (exit 2)
    name the layer and key."""
    unknown = sorted(set(config) - {"input", "layer", "dims"})
    if unknown:
        raise UsageError(f"unknown top-level key {unknown[0]!r} (expected input, layer and optionally dims)")
    if "input" not in config:
        raise UsageError("missing 'input' (the input shape, (N, C, *spatial) or (C, *spatial))")
    shape = _int_list(config["input"], "input")
    dims = config.get("dims")
    if dims is not None and (type(dims) is not int or not 1 <= dims <= 3):
        raise UsageError(f"dims must be 1, 2 or 3, got {dims!r}")
    layers = config.get("layer", [])
    if not isinstance(layers, list) or not layers:
        raise UsageError('no layers: add [[layer]] tables (TOML) or a "layer" list (JSON)')
    check_bound(len(layers), MAX_CONFIG_LAYERS, "layers in the config")
    names: set[str] = {"input"}
    parsed = []
    for index, table in enumerate(layers):
        if not isinstance(table, dict):
            raise UsageError(f"layer {index + 1} is not a table")
        name = table.get("name", f"layer{index + 1}")
        if not isinstance(name, str):
            raise ConfigError(f"layer {index + 1}: name must be a string, got {name!r}", index, "name")
        where = f"layer {index + 1} ({name})"
        try:
            spec = parse_spec(table, ignore=COMMON)
        except UsageError as exc:
            raise ConfigError(f"{where}: {exc}", index, exc.param) from None
        if name in names:
            raise ConfigError(f"layer {index + 1}: duplicate name {name!r}", index, "name")
        if "match" in table and table["match"] not in names:
            raise ConfigError(f"{where}: match={table['match']!r} names no earlier layer", index, "match")
        if "expect" in table:
            try:
                _int_list(table["expect"], f"{where}: expect")
            except UsageError as exc:
                raise ConfigError(str(exc), index, "expect") from None
        names.add(name)
        parsed.append((name, spec, table))
    try:
        source = TensorShape.read(shape, dims, [spec for _, spec, _ in parsed])
    except UsageError as exc:
        raise UsageError(f"input {shape}: {exc}") from None
    return Network(source, tuple(parsed))


def check(
    config: Mapping[str, Any] | Network, input_shape: Sequence[int] | None = None, with_expect: bool = True
) -> Report:
    """Every layer in order: all failures are reported. A failed expect/match continues with the shape the
    layer really produces; a layer PyTorch refuses leaves everything after it not reached."""
    net = config if isinstance(config, Network) else parse_config(config)
    current = net.input if input_shape is None else TensorShape.from_tuple(input_shape, net.dims)
    report = Report(list(current.as_tuple()))
    outputs: dict[str, TensorShape] = {"input": current}
    stopped = False
    for name, spec, table in net.layers:
        step = Step(
            name,
            spec.TYPE,
            torch_name(spec, net.dims),
            describe(spec, net.dims),
            list(current.as_tuple()) if not stopped else None,
        )
        report.steps.append(step)
        if stopped:
            continue
        try:
            result = apply(spec, current)
        except LayerError as exc:
            step.status, step.message, stopped = "invalid", str(exc), True
            continue
        step.output_shape, step.parameters, step.macs = list(result.output_shape), result.parameters, result.macs
        step.status = "ok"
        if with_expect and "expect" in table and list(table["expect"]) != step.output_shape:
            step.status = "expect failed"
            step.message = f"expected {table['expect']}, got {step.output_shape}"
        if "match" in table:
            target = outputs[table["match"]].spatial
            if tuple(result.output.spatial) != tuple(target):
                step.status = "match failed"
                step.message = (
                    f"spatial size {list(result.output.spatial)} does not match {table['match']!r} {list(target)}"
                )
                step.fix = fix_for(spec, current, target)
        outputs[name] = current = result.output
    return report


def sweep(config: Mapping[str, Any] | Network, low: int, high: int) -> list[int]:
    """The spatial sizes in [low, high] (every spatial dim set to it) for which the network passes
    (expectations ignored: they hold for one size). The work, sizes x layers, is bounded by
    :data:`~tconvcalc.core.budget.MAX_SWEEP_STEPS` and refused above it before any layer runs."""
    net = config if isinstance(config, Network) else parse_config(config)
    count, layers = high - low + 1, len(net.layers)
    check_bound(
        count * layers,
        MAX_SWEEP_STEPS,
        f"layer evaluations for sizes {low} to {high} ({count:,} sizes x {layers:,} layers)",
        "narrow the range of sizes",
    )
    lead = net.input.as_tuple()[: -net.dims]
    return [
        v for v in range(low, high + 1) if passes(net, TensorShape.from_tuple([*lead, *([v] * net.dims)], net.dims))
    ]


def passes(net: Network, shape: TensorShape) -> bool:
    """Whether ``check`` would pass from ``shape`` with expectations ignored: the same rules, stopping at the
    first failure and building no report (a sweep runs this for every size)."""
    outputs: dict[str, TensorShape] = {"input": shape}
    current = shape
    for name, spec, table in net.layers:
        try:
            current = apply(spec, current).output
        except LayerError:
            return False
        match = table.get("match")
        if match is not None and tuple(current.spatial) != tuple(outputs[match].spatial):
            return False
        outputs[name] = current
    return True


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
