"""Shape questions as data: ``shape --batch`` answers JSON Lines, one ``shape --json`` document per line.

:func:`query` turns one line's object into a spec (:func:`~tconvcalc.core.specs.parse_spec`), reads its input
with the one SIZE rule and applies it (:func:`~tconvcalc.core.layer.apply`): the same path as ``shape`` and
``check``, so a batch answer equals the one-by-one answer. Repeated lines come from a cache; large files are
spread over the cores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tconvcalc.core.errors import TConvError, UsageError
from tconvcalc.core.model import apply_layer, parse_layer
from tconvcalc.core.tensor import TensorShape

QUERY_KEYS = frozenset({"input", "dims"})


def query(line: Mapping[str, Any]) -> dict[str, Any]:
    """One ``shape`` question as a dict: ``input``, optional ``dims``, ``type`` (default tconv) and the layer's
    PyTorch keyword arguments. Returns the document ``shape --json`` prints."""
    spec = parse_layer(line, ignore=QUERY_KEYS)
    raw, dims = line.get("input"), line.get("dims")
    if type(raw) is not list or not raw or not all(type(v) is int for v in raw):
        raise UsageError(f"input must be a list of integers, got {raw!r}", param="input")
    if dims is not None and type(dims) is not int:
        raise UsageError(f"dims must be 1, 2 or 3, got {dims!r}", param="dims")
    return apply_layer(spec, TensorShape.read(raw, dims, [spec])).to_json()


def batch(lines: Any, first_line: int = 1) -> Any:
    """``shape --batch``: one JSON result per JSON line, errors included, in order; never stops on a bad line.

    Identical lines (common in sweeps) are answered from a cache.
    """
    import json

    encode = _line_encoder()
    cache: dict[str, str] = {}
    for number, line in enumerate(lines, first_line):
        text = line.strip()
        if not text:
            continue
        answer = cache.get(text)
        if answer is None:
            try:
                spec = json.loads(text)
                if not isinstance(spec, dict):
                    raise UsageError("each line must be a JSON object")
                answer = encode(query(spec))
                if len(cache) < 100_000:
                    cache[text] = answer
            except json.JSONDecodeError as exc:
                answer = encode({"line": number, "error": f"not JSON: {exc.msg}", "exit_code": 2})
            except TConvError as exc:
                answer = encode({"line": number, "error": str(exc), "exit_code": int(exc.exit_code)})
        yield answer


CHUNK_LINES = 4096
PARALLEL_FROM = 50_000  # lines; below this a worker pool's start-up costs more than it saves


def _chunk(job: tuple[int, list[str]]) -> str:
    first, lines = job
    return "".join(answer + "\n" for answer in batch(lines, first))


def _count_errors(text: str) -> int:
    return text.count('{"line": ')


def batch_file(path: str, out: Any, workers: int) -> int:
    """``shape --batch FILE``: large files are answered in ordered chunks by ``workers`` processes.

    Returns the number of refused lines."""
    try:
        with open(path, encoding="utf-8") as stream:
            lines = stream.readlines()
    except OSError as exc:
        raise UsageError(f"--batch {path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise UsageError(f"--batch {path}: not UTF-8 text") from None
    if workers <= 1 or len(lines) < PARALLEL_FROM:
        text = _chunk((1, lines))
        out.write(text)
        return _count_errors(text)
    import multiprocessing

    failed = 0
    jobs = ((start + 1, lines[start : start + CHUNK_LINES]) for start in range(0, len(lines), CHUNK_LINES))
    with multiprocessing.get_context("fork").Pool(workers) as workers_pool:
        for text in workers_pool.imap(_chunk, jobs, chunksize=1):
            out.write(text)
            failed += _count_errors(text)
    return failed


def run_batch(source: str, out: Any) -> int:
    """``shape --batch FILE|-``: stdin is streamed line by line; a file may use every core."""
    import os
    import sys

    if source == "-":
        failed = 0
        for answer in batch(sys.stdin):
            out.write(answer + "\n")
            failed += answer.startswith('{"line": ')
        return failed
    return batch_file(source, out, os.cpu_count() or 1)


def _line_encoder() -> Any:
    """One reusable JSON encoder: ``json.dumps`` builds a new C encoder on every call (measurable per line)."""
    import json

    try:
        from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - a Python without the C accelerator
        return json.dumps
    if c_make_encoder is None:  # pragma: no cover
        return json.dumps
    # strict JSON (allow_nan=False): parse_spec admits only finite floats, so no value can be NaN or infinite
    make = c_make_encoder(None, None, encode_basestring_ascii, None, ": ", ", ", False, False, False)
    return lambda doc: "".join(make(doc, 0))
