"""Framework conventions: sizes and values per convention, the ONNX reference evaluator, translation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import DATA
from helpers import TF_SAME_ODD_CROP, check_same, invoke
from hypothesis import event, example, given, reject, settings
from hypothesis import strategies as st
from oracle import TORCH_REFUSALS, torch_output_shape

import tconvcalc
from tconvcalc import LayerError
from tconvcalc.core.conventions import (
    jax_placement,
    keras_output_length,
    keras_placement,
    onnx_placement,
    tf_placement,
    torch_equivalent,
    torch_placement,
    torch_same_shape,
)
from tconvcalc.core.translate import translate
from tconvcalc.engine.relayout import apply_placement, to_torch_weight

CONFORMANCE = json.loads((DATA / "onnx_convtranspose.json").read_text())["cases"]


@pytest.mark.parametrize("case", CONFORMANCE, ids=lambda c: c["name"])
def test_every_onnx_case_through_run_convention_onnx(case, tmp_path):
    """run --convention onnx reproduces all eleven ONNX backend cases, auto_pad included, from .npy files."""
    attrs, dims = case["attrs"], len(np.array(case["w"]).shape) - 2
    np.save(tmp_path / "x.npy", np.array(case["x"], dtype=np.float32))
    np.save(tmp_path / "w.npy", np.array(case["w"], dtype=np.float32))
    args = [
        "run",
        str(tmp_path / "x.npy"),
        str(tmp_path / "w.npy"),
        "--convention",
        "onnx",
        "--dims",
        str(dims),
        "--json",
    ]
    names = {
        "strides": "-s",
        "dilations": "-d",
        "pads": "--pads",
        "output_padding": "--output-padding",
        "output_shape": "--output-shape",
        "auto_pad": "--auto-pad",
    }
    for key, value in attrs.items():
        if key in names:
            args += [names[key], value if isinstance(value, str) else ",".join(map(str, value))]
    if "group" in attrs:
        args += ["-g", str(attrs["group"])]
    result = invoke(args)
    assert result.exit_code == 0, result.stderr
    np.testing.assert_allclose(np.array(json.loads(result.stdout)["output"]), np.array(case["y"]), atol=1e-9, rtol=0)


def _onnx_reference(x, w, attrs):
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    node = helper.make_node("ConvTranspose", ["X", "W"], ["Y"], **attrs)
    info = [helper.make_tensor_value_info(n, TensorProto.DOUBLE, None) for n in ("X", "W")]
    graph = helper.make_graph([node], "g", info, [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
    return ReferenceEvaluator(model).run(None, {"X": x, "W": w})[0]


def _totals(c):
    """The spec's total padding per dim for an output_shape: s(i-1) + op + d(k-1) + 1 - output_shape."""
    return [
        a * (i - 1) + o + b * (kk - 1) + 1 - want
        for i, kk, a, b, o, want in zip(
            c["size"], c["kernel"], c["stride"], c["dilation"], c["output_padding"], c["output_shape"]
        )
    ]


@st.composite
def onnx_layers(draw):
    """ONNX ConvTranspose attributes in 1 or 2 dims: pads, output_shape or auto_pad, with some invalid sizes."""
    dims = draw(st.integers(1, 2))
    vec = lambda lo, hi: [draw(st.integers(lo, hi)) for _ in range(dims)]  # noqa: E731
    size, k, s, d = vec(1, 5), vec(1, 3), vec(1, 3), vec(1, 2)
    c = {
        "size": size,
        "kernel": k,
        "stride": s,
        "dilation": d,
        "output_padding": [draw(st.integers(0, max(a, b) - 1)) for a, b in zip(s, d)],
        "auto_pad": draw(st.sampled_from(["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"])),
        "pads": None,
        "output_shape": None,
    }
    if c["auto_pad"] == "NOTSET" and draw(st.booleans()):
        c["pads"] = vec(0, 2) + vec(0, 2)
    elif c["auto_pad"] == "NOTSET" and draw(st.booleans()):
        full = [(i - 1) * a + b * (kk - 1) + 1 for i, a, b, kk in zip(size, s, d, k)]
        c["output_shape"] = [f + draw(st.integers(-1, 2)) for f in full]
    c["seed"] = draw(st.integers(0, 2**31))
    return c


