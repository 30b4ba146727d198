"""The two ways hostile text breaks Python's own parsers (json, tomllib, PyYAML, ast), refused in one place.

Nesting deeper than the interpreter's recursion limit raises RecursionError, and an integer literal of more than
4,300 digits raises ValueError (CPython's limit on int/str conversion) before any value reaches tconvcalc. Both
become one :class:`~tconvcalc.core.errors.UsageError` naming the source: exit 2, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tconvcalc.core.errors import UsageError

T = TypeVar("T")

TOO_DEEP = "nested too deeply for the parser (lists or tables inside each other, hundreds of levels)"
TOO_LONG = "an integer of more than 4,300 digits"


def guarded(parse: Callable[[str], T], text: str, source: str | None) -> T:
    """``parse(text)``; nesting too deep or an integer too long is a UsageError ``"{source}: ..."`` (no prefix
    without a source). Every other error of the parser (its own syntax errors) passes through.

    >>> import json
    >>> guarded(json.loads, "[" * 100_000, "line 3")
    Traceback (most recent call last):
    tconvcalc.core.errors.UsageError: line 3: nested too deeply for the parser (lists or tables inside each other, hundreds of levels)
    >>> guarded(json.loads, "9" * 5000, "line 3")
    Traceback (most recent call last):
    tconvcalc.core.errors.UsageError: line 3: an integer of more than 4,300 digits
    """
    prefix = f"{source}: " if source else ""
    try:
        return parse(text)
    except RecursionError:
        raise UsageError(prefix + TOO_DEEP) from None
    except ValueError as exc:
        if isinstance(exc, UsageError) or "integer string conversion" not in str(exc):
            raise
        raise UsageError(prefix + TOO_LONG) from None
