"""Writing a file whole or not at all: ``--save`` never leaves a half-written file.

The data goes to a temporary file beside the target, is flushed to disk, and is renamed over the target in one
step. An existing file is replaced whole; a symbolic link at the target is replaced by the new file (its target
is not written through). On any error the target is left as it was and the temporary file is removed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from tconvcalc.core.errors import UsageError


def write_atomic(path: str, write: Callable[[BinaryIO], None], what: str = "--save") -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it to ``path``."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{what} {path!r}: is a directory")
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=directory)
    except OSError as exc:
        raise UsageError(f"{what} {path!r}: cannot write in {str(directory)!r} ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _mode(target))
        os.replace(temporary, target)
    except OSError as exc:
        _remove(temporary)
        raise UsageError(
            f"{what} {path!r}: cannot write ({exc.strerror or exc}); the file was left as it was"
        ) from None
    except BaseException:
        _remove(temporary)
        raise


def _mode(target: Path) -> int:
    """The existing regular file's permissions, else what a new file gets under the umask."""
    try:
        if target.is_file() and not target.is_symlink():
            return target.stat().st_mode & 0o777
    except OSError:
        pass
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
