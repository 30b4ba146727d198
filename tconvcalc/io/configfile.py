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

from tconvcalc.core.budget import MAX_CONFIG_BYTES, MAX_YAML_CONFIG_BYTES
from tconvcalc.core.errors import UsageError
from tconvcalc.io.bounded import read_capped, read_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def load(path: str) -> tuple[dict[str, Any], str]:
    """The parsed config and its text; at most :data:`MAX_CONFIG_BYTES` (YAML :data:`MAX_YAML_CONFIG_BYTES`)
    are read, since parsing takes about 100 (YAML 330) bytes of memory per byte of text."""
    suffix = Path(path).suffix.lower()
    cap = MAX_YAML_CONFIG_BYTES if suffix in (".yaml", ".yml") else MAX_CONFIG_BYTES
    if path == "-":
        data = read_capped(sys.stdin.buffer, "- (stdin)", cap, "a config")
    else:
        data = read_file(path, path, cap, "a config")
    try:
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: cannot read it ({exc})") from None
    if suffix in (".yaml", ".yml"):
        config = _yaml(text, path)
    elif suffix == ".json" or (path == "-" and text.lstrip().startswith("{")):
        try:
            config = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}: line {exc.lineno}: {exc.msg}") from None
    else:
        try:
            config = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{path}: {exc}") from None
    if not isinstance(config, dict):
        raise UsageError(f"{path}: the top level must be a table with 'input' and 'layer'")
    return config, text


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


def line_of_key(text: str, layer_index: int, key: str) -> int | None:
    """The line of ``key`` inside the ``layer_index``-th ``[[layer]]`` table of a TOML text (1-based), if found."""
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines) if re.match(r"\s*\[\[\s*layer\s*\]\]", line)]
    if layer_index >= len(headers):
        return None
    end = headers[layer_index + 1] if layer_index + 1 < len(headers) else len(lines)
    for n in range(headers[layer_index] + 1, end):
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[n]):
            return n + 1
    return None
