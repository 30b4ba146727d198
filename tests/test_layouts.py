"""Channels-last layouts: each convention reads SIZE, --output-shape and tensors in its framework's layout."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from helpers import invoke


def _json(args):
    result = invoke([*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize(
    ("convention", "size", "layout", "expected"),
    [
        ("keras", "2x8x8x4", None, [2, 16, 16, 4]),  # (N, H, W, C): Keras' default
        ("keras", "2x4x8x8", "channels_first", [2, 4, 16, 16]),
        ("matlab", "8x8x4", None, [16, 16, 4]),  # h x w x c
        ("torch", "2x4x8x8", None, [2, 4, 16, 16]),
        ("torch", "2x8x8x4", "channels_last", [2, 16, 16, 4]),
        ("jax", "2x4x8x8", None, [2, 4, 16, 16]),
    ],
)
def test_size_is_read_in_the_conventions_layout(convention, size, layout, expected):
    opts = {"keras": ["-p", "same"], "matlab": ["--cropping", "1"], "torch": ["-p", "1"], "jax": ["-p", "SAME"]}
    args = ["shape", size, "-k", "4", "-s", "2", "--convention", convention, *opts[convention]]
    doc = _json(args + (["--layout", layout] if layout else []))
    assert doc["output_shape"] == expected
    want = layout or ("channels_last" if convention in ("keras", "tf", "matlab") else "channels_first")
    assert doc.get("layout", "channels_first") == want  # torch's own layer view has no layout key


def test_tf_reads_its_own_output_shape():
    """The issue's case: translate --from tf --output-shape 1x16x16x3 is TF's NHWC shape."""
    doc = _json(
        ["translate", "1x8x8x3", "-k", "4", "-s", "2", "--from", "tf", "-p", "SAME", "--output-shape", "1x16x16x3"]
    )
    assert doc["output_size"] == [16, 16] and doc["layout"] == "channels_last"
    assert doc["torch"].endswith("padding=1, output_padding=0)")


def test_tf_explicit_padding_pairs():
    """[[0,0],[1,1],[1,1],[0,0]] is the forward conv's padding: the crop starts at 1."""
    doc = _json(
        [
            "shape",
            "1x8x8x3",
            "-k",
            "3",
            "-s",
            "2",
            "--convention",
            "tf",
            "-p",
            "[[0,0],[1,1],[1,1],[0,0]]",
            "--output-shape",
            "1x15x15x3",
        ]
    )
    assert doc["crops"] == [[1, 1], [1, 1]] and doc["output_shape"] == [1, 15, 15, 3]
    bad = invoke(
        [
            "shape",
            "1x8x8x3",
            "-k",
            "3",
            "-s",
            "2",
            "--convention",
            "tf",
            "-p",
            "[[1,1],[1,1],[1,1],[0,0]]",
            "--output-shape",
            "1x15x15x3",
        ]
    )
    assert bad.exit_code == 2 and "batch and channel" in bad.output
    wrong = invoke(
        [
            "shape",
            "1x8x8x3",
            "-k",
            "3",
            "-s",
            "2",
            "--convention",
            "tf",
            "-p",
            "[[0,0],[1,1],[1,1],[0,0]]",
            "--output-shape",
            "1x19x19x3",
        ]
    )
    assert wrong.exit_code == 1 and "out_backprop" in wrong.output


def test_run_channels_last_is_the_transposed_channels_first_run():
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, (2, 5, 4, 3)).astype(float)  # N, H, W, C
    w = rng.integers(-2, 3, (3, 3, 2, 3)).astype(float)  # kh, kw, out, in (Keras)
    last = _json(
        ["run", json.dumps(x.tolist()), json.dumps(w.tolist()), "-s", "2", "--convention", "keras", "-p", "same"]
    )
    first = _json(
        [
            "run",
            json.dumps(x.transpose(0, 3, 1, 2).tolist()),
            json.dumps(w.tolist()),
            "-s",
            "2",
            "--convention",
            "keras",
            "-p",
            "same",
            "--layout",
            "channels_first",
        ]
    )
    assert last["layout"] == "channels_last" and first["layout"] == "channels_first"
    np.testing.assert_array_equal(np.array(last["output"]), np.array(first["output"]).transpose(0, 2, 3, 1))


def test_layout_refused_where_it_changes_nothing():
    result = invoke(["run", "[[1,2],[3,4]]", "--layer", "maxpool", "-k", "2", "--layout", "channels_last"])
    assert result.exit_code == 2 and "--layout" in result.output


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Keras' torch variables' __array__, not ours
@pytest.mark.parametrize(
    ("padding", "stride", "size"),
    [("same", 2, (5, 4)), ("valid", 3, (4, 4)), ("same", 1, (3, 5)), ("SAME", 2, (5, 4)), ("Valid", 2, (3, 3))],
)
def test_channels_last_against_keras(padding, stride, size):
    """Keras 3's Conv2DTranspose(data_format='channels_last') on the same numbers (Keras on its torch backend).
    Keras lower-cases its padding string, so 'SAME' is Keras' 'same' (and tconvcalc's)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")  # the test extra's torch: no TensorFlow or JAX to install
    import keras

    rng = np.random.default_rng(stride)
    x = rng.standard_normal((2, *size, 3)).astype(np.float32)
    layer = keras.layers.Conv2DTranspose(
        2, 3, strides=stride, padding=padding, use_bias=False, data_format="channels_last"
    )
    expected = keras.ops.convert_to_numpy(layer(x))
    w = np.asarray(layer.get_weights()[0]).astype(np.float64)  # (kh, kw, filters, in)
    doc = _json(
        [
            "run",
            json.dumps(x.astype(np.float64).tolist()),
            json.dumps(w.tolist()),
            "-s",
            str(stride),
            "--convention",
            "keras",
            "-p",
            padding,
        ]
    )
    np.testing.assert_allclose(np.array(doc["output"]), expected, rtol=1e-4, atol=1e-5)
    shape = _json(
        [
            "shape",
            "x".join(map(str, (2, *size, 3))),
            "-k",
            "3",
            "-s",
            str(stride),
            "--convention",
            "keras",
            "-p",
            padding,
            "--out-channels",
            "2",
        ]
    )
    assert shape["output_shape"] == list(expected.shape)
