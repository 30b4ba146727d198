"""The error hierarchy: every refusal is a :class:`TConvError` whose message carries the numbers.

Exit codes (documented in the README and pinned by ``tests/test_exit_codes.py``):

* 1 -- :class:`LayerError`: the numbers do not work (an invalid layer, a failed check, no solution);
* 2 -- :class:`UsageError`: the request itself is malformed (bad token, unreadable file, unknown choice).

The core raises them with their fields; the CLI boundary (``tconvcalc.cli.common.errors``) words them and picks
the exit code by the error's kind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import IntEnum


class ExitStatus(IntEnum):
    """Process exit codes of the ``tconvcalc`` command."""

    OK = 0
    INVALID = 1  # the numbers do not work
    USAGE = 2  # malformed option, unreadable file or stream, output that cannot be written
    INTERRUPTED = 130  # Ctrl-C
    BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of stdout went away (``| head -1``); nothing is printed


class TConvError(Exception):
    """Base class of every error tconvcalc reports to a user as one line.

    The message names the numbers in PyTorch's words (``stride=0 must be at least 1 (dim 0)``). The fields say
    which parameter it is about, so that a front end can name it its own way: the CLI says ``--stride``, a
    config check points at the key's line.
    """

    exit_code: ExitStatus = ExitStatus.INVALID

    def __init__(
        self,
        message: str,
        *,
        param: str | tuple[str, ...] | None = None,
        value: object = None,
        allowed: str | None = None,
        dim: int | None = None,
    ) -> None:
        super().__init__(message)
        self.params = () if param is None else (param,) if isinstance(param, str) else param
        self.param = self.params[0] if self.params else None
        self.message, self.value, self.allowed, self.dim = message, value, allowed, dim

    def worded(self, names: Mapping[str, str]) -> str:
        """The message with each parameter's first mention replaced by ``names[param]`` (e.g. ``--stride``).

        >>> LayerError("stride=0 must be at least 1 (dim 0)", param="stride").worded({"stride": "--stride"})
        '--stride=0 must be at least 1 (dim 0)'
        """
        text = self.message
        for param in self.params:
            if param in names:
                text = re.sub(rf"(?<![\w-]){re.escape(param)}(?![\w-])", names[param], text, count=1)
        return text


class LayerError(TConvError, ValueError):
    """A configuration that PyTorch (or the check being made) refuses."""

    exit_code = ExitStatus.INVALID


class UsageError(TConvError, ValueError):
    """Input that cannot be understood: a malformed number, a list of the wrong length, a bad file."""

    exit_code = ExitStatus.USAGE


class ResourceError(LayerError):
    """Work whose output or intermediates would exceed the memory budget."""


class ConfigError(UsageError):
    """A malformed config, located by layer index and key so that the file's line can be named."""

    def __init__(self, message: str, layer: int | None = None, key: str | None = None) -> None:
        super().__init__(message, param=key)
        self.layer, self.key = layer, key