@settings(max_examples=150, deadline=None)
@given(c=onnx_layers())
@example(  # total padding -2: the zeros go at the end, as onnx.reference (and ONNX Runtime) put them
    c={
        "size": [1],
        "kernel": [1],
        "stride": [3],
        "dilation": [1],
        "output_padding": [0],
        "auto_pad": "NOTSET",
        "pads": None,
        "output_shape": [3],
        "seed": 0,
    }
)
def test_onnx_against_reference_evaluator(c):
    """ONNX values and refusals equal onnx.reference's; where it departs from the spec we follow the spec and flag."""
    pytest.importorskip("onnx")
    s, d, op, mode = c["stride"], c["dilation"], c["output_padding"], c["auto_pad"]
    attrs = {"strides": s, "dilations": d, "output_padding": op, "kernel_shape": c["kernel"]}
    attrs |= {name: c[name] for name in ("pads", "output_shape") if c[name] is not None}
    if mode != "NOTSET":
        attrs["auto_pad"] = mode
    rng = np.random.default_rng(c["seed"])
    x, w = rng.standard_normal((1, 2, *c["size"])), rng.standard_normal((2, 1, *c["kernel"]))

    def ours():
        p = onnx_placement(c["size"], c["kernel"], s, c["pads"], op, c["output_shape"], mode, d)
        return p, apply_placement(tconvcalc.conv_transpose(x, w, None, s, 0, 0, 1, d), p.crops)

    def evaluator():
        try:
            y = _onnx_reference(x, w, attrs)
        except ValueError:
            if any(o >= a for o, a in zip(op, s)):  # its col2im counts input blocks as if output_padding < stride
                event("filtered: onnx.reference cannot run output_padding >= stride")
                reject()
            raise
        if y.size == 0:  # it returns an empty array where tconvcalc, as torch, refuses a size-0 output
            raise ValueError(f"empty output {y.shape}")
        return y

    def same_values(got, expected):
        assert got[1].shape == expected.shape
        np.testing.assert_allclose(got[1], expected, atol=1e-10)

    in_range = c["output_shape"] is None or all(t - o > -a for t, o, a in zip(_totals(c), op, s))  # O <= F + s - 1
    if c["output_shape"] is None or mode not in ("NOTSET", "VALID") or (max(_totals(c)) <= 0 and in_range):
        check_same(ours, evaluator, ValueError, same_values, name="onnx.reference")
        return

    # The evaluator reads output_shape with pads 0 instead of splitting a positive total padding, and refuses an
    # output_shape beyond full + stride - 1 (README): there the operator text is the oracle, and tconvcalc must
    # flag the evaluator's departure.
    def spec():
        if min(c["output_shape"]) < 1:
            raise ValueError(f"output_shape {c['output_shape']} is not positive")
        return (1, 1, *c["output_shape"])

    def flagged(got, shape):
        assert got[1].shape == shape
        assert any("onnx.reference" in note for note in got[0].notes), got[0].notes

    check_same(ours, spec, ValueError, flagged, name="the ONNX operator text")


def test_onnx_flags_inference_disagreement():
    """SAME_* with output_padding, and SAME with a kernel smaller than the stride, carry the onnx#4299 flags."""
    assert any("onnx#4299" in n for n in onnx_placement((3,), 3, 2, None, 1, None, "SAME_UPPER").notes)
    assert any("clamps" in n for n in onnx_placement((3,), 1, 3, None, 0, None, "SAME_LOWER").notes)
    with pytest.raises(LayerError, match="cannot be used simultaneously"):
        onnx_placement((3,), 3, 2, [1, 1], 0, None, "SAME_UPPER")


