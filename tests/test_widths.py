"""Every view fits an 80-column terminal without wrapping a number or hiding a digit behind an ellipsis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import TF_SAME_ODD_CROP, invoke

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GRID = json.dumps([[i * 16 + j + 0.5 for j in range(16)] for i in range(16)])
VIEWS = [
    ["check", str(EXAMPLES / "dcgan.toml")],
    ["check", str(EXAMPLES / "unet.toml")],
    ["check", str(EXAMPLES / "dcgan-linear.toml")],
    ["check", str(EXAMPLES / "decoder-one-short.toml")],
    ["matrix", "[[1,2],[3,4]]", "--input-size", "3x3"],
    ["matrix", "[[1,2,3],[4,5,6],[7,8,9]]", "--input-size", "5x5", "--transpose"],
    ["matrix", "--symbolic", "-k", "3", "--input-size", "5", "-s", "2", "--transpose", "--overlap"],
    ["solve", "16", "32"],
    ["solve", "16x8", "32x16"],
    ["shape", "1x20x6x6", "-k", "5", "-s", "3", "-p", "2", "--out-channels", "10", "--explain"],
    ["shape", "1x16x32x32", "-k", "2", "-s", "2", "--compare"],
    ["shape", "3x3", "--convention", "onnx", "-k", "3", "-s", "2", "--auto-pad", "SAME_UPPER"],
    TF_SAME_ODD_CROP,
    ["invert-conv", "24", "-k", "3", "-s", "2", "-p", "1"],
    ["run", GRID, "[[1]]"],
    ["run", GRID, "[[0.333333333]]", "--precision", "9"],
    ["run", "[[0,1],[2,3]]", "[[0,1],[2,3]]", "-s", "2", "--explain"],
]


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("argv", VIEWS, ids=[" ".join(v[:2])[:40] for v in VIEWS])
def test_view_fits_the_terminal(argv: list[str], columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """No line of a view is wider than the terminal, none ends in spaces when piped, and no number is cut."""
    monkeypatch.setenv("COLUMNS", str(columns))
    result = invoke(argv)
    assert result.exit_code in (0, 1), result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns, max(lines, key=len)
    assert not any(line != line.rstrip() for line in lines)
    assert "…" not in result.stdout


def test_wide_grids_come_in_column_blocks_with_every_digit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 16x16 result at 80 columns is printed in blocks of columns; every value appears in full."""
    monkeypatch.setenv("COLUMNS", "80")
    out = invoke(["run", GRID, "[[1]]"]).stdout
    assert "columns 0 to" in out
    for value in (0.5, 15.5, 255.5, 240.5):
        assert f" {value} " in out
