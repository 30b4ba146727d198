"""Shared test helpers: tconvcalc against an oracle, refusals included (:func:`check_same`), and a CLI runner
that builds only the invoked command, as the console entry point does (:func:`invoke`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from hypothesis import currently_in_test_context, event, note
from typer.testing import CliRunner, Result

from tconvcalc import TConvError

_SHOWN = 600  # characters of each side shown in a failure; arrays can be long


class _Refusal:
    """What a side that refused left behind: its exception."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __repr__(self) -> str:
        return f"refused: {type(self.exc).__name__}: {self.exc}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + f"... ({len(text)} characters)"


def _record(message: str, label: str) -> None:
    """note() and event() for Hypothesis: a later failure shows both sides; the statistics count the outcomes."""
    if currently_in_test_context():
        note(message)
        event(label)


def check_same(
    ours: Callable[[], Any],
    oracle: Callable[[], Any],
    refusals: type[BaseException] | tuple[type[BaseException], ...],
    compare: Callable[[Any, Any], object],
    *,
    name: str = "oracle",
) -> tuple[Any, Any] | None:
    """Ask tconvcalc and the oracle the same question: both refuse, or both answer and ``compare`` holds.

    ``ours()`` refuses by raising :class:`tconvcalc.TConvError`; ``oracle()`` by raising one of ``refusals``
    (its own types: torch's RuntimeError, onnx's ValueError, ...). Any other exception propagates: a crash is
    not a refusal. A TConvError out of the oracle propagates too, since the oracle must not lean on tconvcalc
    (and LayerError is a ValueError, so it would otherwise pass for an oracle refusal).

    ``compare(got, expected)`` checks the two answers: it asserts, or returns a falsy value (not None) when
    they differ. Returns ``(got, expected)`` when both answered, None when both refused. Modelled on ndindex's
    ``check_same``.
    """
    try:
        got: Any = ours()
    except TConvError as exc:
        got = _Refusal(exc)
    try:
        expected: Any = oracle()
    except TConvError:
        raise
    except refusals as exc:
        expected = _Refusal(exc)
    ours_refused, oracle_refused = isinstance(got, _Refusal), isinstance(expected, _Refusal)
    sides = f"tconvcalc: {_show(got)}\n{name}: {_show(expected)}"
    if ours_refused and oracle_refused:
        _record(sides, f"both refused ({name})")
        return None
    if ours_refused != oracle_refused:
        raise AssertionError(f"tconvcalc and {name} disagree on whether to refuse\n{sides}")
    _record(sides, f"both answered ({name})")
    try:
        verdict = compare(got, expected)
    except AssertionError as exc:
        raise AssertionError(f"tconvcalc and {name} answer differently: {exc}\n{sides}") from exc
    if verdict is not None and not verdict:
        raise AssertionError(f"tconvcalc and {name} answer differently\n{sides}")
    return got, expected


_RUNNER = CliRunner()


@cache
def _app(name: str | None) -> Any:
    """The app with only command ``name`` registered (the console entry's ``_only``), or the full app for None."""
    from tconvcalc.cli import app
    from tconvcalc.cli.common import _only

    return app if name is None else _only(name)


@cache
def _command_names() -> frozenset[str]:
    from tconvcalc.cli import app
    from tconvcalc.cli.common import _command_name

    return frozenset(_command_name(c) for c in app.registered_commands)


# The README's one-pixel-shift case: TF 'SAME' with an odd total crop, which PyTorch cannot place exactly. One
# argv for every test that needs a translate with a note and a non-trivial document.
TF_SAME_ODD_CROP = [
    "translate",
    "4",
    "--dims",
    "1",
    "-k",
    "3",
    "-s",
    "2",
    "--from",
    "tf",
    "-p",
    "SAME",
    "--output-shape",
    "8",
]


def invoke(args: Sequence[str], input: str | bytes | None = None, **kwargs: Any) -> Result:
    """CliRunner's result for ``tconvcalc ARGS``, with the app that ``main()`` would build for them.

    Converting the full app to click commands costs about 30 ms a call; a one-command app about 7 ms. Like
    ``main()``, a first argument naming a command gets that command alone; anything else (``--help``,
    ``--version``, a TAB completion) the full app.
    """
    args = list(args)
    lazy = bool(args) and args[0] in _command_names() and "_TCONVCALC_COMPLETE" not in os.environ
    return _RUNNER.invoke(_app(args[0] if lazy else None), args, input=input, **kwargs)
