"""The exit-code contract, one row per kind of mistake: 0 ok, 1 the numbers do not work, 2 a malformed request.

The code depends on the kind of error, never on which module raised it (README, 'Exit codes').
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import invoke

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
X, K = "[[0,1],[2,3]]", "[[0,1],[2,3]]"

TABLE = [
    # kind of request                              argv                                                   code
    ("a valid layer", ["shape", "16", "-k", "4", "-s", "2", "-p", "1"], 0),
    ("a valid check", ["check", str(EXAMPLES / "unet.toml")], 0),
    # 2: the request itself is malformed
    ("malformed integer token", ["shape", "5x", "-k", "3"], 2),
    ("unknown --layer choice", ["shape", "5", "--layer", "deconv", "-k", "3"], 2),
    ("unknown --mode choice", ["shape", "1x1x5x5", "--layer", "upsample", "--scale-factor", "2", "--mode", "x"], 2),
    ("unknown --padding-mode choice", ["shape", "1x1x5x5", "--conv", "-k", "3", "--padding-mode", "mirror"], 2),
    ("unknown --method choice", ["run", X, K, "--method", "magic"], 2),
    ("unknown --convention choice", ["shape", "5", "-k", "3", "--convention", "caffe"], 2),
    ("unknown --auto-pad choice", ["shape", "5", "-k", "3", "--convention", "onnx", "--auto-pad", "SAME"], 2),
    ("unknown --format choice", ["matrix", K, "--input-size", "3x3", "--format", "xls"], 2),
    ("option the layer does not have", ["shape", "1x1x8x8", "-k", "3", "--ceil-mode"], 2),
    ("option the pool does not have", ["shape", "1x4x8x8", "--layer", "maxpool", "-k", "2", "-g", "2"], 2),
    ("transposed-only option with --conv", ["shape", "5", "--conv", "-k", "3", "--output-padding", "1"], 2),
    ("framework option without its framework", ["shape", "5", "-k", "3", "--consistent-padding"], 2),
    ("two output formats", ["shape", "5", "-k", "3", "--json", "--plain"], 2),
    ("output_padding and output_size", ["shape", "5", "-k", "3", "--output-padding", "1", "--output-size", "7"], 2),
    ("--batch with other options", ["shape", "5", "--batch", "-"], 2),
    ("per-dimension count against --dims", ["shape", "5", "-k", "3,3,3", "--dims", "2"], 2),
    ("SIZE that fits no reading", ["shape", "1x2x3x4x5", "-k", "3"], 2),
    ("missing --kernel-size", ["shape", "5"], 2),
    ("string padding on a ConvTranspose", ["shape", "5", "-k", "3", "-p", "same"], 2),
    ("four spatial dimensions in translate (was a KeyError)", ["translate", "1", "-k", "1x2x5x5"], 2),
    ("four spatial dimensions in draw", ["draw", "1", "-k", "1x2x5x5", "-o", "x.svg"], 2),
    ("unreadable config", ["check", "no-such-file.toml"], 2),
    ("a figure too large to draw", ["draw", "40", "-k", "3", "-s", "2", "-o", "never-written.svg"], 2),
    ("unreadable tensor file", ["run", "no-such-file.npy", K], 2),
    ("unknown option", ["shape", "5", "-k", "3", "--kernel"], 2),
    ("non-integer where Click wants one", ["shape", "5", "-k", "3", "-g", "3.0"], 2),
    ("unknown command", ["shapes", "5"], 2),
    ("integer of 2**63 or more", ["shape", "1x4x5x5", "-k", "3", "--out-channels", "9223372036854775808"], 2),
    ("malformed --sizes", ["check", str(EXAMPLES / "unet.toml"), "--sizes", "1,2:5"], 2),
    # 1: well-formed, but the numbers do not work
    ("output_padding too large", ["shape", "5", "-k", "3", "-s", "2", "--output-padding", "2"], 1),
    ("kernel_size zero", ["shape", "5", "-k", "0"], 1),
    ("groups not dividing the channels", ["shape", "4x5x5", "-k", "3", "-g", "3"], 1),
    ("output not positive", ["shape", "2", "-k", "1", "-p", "1"], 1),
    ("output_size out of range", ["shape", "12", "-k", "3", "-s", "2", "-p", "1", "--output-size", "25"], 1),
    ("a pool PyTorch refuses", ["shape", "7", "--layer", "maxpool", "-k", "2", "-p", "2"], 1),
    ("divisor_override zero", ["shape", "1x1x8x8", "--layer", "avgpool", "-k", "2", "--divisor-override", "0"], 1),
    (
        "reflect padding past the input",
        ["shape", "1x1x8x8", "--conv", "-k", "3", "-p", "8", "--padding-mode", "reflect"],
        1,
    ),
    ("a failed check", ["check", str(EXAMPLES / "decoder-one-short.toml")], 1),
    ("no solution within the bounds", ["solve", "5", "1000", "--max-kernel", "1", "--max-stride", "1"], 1),
    ("over the memory budget", ["run", X, K, "--memory-limit", "100"], 1),
    ("an output size of 2**63 or more", ["shape", "99", "--dims", "1", "-k", "3", "-s", "999999999999999999"], 1),
    ("a bias of the wrong length, any convention", ["run", X, K, "--convention", "keras", "--bias", "[1,2]"], 1),
    ("--compare with a refused row", ["shape", "1x1x4x4", "-k", "2", "-s", "2", "--compare", "--output-size", "99"], 1),
]


@pytest.mark.parametrize(("kind", "argv", "code"), TABLE, ids=[row[0] for row in TABLE])
def test_exit_code_by_kind(kind: str, argv: list[str], code: int) -> None:
    """Each kind of mistake has its documented exit code; refusals print an 'error:' line and no traceback."""
    result = invoke(argv, catch_exceptions=False)
    assert result.exit_code == code, (kind, result.output)
    if code == 1:
        assert result.stderr.startswith("error: "), result.stderr
        assert "Traceback" not in result.stderr
