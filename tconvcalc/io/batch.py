"""Shape questions as data: ``shape --batch`` answers JSON Lines, one ``shape --json`` document per line.

:func:`query` turns one line's object into a spec (:func:`~tconvcalc.core.model.parse_layer`), reads its input
with the one SIZE rule and applies it (:func:`~tconvcalc.core.model.apply_layer`): the same path as ``shape`` and
``check``, so a batch answer equals the one-by-one answer. Repeated lines come from a cache; large files are
spread over the cores.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from tconvcalc.core.budget import BATCH_CACHE_BYTES, MAX_BATCH_LINE_BYTES, human_bytes
from tconvcalc.core.errors import ResourceError, TConvError, UsageError
from tconvcalc.core.model import apply_layer, parse_layer
from tconvcalc.core.specs import int_list, show
from tconvcalc.core.tensor import TensorShape
from tconvcalc.io.bounded import CappedLines, LineTooLong
from tconvcalc.io.parsing import guarded

QUERY_KEYS = frozenset({"input", "dims"})


def query(line: Mapping[str, Any]) -> dict[str, Any]:
    """One ``shape`` question as a dict: ``input``, optional ``dims``, ``type`` (default tconv) and the layer's
    PyTorch keyword arguments. Returns the document ``shape --json`` prints."""
    spec = parse_layer(line, ignore=QUERY_KEYS)
    raw, dims = int_list(line.get("input"), "input"), line.get("dims")
    if dims is not None and type(dims) is not int:
        raise UsageError(f"dims must be 1, 2 or 3, got {show(dims)}", param="dims")
    return apply_layer(spec, TensorShape.read(raw, dims, [spec])).to_json()


class AnswerCache:
    """Answers of lines seen before, bounded in bytes (:data:`~tconvcalc.core.budget.BATCH_CACHE_BYTES`), not in
    entries: each entry counts its line and answer (4 bytes a character unless ASCII) plus
    :data:`ENTRY_OVERHEAD`. When the next entry would not fit, the cache starts over."""

    ENTRY_OVERHEAD = 200  # bytes: two str headers and a dict slot (measured about 170)

    def __init__(self, budget: int = BATCH_CACHE_BYTES) -> None:
        self.budget, self.used = budget, 0
        self.answers: dict[str, str] = {}

    def get(self, text: str) -> str | None:
        return self.answers.get(text)

    def put(self, text: str, answer: str) -> None:
        width = 1 if text.isascii() else 4
        cost = (len(text) + len(answer)) * width + self.ENTRY_OVERHEAD
        if cost > self.budget:
            return
        if self.used + cost > self.budget:
            self.answers.clear()
            self.used = 0
        self.answers[text] = answer
        self.used += cost


def batch(lines: Iterable[str | bytes | LineTooLong], first_line: int = 1) -> Iterator[str]:
    """``shape --batch``: one JSON result per JSON line, errors included, in order; never stops on a bad line.

    Every line gets exactly one answer, whatever it holds (a blank line, bytes that are not UTF-8, JSON that is
    not an object, nesting too deep, an integer too long, a line longer than
    :data:`~tconvcalc.core.budget.MAX_BATCH_LINE_BYTES`), so that answer n is about line n. A line is text, UTF-8
    bytes, or a :class:`~tconvcalc.io.bounded.LineTooLong`. Identical lines (common in sweeps) are answered from
    a cache bounded in bytes.
    """
    import json

    encode = _line_encoder()
    cache = AnswerCache()
    for number, line in enumerate(lines, first_line):
        if isinstance(line, LineTooLong):
            error = f"a line of {line.length:,} bytes or more, over the limit of {MAX_BATCH_LINE_BYTES:,}"
            yield encode({"line": number, "error": error, "exit_code": int(ResourceError.exit_code)})
            continue
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield encode({"line": number, "error": f"not UTF-8: {exc.reason}", "exit_code": 2})
                continue
        text = line.strip()
        if not text:
            yield encode({"line": number, "error": "empty line: each line must be a JSON object", "exit_code": 2})
            continue
        answer = cache.get(text)
        if answer is None:
            try:
                spec = guarded(json.loads, text, None)
                if not isinstance(spec, dict):
                    raise UsageError(f"each line must be a JSON object, got {_kind(spec)}")
                answer = encode(query(spec))
                cache.put(text, answer)
            except json.JSONDecodeError as exc:
                answer = encode({"line": number, "error": f"not JSON: {exc.msg}", "exit_code": 2})
            except TConvError as exc:
                answer = encode({"line": number, "error": str(exc), "exit_code": int(exc.exit_code)})
        yield answer


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


CHUNK_LINES = 4096
CHUNK_BYTES = 4 << 20  # a worker's chunk ends at CHUNK_LINES lines or this many bytes of them
PARALLEL_FROM = 50_000  # lines; below this a worker pool's start-up costs more than it saves


def _chunk(job: tuple[int, list[bytes | LineTooLong]]) -> str:
    first, lines = job
    return "".join(answer + "\n" for answer in batch(lines, first))


def _count_errors(text: str) -> int:
    return text.count('{"line": ')


def _chunks(lines: Iterator[bytes | LineTooLong], first: int) -> Iterator[tuple[int, list[bytes | LineTooLong]]]:
    """Consecutive runs of at most CHUNK_LINES lines and about CHUNK_BYTES bytes, with their first line number."""
    job: list[bytes | LineTooLong] = []
    size = 0
    for line in lines:
        job.append(line)
        size += len(line) if isinstance(line, bytes) else 0
        if len(job) >= CHUNK_LINES or size >= CHUNK_BYTES:
            yield first, job
            first, job, size = first + len(job), [], 0
    if job:
        yield first, job


def _stream(reader: CappedLines, out: Any, source: str, workers: int) -> int:
    """Answer every line of ``reader`` on ``out``, in order; the lines are read as they are answered, never
    held all at once. Up to PARALLEL_FROM lines (and CHUNK_BYTES * 4 bytes) are read ahead to decide whether
    ``workers`` processes are worth starting. Returns the number of refused lines."""
    import itertools

    lines = iter(reader)
    head: list[bytes | LineTooLong] = []
    size = 0
    if workers > 1:
        for line in lines:
            head.append(line)
            size += len(line) if isinstance(line, bytes) else 0
            if len(head) >= PARALLEL_FROM or size >= 4 * CHUNK_BYTES:
                break
    failed = 0
    if workers > 1 and len(head) >= PARALLEL_FROM:
        import multiprocessing

        jobs = _chunks(itertools.chain(head, lines), 1)
        with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_start) as pool:
            for text in pool.imap(_chunk, jobs, chunksize=1):
                out.write(text)
                failed += _count_errors(text)
    else:
        for answer in batch(itertools.chain(head, lines)):
            out.write(answer + "\n")
            failed += answer.startswith('{"line": ')
    if reader.unended is not None:
        raise ResourceError(
            f"--batch {source}: line {reader.unended:,} runs on for more than {human_bytes(reader.skip_cap)} "
            "without a newline; stopped reading there"
        )
    return failed


def _worker_start() -> None:
    """Workers leave Ctrl-C to the parent, which says "interrupted" once and ends the pool."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def batch_file(path: str, out: Any, workers: int) -> int:
    """``shape --batch FILE``: streamed line by line (each at most MAX_BATCH_LINE_BYTES); a large file is
    answered in ordered chunks by ``workers`` processes. Returns the number of refused lines."""
    try:
        stream = open(path, "rb")  # noqa: SIM115 (closed below; errors while writing are not reading errors)
    except FileNotFoundError:
        raise UsageError(f"--batch {path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"--batch {path}: is a directory") from None
    except OSError as exc:
        raise UsageError(f"--batch {path}: cannot read it ({exc.strerror})") from None
    with stream:
        return _stream(CappedLines(stream, MAX_BATCH_LINE_BYTES), out, path, workers)


def run_batch(source: str, out: Any) -> int:
    """``shape --batch FILE|-``: stdin and files alike are streamed line by line; a file may use every core."""
    import os
    import sys

    if source == "-":
        return _stream(CappedLines(sys.stdin.buffer, MAX_BATCH_LINE_BYTES), out, "- (stdin)", 1)
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
