"""`tconvcalc shape` through Typer's CliRunner: exit code first, then stdout and stderr separately."""

from __future__ import annotations

import json

import pytest
from helpers import invoke

from tconvcalc.cli import app


def run(*args: str):
    return invoke(list(args))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["2", "-k", "2"], "3x3"),
        (["2", "-k", "2", "-p", "1"], "1x1"),
        (["2", "-k", "2", "-s", "2"], "4x4"),
        (["1x20x6x6", "-k", "5", "-s", "3", "-p", "2", "--out-channels", "10"], "1x10x16x16"),
        (["1x10x16x16", "--conv", "-k", "5", "-s", "3", "-p", "2", "--out-channels", "20"], "1x20x6x6"),
        (["12", "-k", "3", "-s", "2", "-p", "1", "--output-size", "24"], "24x24"),
        (["8", "--dims", "1", "-k", "4", "-s", "2", "-p", "1"], "16"),
        (["3,10,4,4,4", "--dims", "3", "-k", "3,1,1", "-s", "2"], "3x10x9x7x7"),
        (["7", "--dims", "1", "--conv", "-k", "4", "-p", "same"], "7"),
    ],
)
def test_seed_examples_plain(args, expected):
    """The issue's seed examples: --plain prints only the output shape."""
    result = run("shape", *args, "--plain")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == expected + "\n"
    assert result.stderr == ""


def test_output_size_json_derives_output_padding():
    """--output-size 24 on 12 with k3 s2 p1 derives output_padding 1, reported in --json."""
    result = run("shape", "12", "-k", "3", "-s", "2", "-p", "1", "--output-size", "24", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["output_shape"] == [24, 24]
    assert doc["output_padding"] == [1, 1]


def test_output_size_out_of_range_gives_range():
    """--output-size 25 is refused with exit 1 and the valid range 23 to 24."""
    result = run("shape", "12", "-k", "3", "-s", "2", "-p", "1", "--output-size", "25")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: requested an output size of (25, 25), but valid sizes range from (23, 23) to (24, 24) "
        "for an input of (12, 12)\n"
    )


def test_json_keys_are_stable():
    """The --json document has exactly the documented keys (README, 'JSON')."""
    result = run("shape", "1x4x5x5", "-k", "3", "-s", "2", "-p", "1", "--out-channels", "6", "-g", "2", "--json")
    doc = json.loads(result.stdout)
    assert sorted(doc) == sorted(
        [
            "layer",
            "type",
            "operation",
            "dims",
            "input_shape",
            "output_shape",
            "batch",
            "in_channels",
            "out_channels",
            "groups",
            "kernel_size",
            "stride",
            "padding",
            "output_padding",
            "dilation",
            "padding_mode",
            "full_size",
            "weight_shape",
            "bias",
            "parameters",
            "macs",
        ]
    )
    assert doc["layer"] == "ConvTranspose2d" and doc["type"] == "tconv"
    assert doc["weight_shape"] == [4, 3, 3, 3]
    assert doc["parameters"] == 4 * 3 * 9 + 6
    assert doc["output_shape"] == [1, 6, 9, 9]


def test_explain_in_json():
    """--explain adds the step-by-step lines under 'explain'."""
    doc = json.loads(run("shape", "6", "-k", "5", "-s", "3", "-p", "2", "--json", "--explain").stdout)
    assert any("full  = (i-1)*s + k_eff  = (6-1)*3 + 5 = 20" in line for line in doc["explain"])


def test_rich_table_shows_formula_and_weight():
    """The table for people shows each dimension's formula, the weight shape and the parameter count."""
    result = run("shape", "1x20x6x6", "-k", "5", "-s", "3", "-p", "2", "--out-channels", "10")
    assert result.exit_code == 0
    assert "(6-1)*3-2*2+1*(5-1)+0+1" in result.stdout
    assert "(20, 10, 5, 5)" in result.stdout
    assert "5,010" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["5", "-k", "3", "-s", "2", "--output-padding", "2"],
            1,
            "error: --output-padding=2 must be smaller than stride=2 or dilation=1 (dim 0)",
        ),
        (["2", "-k", "1", "-p", "1"], 1, "error: output size 0 is not positive (dim 0)"),
        (["5", "-k", "3", "-p", "-1"], 1, "error: --padding=-1 must not be negative (dim 0)"),
        (["5", "-k", "0"], 1, "error: --kernel-size=0 must be at least 1 (dim 0)"),
        (["5", "-k", "3", "-s", "0"], 1, "error: --stride=0 must be at least 1 (dim 0)"),
        (["5", "-k", "3", "-d", "0"], 1, "error: --dilation=0 must be at least 1 (dim 0)"),
        (["4x5x5", "-k", "3", "-g", "3"], 1, "error: in_channels=4 is not divisible by --groups=3"),
        (
            ["4x5x5", "-k", "3", "--out-channels", "6", "-g", "4"],
            1,
            "error: out_channels=6 is not divisible by --groups=4",
        ),
        (["5", "-k", "3,3,3", "--dims", "2"], 2, "error: --dims=2 but the layers give 3 values per dimension"),
        (["5x", "-k", "3"], 2, "error: SIZE: '5x' is not a list of integers"),
        (["5", "-k", "a"], 2, "error: --kernel-size: 'a' is not a list of integers"),
        (
            ["1x2x3x4x5", "-k", "3"],
            2,
            "error: SIZE has 5 values: with 2 spatial dimension(s) give 1, 2, 3 (C, ...) or 4 (N, C, ...)",
        ),
        (["5", "-k", "3", "--json", "--plain"], 2, "error: --json and --plain are mutually exclusive"),
        (
            ["5", "-k", "3", "--output-padding", "1", "--output-size", "7"],
            2,
            "error: give --output-padding or --output-size",
        ),
        (["5", "--conv", "-k", "3", "--output-padding", "1"], 2, "error: --output-padding does not apply to Conv"),
        (["5", "--conv", "-k", "7"], 1, "error: padded input size 5 (input 5 + padding 0+0) is smaller"),
        (["5", "--conv", "-k", "3", "-s", "2", "-p", "same"], 1, "error: padding='same' is not supported for strided"),
        (["5", "-k", "3", "-p", "same"], 2, "error: --padding='same': ConvTranspose takes integers"),
        (["5", "-k", "3", "--out-channels", "2"], 2, "error: --out-channels=2 needs the input's channel count"),
        (["0x4x5x5", "-k", "3"], 1, "error: batch size 0 must be at least 1"),
    ],
)
def test_refusals_one_line_and_exit_code(args, code, message):
    """Bad input: one line on stderr naming the numbers, nothing on stdout, the documented exit code."""
    result = run("shape", *args)
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_dims_out_of_range_is_usage_error():
    """--dims outside 1..3 is a usage error (exit 2)."""
    assert run("shape", "5", "-k", "3", "--dims", "4").exit_code == 2


def test_version():
    """--version prints the version and exits 0."""
    from tconvcalc import __version__

    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"tconvcalc {__version__}"


def test_every_command_has_help():
    """Every command documents itself."""
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help, name
        assert run(name, "--help").exit_code == 0
