"""Reading and writing tensors safely: inline literals (never ``eval``), .npy (never unpickled), .npz, .csv/.txt,
.json, and ``-`` for stdin. Every failure is a :class:`~tconvcalc.core.errors.UsageError` naming the source.

Reading is bounded before it allocates: at most :data:`~tconvcalc.core.budget.MAX_READ_BYTES` are read from a
file or stream (``/dev/zero`` is refused, not swallowed); a ``.npy`` header's declared size is checked against
the bytes that are there; a ``.npz`` member's declared and inflated sizes are capped; parsing text is measured
against the memory budget at its measured bytes per character.
"""

from __future__ import annotations

import ast
import io
import json
import lzma
import math
import re
import struct
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from tconvcalc.core.budget import (
    DEFAULT_MEMORY_LIMIT,
    MAX_MEMORY_LIMIT,
    MAX_NPZ_MEMBERS,
    MAX_READ_BYTES,
    PYTHON_LITERAL_BYTES_PER_CHAR,
    TEXT_PARSE_BYTES_PER_CHAR,
    check_bound,
    check_memory,
    human_bytes,
)
from tconvcalc.core.errors import ResourceError, UsageError
from tconvcalc.io.bounded import read_capped
from tconvcalc.io.parsing import guarded

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_ZIP_CENTRAL = b"PK\x01\x02"  # one per member in a zip's central directory
# what a broken zip or compressed stream raises, besides the usual ValueError/OSError
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    struct.error,
)


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


def parse_literal(text: str, source: str = "literal", memory_limit: int | None = DEFAULT_MEMORY_LIMIT) -> np.ndarray:
    """A JSON or Python nested-list literal such as ``[[0,1],[2,3]]``, parsed without ``eval``, within the memory
    budget (JSON at :data:`TEXT_PARSE_BYTES_PER_CHAR`, Python syntax at :data:`PYTHON_LITERAL_BYTES_PER_CHAR`).

    >>> parse_literal("[[0, 1], [2, 3]]").tolist()
    [[0, 1], [2, 3]]
    >>> parse_literal("[[1, 2], [3]]")
    Traceback (most recent call last):
    tconvcalc.core.errors.UsageError: literal: ragged nested list (rows of different lengths)
    """
    check_memory(len(text) * TEXT_PARSE_BYTES_PER_CHAR, memory_limit, f"parsing {source} ({len(text):,} characters)")
    try:
        obj = guarded(json.loads, text, source)  # deep nesting or a 4,300-digit integer: one usage error
    except UsageError:
        raise
    except ValueError:
        check_memory(
            len(text) * PYTHON_LITERAL_BYTES_PER_CHAR,
            memory_limit,
            f"parsing {source} as a Python literal ({len(text):,} characters)",
        )
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


def _read_npy(data: bytes, source: str) -> np.ndarray:
    """A .npy image: the header is read and checked (real numbers, its declared size present in ``data``) before
    the array is made; the array is a view of ``data``, not a copy."""
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    else:  # 3.0 exists only for structured dtypes with non-latin-1 field names: never real numbers
        raise UsageError(f"{source}: .npy format version {version[0]}.{version[1]} holds no real-number array")
    if dtype.hasobject:
        raise UsageError(f"{source}: cannot read it as a tensor (an object array needs pickle, which is never used)")
    if dtype.kind not in "iuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise UsageError(f"{source}: dtype {dtype} is not real numbers")
    count = math.prod(shape)
    declared, offset = count * dtype.itemsize, stream.tell()
    if declared != len(data) - offset:
        raise UsageError(
            f"{source}: its header declares shape {tuple(shape)} ({human_bytes(declared)}) but the file holds "
            f"{human_bytes(len(data) - offset)} of data"
        )
    array = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return array.reshape(shape, order="F" if fortran else "C")


