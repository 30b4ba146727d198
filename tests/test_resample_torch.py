"""run --layer's values against torch 2.13: MaxPool (and its indices), AvgPool, MaxUnpool, interpolate."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from helpers import invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import TORCH_REFUSALS

from tconvcalc.core.errors import TConvError
from tconvcalc.core.specs import AvgPoolSpec, MaxPoolSpec, MaxUnpoolSpec, UpsampleSpec
from tconvcalc.engine import resample

SETTINGS = settings(
    max_examples=int(os.environ.get("TCONVCALC_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NEEDS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _array(draw, dims, lo=1, hi=7, float32=True):
    spatial = tuple(draw(st.integers(lo, hi)) for _ in range(dims))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((draw(st.integers(1, 2)), draw(st.integers(1, 3)), *spatial))
    if draw(st.booleans()):
        x = np.round(x * 2)  # ties: torch keeps the first maximum
    if float32 and draw(st.booleans()):
        x = x.astype(np.float32)
    return x


def _vec(draw, dims, lo, hi):
    return tuple(draw(st.integers(lo, hi)) for _ in range(dims))


def _both(ours, theirs):
    """(ours, torch's), either None when refused."""
    try:
        expected = theirs()
    except TORCH_REFUSALS:
        expected = None
    try:
        got = ours()
    except TConvError:
        got = None
    assert (got is None) == (expected is None), (got, expected)
    return got, expected


def _close(got, expected):
    assert got.shape == expected.shape and got.dtype == expected.dtype
    tol = 1e-5 if got.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


@st.composite
def pools(draw):
    dims = draw(st.integers(1, 3))
    return dict(
        x=_array(draw, dims),
        kernel_size=_vec(draw, dims, 1, 4),
        stride=_vec(draw, dims, 1, 3),
        padding=_vec(draw, dims, 0, 2),
        ceil_mode=draw(st.booleans()),
    )


@SETTINGS
@given(c=pools(), dilation=st.integers(1, 2))
def test_max_pool_and_unpool_equal_torch(torch, c, dilation):
    """MaxPool's values and flat indices, then MaxUnpool of them, or both refuse."""
    f = torch.nn.functional
    dims, x = c["x"].ndim - 2, c.pop("x")
    spec = MaxPoolSpec(dilation=dilation, return_indices=True, **c)
    got, expected = _both(
        lambda: resample.max_pool(spec, x),
        lambda: getattr(f, f"max_pool{dims}d")(torch.from_numpy(x), dilation=dilation, return_indices=True, **c),
    )
    if got is None:
        return
    _close(got[0], expected[0].numpy())
    np.testing.assert_array_equal(got[1], expected[1].numpy())
    un = dict(kernel_size=c["kernel_size"], stride=c["stride"], padding=c["padding"])
    unpooled, torch_unpooled = _both(
        lambda: resample.max_unpool(MaxUnpoolSpec(**un), got[0], got[1]),
        lambda: getattr(f, f"max_unpool{dims}d")(expected[0], expected[1], **un),
    )
    if unpooled is not None:
        _close(unpooled, torch_unpooled.numpy())


@SETTINGS
@given(c=pools(), count_include_pad=st.booleans(), divisor=st.sampled_from([None, None, 1, 3]))
def test_avg_pool_equals_torch(torch, c, count_include_pad, divisor):
    f = torch.nn.functional
    dims, x = c["x"].ndim - 2, c.pop("x")
    extra = {} if dims == 1 else {"divisor_override": divisor}
    spec = AvgPoolSpec(count_include_pad=count_include_pad, divisor_override=None if dims == 1 else divisor, **c)
    got, expected = _both(
        lambda: resample.avg_pool(spec, x),
        lambda: getattr(f, f"avg_pool{dims}d")(torch.from_numpy(x), count_include_pad=count_include_pad, **c, **extra),
    )
    if got is not None:
        _close(got, expected.numpy())


@st.composite
def interpolations(draw):
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "area", "linear", "bilinear", "bicubic", "trilinear"]))
    dims = NEEDS.get(mode) or draw(st.integers(1, 3))
    x = _array(draw, dims, 1, 6)
    align = draw(st.sampled_from([None, True, False])) if mode in NEEDS else None
    if draw(st.booleans()):
        scale = draw(st.one_of(st.sampled_from([0.5, 1.5, 2.0, 2.5, 3.0, 1 / 3]), st.floats(0.25, 3.5)))
        factors = round(scale, 4) if draw(st.booleans()) else tuple(round(scale + 0.3 * i, 4) for i in range(dims))
        return dict(
            x=x,
            mode=mode,
            align_corners=align,
            scale_factor=factors,
            size=None,
            recompute_scale_factor=draw(st.sampled_from([None, True, False])),
        )
    return dict(
        x=x, mode=mode, align_corners=align, scale_factor=None, size=_vec(draw, dims, 1, 9), recompute_scale_factor=None
    )


@SETTINGS
@given(c=interpolations())
def test_interpolate_equals_torch(torch, c):
    """Every mode, 1-3 dims, fractional scales, align_corners, recompute_scale_factor: torch's values."""
    x = c.pop("x")
    spec = UpsampleSpec(**c)
    got, expected = _both(
        lambda: resample.interpolate(spec, x),
        lambda: torch.nn.functional.interpolate(torch.from_numpy(x), **c),
    )
    if got is not None:
        _close(got, expected.numpy())


