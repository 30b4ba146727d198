"""The rich console every view prints to, and the few helpers all views share. rich is imported lazily."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def console(stderr: bool = False) -> Console:
    """A rich console that never interprets user data as markup and respects NO_COLOR."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def print_whole(renderable: Any) -> None:
    """Print a table at its natural width, wider than the terminal if need be: never crop data."""
    out = console()
    needed = out.measure(renderable, options=out.options.update_width(100_000)).maximum
    out.width = max(out.width, needed)
    out.print(renderable)


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
