"""Reading and writing tensors safely: inline literals (never ``eval``), .npy (never unpickled), .npz, .csv/.txt,
.json, and ``-`` for stdin. Every failure is a :class:`~tconvcalc.core.errors.UsageError` naming the source.
"""

from __future__ import annotations

import ast
import io
import json
import math
import re
import sys
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from tconvcalc.core.errors import UsageError
from tconvcalc.io.parsing import guarded

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


def _from_nested(obj: Any, source: str) -> np.ndarray:
    """A nested list of numbers as an array; ragged, empty or non-numeric data is refused."""
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        obj = [obj]
    if not isinstance(obj, (list, tuple)):
        raise UsageError(f"{source}: expected a nested list of numbers, got {type(obj).__name__}")
    try:
        arr = np.array(obj)
    except ValueError as exc:
        if "inhomogeneous" not in str(exc):  # e.g. more than NumPy's 64 dimensions
            raise UsageError(f"{source}: not a tensor ({exc})") from None
        raise UsageError(f"{source}: ragged nested list (rows of different lengths)") from None
    if arr.dtype.kind not in "iuf":
        raise UsageError(f"{source}: every element must be a number (found {arr.dtype.kind!r} data)")
    if arr.size == 0:
        raise UsageError(f"{source}: the tensor is empty")
    return arr


def parse_literal(text: str, source: str = "literal") -> np.ndarray:
    """A JSON or Python nested-list literal such as ``[[0,1],[2,3]]``, parsed without ``eval``.

    >>> parse_literal("[[0, 1], [2, 3]]").tolist()
    [[0, 1], [2, 3]]
    >>> parse_literal("[[1, 2], [3]]")
    Traceback (most recent call last):
    tconvcalc.core.errors.UsageError: literal: ragged nested list (rows of different lengths)
    """
    try:
        obj = guarded(json.loads, text, source)  # deep nesting or a 4,300-digit integer: one usage error
    except UsageError:
        raise
    except ValueError:
        try:
            obj = guarded(lambda t: ast.literal_eval(t.strip()), text, source)
        except UsageError:
            raise
        except (ValueError, SyntaxError, TypeError, MemoryError):
            raise UsageError(f"{source}: not a nested list of numbers: {text[:60]!r}") from None
    return _from_nested(obj, source)


def _read_text_table(text: str, source: str) -> np.ndarray:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise UsageError(f"{source}: no numbers in the file")
    rows = []
    for number, line in enumerate(lines, 1):
        cells = [c for c in re.split(r"[,\s;]+", line.strip()) if c]
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            raise UsageError(f"{source}: line {number} is not numeric: {line.strip()[:60]!r}") from None
    if len({len(r) for r in rows}) != 1:
        raise UsageError(f"{source}: rows of different lengths ({sorted({len(r) for r in rows})})")
    return np.array(rows)


def _read_npz(stream: BinaryIO, source: str, key: str | None) -> np.ndarray:
    with np.load(stream, allow_pickle=False) as archive:
        names = list(archive.files)
        if key is None:
            if len(names) != 1:
                raise UsageError(f"{source}: holds {len(names)} arrays {names}; choose one with --key")
            key = names[0]
        if key not in names:
            raise UsageError(f"{source}: no array {key!r} (it holds {names})")
        return np.asarray(archive[key])


def _from_bytes(data: bytes, source: str, key: str | None) -> np.ndarray:
    try:
        if data.startswith(_NPY_MAGIC):
            arr = np.load(io.BytesIO(data), allow_pickle=False)
        elif data.startswith(_ZIP_MAGIC):
            arr = _read_npz(io.BytesIO(data), source, key)
        else:
            text = data.decode("utf-8")
            stripped = text.lstrip()
            arr = parse_literal(text, source) if stripped[:1] in "[(" else _read_text_table(text, source)
    except UsageError:
        raise
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{source}: cannot read it as a tensor ({exc})") from None
    if arr.dtype.kind not in "iuf":
        raise UsageError(f"{source}: dtype {arr.dtype} is not real numbers")
    return np.asarray(arr)


def read_tensor(spec: str, key: str | None = None, name: str = "tensor") -> np.ndarray:
    """A tensor from an inline literal, a file (.npy .npz .csv .txt .json) or ``-`` (stdin)."""
    text = spec.strip()
    if text[:1] in "[(":
        return parse_literal(text, name)
    if spec == "-":
        return _from_bytes(sys.stdin.buffer.read(), f"{name} (stdin)", key)
    path = Path(spec)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file {spec!r}") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read {spec!r} ({exc.strerror})") from None
    return _from_bytes(data, f"{name} {spec!r}", key)


def save_tensor(path: str, array: np.ndarray) -> None:
    """Write ``.npy`` (any shape) or ``.csv`` (1-D or 2-D), chosen by the suffix in any case, atomically."""
    from tconvcalc.io.atomic import write_atomic

    suffix = Path(path).suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise UsageError(f"--save {path!r}: unknown format {suffix or '(none)'}; use .npy or .csv")
    if suffix == ".csv" and array.ndim > 2:
        raise UsageError(f"--save {path!r}: a CSV holds 1-D or 2-D data, the result is {array.ndim}-D; use .npy")

    def write(stream: BinaryIO) -> None:
        if suffix == ".npy":  # to a stream, np.save appends no second suffix ('out.NPY' stays 'out.NPY')
            np.save(stream, array, allow_pickle=False)
        else:
            text = io.StringIO()
            np.savetxt(text, np.atleast_2d(array), delimiter=",", fmt="%.17g")
            stream.write(text.getvalue().encode())

    write_atomic(path, write)


def parse_bytes(text: str) -> int:
    """``--memory-limit``: ``1GiB``, ``512M``, ``2e9`` (bytes).

    >>> parse_bytes("1GiB"), parse_bytes("512M"), parse_bytes("1000")
    (1073741824, 536870912, 1000)
    """
    match = re.fullmatch(r"\s*([0-9.eE+]+)\s*([kKmMgGtT]?)(i?[bB])?\s*", text)
    if not match:
        raise UsageError(f"--memory-limit: {text!r} is not a size such as 512M or 1GiB")
    try:
        number = float(match.group(1))
    except ValueError:
        raise UsageError(f"--memory-limit: {text!r} is not a size such as 512M or 1GiB") from None
    scale = 1024 ** "BKMGT".index((match.group(2) or "B").upper())
    if not math.isfinite(number * scale):  # 1e400: float('1e400') is inf, and int(inf) raises
        raise UsageError(f"--memory-limit: {text!r} is not a finite size")
    return int(number * scale)
