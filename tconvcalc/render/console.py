"""The rich console every view prints to, and the few helpers all views share. rich is imported lazily."""

from __future__ import annotations

import errno
import json
import sys
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def console(stderr: bool = False) -> Console:
    """A rich console that never interprets user data as markup and respects NO_COLOR."""
    return _console_class()(stderr=stderr, highlight=False, soft_wrap=False)


@cache
def _console_class() -> type[Console]:
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            """rich exits 1 on a closed pipe; the CLI's boundary decides (exit 141, quietly), as for every output."""
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, "the reader of the output went away")

    return _Console


def print_whole(renderable: Any) -> None:
    """Print a table at its natural width, wider than the terminal if need be: never crop data."""
    out = console()
    needed = out.measure(renderable, options=out.options.update_width(100_000)).maximum
    out.width = max(out.width, needed)
    out.print(renderable)


def emit_json(doc: Any) -> None:
    """Exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(doc) + "\n")


def dim_names(dims: int) -> tuple[str, ...]:
    """PyTorch's names of the spatial dimensions: L; H, W; D, H, W."""
    return {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}[dims]
