"""padding_mode (reflect, replicate, circular) of nn.Conv{1,2,3}d: values and refusals against torch."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
from helpers import invoke as run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import TORCH_REFUSALS

import tconvcalc
from tconvcalc import TConvError

SETTINGS = settings(
    max_examples=int(os.environ.get("TCONVCALC_EXAMPLES", "80")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MODES = ("zeros", "reflect", "replicate", "circular")


@st.composite
def calls(draw):
    dims = draw(st.integers(1, 3))
    vec = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(dims))  # noqa: E731
    spatial, kernel, stride, dilation = vec(1, 6), vec(1, 4), vec(1, 3), vec(1, 2)
    padding = draw(st.sampled_from(["same", "valid", vec(0, 4), vec(0, 4)]))
    if padding == "same":
        stride = (1,) * dims
    groups = draw(st.sampled_from([1, 2]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    batch = draw(st.sampled_from([(), (2,)]))
    x = rng.standard_normal((*batch, 2 * groups, *spatial))
    w = rng.standard_normal((3 * groups, 2, *kernel))
    bias = rng.standard_normal(3 * groups) if draw(st.booleans()) else None
    return dict(x=x, w=w, bias=bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


def _torch(torch, c, mode):
    dims = c["w"].ndim - 2
    layer = getattr(torch.nn, f"Conv{dims}d")(
        c["w"].shape[1] * c["groups"],
        c["w"].shape[0],
        c["w"].shape[2:],
        c["stride"],
        c["padding"],
        c["dilation"],
        c["groups"],
        c["bias"] is not None,
        mode,
        dtype=torch.float64,
    )
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(c["w"]))
        if c["bias"] is not None:
            layer.bias.copy_(torch.from_numpy(c["bias"]))
        try:
            with warnings.catch_warnings():  # 'same' with an even kernel: a copy, said as a UserWarning
                warnings.simplefilter("ignore", UserWarning)
                return layer(torch.from_numpy(c["x"])).numpy()
        except TORCH_REFUSALS:
            return None


@SETTINGS
@given(c=calls(), mode=st.sampled_from(MODES))
def test_conv_padding_mode_equals_torch(torch, c, mode):
    """Values of nn.Conv{n}d(padding_mode=...) to float rounding, or both refuse (reflect >= size, ...)."""
    try:
        expected = _torch(torch, c, mode)
    except TORCH_REFUSALS:  # the constructor's refusals (padding='same' with stride > 1, ...)
        expected = None
    try:
        got = tconvcalc.conv(
            c["x"], c["w"], c["bias"], c["stride"], c["padding"], c["dilation"], c["groups"], padding_mode=mode
        )
    except TConvError:
        assert expected is None
        return
    assert expected is not None
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_run_cli_padding_modes(torch):
    """run --conv --padding-mode prints torch's values; --json names the mode."""
    x = torch.arange(1.0, 6.0, dtype=torch.float64).reshape(1, 1, 5)
    for mode in MODES:
        layer = torch.nn.Conv1d(1, 1, 3, padding=2, padding_mode=mode, bias=False, dtype=torch.float64)
        with torch.no_grad():
            layer.weight.copy_(torch.tensor([[[1.0, 0.0, 2.0]]]))
        expected = layer(x)[0, 0].tolist()
        result = run_cli(["run", "[1,2,3,4,5]", "[1,0,2]", "--conv", "-p", "2", "--padding-mode", mode, "--json"])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.output)
        assert doc["output"] == expected and doc["padding_mode"] == mode


def test_run_padding_mode_refusals():
    """torch's refusals: a non-zeros mode on a ConvTranspose, reflect padding as large as the input."""
    tconv = run_cli(["run", "[1,2,3]", "[1,1]", "--padding-mode", "reflect"])
    assert tconv.exit_code == 1 and "ConvTranspose1d" in tconv.output
    reflect = run_cli(["run", "[1,2,3]", "[1,1]", "--conv", "-p", "3", "--padding-mode", "reflect"])
    assert reflect.exit_code == 1 and "smaller than the input size" in reflect.output
    assert run_cli(["run", "[1,2,3]", "[1,1]", "--padding-mode", "zeros", "--plain"]).exit_code == 0
