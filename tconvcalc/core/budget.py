"""The memory budget: every allocation a call makes is measured against it before it happens."""

from __future__ import annotations

from tconvcalc.core.errors import ResourceError

DEFAULT_MEMORY_LIMIT = 1 << 30  # bytes


def check_memory(nbytes: int, limit: int | None, what: str) -> None:
    """Refuse work whose arrays would exceed ``limit`` bytes, saying how much it would need."""
    if limit is not None and nbytes > limit:
        raise ResourceError(
            f"{what} would need {human_bytes(nbytes)}, over the memory limit of {human_bytes(limit)} "
            "(raise it with --memory-limit)"
        )


def human_bytes(nbytes: int) -> str:
    """``1536`` -> ``1.5 KiB``.

    >>> human_bytes(100), human_bytes(3 * 2**30)
    ('100 B', '3.0 GiB')
    """
    value, unit = float(nbytes), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            break
        value /= 1024
    return f"{int(value)} B" if unit == "B" else f"{value:,.1f} {unit}"
