"""`tconvcalc run` through CliRunner, and the ONNX conformance cases through the CLI from .npy files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import DATA
from helpers import invoke

X = K = "[[0,1],[2,3]]"
CONFORMANCE = json.loads((DATA / "onnx_convtranspose.json").read_text())["cases"]


def run(*args: str, input: str | None = None):
    return invoke(["run", *args], input=input)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([], "[[0,0,1],[0,4,6],[4,12,9]]"),
        (["-p", "1"], "[[4]]"),
        (["-s", "2"], "[[0,0,0,1],[0,0,2,3],[0,2,0,3],[4,6,6,9]]"),
    ],
)
def test_seed_examples(extra, expected):
    """The seed examples print exactly, with integral results as integers."""
    result = run(X, K, *extra, "--plain")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == expected + "\n"


def test_json_document():
    """--json prints one document with output_shape and output (nested lists)."""
    result = run(X, K, "-s", "2", "--json")
    doc = json.loads(result.stdout)
    assert doc["output_shape"] == [4, 4]
    assert doc["output"][3] == [4, 6, 6, 9]
    assert doc["dtype"] == "float64"


def test_check_reports_agreement():
    """--check runs the four methods and reports their differences (all zero here)."""
    doc = json.loads(run(X, K, "-s", "2", "-p", "1", "--check", "--json").stdout)
    assert doc["check"]["passed"] is True
    assert set(doc["check"]["max_abs_difference"]) == {"scatter", "matrix", "zero-insert"}
    human = run(X, K, "--check")
    assert "the four methods agree" in human.stdout


@pytest.mark.parametrize("method", ["scatter", "matrix", "zero-insert"])
def test_methods_give_the_seed_result(method):
    """Every --method gives the same seed result."""
    assert (
        run(X, K, "-s", "2", "--method", method, "--plain").stdout.strip()
        == "[[0,0,0,1],[0,0,2,3],[0,2,0,3],[4,6,6,9]]"
    )


def test_explain_draws_each_scaled_kernel():
    """--explain shows each input element's scaled kernel, their sum and the crop."""
    out = run(X, K, "-s", "2", "--explain").stdout
    assert "x(1,1) = 3" in out
    assert "sum: the full transposed convolution" in out
    assert "padding crops" in out


def _cells(table: str) -> list[list[str]]:
    """The values of a rendered table, row by row."""
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in table.splitlines() if line.startswith("│")]


def test_float_precision():
    """Non-integral results print with --precision significant digits; integral ones as integers."""
    assert _cells(run("[[0.5]]", "[[1.23456,2]]", "--dims", "2", "--precision", "3").stdout) == [["0.617", "1"]]
    assert _cells(run("[[0.5]]", "[[1.23456,2]]", "--dims", "2").stdout) == [["0.61728", "1"]]
    assert _cells(run("[[1]]", "[[0.333333333]]", "--precision", "2").stdout) == [["0.33"]]


def test_output_size_derives_output_padding():
    """--output-size picks the output_padding as forward(output_size=) does."""
    doc = json.loads(run("[1,2,3]", "[1,1,1]", "-s", "2", "-p", "1", "--output-size", "6", "--json").stdout)
    assert doc["output_shape"] == [6] and doc["output_padding"] == [1]


def test_conv_forward():
    """--conv runs the forward convolution (cross-correlation)."""
    assert run("[0,1,2,3]", "[1,1]", "--conv", "--plain").stdout.strip() == "[1,3,5]"


def test_save(tmp_path):
    """--save writes the output as .npy."""
    target = tmp_path / "out.npy"
    assert run(X, K, "--save", str(target), "--plain").exit_code == 0
    assert np.load(target).tolist() == [[0, 0, 1], [0, 4, 6], [4, 12, 9]]


def test_stdin():
    """'-' reads the input from stdin."""
    result = run("-", K, "--plain", input="[[0,1],[2,3]]")
    assert result.stdout.strip() == "[[0,0,1],[0,4,6],[4,12,9]]"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["[[1,2],[3]]", K], 2, "error: INPUT: ragged nested list"),
        (["[[1,'a']]", K], 2, "error: INPUT: every element must be a number"),
        (["missing.npy", K], 2, "error: INPUT: no such file 'missing.npy'"),
        (
            ["[[[1,2]]]", "[[[[1]]],[[[1]]]]"],
            1,
            "error: input of shape (1, 1, 2) has 1 channels, but the weight (2, 1, 1, 1)",
        ),
        ([X, "[[[[1]]]]", "--bias", "[1,2]"], 1, "error: bias must have shape (1,)"),
        ([X, K, "-s", "2", "--output-padding", "2"], 1, "error: --output-padding=2 must be smaller than stride=2"),
        ([X, K, "-s", "300", "--memory-limit", "100K"], 1, "error: conv_transpose would need"),
        ([X, K, "--method", "magic"], 2, "error: invalid value for '--method': 'magic' is not one of"),
        ([X, K, "--save", "out.xls"], 2, "error: --save 'out.xls': unknown format"),
        ([X, K, "--conv", "--output-padding", "1"], 2, "error: --output-padding and --output-size apply"),
    ],
)
def test_refusals(args, code, message):
    """Bad input: one line on stderr with the numbers, the documented exit code, no traceback."""
    result = run(*args)
    assert result.exit_code == code, result.output
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


@pytest.mark.parametrize("case", [c for c in CONFORMANCE if "auto_pad" not in c["attrs"]], ids=lambda c: c["name"])
def test_onnx_conformance_through_cli(case, tmp_path):
    """Every ONNX backend case that PyTorch's parameters express, run through the CLI from .npy files."""
    attrs = case["attrs"]
    dims = len(np.array(case["w"]).shape) - 2
    np.save(tmp_path / "x.npy", np.array(case["x"], dtype=np.float32))
    np.save(tmp_path / "w.npy", np.array(case["w"], dtype=np.float32))
    args = [str(tmp_path / "x.npy"), str(tmp_path / "w.npy"), "--dims", str(dims), "--json"]
    if "strides" in attrs:
        args += ["-s", ",".join(map(str, attrs["strides"]))]
    if "dilations" in attrs:
        args += ["-d", ",".join(map(str, attrs["dilations"]))]
    if "group" in attrs:
        args += ["-g", str(attrs["group"])]
    if "pads" in attrs:
        pads = attrs["pads"]
        assert pads[:dims] == pads[dims:], "symmetric pads map onto PyTorch's padding"
        args += ["-p", ",".join(map(str, pads[:dims]))]
    if "output_shape" in attrs:  # PyTorch's output_size; it replaces output_padding, as in ONNX
        args += ["--output-size", ",".join(map(str, attrs["output_shape"]))]
    elif "output_padding" in attrs:
        args += ["--output-padding", ",".join(map(str, attrs["output_padding"]))]
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    got = np.array(json.loads(result.stdout)["output"])
    np.testing.assert_allclose(got, np.array(case["y"]), atol=1e-9, rtol=0)


def test_conformance_file_is_complete():
    """The shared conformance data holds the eleven ONNX cases; ten are expressible in PyTorch terms."""
    assert len(CONFORMANCE) == 11
    assert sum("auto_pad" not in c["attrs"] for c in CONFORMANCE) == 10
