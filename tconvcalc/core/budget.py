"""Every bound on the work one call may do, in one place: the memory budget and the fixed limits.

The memory budget (``--memory-limit``, :data:`DEFAULT_MEMORY_LIMIT`) is checked before an allocation happens,
against an estimate of the step's peak; the ``*_BYTES_PER_*`` figures below are measured peaks (with
``tracemalloc``, see ``tests/test_bounds.py``) rounded up. The fixed limits bound work that is not memory:
bytes read from a file, layers in a config, candidates a solver tries. The README's "Limits" section lists
each with its number; a refusal always names the size asked for and the bound.
"""

from __future__ import annotations

from tconvcalc.core.errors import ResourceError

# --- the memory budget -----------------------------------------------------------------------------------------
DEFAULT_MEMORY_LIMIT = 1 << 30  # bytes: --memory-limit's default
MAX_MEMORY_LIMIT = 1 << 60  # bytes (1 EiB): a larger --memory-limit is a usage error, not "unlimited"

# What every NumPy computation allocates besides its arrays: ufunc buffers (up to 3 x 64 KiB), Python objects.
CALL_OVERHEAD_BYTES = 256 << 10

# Parsing a text tensor (JSON literal, CSV/TXT) into Python lists, then an array: peak bytes per character of
# text (measured: at most 57 for JSON, 84 for one number per CSV line).
TEXT_PARSE_BYTES_PER_CHAR = 128
# The same for Python literal syntax (tuples, ``1.``), which goes through ``ast``: measured at most 521.
PYTHON_LITERAL_BYTES_PER_CHAR = 1024

# --- fixed limits ----------------------------------------------------------------------------------------------
MAX_READ_BYTES = 256 << 20  # bytes read from one tensor file or stream, or inflated from one .npz member
MAX_NPZ_MEMBERS = 10_000  # arrays in one .npz (each costs a ZipInfo before any is read)
# bytes of one `check` config; parsing takes up to about 100 bytes per byte of TOML or JSON, 330 of YAML (measured)
MAX_CONFIG_BYTES = 4 << 20
MAX_YAML_CONFIG_BYTES = 1 << 20
MAX_CONFIG_LAYERS = 10_000  # layers in one config
MAX_SWEEP_STEPS = 100_000  # `check --sizes`: sizes x layers (one evaluation is about 50 µs here: about 5 s)
MAX_BATCH_LINE_BYTES = 1 << 20  # one `shape --batch` line
BATCH_CACHE_BYTES = 64 << 20  # the `--batch` answer cache: line texts plus answers plus per-entry overhead
MAX_SOLVE_CANDIDATES = 300_000  # `solve`: (k, s, d, op or p) candidates, summed over dims (about 5 µs each here)
MAX_LISTED_PREIMAGE = 64  # `invert-conv` lists per-size restores for a preimage of at most this many sizes


def check_memory(nbytes: int, limit: int | None, what: str, step: str | None = None) -> None:
    """Refuse work whose arrays would exceed ``limit`` bytes, saying how much it would need (and, when its peak
    is not the computation itself, at which ``step``)."""
    if limit is not None and nbytes > limit:
        at = f" at its peak ({step})" if step and step != what else ""
        need, have = human_bytes(nbytes), human_bytes(limit)
        if need == have:  # just over: the rounded figures would read the same
            need, have = f"{nbytes:,} bytes", f"{limit:,} bytes"
        raise ResourceError(
            f"{what} would need {need}{at}, over the memory limit of {have} (raise it with --memory-limit)"
        )


def check_bound(count: int, bound: int, what: str, advice: str = "") -> None:
    """Refuse ``count`` of something above its fixed ``bound``, naming both numbers.

    >>> check_bound(20_000, MAX_CONFIG_LAYERS, "layers in the config")
    Traceback (most recent call last):
    tconvcalc.core.errors.ResourceError: 20,000 layers in the config, over the limit of 10,000
    """
    if count > bound:
        raise ResourceError(f"{count:,} {what}, over the limit of {bound:,}" + (f"; {advice}" if advice else ""))


def human_bytes(nbytes: int) -> str:
    """``1536`` -> ``1.5 KiB``.

    >>> human_bytes(100), human_bytes(3 * 2**30), human_bytes(10**40)
    ('100 B', '3.0 GiB', 'about 10^40 B')
    """
    if nbytes >= 1 << 70:  # past EiB; float() of a huge estimate would overflow
        return f"about 10^{int(nbytes.bit_length() * 0.30103)} B"
    value, unit = float(nbytes), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if value < 1024 or unit == "EiB":
            break
        value /= 1024
    return f"{int(value)} B" if unit == "B" else f"{value:,.1f} {unit}"
