"""Golden values from torch 2.13 (scripts/gen_golden.py): engine results checked against real torch output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tconvcalc
from tconvcalc.engine.functional import METHODS

DATA = json.loads((Path(__file__).parent / "data" / "golden_values.json").read_text())


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: f"{len(c['stride'])}d-s{c['stride']}-g{c['groups']}")
@pytest.mark.parametrize("method", METHODS)
def test_golden_value(case, method):
    """Every method reproduces torch's recorded output (integer-valued data: exact in float64)."""
    bias = None if case["bias"] is None else np.array(case["bias"])
    out = tconvcalc.conv_transpose(
        np.array(case["x"]),
        np.array(case["w"]),
        bias,
        case["stride"],
        case["padding"],
        case["output_padding"],
        case["groups"],
        case["dilation"],
        method=method,
    )
    np.testing.assert_array_equal(out, np.array(case["y"]))


def test_golden_values_come_from_torch_2_13():
    """The recorded outputs were made by torch 2.13."""
    assert DATA["torch"].startswith("2.13.0") and len(DATA["cases"]) == 60
