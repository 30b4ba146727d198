"""What a run of the ``tconvcalc`` command does before anything else: the Ctrl-C handler and the standard streams.

:func:`prepare` is the first call of the console script (:func:`tconvcalc.__main__.main`). This module imports
nothing but ``sys`` and the C signal module, so the handler is in place before anything that takes time is
imported (typer alone takes 50-70 ms), and an interrupt during start-up ends as any other: one line, exit 130,
never a KeyboardInterrupt traceback. Then a closed standard stream, which Python leaves as ``None``, is replaced
by one that fails in words (:class:`ClosedStream`) or, for stderr, swallows what is written.
"""

from __future__ import annotations

# The C module behind `signal`, which would first import enum (about 20 ms): the handler goes in before that.
import _signal  # type: ignore[import-not-found]
import sys

INTERRUPTED = 130  # tconvcalc.core.errors.ExitStatus.INTERRUPTED, not imported: nothing is imported before the handler


def prepare() -> None:
    """Install the Ctrl-C handler, then make the standard streams safe to use, whatever state the caller left."""
    _signal.signal(_signal.SIGINT, _interrupted)
    _guard_streams()


def _interrupted(signum: int, frame: object) -> None:
    try:
        sys.stderr.write("\ninterrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # stderr closed or broken: the exit code still says it
        pass
    raise SystemExit(INTERRUPTED)


class ClosedStream(OSError):
    """Reading or writing a standard stream the caller closed."""


class _Closed:
    """Stands for a standard stream the caller closed (``<&-``, ``>&-``), where Python leaves ``None``: reading or
    writing it raises :class:`ClosedStream` (an ``OSError``, EBADF), which the readers and the CLI turn into one
    ``error:`` line (exit 2)."""

    def __init__(self, name: str) -> None:
        self.name = f"<{name}>"
        self._what = f"{name} is closed" + (": nothing to read" if name == "stdin" else "")
        self.encoding, self.errors = "utf-8", "strict"
        self.closed = False

    @property
    def buffer(self) -> _Closed:
        return self

    def _fail(self, *args: object) -> None:
        import errno

        raise ClosedStream(errno.EBADF, self._what)

    read = readline = readlines = write = writelines = fileno = _fail

    def __iter__(self) -> _Closed:
        return self

    def __next__(self) -> str:
        self._fail()
        raise StopIteration  # pragma: no cover - _fail raised

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def readable(self) -> bool:
        return self.name == "<stdin>"

    def writable(self) -> bool:
        return self.name != "<stdin>"


def _guard_streams() -> None:
    """A closed stdin or stdout raises :class:`ClosedStream` when used; a closed stderr swallows what is written."""
    if sys.stdin is None:
        sys.stdin = _Closed("stdin")
    if sys.stdout is None:
        sys.stdout = _Closed("stdout")
    if sys.stderr is None:
        import os

        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (for the life of the process)
