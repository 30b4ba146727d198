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

from tconvcalc.core.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def load(path: str, text: str | None = None, kind: str | None = None) -> tuple[dict[str, Any], str]:
    """The parsed config and its text (``text`` and ``kind``, toml/json/yaml: already read and recognised, as
    :mod:`tconvcalc.io.sources` does)."""
    if text is None:
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: cannot read it ({exc})") from None
    suffix = Path(path).suffix.lower()
    if kind == "yaml" or (kind is None and suffix in (".yaml", ".yml")):
        config = _yaml(text, path)
    elif kind == "json" or (kind is None and (suffix == ".json" or (path == "-" and text.lstrip().startswith("{")))):
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


def line_of_key(text: str, layer_index: int, key: str | None) -> int | None:
    """The line of ``key`` inside the ``layer_index``-th ``[[layer]]`` table of a TOML text (1-based); the
    table's own ``[[layer]]`` line when the key is missing from it (or not named)."""
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines) if re.match(r"\s*\[\[\s*layer\s*\]\]", line)]
    if layer_index >= len(headers):
        return None
    end = headers[layer_index + 1] if layer_index + 1 < len(headers) else len(lines)
    for n in range(headers[layer_index] + 1, end):
        if key is not None and re.match(rf"\s*{re.escape(key)}\s*=", lines[n]):
            return n + 1
    return headers[layer_index] + 1
