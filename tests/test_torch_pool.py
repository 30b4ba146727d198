"""MaxPool, AvgPool, MaxUnpool and Upsample sizes (and refusals) against torch 2.13's modules."""

from __future__ import annotations

import warnings

from hypothesis import given, settings
from hypothesis import strategies as st

from tconvcalc import TConvError
from tconvcalc.core.pool import MODES, pool_size, unpool_size, upsample_size

SETTINGS = settings(max_examples=400, deadline=None)


def _torch_shape(torch, make, x):
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        try:
            return tuple(make()(x).shape[2:])
        except (RuntimeError, ValueError, NotImplementedError):
            return None


def _ours(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except TConvError:
        return None


@st.composite
def pools(draw):
    dims = draw(st.integers(1, 3))
    vec = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(dims))  # noqa: E731
    return (
        dims,
        vec(1, 9),
        vec(1, 4),
        draw(st.one_of(st.none(), st.just(vec(1, 3)))),
        vec(0, 2),
        vec(1, 2),
        draw(st.booleans()),
    )


@SETTINGS
@given(case=pools())
def test_maxpool_matches_torch(torch, case):
    """MaxPool{1,2,3}d: same size, or refused exactly when torch refuses (ceil_mode, dilation, padding <= k/2)."""
    dims, size, k, s, p, d, ceil = case
    module = getattr(torch.nn, f"MaxPool{dims}d")
    expected = _torch_shape(
        torch, lambda: module(k, s, p, d, ceil_mode=ceil), torch.zeros(1, 1, *size, dtype=torch.float64)
    )
    assert _ours(pool_size, size, k, s, p, d, ceil) == expected


@SETTINGS
@given(case=pools())
def test_avgpool_matches_torch(torch, case):
    """AvgPool{1,2,3}d: same size, or refused exactly when torch refuses."""
    dims, size, k, s, p, _, ceil = case
    module = getattr(torch.nn, f"AvgPool{dims}d")
    expected = _torch_shape(
        torch, lambda: module(k, s, p, ceil_mode=ceil), torch.zeros(1, 1, *size, dtype=torch.float64)
    )
    assert _ours(pool_size, size, k, s, p, 1, ceil, kind="avg") == expected


@SETTINGS
@given(dims=st.integers(1, 3), data=st.data())
def test_maxunpool_matches_torch(torch, dims, data):
    """MaxUnpool{1,2,3}d: the default size and the accepted output_size range, as torch."""
    draw = data.draw
    vec = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(dims))  # noqa: E731
    size, k, s, p = vec(1, 5), vec(1, 4), vec(1, 3), vec(0, 1)
    want = draw(st.one_of(st.none(), st.just(vec(0, 3))))
    default = tuple((i - 1) * ss - 2 * pp + kk for i, kk, ss, pp in zip(size, k, s, p))
    output_size = None if want is None else tuple(m - ss + 1 + w for m, ss, w in zip(default, s, want))
    module = getattr(torch.nn, f"MaxUnpool{dims}d")(k, s, p)
    x = torch.zeros(1, 1, *size, dtype=torch.float64)
    indices = torch.zeros(1, 1, *size, dtype=torch.long)  # index 0 is valid for any non-empty output
    with torch.no_grad():
        try:
            expected = tuple(module(x, indices, output_size=output_size).shape[2:])
        except (RuntimeError, ValueError):
            expected = None
    got = _ours(unpool_size, size, k, s, p, output_size)
    if expected is not None and 0 in expected:
        assert got == expected or got is None  # an empty output: torch allows it only without indices to write
    else:
        assert got == expected


@SETTINGS
@given(dims=st.integers(1, 3), data=st.data())
def test_upsample_matches_torch(torch, dims, data):
    """Upsample/interpolate: floor(i * scale_factor) or size; modes tied to rank; refusals as torch."""
    draw = data.draw
    size = tuple(draw(st.integers(1, 12)) for _ in range(dims))
    mode = draw(st.sampled_from(sorted(MODES)))
    if draw(st.booleans()):
        kwargs = {
            "scale_factor": draw(
                st.one_of(
                    st.floats(0.05, 4.0, allow_nan=False).map(lambda f: round(f, 3)),
                    st.tuples(*[st.floats(0.1, 3.0).map(lambda f: round(f, 2)) for _ in range(dims)]),
                )
            )
        }
    else:
        kwargs = {"size": tuple(draw(st.integers(0, 12)) for _ in range(dims))}
    if draw(st.integers(0, 4)) == 0:
        kwargs["align_corners"] = draw(st.booleans())
    expected = _torch_shape(
        torch, lambda: torch.nn.Upsample(mode=mode, **kwargs), torch.zeros(1, 1, *size, dtype=torch.float64)
    )
    assert _ours(upsample_size, size, mode=mode, **kwargs) == expected