def test_reference_program(torch):
    """The issue's program: MaxPool2d(2, 2, return_indices) on an 8x8 arange, MaxUnpool2d, bilinear x2."""
    x = np.arange(64.0).reshape(8, 8)
    literal = json.dumps(x.astype(int).tolist())
    pooled = json.loads(
        invoke(["run", literal, "--layer", "maxpool", "-k", "2", "-s", "2", "--return-indices", "--json"]).output
    )
    tv, ti = torch.nn.functional.max_pool2d(torch.from_numpy(x)[None, None], 2, 2, return_indices=True)
    assert pooled["output"] == tv[0, 0].int().tolist() and pooled["indices"] == ti[0, 0].tolist()
    assert pooled["layer"] == "MaxPool2d" and pooled["output_shape"] == [4, 4]
    unpooled = json.loads(
        invoke(
            [
                "run",
                json.dumps(pooled["output"]),
                "--layer",
                "maxunpool",
                "-k",
                "2",
                "--indices",
                json.dumps(pooled["indices"]),
                "--json",
            ]
        ).output
    )
    assert unpooled["output"] == torch.nn.functional.max_unpool2d(tv, ti, 2)[0, 0].int().tolist()
    up = json.loads(
        invoke(["run", literal, "--layer", "upsample", "--scale-factor", "2", "--mode", "bilinear", "--json"]).output
    )
    expected = torch.nn.functional.interpolate(torch.from_numpy(x)[None, None], scale_factor=2, mode="bilinear")
    np.testing.assert_allclose(np.array(up["output"]), expected[0, 0].numpy())


def test_run_layer_refusals():
    """Options of the other path are refused, naming them; torch's refusals are errors (exit 1)."""
    cases = [
        (["run", "[[1,2],[3,4]]", "[[1]]", "--layer", "maxpool", "-k", "2"], 2, "WEIGHT"),
        (["run", "[[1,2],[3,4]]", "--layer", "maxpool", "-k", "2", "--method", "fast"], 2, "--method"),
        (["run", "[[1,2],[3,4]]", "--layer", "avgpool", "-k", "2", "--return-indices"], 2, "--return-indices"),
        (["run", "[[1,2],[3,4]]", "--layer", "maxunpool", "-k", "2"], 2, "--indices"),
        (["run", "[[1,2],[3,4]]", "--layer", "maxunpool", "-k", "2", "--indices", "[[0,1],[2,99]]"], 1, "invalid"),
        (
            [
                "run",
                "[[1,2],[3,4]]",
                "--layer",
                "upsample",
                "--mode",
                "nearest",
                "--align-corners",
                "--scale-factor",
                "2",
            ],
            1,
            "align_corners",
        ),
        (
            ["run", "[[1,2],[3,4]]", "--layer", "upsample", "--output-size", "3", "--recompute-scale-factor"],
            2,
            "--recompute-scale-factor",
        ),
        (["run", "[[1,2],[3,4]]", "[[1]]", "--mode", "bilinear"], 2, "--mode"),
        (["run", "[[1,2],[3,4]]"], 2, "WEIGHT"),
    ]
    for args, code, text in cases:
        result = invoke(args)
        assert result.exit_code == code, (args, result.output)
        assert text in result.output, (args, result.output)


@pytest.mark.parametrize(
    ("shape", "scale", "mode"),
    [
        ((1, 1, 2, 2), (1.6, 1.1), "nearest"),  # 2-D: an unchanged axis is copied (nearest_idx)
        ((2, 3, 3, 3), 2.1, "nearest"),  # 2-D: an exactly doubled axis is dst >> 1
        ((1, 1, 2, 2, 2), 1.25, "nearest"),  # 3-D: no shortcut, floor(dst * 0.8)
        ((1, 2, 3), 2.1, "nearest"),  # 1-D: no shortcut
        ((1, 1, 2), 1.25, "linear"),  # linear: an unchanged axis is copied
        ((1, 1, 2, 2), 1.25, "bicubic"),  # bicubic: not copied
        ((1, 1, 7, 5), 0.3, "area"),
    ],
)
def test_interpolate_kernel_quirks(torch, shape, scale, mode):
    """Cases where torch's kernels differ from the textbook formula, pinned."""
    x = np.arange(float(np.prod(shape))).reshape(shape) ** 1.5
    spec = UpsampleSpec(scale_factor=scale, mode=mode)
    expected = torch.nn.functional.interpolate(torch.from_numpy(x), scale_factor=scale, mode=mode)
    _close(resample.interpolate(spec, x), expected.numpy())


def test_run_compare_is_the_reference_program(torch):
    """run --compare: MaxPool2d(2, 2) on an 8x8 arange, MaxUnpool2d, bilinear x2 and ConvTranspose2d(stride 2)."""
    f = torch.nn.functional
    x = np.arange(64.0).reshape(8, 8)
    kernel = [[1, 2], [3, 4]]
    result = invoke(
        [
            "run",
            json.dumps(x.astype(int).tolist()),
            json.dumps(kernel),
            "--compare",
            "-k",
            "2",
            "--mode",
            "bilinear",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    tx = torch.from_numpy(x)[None, None]
    pooled, indices = f.max_pool2d(tx, 2, 2, return_indices=True)
    assert doc["pooled"] == pooled[0, 0].int().tolist() and doc["indices"] == indices[0, 0].tolist()
    assert doc["maxunpool"] == f.max_unpool2d(pooled, indices, 2)[0, 0].int().tolist()
    np.testing.assert_allclose(doc["interpolate"], f.interpolate(pooled, scale_factor=2, mode="bilinear")[0, 0])
    weight = torch.tensor(kernel, dtype=torch.float64)[None, None]
    assert doc["conv_transpose"] == f.conv_transpose2d(pooled, weight, stride=2)[0, 0].int().tolist()
    assert doc["overlap"] == [[1] * 8] * 8
    refused = invoke(["run", "[1,2,3,4]", "--compare", "-k", "2", "--ceil-mode"])
    assert refused.exit_code == 2 and "--ceil-mode" in refused.output
