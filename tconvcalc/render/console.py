"""The rich console every view prints to, and the few helpers all views share. rich is imported lazily."""

from __future__ import annotations

import errno
import re
import sys
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def console(stderr: bool = False) -> Console:
    """A rich console that never interprets user data as markup and respects NO_COLOR. Piped (not a
    terminal), it writes no trailing spaces: tables are padded to their width only on screen."""
    stream = sys.stderr if stderr else sys.stdout
    target: Any = stream if _isatty(stream) else _NoTrailingSpaces(stream)
    return _console_class()(file=target, highlight=False, soft_wrap=False)


@cache
def _console_class() -> type[Console]:
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            """rich exits 1 on a closed pipe; the CLI's boundary decides (exit 141, quietly), as for every output."""
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, "the reader of the output went away")

    return _Console


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _NoTrailingSpaces:
    """A text stream that drops the spaces at the end of each line it passes on."""

    def __init__(self, stream: Any) -> None:
        self._stream, self._pending = stream, ""

    def write(self, text: str) -> int:
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        for line in lines:
            self._stream.write(line.rstrip(" ") + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(self._pending.rstrip(" "))
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return False


def print_whole(renderable: Any) -> None:
    """Print a table at its natural width, wider than the terminal if need be: never crop data. (For wide
    grids of numbers, :func:`print_column_blocks` splits them to the terminal's width instead.)"""
    out = console()
    needed = out.measure(renderable, options=out.options.update_width(100_000)).maximum
    out.width = max(out.width, needed)
    out.print(renderable)
    out.file.flush()


def fits(renderable: Any, width: int | None = None) -> bool:
    """Whether ``renderable`` fits the terminal's width (or ``width``) without wrapping."""
    out = console()
    needed = out.measure(renderable, options=out.options.update_width(100_000)).maximum
    return needed <= (width or out.width)


def print_column_blocks(make: Callable[[range], Any], columns: int, title: str = "") -> None:
    """Print ``make(range(columns))``, or, when that is wider than the terminal, consecutive blocks of columns
    that each fit (as NumPy wraps wide arrays), each titled with its column range: no digit is dropped."""
    out = console()
    start = 0
    while start < columns:
        low, high = 1, columns - start
        while low < high:  # the widest block that fits (at least one column)
            middle = (low + high + 1) // 2
            if fits(make(range(start, start + middle)), out.width):
                low = middle
            else:
                high = middle - 1
        if start == 0 and low == columns:
            out.print(make(range(columns)))
            break
        from rich.text import Text

        out.print(Text(f"{title}columns {start} to {start + low - 1} of {columns}"))
        out.print(make(range(start, start + low)))
        start += low
    out.file.flush()


# Characters that would act on a terminal rather than show: C0 and C1 controls (escape sequences start with
# ESC or CSI), DEL, line and paragraph separators, and the bidirectional overrides and isolates.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    r"""User data (a layer name, a key, a path) made printable: control characters shown as escapes.

    >>> print(clean("dec1\x1b]0;owned\x07"), clean("two\nlines"))
    dec1\x1b]0;owned\x07 two\nlines
    """
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    )


def dim_names(dims: int) -> tuple[str, ...]:
    """PyTorch's names of the spatial dimensions: L; H, W; D, H, W."""
    return {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}[dims]
