"""The engine's rules without torch: seed examples, dtypes, layouts, refusals and the memory budget."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_same
from hypothesis import given, settings
from hypothesis import strategies as st

import tconvcalc
from tconvcalc import LayerError, ResourceError, UsageError
from tconvcalc.engine.functional import METHODS

X = K = np.array([[0, 1], [2, 3]])


def _bare(x, k, **kw):
    return tconvcalc.conv_transpose(x[None, None], k[None, None], **kw)[0, 0]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, [[0, 0, 1], [0, 4, 6], [4, 12, 9]]),
        ({"padding": 1}, [[4]]),
        ({"stride": 2}, [[0, 0, 0, 1], [0, 0, 2, 3], [0, 2, 0, 3], [4, 6, 6, 9]]),
    ],
)
def test_seed_examples(method, kwargs, expected):
    """The seed material's three examples, by every method."""
    assert _bare(X, K, method=method, **kwargs).tolist() == expected


def test_output_padding_adds_computed_values_not_zeros():
    """output_padding extends the end with computed values: op=0 output is a prefix of the op=1 output."""
    y, w = np.array([[[1.0, 2.0, 3.0]]]), np.array([[[1.0, 1.0, 1.0]]])
    short = tconvcalc.conv_transpose(y, w, stride=2, padding=1)
    long = tconvcalc.conv_transpose(y, w, stride=2, padding=1, output_padding=1)
    assert long.shape[-1] == short.shape[-1] + 1
    np.testing.assert_array_equal(long[..., :-1], short)
    assert long[0, 0, -1] != 0


def test_output_padding_past_full_output_is_bias():
    """Where output_padding reaches past every kernel window the value is the bias alone."""
    out = tconvcalc.conv_transpose(np.ones((1, 2)), np.ones((1, 1, 1)), bias=[5.0], stride=2, output_padding=1)
    assert out.tolist() == [[6.0, 5.0, 6.0, 5.0]]


@pytest.mark.parametrize(
    ("dtypes", "expected"),
    [
        ((np.float32, np.float32), np.float32),
        ((np.float32, np.float64), np.float64),
        ((np.int64, np.int64), np.float64),
    ],
)
def test_dtype_rule(dtypes, expected):
    """float32 stays float32; everything else computes in float64."""
    out = tconvcalc.conv_transpose(np.ones((1, 3, 3), dtypes[0]), np.ones((1, 1, 2, 2), dtypes[1]))
    assert out.dtype == expected


def test_unbatched_input_keeps_its_rank():
    """(C, *spatial) input gives (C_out, *spatial) output, as in torch."""
    assert tconvcalc.conv_transpose(np.ones((4, 3, 3)), np.ones((4, 6, 2, 2))).shape == (6, 4, 4)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs", "message"),
    [
        ((1, 3, 5, 5), (4, 3, 3, 3), {}, "has 3 channels, but the weight (4, 3, 3, 3) with groups=1 expects 4"),
        ((1, 4, 5, 5), (4, 3, 3, 3), {"bias": np.ones(4)}, "bias must have shape (3,) for 3 output channels"),
        ((5, 5), (4, 3, 3, 3), {}, "expected a 3-axis (unbatched) or 4-axis (batched) input to conv_transpose2d"),
        ((1, 4, 5, 5), (4, 3), {}, "weight must have 3 to 5 axes"),
        ((1, 4, 5, 5), (4, 3, 3, 3), {"groups": 3}, "its 4 input channels are not divisible by groups=3"),
        ((1, 4, 5, 5), (4, 3, 3, 3), {"stride": 2, "output_padding": 2}, "output_padding=2 must be smaller"),
    ],
)
def test_refusals(x_shape, w_shape, kwargs, message):
    """Shapes that do not fit are refused with the numbers involved."""
    with pytest.raises(LayerError) as info:
        tconvcalc.conv_transpose(np.ones(x_shape), np.ones(w_shape), **kwargs)
    assert message in str(info.value)


def test_non_numeric_refused():
    """Object or string arrays are refused as a usage error."""
    with pytest.raises(UsageError, match="real numbers"):
        tconvcalc.conv_transpose(np.array([["a"]]), np.ones((1, 1, 1)))


@pytest.mark.parametrize("method", METHODS)
def test_memory_budget(method):
    """Work beyond the memory budget is refused, naming the size it would need."""
    with pytest.raises(ResourceError, match=r"would need .* over the memory limit of 1.0 KiB"):
        tconvcalc.conv_transpose(np.ones((1, 1, 32, 32)), np.ones((1, 1, 3, 3)), method=method, memory_limit=1024)


def test_unknown_method():
    """An unknown method is a usage error."""
    with pytest.raises(UsageError, match="unknown method"):
        tconvcalc.conv_transpose(np.ones((1, 1, 2)), np.ones((1, 1, 2)), method="magic")


def test_conv_same_padding_puts_extra_at_end():
    """Conv 'same' with an even kernel pads (1, 2): the extra zero at the end, as torch."""
    x = np.arange(5.0)[None]
    out = tconvcalc.conv(x, np.ones((1, 1, 4)), padding="same")
    assert out.tolist() == [[3.0, 6.0, 10.0, 9.0, 7.0]]


def test_conv_transpose_is_matrix_transpose():
    """conv_transpose(y) equals W^T y with W = conv_matrix of the same weight (the name 'transposed')."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((2, 3, 3, 2))
    matrix = tconvcalc.conv_matrix(w, (3, 6, 5), stride=(2, 1), padding=(1, 0)).todense()
    y = rng.standard_normal((2, 3, 4))  # the conv output for a 6x5 input
    out = tconvcalc.conv_transpose(y, w, stride=(2, 1), padding=(1, 0), output_padding=(1, 0))
    np.testing.assert_allclose(out.ravel(), matrix.T @ y.ravel(), atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(dims=st.integers(1, 3), data=st.data())
def test_views_agree_without_torch(dims, data):
    """Every method computes what the fast path computes, refusing exactly where the size formula is not positive."""
    draw = data.draw
    vec = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(dims))  # noqa: E731
    groups = draw(st.sampled_from([1, 2]))
    stride, dilation = vec(1, 3), vec(1, 2)
    op = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    y = rng.standard_normal((2, groups * draw(st.integers(1, 2)), *vec(1, 5)))
    w = rng.standard_normal((y.shape[1], draw(st.integers(1, 2)), *vec(1, 3)))
    padding = vec(0, 2)
    args = (None, stride, padding, op, groups, dilation)

    def ours():
        return {method: tconvcalc.conv_transpose(y, w, *args, method=method) for method in METHODS}

    def formula():  # PyTorch's documented size rule, which refuses a non-positive output size
        sizes = [
            (i - 1) * s - 2 * p + d * (k - 1) + o + 1
            for i, k, s, p, o, d in zip(y.shape[2:], w.shape[2:], stride, padding, op, dilation)
        ]
        if min(sizes) < 1:
            raise ValueError(f"output size {sizes} is not positive")
        return (y.shape[0], w.shape[1] * groups, *sizes)

    def compare(outputs, shape):
        fast = outputs[METHODS[0]]
        assert fast.shape == shape
        for method in METHODS[1:]:
            np.testing.assert_allclose(outputs[method], fast, atol=1e-12, err_msg=method)

    check_same(ours, formula, ValueError, compare, name="the size formula")
