"""invert-conv and solve: core rules against brute force (no torch), and the CLI contract."""

from __future__ import annotations

import json

import pytest
from helpers import check_same, invoke
from hypothesis import given, settings
from hypothesis import strategies as st

from tconvcalc import LayerError, TConvError, TensorShape
from tconvcalc.core.invert import invert_conv, invert_dim, solve_conv, solve_transpose, uniform_overlap
from tconvcalc.core.sizes import conv_output_size, conv_transpose_output_size


def test_seed_cases():
    """1x10x16x16 through Conv2d(10, 20, 5, padding=2, stride=3) gives 1x20x6x6, restored with op 0."""
    inv = invert_conv(TensorShape((16, 16), 10, 1), 5, 3, 2, out_channels=20)
    assert inv.conv_output_shape == (1, 20, 6, 6)
    assert inv.output_padding == (0, 0)
    assert inv.conv_layer == "nn.Conv2d(10, 20, kernel_size=5, stride=3, padding=2)"
    assert (
        inv.conv_transpose_layer == "nn.ConvTranspose2d(20, 10, kernel_size=5, stride=3, padding=2, output_padding=0)"
    )
    assert invert_dim(24, 3, 2, 1, 1).conv_output == invert_dim(23, 3, 2, 1, 1).conv_output == 12
    assert (invert_dim(24, 3, 2, 1, 1).output_padding, invert_dim(23, 3, 2, 1, 1).output_padding) == (1, 0)


@settings(max_examples=300, deadline=None)
@given(i=st.integers(1, 40), k=st.integers(1, 6), s=st.integers(1, 4), p=st.integers(0, 4), d=st.integers(1, 3))
def test_preimage_and_restoring_output_padding_brute_force(i, k, s, p, d):
    """The preimage is exactly the sizes the conv maps to the same output, each op restores its size (brute force)."""

    def conv_out(size):  # PyTorch's Conv size rule; None where it refuses the input
        padded, k_eff = size + 2 * p, d * (k - 1) + 1
        return None if padded < k_eff else (padded - k_eff) // s + 1

    def brute():
        o = conv_out(i)
        if o is None:
            raise ValueError(f"padded input {i + 2 * p} is smaller than the dilated kernel")
        sizes = [size for size in range(1, i + 3 * s + 10) if conv_out(size) == o]
        # the valid output_paddings of the ConvTranspose back from o that give each size
        ops = {
            size: [op for op in range(max(s, d)) if (o - 1) * s - 2 * p + d * (k - 1) + op + 1 == size]
            for size in sizes
        }
        return o, sizes, ops

    def compare(inv, expected):
        o, sizes, ops = expected
        assert inv.conv_output == o
        assert inv.preimage == (sizes[0], sizes[-1]) and len(sizes) == sizes[-1] - sizes[0] + 1
        assert i in sizes
        assert [size for size, _ in inv.restores] == sizes
        assert all(ops[size] == [op] for size, op in inv.restores)
        assert dict(inv.restores)[i] == inv.output_padding

    check_same(lambda: invert_dim(i, k, s, p, d), brute, ValueError, compare, name="brute force")


def _brute(i, o, mk, ms, md, transposed):
    found = set()
    for k in range(1, mk + 1):
        for s in range(1, ms + 1):
            for d in range(1, md + 1):
                for p in range(0, 3 * (i + o + k * d)):
                    for op in range(max(s, d)) if transposed else [None]:
                        try:
                            if transposed:
                                ok = conv_transpose_output_size((i,), k, s, p, op, d) == (o,)
                            else:
                                ok = conv_output_size((i,), k, s, p, d) == (o,)
                        except TConvError:
                            continue
                        if ok:
                            found.add((k, s, p, op, d))
    return _distinct(found, i, transposed)


def _distinct(layers, i, transposed):
    """One of each set of layers that compute the same function: a one-tap kernel has no dilation, and a
    ConvTranspose of a single input element does not move it by the stride (the smallest stride stands)."""
    layers = {x for x in layers if not (x[0] == 1 and x[4] > 1)}
    if transposed and i == 1:
        smallest = {}
        for k, s, p, op, d in sorted(layers, key=lambda x: x[1]):
            smallest.setdefault((k, p, op, d), (k, s, p, op, d))
        layers = set(smallest.values())
    return layers