@pytest.mark.parametrize("padding", ["valid", "same"])
@settings(max_examples=200, deadline=None)
@given(i=st.integers(1, 9), k=st.integers(1, 5), s=st.integers(1, 4), op=st.one_of(st.none(), st.integers(0, 3)))
def test_keras_sizes_follow_both_rules(padding, i, k, s, op):
    """Keras 3's placement gives tf_keras' deconv_output_length and Keras 3's own output-shape rule."""
    if op is not None and op >= s:  # Keras 3 refuses it before any size rule applies
        with pytest.raises(LayerError, match="`output_padding` must be strictly less than `strides`"):
            keras_placement((i,), k, s, padding, op)
        return
    keras3 = (
        (i - 1) * s + k + (max(k, s) - k if op is None else op)
        if padding == "valid"
        else (i * s if op is None else (i - 1) * s + k % 2 + op)
    )
    assert keras_output_length(i, k, s, padding, op) == keras3
    if keras3 < 1:
        with pytest.raises(LayerError, match="not positive"):
            keras_placement((i,), k, s, padding, op)
    else:
        assert keras_placement((i,), k, s, padding, op).output_size == (keras3,)


def test_keras_none_and_zero_differ_and_full_is_helper_only():
    """output_padding None and 0 give different shapes (tensorflow#50168); 'full' is refused for the layer."""
    assert keras_placement((4,), 3, 2, "same", None).output_size == (8,)
    assert keras_placement((4,), 3, 2, "same", 0).output_size == (7,)
    assert keras_output_length(4, 3, 2, "full", None) == 5
    with pytest.raises(LayerError, match="'full' exists only in tf_keras"):
        keras_placement((4,), 3, 2, "full", None)


@settings(max_examples=200, deadline=None)
@given(i=st.integers(1, 9), k=st.integers(1, 5), s=st.integers(1, 4))
def test_same_means_the_same_in_tf_keras_and_jax(i, k, s):
    """'same' in TF (output i*s), Keras (output_padding None) and JAX is one placement: extra crop at the end."""
    tf = tf_placement((i,), k, s, "SAME", (i * s,))
    assert tf.crops == keras_placement((i,), k, s, "same", None).crops == jax_placement((i,), k, s, "SAME").crops
    begin, end = tf.crops[0]
    assert tf.output_size == (i * s,) and (begin <= end or end < 0 <= begin)


def test_tf_output_shape_range_is_enforced():
    """tf.nn.conv2d_transpose refuses an output_shape outside the valid range, naming it."""
    assert tf_placement((4,), 3, 2, "VALID", (10,)).output_size == (10,)
    with pytest.raises(LayerError, match=r"Size of out_backprop doesn't match computed.*\[9, 10\]"):
        tf_placement((4,), 3, 2, "VALID", (11,))
    with pytest.raises(LayerError, match=r"\[7, 8\]"):
        tf_placement((4,), 3, 2, "SAME", (9,))


def _jax_reference(x, rhs_hwio, s, pad_pairs, d):
    """conv_general_dilated with lhs_dilation, by hand: zero-insert, pad (negative crops), correlate unflipped."""
    n = x.ndim - 2
    z = np.zeros((*x.shape[:2], *[(i - 1) * a + 1 for i, a in zip(x.shape[2:], s)]))
    z[(Ellipsis, *(slice(None, None, a) for a in s))] = x
    for dim, (lo, hi) in enumerate(pad_pairs):
        axis = 2 + dim
        z = np.pad(z, [(0, 0)] * axis + [(max(lo, 0), max(hi, 0))] + [(0, 0)] * (z.ndim - axis - 1))
        z = np.take(z, np.arange(max(-lo, 0), z.shape[axis] - max(-hi, 0)), axis=axis)
    w_conv = np.moveaxis(rhs_hwio, (n, n + 1), (1, 0))  # HWIO -> OIHW, unflipped (a correlation)
    return tconvcalc.conv(z, w_conv, None, 1, 0, d)


