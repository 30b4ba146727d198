"""Parsing of command-line tokens into integers: shapes (``1x10x16x16``) and per-dimension values (``3,5``).

Pure and dependency-free; every malformed token raises :class:`~tconvcalc.core.errors.UsageError`.
"""

from __future__ import annotations

import re

from tconvcalc.core.errors import UsageError

_SEP = re.compile(r"[x,]")
# A number on the command line: ASCII digits with an optional minus sign, at most 18 digits (below 2**63).
# Not '+3', '1_000', '٣' or '３', which int() would take: a calculator should not guess.
_INT = re.compile(r"-?[0-9]{1,18}")
# A shape pasted from Python: [1, 3, 64, 64], (1, 3, 64, 64) or torch.Size([1, 3, 64, 64]).
_PYTHON = re.compile(r"(?:torch\.size\(\s*)?[\[(]([^\[\]()]*)[\])]\s*\)?")


def parse_ints(token: str, name: str) -> tuple[int, ...]:
    """Split ``token`` on ``x`` or ``,`` into integers; a Python list, tuple or ``torch.Size`` is read too.

    >>> parse_ints("1x10x16x16", "SIZE"), parse_ints("3, 5", "--kernel-size")
    ((1, 10, 16, 16), (3, 5))
    >>> parse_ints("torch.Size([1, 3, 64, 64])", "SIZE"), parse_ints("(1, 3)", "SIZE")
    ((1, 3, 64, 64), (1, 3))
    >>> parse_ints("3x", "SIZE")
    Traceback (most recent call last):
    tconvcalc.core.errors.UsageError: SIZE: '3x' is not a list of integers separated by 'x' or ','
    """
    text = token.strip().lower()
    pasted = _PYTHON.fullmatch(text)
    if pasted:
        text = pasted.group(1).strip().rstrip(",")  # (3,) is a one-tuple
    parts = [part.strip() for part in _SEP.split(text)]
    if not all(_INT.fullmatch(part) for part in parts):
        shown = token if len(token) <= 40 else token[:37] + "..."
        if any(
            len(part.lstrip("-")) > 18 and part.lstrip("-").isascii() and part.lstrip("-").isdigit() for part in parts
        ):
            raise UsageError(f"{name}: {shown!r} has a number of more than 18 digits")
        raise UsageError(f"{name}: {shown!r} is not a list of integers separated by 'x' or ','")
    return tuple(int(part) for part in parts)


def parse_per_dim(token: str, dims: int, name: str) -> tuple[int, ...]:
    """One value for every spatial dimension, or exactly ``dims`` values.

    >>> parse_per_dim("2", 3, "--stride"), parse_per_dim("2,1", 2, "--stride")
    ((2, 2, 2), (2, 1))
    """
    values = parse_ints(token, name)
    if len(values) == 1:
        return values * dims
    if len(values) != dims:
        raise UsageError(f"{name} has {len(values)} values {token!r} but --dims is {dims}")
    return values


def parse_padding(token: str, dims: int) -> str | tuple[int, ...]:
    """``--padding``: integers per dimension, or the strings ``same`` / ``valid``."""
    word = token.strip().lower()
    if word in ("same", "valid"):
        return word
    return parse_per_dim(token, dims, "--padding")


def parse_shape(token: str, dims: int, name: str = "SIZE") -> tuple[int, ...]:
    """A shape token: one value (every spatial dim), ``dims`` values, ``(C, ...)`` or ``(N, C, ...)``.

    >>> parse_shape("16", 2), parse_shape("1x10x16x16", 2)
    ((16, 16), (1, 10, 16, 16))
    """
    values = parse_ints(token, name)
    if len(values) == 1:
        return values * dims
    if not dims <= len(values) <= dims + 2:
        raise UsageError(
            f"{name} {token!r} has {len(values)} values; with --dims {dims} give 1, {dims}, "
            f"{dims + 1} (C, ...) or {dims + 2} (N, C, ...)"
        )
    return values


def parse_output_size(token: str, dims: int) -> tuple[int, ...]:
    """``--output-size``: spatial sizes; a full ``(C, ...)``/``(N, C, ...)`` shape is cut to its spatial part."""
    return parse_shape(token, dims, "--output-size")[-dims:]
