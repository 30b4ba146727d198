"""No input, however odd, produces a traceback: every command ends with exit code 0, 1 or 2."""

from __future__ import annotations

import os

from helpers import invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TOKENS = [
    "0",
    "1",
    "2",
    "3",
    "-1",
    "7",
    "16",
    "1,2",
    "2,1,1",
    "1,2,3,4",
    "3x0",
    "0x3x3",
    "1x2x5x5",
    "abc",
    "",
    "same",
    "valid",
    "SAME_UPPER",
    "1e9",
    "99999999999",
    "[[1,2],[3,4]]",
    "[[1,2],[3]]",
    "[]",
    "1:2",
    "2.5",
    "nan",
    "-",
    "x",
]
OPTIONS = {
    "shape": [
        "-k",
        "-s",
        "-p",
        "-d",
        "-g",
        "--output-padding",
        "--output-size",
        "--out-channels",
        "--dims",
        "--layer",
        "--scale-factor",
        "--mode",
        "--convention",
        "--pads",
        "--auto-pad",
        "--output-shape",
    ],
    "run": [
        "-s",
        "-p",
        "-d",
        "-g",
        "--output-padding",
        "--output-size",
        "--dims",
        "--method",
        "--bias",
        "--memory-limit",
        "--convention",
        "--weight-layout",
        "--precision",
    ],
    "matrix": ["--input-size", "-k", "-s", "-p", "-d", "-g", "--dims", "--format"],
    "invert-conv": ["-k", "-s", "-p", "-d", "-g", "--dims", "--out-channels"],
    "solve": ["--max-kernel", "--max-stride", "--max-dilation", "--top"],
    "translate": ["-k", "-s", "-p", "-d", "--from", "--output-padding", "--output-shape", "--pads", "--auto-pad"],
}
FLAGS = {
    "shape": ["--conv", "--json", "--plain", "--explain", "--compare", "--ceil-mode"],
    "run": ["--conv", "--json", "--plain", "--check", "--explain"],
    "matrix": ["--transpose", "--symbolic", "--overlap", "--verify", "--json"],
    "invert-conv": ["--json"],
    "solve": ["--conv", "--json"],
    "translate": ["--json"],
}
POSITIONAL = {"shape": 1, "run": 2, "matrix": 1, "invert-conv": 1, "solve": 2, "translate": 1}


@st.composite
def invocations(draw):
    command = draw(st.sampled_from(sorted(OPTIONS)))
    args = [command] + [draw(st.sampled_from(TOKENS)) for _ in range(draw(st.integers(0, POSITIONAL[command])))]
    for option in draw(st.lists(st.sampled_from(OPTIONS[command]), max_size=5, unique=True)):
        args += [option, draw(st.sampled_from(TOKENS))]
    args += draw(st.lists(st.sampled_from(FLAGS[command]), max_size=2, unique=True))
    return args


@settings(
    max_examples=int(os.environ.get("TCONVCALC_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(args=invocations())
def test_no_traceback(args):
    """Random, hostile arguments end in exit 0, 1 or 2 with at most one error line, never an exception."""
    result = invoke(args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    assert result.exit_code in (0, 1, 2), (args, result.output)
    assert "Traceback" not in result.output
