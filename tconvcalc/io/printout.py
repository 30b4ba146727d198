"""Reading what ``print(model)`` prints for a PyTorch module, as a config for ``check``.

The printout is parsed, never evaluated: a line is ``(name): Class(arguments)`` or a container's
``(name): Class(`` ... ``)``; arguments are split at their top-level commas and each value is read by
:func:`ast.literal_eval` (numbers, strings, tuples, True/False/None) or taken as a bare word (``padding=same``).
Modules are applied in printed order, which is the forward of an ``nn.Sequential`` and nothing more: a printout
does not show a forward that branches or joins (skip connections), so a U-Net is checked from its ONNX export
or a config.

>>> text = "Sequential(\\n  (0): ConvTranspose2d(64, 32, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))\\n)"
>>> convert(text, (1, 64, 8, 8)).config["layer"]
[{'name': '0', 'type': 'tconv', 'in_channels': 64, 'out_channels': 32, 'kernel_size': 4, 'stride': 2, 'padding': 1}]
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field
from typing import Any

from tconvcalc.core.catalog import ELEMENTWISE
from tconvcalc.core.errors import UsageError

SEQUENTIAL_NOTE = (
    "a printout shows the modules, not the forward: they are applied in printed order, as nn.Sequential does; "
    "skip connections (a U-Net's concat or add) and any other non-sequential forward are not shown, so check "
    "such a network from its ONNX export or a config"
)
MAX_DEPTH = 100  # nested containers
_LINE = re.compile(r"(?P<indent>\s*)(?:\((?P<name>[^()]*)\):\s*)?(?P<rest>.*?)\s*")
_OPEN = re.compile(r"(?:(?P<count>\d+) x )?(?P<cls>[A-Za-z_][\w.]*)\($")
_CALL = re.compile(r"(?:(?P<count>\d+) x )?(?P<cls>[A-Za-z_][\w.]*)\((?P<args>.*)\)$", re.S)
_WORD = re.compile(r"-?[A-Za-z_][\w.-]*")
_KEY = re.compile(r"([A-Za-z_]\w*)=(.*)", re.S)
_CONTAINERS = {"Sequential", "ModuleList", "ModuleDict"}
_ND = re.compile(r"(Conv|ConvTranspose|MaxPool|AvgPool|MaxUnpool|InstanceNorm|BatchNorm)([123])d")
_PER_DIM = ("kernel_size", "stride", "padding", "output_padding", "dilation", "size")
_TORCH_TO_KIND = {torch_name: kind for kind, (torch_name, _) in ELEMENTWISE.items()}
_DROPOUTS = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")


@dataclass
class Module:
    """One printed module: its dotted name, class, arguments, line, and children (None for a leaf)."""

    name: str
    cls: str
    args: list[Any]
    kwargs: dict[str, Any]
    line: int
    children: list[Module] | None = None
    extra: list[str] = field(default_factory=list)  # a container's own lines that are not children


@dataclass
class Converted:
    """A printout as a config: the dict ``parse_config`` takes, notes for the user, each layer's line."""

    config: dict[str, Any]
    notes: list[str]
    lines: list[int]


