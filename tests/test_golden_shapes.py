"""Golden vectors from torch 2.13 (scripts/gen_golden.py): real reference data, checked even without torch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ours import our_layer_shape

DATA = json.loads((Path(__file__).parent / "data" / "golden_shapes.json").read_text())


def _tuples(config):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}


def test_golden_file_covers_both_outcomes():
    """The golden sample holds valid and refused layers of both operations, from torch 2.13."""
    assert DATA["torch"].startswith("2.13.0")
    outcomes = {(c["config"]["operation"], c["expected"] is None) for c in DATA["cases"]}
    assert outcomes == {("conv", True), ("conv", False), ("conv_transpose", True), ("conv_transpose", False)}


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: f"{c['config']['operation']}-{c['config']['dims']}d")
def test_golden_shape(case):
    """tconvcalc gives torch's recorded shape, or refuses where torch refused."""
    expected = None if case["expected"] is None else tuple(case["expected"])
    assert our_layer_shape(_tuples(case["config"])) == expected