@settings(max_examples=120, deadline=None)
@given(data=st.data(), transpose_kernel=st.booleans())
def test_jax_values_match_its_definition(data, transpose_kernel, tmp_path_factory):
    """run --convention jax equals lax.conv_transpose's definition (zero insertion, padding, correlation with the
    kernel as given, or mirrored with I/O swapped under transpose_kernel)."""
    draw = data.draw
    size, k, s = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["SAME", "VALID"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    x, rhs = rng.standard_normal((1, 2, size)), rng.standard_normal((k, 2, 3))  # 'WIO': I=2 in, O=3 out
    p = jax_placement((size,), k, s, mode)
    pads = [(k - 1 - b, k - 1 - e) for b, e in p.crops]
    if transpose_kernel:  # then rhs is the forward conv's kernel: its I is our output channels
        rhs = rng.standard_normal((k, 3, 2))
        expected = _jax_reference(x, np.swapaxes(rhs[::-1], 1, 2), (s,), pads, (1,))
    else:
        expected = _jax_reference(x, rhs, (s,), pads, (1,))
    folder = tmp_path_factory.mktemp("jax")
    np.save(folder / "x.npy", x)
    np.save(folder / "w.npy", rhs)
    args = [
        "run",
        str(folder / "x.npy"),
        str(folder / "w.npy"),
        "--convention",
        "jax",
        "--dims",
        "1",
        "-s",
        str(s),
        "-p",
        mode,
        "--weight-layout",
        "WIO",
        "--json",
    ] + (["--transpose-kernel"] if transpose_kernel else [])
    result = invoke(args)
    assert result.exit_code == 0, result.stderr
    np.testing.assert_allclose(np.array(json.loads(result.stdout)["output"]), expected, atol=1e-12)


def test_keras_kernel_layout_values_equal_torch():
    """A Keras/TF kernel (*k, C_out, C_in) with 'valid' and output_padding 0 gives PyTorch's values."""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((1, 2, 4, 3)), rng.standard_normal((2, 3, 3, 2))
    expected = tconvcalc.conv_transpose(x, w, stride=2)
    keras_kernel = np.transpose(w, (2, 3, 1, 0))
    p = keras_placement((4, 3), (3, 2), 2, "valid", 0)
    full = tconvcalc.conv_transpose(x, to_torch_weight(keras_kernel, "HWOI", 2), stride=2)
    np.testing.assert_allclose(apply_placement(full, p.crops), expected, atol=1e-12)


@settings(max_examples=300, deadline=None)
@given(dims=st.integers(1, 3), data=st.data())
def test_translation_round_trips_torch_onnx_torch(torch, dims, data):
    """torch -> onnx -> torch gives back the same padding and output_padding, for the layers torch accepts."""
    draw = data.draw
    vec = lambda lo, hi: tuple(draw(st.integers(lo, hi)) for _ in range(dims))  # noqa: E731
    size, k, s, d, p = vec(1, 6), vec(1, 4), vec(1, 3), vec(1, 2), vec(0, 2)
    op = tuple(draw(st.integers(0, max(a, b) - 1)) for a, b in zip(s, d))

    def round_trip():
        placement = torch_placement(size, k, s, p, op, d)
        attrs = translate(placement).onnx
        assert attrs is not None
        back = onnx_placement(
            size,
            attrs["kernel_shape"],
            attrs["strides"],
            attrs["pads"],
            attrs["output_padding"],
            None,
            "NOTSET",
            attrs["dilations"],
        )
        return placement, back

    def module_shape():
        return torch_output_shape("conv_transpose", (1, 1, *size), 1, k, s, p, d, 1, op)

    def compare(got, shape):
        placement, back = got
        assert placement.output_size == shape[2:]
        assert back.crops == placement.crops
        assert torch_equivalent(back) == (*p, *op)

    check_same(round_trip, module_shape, TORCH_REFUSALS, compare, name="torch")


def test_one_pixel_shift_detected_and_explained():
    """TF/Keras 'same' with an odd total crop has no exact PyTorch form; the same-shape one shifts the values."""
    tf = tf_placement((4,), 3, 2, "SAME", (8,))
    assert torch_equivalent(tf) is None
    pad, op = torch_same_shape(tf)
    assert (pad, op) == ((1,), (1,))
    y, w = np.arange(1.0, 5.0)[None, None], np.array([[[1.0, 2.0, 3.0]]])
    full = tconvcalc.conv_transpose(y, w, stride=2)
    tf_values = apply_placement(full, tf.crops)
    torch_values = tconvcalc.conv_transpose(y, w, stride=2, padding=1, output_padding=1)
    assert tf_values.shape == torch_values.shape
    np.testing.assert_array_equal(tf_values[..., 1:], torch_values[..., :-1])  # shifted by one
    assert not np.array_equal(tf_values, torch_values)
    result = invoke(
        [*TF_SAME_ODD_CROP, "--json"],
    )
    doc = json.loads(result.stdout)
    assert doc["torch"] is None and "shifted" in doc["torch_same_shape"]
    assert doc["exact_recipe"].endswith("y[..., 0:8]")
    assert doc["keras"].endswith("padding='same', output_padding=None)")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["shape", "4", "-k", "3", "--convention", "tf", "-p", "same"], 2, "needs --output-shape"),
        (["shape", "4", "-k", "3", "--pads", "1,1"], 2, "--pads and --auto-pad are ONNX attributes"),
        (
            ["shape", "4", "-k", "3", "--convention", "keras", "-s", "2", "--output-padding", "2"],
            1,
            "`output_padding` must be strictly less than `strides`",
        ),
        (["shape", "4", "-k", "3", "--convention", "mxnet"], 2, "invalid value for '--convention': 'mxnet'"),
    ],
)
def test_convention_refusals(args, code, message):
    """Convention misuse: one line with the framework's own rule, the documented exit code."""
    result = invoke(args)
    assert result.exit_code == code, result.output
    assert message in result.stderr


