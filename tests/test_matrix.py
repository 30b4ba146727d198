"""The sparse matrix W: seed example, torch basis vectors, W^T y, symbolic labels, overlap counts, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import check_same, invoke
from hypothesis import given, settings
from hypothesis import strategies as st

import tconvcalc
from tconvcalc.engine.matrix import overlap_counts, symbolic_weight

SEED = [
    [1, 2, 0, 3, 4, 0, 0, 0, 0],
    [0, 1, 2, 0, 3, 4, 0, 0, 0],
    [0, 0, 0, 1, 2, 0, 3, 4, 0],
    [0, 0, 0, 0, 1, 2, 0, 3, 4],
]


def test_seed_example():
    """Kernel [[1,2],[3,4]] on a 3x3 input gives the textbook 4x9 matrix."""
    assert tconvcalc.conv_matrix([[[[1, 2], [3, 4]]]], (3, 3)).todense().tolist() == SEED


@st.composite
def configs(draw):
    dims = draw(st.integers(1, 3))
    vec = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(dims))  # noqa: E731
    groups = draw(st.sampled_from([1, 2]))
    cin_g, cout_g = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    return {
        "dims": dims,
        "groups": groups,
        "cin": cin_g * groups,
        "cout": cout_g * groups,
        "cin_g": cin_g,
        "spatial": vec(1, 5),
        "kernel": vec(1, 3),
        "stride": vec(1, 3),
        "padding": vec(0, 2),
        "dilation": vec(1, 2),
        "seed": draw(st.integers(0, 2**31)),
    }


@settings(max_examples=120, deadline=None)
@given(c=configs())
def test_matrix_equals_torch_on_basis_vectors(torch, c):
    """Column j of W is torch's conv of the j-th basis vector, and W is refused exactly where torch refuses the conv."""
    rng = np.random.default_rng(c["seed"])
    w = rng.standard_normal((c["cout"], c["cin_g"], *c["kernel"]))
    size = (c["cin"], *c["spatial"])

    def ours():
        return tconvcalc.conv_matrix(w, size, c["stride"], c["padding"], c["dilation"], c["groups"]).todense()

    def columns():
        conv = getattr(torch.nn.functional, f"conv{c['dims']}d")
        basis = torch.eye(int(np.prod(size)), dtype=torch.float64).reshape(-1, *size)
        out = conv(basis, torch.from_numpy(w), None, c["stride"], c["padding"], c["dilation"], c["groups"])
        return out.reshape(out.shape[0], -1).numpy().T

    check_same(ours, columns, RuntimeError, np.testing.assert_array_equal, name="torch")


@settings(max_examples=120, deadline=None)
@given(c=configs())
def test_transpose_times_y_is_torch_conv_transpose(torch, c):
    """W^T y is the conv's vector-Jacobian product and torch's conv_transpose(y) with build()'s output_padding."""
    from tconvcalc.engine.matrix import build

    rng = np.random.default_rng(c["seed"])
    w = rng.standard_normal((c["cout"], c["cin_g"], *c["kernel"]))
    f = torch.nn.functional

    def y_for(shape):
        return np.random.default_rng(c["seed"] + 1).standard_normal(tuple(shape))

    def ours():
        result = build(w, (c["cin"], *c["spatial"]), c["stride"], c["padding"], c["dilation"], c["groups"], True)
        return result, result.matrix.matvec(y_for(result.output_shape).ravel())

    def vjp():  # W^T y by definition: the gradient of <conv(x), y> with respect to x
        x = torch.zeros((1, c["cin"], *c["spatial"]), dtype=torch.float64, requires_grad=True)
        out = getattr(f, f"conv{c['dims']}d")(
            x, torch.from_numpy(w), None, c["stride"], c["padding"], c["dilation"], c["groups"]
        )
        y = y_for(out.shape[1:])
        out.backward(torch.from_numpy(y)[None])
        return y, x.grad[0].numpy()

    def compare(got, expected):
        (result, wty), (y, grad) = got, expected
        assert result.output_shape == y.shape and result.input_shape == grad.shape
        np.testing.assert_allclose(wty, grad.ravel(), atol=1e-12)
        conv_t = getattr(f, f"conv_transpose{c['dims']}d")
        back = conv_t(
            torch.from_numpy(y)[None],
            torch.from_numpy(w),
            None,
            c["stride"],
            c["padding"],
            result.output_padding,
            c["groups"],
            c["dilation"],
        )[0]
        assert tuple(back.shape) == result.input_shape
        np.testing.assert_allclose(wty, back.numpy().ravel(), atol=1e-12)

    check_same(ours, vjp, RuntimeError, compare, name="torch")


def test_large_matrix_is_sparse_and_fast_enough():
    """512x512 with a 3x3 kernel: about 2.3 million non-zeros held as coordinates, not a dense matrix."""
    matrix = tconvcalc.conv_matrix(np.ones((1, 1, 3, 3)), (512, 512))
    assert matrix.nnz == 510 * 510 * 9
    assert matrix.row.nbytes + matrix.col.nbytes + matrix.value.nbytes == matrix.nnz * 24


def test_symbolic_labels():
    """--symbolic labels entries as textbooks do: w11 w12 w21 w22."""
    _, labels = symbolic_weight((2, 2))
    assert labels == ["w11", "w12", "w21", "w22"]
    result = invoke(["matrix", "--symbolic", "-k", "2", "--input-size", "3x3", "--format", "dense"])
    assert result.stdout.splitlines()[0].split() == ["w11", "w12", "0", "w21", "w22", "0", "0", "0", "0"]


