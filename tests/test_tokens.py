"""What a number is on the command line, and shapes pasted from Python (README, 'Reading a SIZE')."""

from __future__ import annotations

import pytest

from tconvcalc import UsageError
from tconvcalc.cli.tokens import parse_ints


@pytest.mark.parametrize(
    ("token", "values"),
    [
        ("1x3x64x64", (1, 3, 64, 64)),
        ("1,3, 64 ,64", (1, 3, 64, 64)),
        ("[1, 3, 64, 64]", (1, 3, 64, 64)),
        ("(1, 3, 64, 64)", (1, 3, 64, 64)),
        ("torch.Size([1, 3, 64, 64])", (1, 3, 64, 64)),
        ("(3,)", (3,)),
        ("-1", (-1,)),
        ("999999999999999999", (999999999999999999,)),
    ],
)
def test_accepted_tokens(token: str, values: tuple[int, ...]) -> None:
    """ASCII digits with an optional minus, separated by x or comma, optionally in Python's brackets."""
    assert parse_ints(token, "SIZE") == values


@pytest.mark.parametrize("token", ["+3", "1_000", "\u0663", "\uff13", "3.0", "1e3", "", "3x", "[1, [2]]"])
def test_refused_tokens(token: str) -> None:
    """Forms int() would take (+3, 1_000, Arabic-Indic and full-width digits) or guess at are refused."""
    with pytest.raises(UsageError, match="is not a list of integers"):
        parse_ints(token, "SIZE")


def test_too_many_digits_is_refused_without_converting() -> None:
    """A number of more than 18 digits (past int64, or past CPython's 4,300-digit limit) is one usage error."""
    with pytest.raises(UsageError, match="more than 18 digits"):
        parse_ints("9" * 5000, "SIZE")