def _read_npz(data: bytes, source: str, key: str | None, memory_limit: int | None) -> np.ndarray:
    """One array of a .npz: at most :data:`MAX_NPZ_MEMBERS` members; the chosen one's declared size and the
    bytes actually inflated are capped at :data:`MAX_READ_BYTES` (and the memory budget) before the array is
    made."""
    check_bound(data.count(_ZIP_CENTRAL), MAX_NPZ_MEMBERS, f"members in {source}")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = {(i.filename[:-4] if i.filename.endswith(".npy") else i.filename): i for i in archive.infolist()}
        names = list(infos)
        if key is None:
            if len(names) != 1:
                shown = names if len(names) <= 10 else [*names[:10], "..."]
                raise UsageError(f"{source}: holds {len(names)} arrays {shown}; choose one with --key")
            key = names[0]
        if key not in infos:
            shown = names if len(names) <= 10 else [*names[:10], "..."]
            raise UsageError(f"{source}: no array {key!r} (it holds {shown})")
        info = infos[key]
        what = f"array {key!r} of {source}"
        cap = MAX_READ_BYTES
        if info.file_size > cap:
            raise ResourceError(f"{what}: inflates to {human_bytes(info.file_size)}, over the {human_bytes(cap)} cap")
        check_memory(len(data) + info.file_size, memory_limit, f"inflating {what}")
        with archive.open(info) as member:
            inflated = member.read(info.file_size + 1)
        if len(inflated) > info.file_size:  # the header understated it: never inflate past what was checked
            raise UsageError(f"{what}: inflates to more than the {info.file_size:,} bytes its header declares")
    if not inflated.startswith(_NPY_MAGIC):
        raise UsageError(f"{what}: not a .npy array")
    return _read_npy(inflated, what)


def _from_bytes(data: bytes, source: str, key: str | None, memory_limit: int | None) -> np.ndarray:
    try:
        if data.startswith(_NPY_MAGIC):
            arr = _read_npy(data, source)
        elif data.startswith(_ZIP_MAGIC):
            arr = _read_npz(data, source, key, memory_limit)
        else:
            text = data.decode("utf-8")
            stripped = text.lstrip()
            if stripped[:1] in "[(":
                arr = parse_literal(text, source, memory_limit)
            else:
                check_memory(
                    len(text) * TEXT_PARSE_BYTES_PER_CHAR, memory_limit, f"parsing {source} ({len(text):,} characters)"
                )
                arr = _read_text_table(text, source)
    except UsageError:
        raise
    except ResourceError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, *_ZIP_ERRORS) as exc:
        raise UsageError(f"{source}: cannot read it as a tensor ({exc})") from None
    if arr.dtype.kind not in "iuf":
        raise UsageError(f"{source}: dtype {arr.dtype} is not real numbers")
    return arr


def read_tensor(
    spec: str, key: str | None = None, name: str = "tensor", memory_limit: int | None = DEFAULT_MEMORY_LIMIT
) -> np.ndarray:
    """A tensor from an inline literal, a file (.npy .npz .csv .txt .json) or ``-`` (stdin); at most
    :data:`MAX_READ_BYTES` are read, and parsing stays within ``memory_limit``."""
    text = spec.strip()
    if text[:1] in "[(":
        return parse_literal(text, name, memory_limit)
    if spec == "-":
        source = f"{name} (stdin)"
        return _from_bytes(read_capped(sys.stdin.buffer, source, kind="a tensor"), source, key, memory_limit)
    source = f"{name} {spec!r}"
    try:
        with open(spec, "rb") as stream:
            data = read_capped(stream, source, kind="a tensor")
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file {spec!r}") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read {spec!r} ({exc.strerror})") from None
    return _from_bytes(data, source, key, memory_limit)


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
    """``--memory-limit``: ``1GiB``, ``512M``, ``2e9`` (bytes); finite, at least 1 byte and at most
    :data:`~tconvcalc.core.budget.MAX_MEMORY_LIMIT`.

    >>> parse_bytes("1GiB"), parse_bytes("512M"), parse_bytes("1000")
    (1073741824, 536870912, 1000)
    >>> parse_bytes("1e400")
    Traceback (most recent call last):
    tconvcalc.core.errors.UsageError: --memory-limit: '1e400' is not a size from 1 byte to 1.0 EiB
    """
    shape = f"--memory-limit: {text!r} is not a size such as 512M or 1GiB"
    match = re.fullmatch(r"\s*([0-9.eE+]+)\s*([kKmMgGtT]?)(i?[bB])?\s*", text)
    if not match:
        raise UsageError(shape, param="memory_limit")
    try:
        number = float(match.group(1)) * 1024 ** "BKMGT".index((match.group(2) or "B").upper())
    except ValueError:
        raise UsageError(shape, param="memory_limit") from None
    if not (math.isfinite(number) and 1 <= number <= MAX_MEMORY_LIMIT):
        raise UsageError(
            f"--memory-limit: {text!r} is not a size from 1 byte to {human_bytes(MAX_MEMORY_LIMIT)}",
            param="memory_limit",
        )
    return int(number)