@pytest.mark.parametrize(
    ("args", "accepted"),
    [
        # TF's padding attr is an enum of upper-case strings: 'same' fails in TF itself (checked with TF 2.21:
        # "Value for attr 'padding' of \"same\" is not in the list of allowed values").
        (["shape", "1x8x8x3", "-k", "3", "-s", "2", "--convention", "tf", "--output-shape", "1x16x16x3"], "SAME"),
        # jax.lax.conv_transpose applies its rule to 'SAME'/'VALID' only; another string reaches
        # conv_general_dilated, which refuses string padding with lhs dilation.
        (["shape", "1x3x8x8", "-k", "3", "-s", "2", "--convention", "jax"], "SAME"),
        (["shape", "1x3x8x8", "-k", "3", "-s", "2", "--convention", "jax"], "VALID"),
    ],
)
def test_padding_strings_are_case_sensitive_where_the_framework_is(args, accepted):
    assert invoke([*args, "-p", accepted]).exit_code == 0
    for spelling in (accepted.lower(), accepted.capitalize()):
        result = invoke([*args, "-p", spelling])
        assert result.exit_code == 2 and f"'{spelling}'" in result.output and "upper-case" in result.output


@pytest.mark.torch
@pytest.mark.parametrize("spelling", ["same", "valid", "SAME", "Valid"])
def test_conv_padding_strings_as_torch_reads_them(spelling):
    """torch's Conv takes 'same' and 'valid' only, lower-case: the CLI must not lower-case them first."""
    torch = pytest.importorskip("torch")
    try:
        torch.nn.Conv2d(3, 3, 3, padding=spelling)
        want = 0
    except ValueError:
        want = 2
    result = invoke(["shape", "1x3x8x8", "--conv", "-k", "3", "-p", spelling, "--plain"])
    assert result.exit_code == want, result.output
    if want:
        assert f"'{spelling}'" in result.output
