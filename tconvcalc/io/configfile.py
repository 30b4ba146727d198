"""Reading architecture configs: TOML, JSON, and YAML when PyYAML is installed (the ``yaml`` extra).

Every problem is a :class:`~tconvcalc.core.errors.UsageError` (exit 2) naming the file and, where the parser or a
search of the text gives it, the line.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from tconvcalc.core.budget import MAX_CONFIG_BYTES, MAX_YAML_CONFIG_BYTES, human_bytes
from tconvcalc.core.errors import ResourceError, UsageError
from tconvcalc.io.bounded import read_capped, read_file
from tconvcalc.io.parsing import guarded

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def load(path: str, text: str | None = None, kind: str | None = None) -> tuple[dict[str, Any], str]:
    """The parsed config and its text; at most :data:`MAX_CONFIG_BYTES` (YAML :data:`MAX_YAML_CONFIG_BYTES`),
    since parsing takes about 100 (YAML 330) bytes of memory per byte of text. ``text`` and ``kind``
    (toml/json/yaml): already read and recognised, as :mod:`tconvcalc.io.sources` does; the caps hold for them too."""
    suffix = Path(path).suffix.lower()
    yaml_kind = kind == "yaml" or (kind is None and suffix in (".yaml", ".yml"))
    cap = MAX_YAML_CONFIG_BYTES if yaml_kind else MAX_CONFIG_BYTES
    if text is None:
        if path == "-":
            data = read_capped(sys.stdin.buffer, "- (stdin)", cap, "a config")
        else:
            data = read_file(path, path, cap, "a config")
        try:
            text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it
        except UnicodeDecodeError as exc:
            raise UsageError(f"{path}: cannot read it ({exc})") from None
    elif len(text) > cap:
        raise ResourceError(f"{path}: {human_bytes(len(text))}, over the {human_bytes(cap)} a config may hold")
    try:
        config = guarded(lambda t: _parse(t, path, kind), text, path)
    except UsageError:
        raise
    except ValueError as exc:  # beyond each parser's own errors: a YAML date such as 2001-13-45
        raise UsageError(f"{path}: cannot parse it ({exc})") from None
    if not isinstance(config, dict):
        raise UsageError(f"{path}: the top level must be a table with 'input' and 'layer'")
    return config, text


def _parse(text: str, path: str, kind: str | None = None) -> Any:
    suffix = Path(path).suffix.lower()
    if kind == "yaml" or (kind is None and suffix in (".yaml", ".yml")):
        return _yaml(text, path)
    if kind == "json" or (kind is None and (suffix == ".json" or (path == "-" and text.lstrip().startswith("{")))):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}: line {exc.lineno}: {exc.msg}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: {exc}") from None


def _yaml(text: str, path: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise UsageError(f"{path}: YAML needs PyYAML: pip install 'tconvcalc[yaml]' (or use TOML/JSON)") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise UsageError(f"{path}: {where}{getattr(exc, 'problem', None) or exc}") from None


# A TOML table header, [name] or [[name]], alone on its line (a comment may follow).
_TABLE = re.compile(r"\s*\[\[?\s*[\w.\"' -]+\s*\]\]?\s*(#.*)?")


def line_of_key(text: str, layer_index: int | None, key: str | None) -> int | None:
    """The line of ``key`` in a TOML text (1-based): inside the ``layer_index``-th ``[[layer]]`` table (its own
    ``[[layer]]`` line when the key is missing from it, or not named), or with ``layer_index`` None at the top
    level (before the first table)."""
    lines = text.splitlines()
    tables = [n for n, line in enumerate(lines) if _TABLE.fullmatch(line)]
    layers = [n for n, line in enumerate(lines) if re.match(r"\s*\[\[\s*layer\s*\]\]", line)]
    if layer_index is None:
        start, end = -1, tables[0] if tables else len(lines)
    elif layer_index < len(layers):
        start = layers[layer_index]
        end = layers[layer_index + 1] if layer_index + 1 < len(layers) else len(lines)
    else:
        return None
    for n in range(start + 1, end):
        if key is not None and re.match(rf"""\s*(["']?){re.escape(key)}\1\s*=""", lines[n]):  # key, "key" or 'key'
            return n + 1
    return None if layer_index is None else start + 1
