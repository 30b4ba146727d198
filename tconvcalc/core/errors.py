"""The error hierarchy: every refusal is a :class:`TConvError` whose message carries the numbers.

Exit codes (documented in the README and pinned by ``tests/test_cli_contract.py``):

* 1 -- :class:`LayerError`: the numbers do not work (an invalid layer, a failed check, no solution);
* 2 -- :class:`UsageError`: the request itself is malformed (bad token, unreadable file).
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Process exit codes of the ``tconvcalc`` command."""

    OK = 0
    INVALID = 1  # the numbers do not work
    USAGE = 2  # malformed option, unreadable file
    INTERRUPTED = 130


class TConvError(Exception):
    """Base class of every error tconvcalc reports to a user as one line."""

    exit_code: ExitStatus = ExitStatus.INVALID


class LayerError(TConvError, ValueError):
    """A configuration that PyTorch (or the check being made) refuses."""

    exit_code = ExitStatus.INVALID


class UsageError(TConvError, ValueError):
    """Input that cannot be understood: a malformed number, a list of the wrong length, a bad file."""

    exit_code = ExitStatus.USAGE


class ResourceError(LayerError):
    """Work whose output or intermediates would exceed the memory budget."""
