"""ONNX Runtime, the runtime people deploy, as an oracle for --convention onnx.

tconvcalc follows the ONNX operator text. Where ONNX Runtime 1.32 departs from it (measured: output_padding at
or above the stride, an output_shape beyond full + stride - 1, SAME_* with a kernel smaller than the stride, a
full-rank output_shape), the placement carries a note naming ONNX Runtime. So: no such note means ONNX Runtime
gives exactly our shape and values; such a note means it refuses or differs.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import tconvcalc
from tconvcalc import TConvError
from tconvcalc.core.conventions import onnx_placement
from tconvcalc.engine.relayout import apply_placement

ort = pytest.importorskip("onnxruntime")


def _ort_run(x: np.ndarray, w: np.ndarray, attrs: dict) -> np.ndarray | None:
    """ONNX Runtime's output, or None when it refuses the node (at load or at run)."""
    from onnx import TensorProto, helper

    node = helper.make_node("ConvTranspose", ["X", "W"], ["Y"], **attrs)
    info = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("X", "W")]
    graph = helper.make_graph([node], "g", info, [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)], ir_version=10)
    options = ort.SessionOptions()
    options.log_severity_level = 4  # ORT warns when shape inference disagrees with its output: not our business
    try:
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        return session.run(None, {"X": x, "W": w})[0]
    except Exception:  # ORT's own error types (Fail, InvalidArgument, RuntimeException): all mean refused
        return None


@settings(max_examples=300, deadline=None)
@given(dims=st.integers(1, 2), data=st.data())
def test_onnxruntime_agrees_unless_a_note_says_it_differs(dims, data):
    """No 'ONNX Runtime' note: ORT gives our shape and values. A note: ORT refuses or gives something else."""
    draw = data.draw
    vec = lambda lo, hi: [draw(st.integers(lo, hi)) for _ in range(dims)]  # noqa: E731
    size, k, s, d = vec(1, 4), vec(1, 3), vec(1, 4), vec(1, 3)
    op = [draw(st.integers(0, max(a, b) - 1)) for a, b in zip(s, d)]
    mode = draw(st.sampled_from(["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]))
    attrs: dict = {"strides": s, "dilations": d, "output_padding": op, "kernel_shape": k}
    output_shape = None
    if draw(st.booleans()):
        full = [(i - 1) * a + b * (c - 1) + 1 for i, a, b, c in zip(size, s, d, k)]
        output_shape = [max(1, f + draw(st.integers(-2, 4))) for f in full]
        attrs["output_shape"] = output_shape
    if mode != "NOTSET":
        attrs["auto_pad"] = mode
    note(f"size={size} attrs={attrs}")
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    x = rng.standard_normal((1, 1, *size)).astype(np.float32)
    w = rng.standard_normal((1, 1, *k)).astype(np.float32)
    expected = _ort_run(x, w, attrs)
    try:
        p = onnx_placement(size, k, s, None, op, output_shape, mode, d)
    except TConvError:
        assert expected is None, "tconvcalc refuses what ONNX Runtime runs"
        return
    ours = apply_placement(
        tconvcalc.conv_transpose(x.astype(np.float64), w.astype(np.float64), None, s, 0, 0, 1, d), p.crops
    )
    differs = any(n.startswith("ONNX Runtime 1.32 ") for n in p.notes)  # every divergence note starts so
    same = expected is not None and expected.shape == ours.shape and np.allclose(expected, ours, atol=1e-4)
    assert same != differs, (
        f"notes={p.notes} ours={ours.tolist()} ort={None if expected is None else expected.tolist()}"
    )


def test_negative_total_appends_zeros_at_the_end():
    """output_shape one beyond the full output: the zero is appended at the end, as ORT and onnx.reference do."""
    x = np.array([[[1.0, 2.0, 3.0]]], dtype=np.float32)
    w = np.array([[[1.0, 10.0, 100.0]]], dtype=np.float32)
    p = onnx_placement((3,), 3, 2, None, 0, (8,), "NOTSET")
    assert p.crops == ((0, -1),)
    ours = apply_placement(tconvcalc.conv_transpose(x, w, None, 2), p.crops)
    assert ours[0, 0].tolist() == [1, 10, 102, 20, 203, 30, 300, 0]
    expected = _ort_run(x, w, {"strides": [2], "kernel_shape": [3], "output_shape": [8]})
    np.testing.assert_array_equal(expected, ours)
