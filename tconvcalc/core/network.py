"""Whole networks checked layer by layer, through the one layer model (:mod:`tconvcalc.core.model`, the same
path as ``shape`` and ``shape --batch``). A network is a graph: each layer reads the previous layer's output,
or the outputs it names in ``from`` (joins: ``concat``, ``add``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tconvcalc.core import receptive, sizes
from tconvcalc.core.blocks import AddSpec, ConcatSpec, join
from tconvcalc.core.budget import MAX_CONFIG_LAYERS, MAX_SWEEP_STEPS, check_bound
from tconvcalc.core.catalog import JOINS
from tconvcalc.core.errors import ConfigError, LayerError, TConvError, UsageError
from tconvcalc.core.invert import conv_solutions, transpose_solutions
from tconvcalc.core.layer import LayerResult
from tconvcalc.core.model import AnySpec, apply_layer, parse_layer, settings, torch_name
from tconvcalc.core.specs import ConvSpec, ConvTransposeSpec, int_list, show
from tconvcalc.core.tensor import TensorShape, bounded

COMMON = frozenset({"name", "type", "expect", "match", "from"})


def describe(spec: AnySpec, dims: int) -> str:
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
    for key, value in settings(spec).items():
        if key in ("out_channels", "in_channels", "in_features", "num_features", "num_channels"):  # in the shapes
            continue
        if isinstance(value, list) and len(set(value)) == 1:
            value = value[0]
        if key in defaults and value == defaults[key]:
            continue
        parts.append(f"{names.get(key, key)}={value}")
    return f"{torch_name(spec, dims)}({', '.join(parts)})"


def fix_for(spec: AnySpec, source: TensorShape, want: Sequence[int]) -> dict[str, Any] | None:
    """The ``output_padding`` (and ``padding`` if need be) or ``padding`` that would make this layer produce the
    spatial size ``want``, from the same solvers as ``tconvcalc solve`` (kernel, stride and dilation kept; the
    layer's padding kept if it can be). Values are an int, or a list with one value per dimension."""
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
        return {"padding": _val(pads)}
    fix: dict[str, Any] = {} if tuple(pads) == tuple(p) else {"padding": _val(pads)}
    fix["output_padding"] = _val([x.output_padding for x in chosen])
    return fix


def fix_text(fix: Mapping[str, Any]) -> str:
    """``padding=1, output_padding=1``.

    >>> fix_text({"output_padding": [1, 0]})
    'output_padding=(1, 0)'
    """
    return ", ".join(f"{key}={tuple(v) if isinstance(v, list) else v}" for key, v in fix.items())


def _val(values: Sequence[int]) -> int | list[int]:
    return values[0] if len(set(values)) == 1 else list(values)


@dataclass
class Step:
    """One row of a checked network; the fields (but ``spec``) are the JSON keys."""

    name: str
    type: str
    layer: str  # the torch class, e.g. ConvTranspose2d
    summary: str  # ConvTranspose2d(k=4, s=2, p=1)
    inputs: list[str]  # the names it reads ("input" is the network input)
    input_shape: list[int] | None
    output_shape: list[int] | None = None
    parameters: int | None = 0  # None: unknown (the input has no channel count)
    macs: int = 0
    status: str = "not reached"  # ok | invalid | expect failed | match failed | not reached
    receptive_field: list[int] | None = None  # per spatial dim, in network-input positions (core/receptive.py)
    message: str | None = None
    fix: str | None = None
    fix_values: dict[str, Any] | None = field(default=None, repr=False)  # for --fix; the JSON has the text

    def to_json(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in (
                "name",
                "type",
                "layer",
                "summary",
                "inputs",
                "input_shape",
                "output_shape",
                "parameters",
                "macs",
                "receptive_field",
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


@dataclass(frozen=True)
class Node:
    """One layer of a parsed config: its name, spec, the names it reads, and its table (for expect/match)."""

    name: str
    spec: AnySpec
    inputs: tuple[str, ...]
    table: Mapping[str, Any]


@dataclass(frozen=True)
class Network:
    """A parsed config: the input, and the layers in order (each reading earlier outputs)."""

    input: TensorShape
    layers: tuple[Node, ...]

    @property
    def dims(self) -> int:
        return self.input.dims


def _inputs(table: Mapping[str, Any], index: int, previous: str, names: set[str], where: str) -> tuple[str, ...]:
    """The names a layer reads: ``from`` (one name, or a list for joins), else the previous layer."""
    if "from" not in table:
        return (previous,)
    value = table["from"]
    listed = value if isinstance(value, list) else [value]
    if not listed or not all(isinstance(v, str) for v in listed):
        raise ConfigError(f"{where}: from must be a layer name or a list of names, got {show(value)}", index, "from")
    for name in listed:
        if name not in names:
            raise ConfigError(f"{where}: from={name!r} names no earlier layer (or 'input')", index, "from")
    return tuple(listed)


def parse_config(config: Mapping[str, Any]) -> Network:
    """Validate a config (keys, types, names, the graph) and read its input with the one SIZE rule; usage
    errors (exit 2) name the layer (if any) and the key, so that ``check`` can name the line."""
    unknown = sorted(show(key) for key in set(config) - {"input", "layer", "dims"})
    if unknown:
        raise UsageError(f"unknown top-level key {unknown[0]} (expected input, layer and optionally dims)")
    if "input" not in config:
        raise UsageError("missing 'input' (the input shape, (N, C, *spatial) or (C, *spatial))")
    shape = _top(int_list, config["input"], "input")
    dims = config.get("dims")
    if dims is not None and (type(dims) is not int or not 0 <= dims <= 3):
        raise ConfigError(
            f"dims must be 0 (an (N, features) input, before a Linear), 1, 2 or 3, got {show(dims)}", None, "dims"
        )
    layers = config.get("layer", [])
    if not isinstance(layers, list) or not layers:
        raise ConfigError('no layers: add [[layer]] tables (TOML) or a "layer" list (JSON)', None, "layer")
    check_bound(len(layers), MAX_CONFIG_LAYERS, "layers in the config")
    names: set[str] = {"input"}
    parsed: list[Node] = []
    previous = "input"
    for index, table in enumerate(layers):
        if not isinstance(table, dict):
            raise ConfigError(f"layer {index + 1} is not a table, got {show(table)}", None, "layer")
        name = table.get("name", f"layer{index + 1}")
        if not isinstance(name, str):
            raise ConfigError(f"layer {index + 1}: name must be a string, got {show(name)}", index, "name")
        where = f"layer {index + 1} ({name})"
        try:
            spec = parse_layer(table, ignore=COMMON)
        except UsageError as exc:
            raise ConfigError(f"{where}: {exc}", index, exc.param) from None
        if name in names:
            raise ConfigError(f"layer {index + 1}: duplicate name {name!r}", index, "name")
        inputs = _inputs(table, index, previous, names, where)
        if (spec.TYPE in JOINS) != (len(inputs) > 1):
            what = "a join needs `from` with two or more names" if spec.TYPE in JOINS else "only a join reads several"
            raise ConfigError(f"{where}: {what} (from = {list(inputs)})", index, "from")
        match = table.get("match")
        if "match" in table and (not isinstance(match, str) or match not in names):
            raise ConfigError(f"{where}: match={show(match)} names no earlier layer", index, "match")
        if "expect" in table:
            try:
                int_list(table["expect"], "expect")
            except UsageError as exc:
                raise ConfigError(f"{where}: {exc}", index, "expect") from None
        names.add(name)
        parsed.append(Node(name, spec, inputs, table))
        previous = name
    try:
        source = TensorShape.read(shape, dims, [n.spec for n in parsed])
    except UsageError as exc:
        raise ConfigError(f"input {shape}: {exc}", None, "input") from None
    return Network(source, tuple(parsed))


def _top(read: Callable[[Any, str], Any], value: Any, key: str) -> Any:
    """A top-level value read by ``read``, its error located at ``key`` (no layer)."""
    try:
        return read(value, key)
    except UsageError as exc:
        raise ConfigError(str(exc), None, key) from None


def check(
    config: Mapping[str, Any] | Network,
    input_shape: Sequence[int] | None = None,
    with_expect: bool = True,
    receptive_fields: bool = True,
) -> Report:
    """Every layer in order, every failure reported. A failed expect/match continues with the shape the layer
    really produces; a layer PyTorch refuses leaves what reads it (directly or not) not reached, while
    independent branches are still checked. Each valid layer gets its receptive field
    (:mod:`tconvcalc.core.receptive`) unless ``receptive_fields`` is false."""
    net = config if isinstance(config, Network) else parse_config(config)
    first = net.input if input_shape is None else TensorShape.from_tuple(input_shape, net.dims)
    report = Report(list(first.as_tuple()))
    outputs: dict[str, TensorShape | None] = {"input": first}
    fields: dict[str, receptive.Field | None] = {"input": receptive.start(first) if receptive_fields else None}
    for node in net.layers:
        sources = [outputs[name] for name in node.inputs]
        current = sources[0]
        dims = current.dims if current is not None else net.dims
        step = Step(
            node.name,
            node.spec.TYPE,
            torch_name(node.spec, dims),
            describe(node.spec, dims),
            list(node.inputs),
            None if current is None else list(current.as_tuple()),
        )
        report.steps.append(step)
        outputs[node.name] = None
        if any(source is None for source in sources):
            continue  # not reached
        assert current is not None
        result: LayerResult
        try:
            if isinstance(node.spec, (ConcatSpec, AddSpec)):
                result = bounded(join(node.spec, [s for s in sources if s is not None]))
            else:
                result = apply_layer(node.spec, current)
        except LayerError as exc:
            step.status, step.message = "invalid", str(exc)
            continue
        step.layer = result.layer
        step.output_shape, step.parameters, step.macs = list(result.output_shape), result.parameters, result.macs
        step.status = "ok"
        if receptive_fields:
            inputs = [s for s in sources if s is not None]
            fields[node.name] = receptive.step(node.spec, [fields[name] for name in node.inputs], inputs, result)
            field = fields[node.name]
            step.receptive_field = None if field is None else field.size()
        table = node.table
        if with_expect and "expect" in table and list(table["expect"]) != step.output_shape:
            step.status = "expect failed"
            step.message = f"expected {table['expect']}, got {step.output_shape}"
        if "match" in table:
            target = outputs[table["match"]]
            if target is not None and tuple(result.output.spatial) != tuple(target.spatial):
                step.status = "match failed"
                step.message = f"spatial size {list(result.output.spatial)} does not match {table['match']!r} {list(target.spatial)}"
                step.fix_values = fix_for(node.spec, current, target.spatial)
                step.fix = None if step.fix_values is None else fix_text(step.fix_values)
        outputs[node.name] = result.output
    return report


def sweep(config: Mapping[str, Any] | Network, low: int, high: int) -> list[int]:
    """The spatial sizes in [low, high] (every spatial dim set to it) for which the network passes
    (expectations ignored: they hold for one size). The work, sizes x layers, is bounded by
    :data:`~tconvcalc.core.budget.MAX_SWEEP_STEPS` and refused above it before any layer runs."""
    net = config if isinstance(config, Network) else parse_config(config)
    if net.dims == 0:
        raise UsageError("--sizes sweeps the spatial size: this network's input has no spatial dimensions")
    count, layers = high - low + 1, len(net.layers)
    check_bound(
        count * layers,
        MAX_SWEEP_STEPS,
        f"layer evaluations for sizes {low} to {high} ({count:,} sizes x {layers:,} layers)",
        "narrow the range of sizes",
    )
    whole = net.input.as_tuple()
    lead = whole[: len(whole) - net.dims]
    return [
        v
        for v in range(low, high + 1)
        if check(net, [*lead, *([v] * net.dims)], with_expect=False, receptive_fields=False).ok
    ]


def _ordinal(n: int) -> str:
    """``2nd``, ``3rd``, ``11th``, ``22nd``.

    >>> [_ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '23rd', '101st']
    """
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


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
        return f"every {_ordinal(step)} size from {sizes[0]} to {sizes[-1]} (sizes = {sizes[0] % step} mod {step})"
    runs: list[str] = []
    start = sizes[0]
    for a, b in zip(sizes, [*sizes[1:], -1]):
        if b != a + 1:
            runs.append(f"{start}-{a}" if a != start else f"{a}")
            start = b
    return ", ".join(runs)
