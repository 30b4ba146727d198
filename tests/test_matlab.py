"""--convention matlab (transposedConv1d/2d/3dLayer) against its documented definition."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import invoke
from hypothesis import given, settings
from hypothesis import strategies as st

from tconvcalc.core.conventions import MATLAB_SAME_NOTE, matlab_placement


@settings(max_examples=200, deadline=None)
@given(
    dims=st.integers(1, 3),
    data=st.data(),
)
def test_matlab_sizes_follow_the_documented_formula(dims, data):
    """out = s*(in-1) + filterSize - (crop_begin + crop_end); 'same' gives in*s."""
    vec = lambda lo, hi: tuple(data.draw(st.integers(lo, hi)) for _ in range(dims))  # noqa: E731
    i, k, s = vec(1, 9), vec(1, 6), vec(1, 4)
    crops = vec(0, 2) + vec(0, 2)
    pairs = [(crops[d], crops[dims + d]) for d in range(dims)]
    flat = [v for pair in pairs for v in pair]
    want = tuple(ss * (ii - 1) + kk - b - e for ii, kk, ss, (b, e) in zip(i, k, s, pairs))
    if min(want) < 1:
        return
    assert matlab_placement(i, k, s, flat).output_size == want
    if all(kk >= ss for kk, ss in zip(k, s)):
        same = matlab_placement(i, k, s, "same")
        assert same.output_size == tuple(ii * ss for ii, ss in zip(i, s))
        assert all(e - b in (0, 1) for b, e in same.crops)  # the odd extra at the end
        assert (MATLAB_SAME_NOTE in same.notes) == any((kk - ss) % 2 for kk, ss in zip(k, s))


def test_cropping_forms():
    assert matlab_placement((8, 8), 4, 2, [1]).crops == ((1, 1), (1, 1))
    assert matlab_placement((8, 8), 4, 2, [1, 2]).crops == ((1, 1), (2, 2))  # [a b]: top/bottom, left/right
    assert matlab_placement((8, 8), 4, 2, [0, 1, 2, 0]).crops == ((0, 1), (2, 0))  # [t b l r]


def test_run_matlab_equals_torch_with_permuted_weights(torch):
    """Weights FilterSize x NumFilters x NumChannels; the result is torch's ConvTranspose cropped as Cropping says."""
    rng = np.random.default_rng(3)
    x = rng.integers(-3, 4, (2, 4, 5)).astype(float)  # (C, H, W) here; the layout item reads channels-last
    w = rng.integers(-2, 3, (3, 2, 5, 2)).astype(float)  # kh x kw x NumFilters x NumChannels
    full = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(x)[None], torch.from_numpy(w).permute(3, 2, 0, 1), stride=(2, 3)
    )[0].numpy()
    expected = full[:, 0 : full.shape[1] - 1, 2 : full.shape[2] - 0]  # [t b l r] = [0 1 2 0]
    args = ["run", json.dumps(x.tolist()), "-", "-s", "2,3", "--convention", "matlab", "--cropping", "0,1,2,0"]
    result = invoke([*args[:2], json.dumps(w.tolist()), *args[3:], "--layout", "channels_first", "--json"])
    if result.exit_code == 2 and "--layout" in result.output:  # before the layout option exists
        result = invoke([*args[:2], json.dumps(w.tolist()), *args[3:], "--json"])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(np.array(json.loads(result.output)["output"]), expected)


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["shape", "8x8", "-k", "4", "-s", "2", "-d", "2", "--convention", "matlab"], "has no --dilation"),
        (["shape", "8x8", "-k", "4", "-s", "2", "-p", "1", "--convention", "matlab"], "--cropping"),
        (["shape", "8x8", "-k", "4", "--cropping", "1"], "--convention matlab"),
        (["shape", "8x8", "-k", "4", "--convention", "matlab", "--cropping", "1,2,3"], "Cropping has 3 values"),
    ],
)
def test_matlab_refusals(args, text):
    result = invoke(args)
    assert result.exit_code == 2 and text in result.output, result.output


def test_translate_to_and_from_matlab():
    doc = json.loads(
        invoke(["translate", "1x3x8x8", "-k", "4", "-s", "2", "-p", "1", "--out-channels", "64", "--json"]).output
    )
    assert doc["matlab"] == "transposedConv2dLayer(4, 64, 'Stride', 2, 'Cropping', 1)"
    back = invoke(["translate", "8x8", "-k", "4", "-s", "2", "--from", "matlab", "--cropping", "1", "--plain"])
    assert "padding=1, output_padding=0" in back.output
    odd = json.loads(
        invoke(["translate", "5x5", "-k", "4", "-s", "3", "--from", "matlab", "--cropping", "same", "--json"]).output
    )
    assert odd["output_size"] == [15, 15] and odd["crops"] == [[0, 1], [0, 1]]
    assert any("MathWorks" in note and "unverified" in note for note in odd["notes"])
