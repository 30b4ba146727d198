"""The NumPy engine against torch.nn.functional: values, shapes and refusals, every method."""

from __future__ import annotations

import os

import numpy as np
import pytest
from helpers import check_same
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tconvcalc
from tconvcalc import TConvError
from tconvcalc.engine.functional import METHODS

SETTINGS = settings(
    max_examples=int(os.environ.get("TCONVCALC_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def calls(draw, transposed: bool = True, valid_channels: bool = True):
    """Random conv/conv_transpose calls: 1-3 dims, groups, dilation, padding, output_padding, bias, batching."""
    dims = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin_g, cout_g = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    vec = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(dims))  # noqa: E731
    spatial = vec(1, 6)
    kernel, stride, dilation = vec(1, 4), vec(1, 3), vec(1, 2)
    padding = vec(0, 3)
    op = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation)) if transposed else ()
    batch = draw(st.sampled_from([None, 1, 2]))
    cin = groups * cin_g
    if not valid_channels and draw(st.booleans()):
        cin += 1
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(((batch,) if batch else ()) + (cin, *spatial)).astype(dtype)
    wshape = (groups * cin_g, cout_g, *kernel) if transposed else (groups * cout_g, cin_g, *kernel)
    w = rng.standard_normal(wshape).astype(dtype)
    bias = rng.standard_normal(groups * cout_g).astype(dtype) if draw(st.booleans()) else None
    return {
        "x": x,
        "w": w,
        "bias": bias,
        "stride": stride,
        "padding": padding,
        "output_padding": op,
        "dilation": dilation,
        "groups": groups,
    }


def _torch_call(torch, c, transposed):
    """torch's result in the call's dtype, or None when torch refuses the call.

    Validity is decided in float64: torch's float32 oneDNN path skips checks (it returns empty outputs for
    layers the other paths refuse; README, 'Differences').
    """
    f = getattr(torch.nn.functional, f"{'conv_transpose' if transposed else 'conv'}{c['w'].ndim - 2}d")

    def call(dtype):
        args = [
            torch.from_numpy(c["x"].astype(dtype)),
            torch.from_numpy(c["w"].astype(dtype)),
            None if c["bias"] is None else torch.from_numpy(c["bias"].astype(dtype)),
        ]
        if transposed:
            return f(*args, c["stride"], c["padding"], c["output_padding"], c["groups"], c["dilation"])
        return f(*args, c["stride"], c["padding"], c["dilation"], c["groups"])

    try:
        call(np.float64)
    except RuntimeError:
        return None
    return call(c["x"].dtype).numpy()


def _assert_like_torch(got, expected, c):
    """Same shape and dtype as torch's result, values within the dtype's rounding."""
    assert expected is not None
    assert got.shape == expected.shape and got.dtype == expected.dtype
    rtol, atol = _tolerance(c)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol * max(1.0, float(np.abs(expected).max(initial=0))))


def _tolerance(c):
    return (1e-4, 1e-4) if c["x"].dtype == np.float32 else (1e-10, 1e-10)


@SETTINGS
@given(c=calls(), method=st.sampled_from(METHODS))
def test_conv_transpose_equals_torch(torch, c, method):
    """conv_transpose (every method) equals F.conv_transpose{1,2,3}d in shape, dtype and values, or both refuse."""
    expected = _torch_call(torch, c, True)
    try:
        got = tconvcalc.conv_transpose(
            c["x"],
            c["w"],
            c["bias"],
            c["stride"],
            c["padding"],
            c["output_padding"],
            c["groups"],
            c["dilation"],
            method=method,
        )
    except TConvError:
        assert expected is None
        return
    _assert_like_torch(got, expected, c)


@SETTINGS
@given(c=calls(transposed=False))
def test_conv_equals_torch(torch, c):
    """conv equals F.conv{1,2,3}d in shape, dtype and values, or both refuse."""
    expected = _torch_call(torch, c, False)
    try:
        got = tconvcalc.conv(c["x"], c["w"], c["bias"], c["stride"], c["padding"], c["dilation"], c["groups"])
    except TConvError:
        assert expected is None
        return
    _assert_like_torch(got, expected, c)


@SETTINGS
@given(c=calls(valid_channels=False))
def test_channel_mismatch_refused_like_torch(torch, c):
    """Inputs whose channels do not fit the weight and groups are refused exactly when torch refuses them."""
    expected = _torch_call(torch, c, True)
    try:
        tconvcalc.conv_transpose(
            c["x"], c["w"], c["bias"], c["stride"], c["padding"], c["output_padding"], c["groups"], c["dilation"]
        )
        refused = False
    except TConvError:
        refused = True
    assert refused == (expected is None)


@SETTINGS
@given(c=calls(transposed=False))
def test_adjoint_identity(torch, c):
    """<conv(x), y> == <x, conv_transpose(y)> with the same weight, refusing exactly the convs torch refuses."""
    x = c["x"].astype(np.float64)
    w = c["w"].astype(np.float64)
    dims = w.ndim - 2
    # the output_padding that makes the transposed output exactly x's size; below the stride, so always valid
    op = tuple(
        (i + 2 * p - d * (k - 1) - 1) % s
        for i, p, d, k, s in zip(x.shape[-dims:], c["padding"], c["dilation"], w.shape[2:], c["stride"])
    )

    def y_for(shape):
        return np.random.default_rng(0).standard_normal(tuple(shape))

    def ours():
        cx = tconvcalc.conv(x, w, None, c["stride"], c["padding"], c["dilation"], c["groups"])
        y = y_for(cx.shape)
        ty = tconvcalc.conv_transpose(y, w, None, c["stride"], c["padding"], op, c["groups"], c["dilation"])
        return cx.shape, ty.shape, float(np.sum(cx * y)), float(np.sum(x * ty))

    def reference():
        f = torch.nn.functional
        conv, conv_t = getattr(f, f"conv{dims}d"), getattr(f, f"conv_transpose{dims}d")
        tw = torch.from_numpy(w)
        cx = conv(torch.from_numpy(x), tw, None, c["stride"], c["padding"], c["dilation"], c["groups"])
        ty = conv_t(
            torch.from_numpy(y_for(cx.shape)), tw, None, c["stride"], c["padding"], op, c["groups"], c["dilation"]
        )
        return tuple(cx.shape), tuple(ty.shape)

    def compare(got, expected):
        cx_shape, ty_shape, lhs, rhs = got
        assert (cx_shape, ty_shape) == expected
        assert ty_shape == x.shape
        assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-9)

    check_same(ours, reference, RuntimeError, compare, name="torch")
