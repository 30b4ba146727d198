"""invert-conv and solve against real torch modules."""

from __future__ import annotations

import warnings

from helpers import check_same
from hypothesis import given, settings
from hypothesis import strategies as st

from tconvcalc import TensorShape
from tconvcalc.core.invert import invert_conv, solve_transpose


@settings(max_examples=200, deadline=None)
@given(dims=st.integers(1, 3), data=st.data())
def test_output_padding_restores_input_through_torch(torch, dims, data):
    """Conv{n}d then ConvTranspose{n}d with the suggested output_padding restores the input; refused where Conv is."""
    draw = data.draw
    vec = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(dims))  # noqa: E731
    spatial, k, s, p, d = vec(1, 12), vec(1, 4), vec(1, 3), vec(0, 2), vec(1, 2)
    x = torch.zeros((1, 2, *spatial), dtype=torch.float64)

    def conv():
        module = getattr(torch.nn, f"Conv{dims}d")(2, 3, k, stride=s, padding=p, dilation=d, dtype=torch.float64)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return module(x)

    def restores(inv, y):
        assert tuple(y.shape) == inv.conv_output_shape
        back = getattr(torch.nn, f"ConvTranspose{dims}d")(
            3, 2, k, stride=s, padding=p, dilation=d, output_padding=inv.output_padding, dtype=torch.float64
        )
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert tuple(back(y).shape) == tuple(x.shape)

    check_same(
        lambda: invert_conv(TensorShape(spatial, 2, 1), k, s, p, d, out_channels=3),
        conv,
        RuntimeError,
        restores,
        name="torch",
    )


@settings(max_examples=40, deadline=None)
@given(i=st.integers(1, 10), o=st.integers(1, 24))
def test_every_solution_produces_the_size_in_torch(torch, i, o):
    """Each ConvTranspose that solve lists gives the requested size in torch."""
    for x in solve_transpose(i, o, 4, 3, 2):
        module = torch.nn.ConvTranspose1d(
            1,
            1,
            x.kernel_size,
            stride=x.stride,
            padding=x.padding,
            output_padding=x.output_padding,
            dilation=x.dilation,
            dtype=torch.float64,
        )
        with torch.no_grad():
            assert module(torch.zeros(1, 1, i, dtype=torch.float64)).shape[-1] == o