@settings(max_examples=60, deadline=None)
@given(i=st.integers(1, 12), o=st.integers(1, 30), transposed=st.booleans())
def test_solve_is_complete_and_correct(i, o, transposed):
    """solve lists every distinct layer within the bounds that maps i to o, and nothing else (brute force)."""
    bounds = (4, 3, 2)
    found = (solve_transpose if transposed else solve_conv)(i, o, *bounds)
    got = {(x.kernel_size, x.stride, x.padding, x.output_padding if transposed else None, x.dilation) for x in found}
    assert got == _brute(i, o, *bounds, transposed)
    assert len(got) == len(found)


def test_solve_ranking_seed():
    """16 -> 32: k=2,s=2,p=0 and k=4,s=2,p=1 first; k=3,s=2,p=1,op=1 below them."""
    sols = [
        (x.kernel_size, x.stride, x.padding, x.output_padding, x.dilation) for x in solve_transpose(16, 32, 7, 4, 2)
    ]
    assert sols[:2] == [(2, 2, 0, 0, 1), (4, 2, 1, 0, 1)]
    assert sols.index((3, 2, 1, 1, 1)) > 2


def test_uniform_overlap_matches_tap_counts():
    """Uniform overlap means every residue mod s gets as many taps; k divisible by s when d = 1."""
    for k in range(1, 9):
        for s in range(1, 5):
            assert uniform_overlap(k, s, 1) == (k % s == 0)


def test_asymmetric_same_padding_explained():
    """A 'same' conv with odd d(k-1) has no ConvT inverse; the message gives the exact adjoint instead."""
    with pytest.raises(LayerError, match=r"pads \(1, 2\) .* padding=1 with the last 1 element\(s\) sliced off"):
        invert_conv(TensorShape((7,)), 4, 1, "same")


def test_cli_invert_conv_json_keys():
    """invert-conv --json: conv_output_shape, output_padding, preimage (and the layer pair)."""
    result = invoke(["invert-conv", "1x10x16x16", "-k", "5", "-s", "3", "-p", "2", "--out-channels", "20", "--json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["conv_output_shape"] == [1, 20, 6, 6]
    assert doc["output_padding"] == [0, 0]
    assert doc["preimage"] == [[16, 18], [16, 18]]
    assert doc["conv_transpose_layer"].startswith("nn.ConvTranspose2d(20, 10,")


def test_cli_invert_conv_table():
    """The table names the preimage with each size's output_padding, and prints the layer pair."""
    out = invoke(["invert-conv", "24", "--dims", "1", "-k", "3", "-s", "2", "-p", "1"]).stdout
    assert "23 (op 0), 24 (op 1)" in out
    assert "output_padding=1)" in out.replace("\n", "")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["invert-conv", "5", "-k", "7"], 1, "error: padded input size 5"),
        (["invert-conv", "4x5x5", "-k", "3", "-g", "3"], 1, "error: in_channels=4 is not divisible by --groups=3"),
        (["solve", "16x8", "32"], 2, "error: IN has 2 values and OUT 1"),
        (["solve", "1", "1000"], 1, "error: no layer within the bounds maps 1 -> 1000"),
        (["solve", "0", "4"], 2, "error: sizes must be at least 1"),
    ],
)
def test_cli_refusals(args, code, message):
    """Invalid convolutions and impossible requests: one line, the documented exit code."""
    result = invoke(args)
    assert result.exit_code == code, result.output
    assert result.stderr.startswith(message)


def test_cli_solve_per_dimension_json():
    """solve 16x8 32x16 solves each dimension; --top limits the list; --conv solves the forward layer."""
    doc = json.loads(invoke(["solve", "16x8", "32x16", "--top", "2", "--json"]).stdout)
    assert [d["input"] for d in doc["dims"]] == [16, 8]
    assert all(len(d["solutions"]) == 2 for d in doc["dims"])
    conv = json.loads(invoke(["solve", "32", "16", "--conv", "--json"]).stdout)
    first = conv["dims"][0]["solutions"][0]
    assert conv_output_size((32,), first["kernel_size"], first["stride"], first["padding"], first["dilation"]) == (16,)