def looks_like(text: str) -> bool:
    """Whether ``text`` starts like a module's printout: ``Name(`` on its first non-blank line."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return bool(re.match(r"[A-Za-z_][\w.]*\(", first))


def parse(text: str) -> Module:
    """The module tree of a printout; a malformed printout is a usage error naming the line."""
    lines = text.splitlines()
    stack: list[Module] = []
    root: Module | None = None
    number = 0
    while number < len(lines):
        raw = lines[number]
        number += 1
        if not raw.strip():
            continue
        match = _LINE.fullmatch(raw)
        assert match is not None  # the pattern matches any line
        name, rest = match.group("name"), match.group("rest")
        if rest == ")":
            if not stack:
                raise UsageError(f"line {number}: ')' closes nothing")
            closed = stack.pop()
            if not stack:
                root = closed
            continue
        start = number
        opened = _OPEN.fullmatch(rest)
        if opened is None:
            while rest.count("(") > rest.count(")") and number < len(lines):  # a repr spread over lines
                rest += " " + lines[number].strip()
                number += 1
        made = _modules(rest, name, start, opened is not None, stack)
        if made is None:  # a container's own text (its extra_repr), not a child
            if not stack:
                raise UsageError(f"line {start}: {rest[:60]!r} is not a module's printout")
            stack[-1].extra.append(rest)
            continue
        if not stack and root is not None:
            raise UsageError(f"line {start}: a second top-level module; print one model per file")
        if stack:
            parent = stack[-1].children
            assert parent is not None
            parent += made
        if opened is not None:
            if len(stack) >= MAX_DEPTH:
                raise UsageError(f"line {start}: containers nested more than {MAX_DEPTH} deep")
            stack.append(made[0])
        elif not stack:
            root = made[0]
    if stack:
        raise UsageError(f"the printout ends inside {stack[-1].cls} (line {stack[-1].line}): a ')' is missing")
    if root is None:
        raise UsageError("the printout has no module")
    return root


def _modules(rest: str, name: str | None, line: int, opens: bool, stack: list[Module]) -> list[Module] | None:
    """The module(s) a line prints: one, or copies for ModuleList's ``(0-2): 3 x ReLU()``; None for a line
    that is no module (a custom container's own extra_repr)."""
    prefix = stack[-1].name + "." if stack and stack[-1].name else ""
    if opens:
        match = _OPEN.fullmatch(rest)
        assert match is not None
        if match.group("count"):
            raise UsageError(f"line {line}: a repeated container ({rest!r}) cannot be read")
        return [Module(prefix + (name or ""), match.group("cls"), [], {}, line, [])]
    call = _CALL.fullmatch(rest)
    if call is None:
        return None
    args, kwargs = _arguments(call.group("args"), line)
    count = call.group("count")
    if not count:
        return [Module(prefix + (name or ""), call.group("cls"), args, kwargs, line)]
    first = (name or "0").split("-")[0]
    start = int(first) if first.isdigit() else 0
    return [
        Module(prefix + str(start + i), call.group("cls"), args, kwargs, line) for i in range(min(int(count), 10_000))
    ]


def _arguments(text: str, line: int) -> tuple[list[Any], dict[str, Any]]:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for part in _split(text, line):
        keyed = _KEY.fullmatch(part)
        if keyed and not part.startswith(("'", '"')):
            kwargs[keyed.group(1)] = _value(keyed.group(2).strip(), line)
        else:
            args.append(_value(part, line))
    return args, kwargs


def _split(text: str, line: int) -> list[str]:
    """Top-level comma-separated parts (brackets and quotes respected)."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == "," and depth == 0 and not quote:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if depth or quote:
        raise UsageError(f"line {line}: unbalanced brackets or quotes in {text[:60]!r}")
    tail = "".join(current).strip()
    if tail:
        parts.append(tail)
    return parts


def _value(text: str, line: int) -> Any:
    """A printed value: a Python literal (tuples become lists) or a bare word (``same``, ``reflect``)."""
    if text in ("inf", "-inf", "nan"):
        return float(text)
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        if _WORD.fullmatch(text):
            return text
        raise UsageError(f"line {line}: cannot read the value {text[:60]!r}") from None
    return _lists(value)


def _lists(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_lists(v) for v in value]
    return value


def _collapse(value: Any) -> Any:
    """``(3, 3)`` -> ``3``: one value is every dimension (and leaves the number of dimensions to the input)."""
    if isinstance(value, list) and value and all(v == value[0] for v in value) and type(value[0]) is int:
        return value[0]
    return value


def leaves(root: Module, notes: list[str]) -> list[Module]:
    """The leaf modules in printed order; a container that is not an nn.Sequential gets a note."""
    if root.children is None:
        return [root]
    if root.cls not in ("Sequential",):
        what = f"{root.cls} ({root.name})" if root.name else root.cls
        notes.append(
            f"{what} is not an nn.Sequential: its forward may call its children in another order, skip some or "
            "join them; they are applied here in printed order"
        )
    out: list[Module] = []
    for child in root.children:
        out += leaves(child, notes)
    return out


def layer(module: Module, notes: list[str]) -> tuple[dict[str, Any], int | None]:
    """A leaf module as a config layer, and the number of spatial dimensions its class names (Conv2d: 2)."""
    cls, args, kw = module.cls, module.args, dict(module.kwargs)
    where = f"line {module.line}: {cls}"
    nd = _ND.fullmatch(cls)
    dims = int(nd.group(2)) if nd and nd.group(1) not in ("BatchNorm",) else None
    base = nd.group(1) if nd else cls
    table: dict[str, Any]
    if base in ("Conv", "ConvTranspose"):
        if len(args) < 2:
            raise UsageError(f"{where}: expected in_channels and out_channels first")
        table = {"type": "conv" if base == "Conv" else "tconv", "in_channels": args[0], "out_channels": args[1]}
        table.update({k: _collapse(v) if k in _PER_DIM else v for k, v in kw.items()})
    elif base in ("MaxPool", "AvgPool", "MaxUnpool"):
        table = {"type": base.lower()}
        table.update({k: _collapse(v) for k, v in kw.items()})
        if base == "AvgPool":
            _hidden(notes, "AvgPool", "ceil_mode, count_include_pad and divisor_override", "ceil_mode=False")
    elif cls in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"):
        table = {"type": "upsample", **{k: _collapse(v) if k == "size" else v for k, v in kw.items()}}
        if cls == "UpsamplingBilinear2d":
            table["align_corners"] = True
        elif table.get("mode") in ("linear", "bilinear", "bicubic", "trilinear"):
            _hidden(notes, "Upsample", "align_corners", "align_corners=None (False); shapes do not depend on it")
    elif base in ("BatchNorm", "InstanceNorm"):
        table = {"type": base.lower(), **({"num_features": args[0]} if args else {}), **kw}
    elif cls == "GroupNorm":
        if len(args) < 2:
            raise UsageError(f"{where}: expected num_groups and num_channels first")
        table = {"type": "groupnorm", "num_groups": args[0], "num_channels": args[1], **kw}
    elif cls in ("Linear", "Flatten", "Unflatten"):
        table = {"type": cls.lower(), **kw}
    elif cls in _DROPOUTS:
        table = {"type": "dropout", **kw}
    elif cls == "Softmax2d":
        table = {"type": "softmax", "dim": -3}
    elif cls in _TORCH_TO_KIND:
        kind = _TORCH_TO_KIND[cls]
        table = {"type": kind, **kw}
        if args and kind in ("softshrink", "hardshrink"):
            table["lambd"] = args[0]
        elif args:
            raise UsageError(f"{where}: unexpected positional arguments {args}")
        for key, value in list(table.items()):
            if isinstance(value, float) and math.isinf(value):
                raise UsageError(f"{where}: {key}={value} cannot be checked")
    else:
        known = (
            "Conv, ConvTranspose, pools, MaxUnpool, Upsample, norms, Linear, Flatten, Unflatten, activations, Dropout"
        )
        raise UsageError(f"{where} is not a layer tconvcalc knows ({known}; README, 'tconvcalc check')")
    return {"name": module.name or cls, **_without_defaults(table)}, dims


def _without_defaults(table: dict[str, Any]) -> dict[str, Any]:
    """The arguments that differ from PyTorch's defaults (the printout spells most of them out)."""
    from dataclasses import MISSING, fields

    from tconvcalc.core.blocks import _REQUIRED_FIELDS, BLOCKS
    from tconvcalc.core.specs import SPECS

    cls = SPECS.get(table["type"]) or BLOCKS.get(table["type"])
    if cls is None:
        return table
    required = _REQUIRED_FIELDS.get(table["type"], ())
    defaults = {f.name: f.default for f in fields(cls) if f.default is not MISSING and f.name not in required}
    return {k: v for k, v in table.items() if k not in defaults or type(v) is not type(defaults[k]) or v != defaults[k]}


def _hidden(notes: list[str], cls: str, what: str, read_as: str) -> None:
    note = f"{cls}'s printout does not show {what}: read as {read_as}"
    if note not in notes:
        notes.append(note)


def convert(text: str, input_shape: tuple[int, ...] | None, path: str = "printout") -> Converted:
    """A printout as a check config: its leaves in printed order, with ``input_shape`` (required: a printout
    does not show the input). The number of spatial dimensions comes from the first Conv/pool-like module (a
    ``2d`` class) met before any Linear, Flatten or Unflatten, else from the input: ``(N, C, *spatial)``."""
    root = parse(text)
    notes = [SEQUENTIAL_NOTE]
    modules = leaves(root, notes)
    if not modules:
        raise UsageError(f"{path}: the printout has no layers")
    if input_shape is None:
        raise UsageError(f"{path}: a printout does not show the input shape: give --input, e.g. --input 1x3x64x64")
    layers: list[dict[str, Any]] = []
    dims: int | None = None
    reshaped = False
    names: set[str] = set()
    for module in modules:
        table, nd = layer(module, notes)
        if table["type"] in ("linear", "flatten", "unflatten"):
            reshaped = True
        if dims is None and nd is not None and not reshaped:
            dims = nd
        name, n = table["name"], 1
        while name in names or name == "input":
            n += 1
            name = f"{table['name']}_{n}"
        table["name"] = name
        names.add(name)
        layers.append(table)
    if dims is None:
        dims = max(len(input_shape) - 2, 0)
    config = {"input": list(input_shape), "dims": dims, "layer": layers}
    return Converted(config, notes, [m.line for m in modules])
