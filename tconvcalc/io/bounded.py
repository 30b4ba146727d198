"""Bounded reading, without NumPy: a file or stream is read up to a cap and refused past it, never swallowed
whole (``/dev/zero`` as a tensor, a config or a ``--batch`` file is refused after the cap, not run out of memory).
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from typing import BinaryIO

from tconvcalc.core.budget import MAX_READ_BYTES, human_bytes
from tconvcalc.core.errors import ResourceError, UsageError

_CHUNK = 1 << 20


def _regular_size(stream: BinaryIO) -> int | None:
    """The size of a regular file (known before reading it); None for pipes, terminals and devices."""
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def read_capped(stream: BinaryIO, source: str, cap: int = MAX_READ_BYTES, kind: str = "a file") -> bytes:
    """At most ``cap`` bytes of ``stream``, read in chunks: a larger (or endless) input is refused, naming the
    cap, after reading no more than ``cap`` plus one chunk; a regular file's size is checked before reading."""
    size = _regular_size(stream)
    if size is not None and size > cap:
        raise ResourceError(f"{source}: {human_bytes(size)}, over the {human_bytes(cap)} {kind} may hold")
    chunks, total = [], 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > cap:
            raise ResourceError(f"{source}: more than {human_bytes(cap)}, the most {kind} may hold")
    return b"".join(chunks)


def read_file(path: str, source: str, cap: int = MAX_READ_BYTES, kind: str = "a file") -> bytes:
    """A file's bytes, at most ``cap``; a missing or unreadable file is a usage error naming it."""
    try:
        with open(path, "rb") as stream:
            return read_capped(stream, source, cap, kind)
    except FileNotFoundError:
        raise UsageError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{source}: is a directory") from None
    except OSError as exc:
        raise UsageError(f"{source}: cannot read it ({exc.strerror})") from None


class LineTooLong:
    """In place of a line longer than the cap: how many bytes of it were read."""

    def __init__(self, length: int) -> None:
        self.length = length


class CappedLines:
    """The lines of a binary stream, one at a time, each at most ``cap`` bytes (plus its newline).

    A longer line is yielded as a :class:`LineTooLong` and skipped up to its newline, reading at most
    ``skip_cap`` bytes of it; a line that has not ended by then (``/dev/zero``) ends the iteration, and
    :attr:`unended` then holds its line number. Memory stays within ``cap`` plus one chunk, whatever the input.
    """

    def __init__(self, stream: BinaryIO, cap: int, skip_cap: int = MAX_READ_BYTES) -> None:
        self.stream, self.cap, self.skip_cap = stream, cap, skip_cap
        self.count = 0  # lines read so far
        self.unended: int | None = None

    def __iter__(self) -> Iterator[bytes | LineTooLong]:
        stream, cap = self.stream, self.cap
        while True:
            line = stream.readline(cap + 1)
            if not line:
                return
            self.count += 1
            if len(line) <= cap or line.endswith(b"\n"):
                yield line
                continue
            length, ended = len(line), False
            while not ended and length <= self.skip_cap:
                rest = stream.readline(_CHUNK)
                if not rest:
                    ended = True  # the end of the stream ends the line
                    break
                length += len(rest)
                ended = rest.endswith(b"\n")
            yield LineTooLong(length)
            if not ended:
                self.unended = self.count
                return
