"""The rich console every view prints to, and the few helpers all views share. rich is imported lazily."""

from __future__ import annotations

import json
import sys
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


def emit_json(doc: Any) -> None:
    """Exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(doc) + "\n")


def dim_names(dims: int) -> tuple[str, ...]:
    """PyTorch's names of the spatial dimensions: L; H, W; D, H, W."""
    return {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}[dims]