@settings(max_examples=100, deadline=None)
@given(dims=st.integers(1, 2), data=st.data())
def test_overlap_counts_brute_force(dims, data):
    """Overlap counts equal a brute-force count of (input element, tap) pairs landing on each output, or both refuse."""
    draw = data.draw
    vec = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(dims))  # noqa: E731
    size, k, s, p, d = vec(1, 9), vec(1, 4), vec(1, 3), vec(0, 2), vec(1, 2)

    def brute():
        # PyTorch's Conv size rule, refusing an input smaller than the dilated kernel
        padded, k_eff = [n + 2 * pp for n, pp in zip(size, p)], [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]
        if any(a < b for a, b in zip(padded, k_eff)):
            raise ValueError(f"padded input {padded} is smaller than the dilated kernel {k_eff}")
        out = [(a - b) // ss + 1 for a, b, ss in zip(padded, k_eff, s)]
        counts = np.zeros(size, dtype=int)
        for o in np.ndindex(*out):
            for j in np.ndindex(*k):
                target = tuple(oo * ss - pp + jj * dd for oo, ss, pp, jj, dd in zip(o, s, p, j, d))
                if all(0 <= t < n for t, n in zip(target, size)):
                    counts[target] += 1
        return counts

    check_same(
        lambda: overlap_counts(k, size, s, tuple((q, q) for q in p), d),
        brute,
        ValueError,
        np.testing.assert_array_equal,
        name="brute force",
    )


def test_cli_seed_and_json():
    """The CLI prints the seed matrix; --json gives shape and coordinates."""
    dense = invoke(["matrix", "[[1,2],[3,4]]", "--input-size", "3x3", "--format", "csv"])
    assert [list(map(int, line.split(","))) for line in dense.stdout.splitlines()] == SEED
    doc = json.loads(invoke(["matrix", "[[1,2],[3,4]]", "--input-size", "3x3", "--json"]).stdout)
    assert doc["shape"] == [4, 9] and doc["nnz"] == 16
    rebuilt = np.zeros(doc["shape"])
    rebuilt[doc["row"], doc["col"]] = doc["value"]
    assert rebuilt.tolist() == SEED


def test_cli_table_labels_and_transpose():
    """The table labels rows y(...) and columns x(...); --transpose swaps them and states output_padding."""
    out = invoke(["matrix", "[[1,2],[3,4]]", "--input-size", "3x3"]).stdout
    assert "x(2,2)" in out and "y(1,1)" in out
    out_t = invoke(["matrix", "[1,1,1]", "--input-size", "4", "-s", "2", "-p", "1", "--transpose"]).stdout
    assert "output_padding (1)" in out_t


def test_cli_overlap_and_verify():
    """--overlap says whether the overlap is uniform; --verify compares with the convolution."""
    uneven = invoke(["matrix", "--symbolic", "-k", "3", "--input-size", "8", "-s", "2", "--overlap"])
    assert "UNEVEN" in uneven.stdout
    even = invoke(["matrix", "--symbolic", "-k", "4", "--input-size", "8", "-s", "2", "--overlap"])
    assert "uniform" in even.stdout
    checked = invoke(["matrix", "[[1,2],[3,4]]", "--input-size", "2x4x4", "--verify", "--transpose"])
    assert checked.exit_code == 1  # a bare 2x2 kernel has one input channel, the input has two
    ok = invoke(["matrix", "[[1,2],[3,4]]", "--input-size", "4x4", "-s", "2", "--verify", "--transpose"])
    assert ok.exit_code == 0 and "verify: W^T y equals conv_transpose" in ok.stdout


def test_cli_large_matrix_summary_and_dense_refusal():
    """Past the table limit a summary says how to get the matrix; a huge dense output is refused."""
    summary = invoke(["matrix", "--symbolic", "-k", "3", "--input-size", "64x64"])
    assert "too large for a table" in summary.stdout and "non-zeros per row" in summary.stdout
    huge = invoke(["matrix", "[[1,2],[3,4]]", "--input-size", "512x512", "--format", "dense"])
    assert huge.exit_code == 1 and "use --format coo" in huge.stderr


def test_cli_save_formats(tmp_path):
    """--save writes .npz coordinates, .npy dense and .json."""
    for name in ("w.npz", "w.npy", "w.json", "w.csv"):
        assert (
            invoke(
                ["matrix", "[[1,2],[3,4]]", "--input-size", "3x3", "--save", str(tmp_path / name), "--format", "coo"],
            ).exit_code
            == 0
        )
    assert np.load(tmp_path / "w.npy").tolist() == SEED
    with np.load(tmp_path / "w.npz") as coo:
        assert coo["shape"].tolist() == [4, 9] and len(coo["value"]) == 16


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["matrix", "[[1,2],[3,4]]"], 2, "error: --input-size is required"),
        (["matrix", "--input-size", "3x3"], 2, "error: give WEIGHT, or --symbolic"),
        (["matrix", "[[1,2],[3,4]]", "--input-size", "1x1"], 1, "error: padded input size 1"),
        (
            ["matrix", "[[1,2],[3,4]]", "--input-size", "3x3", "--format", "xml"],
            2,
            "error: invalid value for '--format': 'xml' is not one of",
        ),
        (
            ["matrix", "--symbolic", "-k", "2", "--input-size", "3x3", "--save", "w.npy"],
            2,
            "error: --save 'w.npy': symbolic",
        ),
    ],
)
def test_cli_refusals(args, code, message):
    """Invalid requests: one line, the documented exit code."""
    result = invoke(args)
    assert result.exit_code == code, result.output
    assert result.stderr.startswith(message)
