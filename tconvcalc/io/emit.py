"""``check SOURCE --emit toml|json``: any source written as a config, so that a model can be pinned as a reviewed
config. The outputs of the model get an ``expect`` with the shape they check to, and the text checks to the
same shapes as the source.

>>> print(to_toml({"input": [1, 3, 8, 8], "dims": 2, "layer": [{"name": "0", "type": "relu"}]}, ["from x"]), end="")
# from x
input = [1, 3, 8, 8]
dims = 2
<BLANKLINE>
[[layer]]
name = "0"
type = "relu"
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any


def pinned(config: Mapping[str, Any], expect: Mapping[str, list[int]]) -> dict[str, Any]:
    """The config with ``expect`` set on the layers named in ``expect``, and ``from`` left out where it is the
    previous layer (the default)."""
    layers = []
    previous = "input"
    for table in config["layer"]:
        table = dict(table)
        if table.get("from") in (previous, [previous]):
            del table["from"]
        if table["name"] in expect:
            table["expect"] = expect[table["name"]]
        layers.append(table)
        previous = table["name"]
    return {**config, "layer": layers}


def to_json(config: Mapping[str, Any]) -> str:
    return json.dumps(config, indent=2, allow_nan=False) + "\n"


def to_toml(config: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """The config as TOML (a ``[[layer]]`` table per layer); a value TOML cannot hold (None) is left out with a
    comment, as it changes no shape."""
    out = [f"# {line}" for line in header]
    out.append(f"input = {_value(config['input'])}")
    if config.get("dims") is not None:
        out.append(f"dims = {config['dims']}")
    for table in config["layer"]:
        out += ["", "[[layer]]"]
        for key, value in table.items():
            if value is None:
                out.append(f"# {key} = None (TOML has no null; it changes no shape)")
            else:
                out.append(f"{_key(key)} = {_value(value)}")
    return "\n".join(out) + "\n"


def _key(key: str) -> str:
    return key if key.replace("_", "").isalnum() and key.isascii() else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value).replace("\x7f", "\\u007f")  # a TOML basic string: JSON's escapes are TOML's
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")
