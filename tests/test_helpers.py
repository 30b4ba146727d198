"""The test helpers themselves: check_same fails on every kind of disagreement, and only on those; invoke runs
the app main() would build."""

from __future__ import annotations

import helpers
import pytest
from helpers import check_same, invoke
from typer.testing import CliRunner

from tconvcalc import LayerError, UsageError
from tconvcalc.cli import app


def _refuse_ours():
    raise LayerError("kernel too big")


def _refuse_oracle():
    raise RuntimeError("torch says no")


def test_both_refuse_passes_and_returns_none():
    """tconvcalc's TConvError and the oracle's own refusal type together pass; nothing is compared."""
    compared = []
    assert check_same(_refuse_ours, _refuse_oracle, RuntimeError, lambda a, b: compared.append(1)) is None
    assert compared == []


def test_both_answer_returns_both_answers():
    """Two answers that compare equal pass, and both come back to the caller."""
    assert check_same(lambda: 3, lambda: 3, RuntimeError, lambda a, b: a == b) == (3, 3)


def test_only_ours_refuses_fails_showing_both_sides():
    """tconvcalc refusing what the oracle accepts fails, naming the refusal and the oracle's answer."""
    with pytest.raises(AssertionError, match="disagree on whether to refuse") as info:
        check_same(_refuse_ours, lambda: (1, 4, 4), RuntimeError, lambda a, b: True, name="torch")
    assert "tconvcalc: refused: LayerError: kernel too big" in str(info.value)
    assert "torch: (1, 4, 4)" in str(info.value)


def test_only_oracle_refuses_fails_showing_both_sides():
    """The oracle refusing what tconvcalc accepts fails, naming our answer and the oracle's refusal."""
    with pytest.raises(AssertionError, match="disagree on whether to refuse") as info:
        check_same(lambda: (1, 4, 4), _refuse_oracle, RuntimeError, lambda a, b: True, name="torch")
    assert "tconvcalc: (1, 4, 4)" in str(info.value)
    assert "torch: refused: RuntimeError: torch says no" in str(info.value)


@pytest.mark.parametrize("compare", [lambda a, b: a == b, lambda a, b: _assert_equal(a, b)])
def test_different_answers_fail(compare):
    """Both answering differently fails, whether compare returns False or asserts."""
    with pytest.raises(AssertionError, match="answer differently") as info:
        check_same(lambda: 3, lambda: 4, RuntimeError, compare)
    assert "tconvcalc: 3" in str(info.value) and "oracle: 4" in str(info.value)


def _assert_equal(a, b):
    assert a == b


def test_other_exceptions_are_not_refusals():
    """A crash on either side propagates; a TConvError from the oracle is not taken for its refusal."""
    with pytest.raises(ZeroDivisionError):
        check_same(lambda: 1 / 0, _refuse_oracle, RuntimeError, lambda a, b: True)
    with pytest.raises(KeyError):
        check_same(_refuse_ours, lambda: {}["x"], RuntimeError, lambda a, b: True)
    with pytest.raises(UsageError):  # UsageError is a ValueError: it must not pass for the oracle's ValueError
        check_same(_refuse_ours, lambda: _raise(UsageError("bad")), ValueError, lambda a, b: True)


def _raise(exc):
    raise exc


def test_invoke_builds_only_the_named_command_once():
    """A command name as first argument gets a cached one-command app; anything else the full app."""
    helpers._app.cache_clear()
    assert invoke(["shape", "2", "-k", "2", "--plain"]).stdout == "3x3\n"
    assert helpers._app.cache_info().currsize == 1
    single = helpers._app("shape")
    assert [c.callback.__name__ for c in single.registered_commands] == ["shape"]
    assert invoke(["shape", "4", "-k", "3", "--plain"]).stdout == "6x6\n"
    assert helpers._app("shape") is single and helpers._app.cache_info().currsize == 1
    assert invoke(["--help"]).stdout == CliRunner().invoke(app, ["--help"]).stdout
    assert helpers._app(None) is app


@pytest.mark.parametrize(
    "args",
    [
        ["shape", "1x3x8x8", "-k", "3", "-s", "2", "--json"],
        ["shape", "5", "-k", "0"],
        ["run", "[[0,1],[2,3]]", "[[0,1],[2,3]]", "--plain"],
        ["solve", "16", "32", "--top", "2"],
        ["matrix", "--help"],
        ["nonsense"],
        [],
    ],
)
def test_invoke_matches_the_full_app(args):
    """invoke gives what CliRunner gives with the full app: exit code, stdout and stderr."""
    fast, full = invoke(args), CliRunner().invoke(app, args)
    assert (fast.exit_code, fast.stdout, fast.stderr) == (full.exit_code, full.stdout, full.stderr)
