"""Core size arithmetic, without the CLI or torch."""

from __future__ import annotations

import pytest

from tconvcalc import LayerError, TensorShape, UsageError, conv_layer, conv_transpose_layer
from tconvcalc.core.sizes import (
    conv_output_size,
    conv_transpose_output_size,
    output_padding_for_size,
    pads_per_side,
    per_dim,
    resolve_conv_padding,
    same_padding,
)


@pytest.mark.parametrize(
    ("size", "kwargs", "expected"),
    [
        ((2, 2), {"kernel_size": 2}, (3, 3)),
        ((2, 2), {"kernel_size": 2, "padding": 1}, (1, 1)),
        ((2, 2), {"kernel_size": 2, "stride": 2}, (4, 4)),
        ((6, 6), {"kernel_size": 5, "stride": 3, "padding": 2}, (16, 16)),
        ((5, 5), {"kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}, (10, 10)),
        ((5,), {"kernel_size": 3, "output_padding": 1, "dilation": 2}, (10,)),
        ((5,), {"kernel_size": 3, "stride": 2, "output_padding": 2, "dilation": 3}, (17,)),
        ((5,), {"kernel_size": 3, "padding": 3}, (1,)),
    ],
)
def test_conv_transpose_sizes(size, kwargs, expected):
    """The ConvT formula (i-1)s - 2p + d(k-1) + op + 1 gives the sizes semantics.md verified in torch."""
    assert conv_transpose_output_size(size, **kwargs) == expected


def test_conv_sizes_floor():
    """Conv sizes round down: 6 -> 2 and 7 -> 3 for k3, s2, p0."""
    assert conv_output_size((6, 7), 3, stride=2) == (2, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kernel_size": 0}, "kernel_size=0 must be at least 1 (dim 0)"),
        ({"kernel_size": 3, "stride": 0}, "stride=0 must be at least 1 (dim 0)"),
        ({"kernel_size": 3, "dilation": (1, 0)}, "dilation=0 must be at least 1 (dim 1)"),
        ({"kernel_size": 3, "padding": -1}, "padding=-1 must not be negative (dim 0)"),
        ({"kernel_size": 3, "output_padding": -1}, "output_padding=-1 must not be negative (dim 0)"),
        (
            {"kernel_size": 3, "stride": 2, "output_padding": 2},
            "output_padding=2 must be smaller than stride=2 or dilation=1 (dim 0)",
        ),
        ({"kernel_size": 1, "padding": (0, 3)}, "output size -1 is not positive (dim 1)"),
    ],
)
def test_conv_transpose_refusals_name_the_numbers(kwargs, message):
    """Every refusal is a LayerError whose message carries the offending numbers and dimension."""
    with pytest.raises(LayerError) as info:
        conv_transpose_output_size((5, 5), **kwargs)
    assert str(info.value).startswith(message)


def test_output_padding_legal_below_dilation():
    """op may reach max(stride, dilation) - 1: op=1 with s=1, d=2 is legal."""
    assert conv_transpose_output_size((5,), 3, stride=1, output_padding=1, dilation=2) == (10,)


def test_per_dim_wrong_length_is_usage_error():
    """A per-dimension list of the wrong length is a usage error, naming both lengths."""
    with pytest.raises(UsageError, match="kernel_size has 3 values but the layer has 2 spatial dimensions"):
        per_dim((3, 3, 3), 2, "kernel_size")


def test_pads_per_side_accepts_pairs_and_ints():
    """Padding is held per side; an int is symmetric."""
    assert pads_per_side((1, 2), 2) == ((1, 1), (2, 2))
    assert pads_per_side(((0, 1),), 1) == ((0, 1),)


def test_same_padding_puts_extra_at_end():
    """PyTorch 'same': total d(k-1), the odd element at the end (k=4 -> (1,2); k=4,d=3 -> (4,5))."""
    assert same_padding((4, 4), (1, 3)) == ((1, 2), (4, 5))


def test_same_padding_refused_with_stride():
    """padding='same' with a stride other than 1 is refused, naming the stride."""
    with pytest.raises(LayerError, match=r"stride=2, dim 1"):
        resolve_conv_padding("same", (3, 3), (1, 2), (1, 1))


def test_conv_input_smaller_than_kernel():
    """Conv refuses a padded input smaller than the dilated kernel and names both."""
    with pytest.raises(LayerError, match=r"padded input size 5 .* dilated kernel 7"):
        conv_output_size((5, 5), 7)


def test_output_size_range_uses_stride_only():
    """PyTorch's output_size range is [min, min+s-1], even where dilation would allow more."""
    assert output_padding_for_size((24,), (12,), (3,), (2,), ((1, 1),), (1,)) == (1,)
    with pytest.raises(LayerError, match=r"the only valid size is \(9,\)"):
        output_padding_for_size((10,), (5,), (3,), (1,), ((0, 0),), (2,))


def test_layer_weight_and_parameters():
    """ConvT weight is (C_in, C_out/groups, *k); parameters count weight plus bias."""
    layer = conv_transpose_layer(TensorShape((5, 5), 4, 1), 3, 2, 1, groups=2, out_channels=6)
    assert layer.weight_shape == (4, 3, 3, 3)
    assert layer.parameters == 4 * 3 * 9 + 6
    assert layer.output_shape == (1, 6, 9, 9)


def test_conv_layer_weight_layout():
    """Conv weight is (C_out, C_in/groups, *k)."""
    layer = conv_layer(TensorShape((16, 16), 10, 1), 5, 3, 2, out_channels=20)
    assert layer.weight_shape == (20, 10, 5, 5)
    assert layer.output_shape == (1, 20, 6, 6)


@pytest.mark.parametrize(
    ("channels", "out_channels", "groups", "message"),
    [
        (4, 6, 0, "groups=0 must be a positive integer"),
        (4, 6, 3, "in_channels=4 is not divisible by groups=3"),
        (4, 6, 4, "out_channels=6 is not divisible by groups=4"),
    ],
)
def test_groups_refusals(channels, out_channels, groups, message):
    """Groups must be positive and divide both channel counts."""
    with pytest.raises(LayerError, match=message):
        conv_transpose_layer(TensorShape((5, 5), channels), 3, groups=groups, out_channels=out_channels)


def test_out_channels_needs_channels():
    """--out-channels without a channel count in the input is a usage error."""
    with pytest.raises(UsageError, match="needs the input's channel count"):
        conv_transpose_layer(TensorShape((5, 5)), 3, out_channels=4)


def test_string_padding_refused_for_conv_transpose():
    """PyTorch's ConvTranspose has no 'same'; the refusal says what to use instead."""
    with pytest.raises(LayerError, match="no string padding"):
        conv_transpose_layer(TensorShape((5, 5)), 3, padding="same")


def test_output_size_replaces_output_padding():
    """output_size derives output_padding = size - min, as forward(output_size=) does."""
    layer = conv_transpose_layer(TensorShape((12, 12)), 3, 2, 1, output_size=(24, 23))
    assert layer.output_padding == (1, 0)
    assert layer.output_shape == (24, 23)


def test_to_json_uses_lists():
    """JSON documents hold lists, with the dataclass field names as keys."""
    doc = conv_transpose_layer(TensorShape((2,), 1), 2).to_json()
    assert doc["output_shape"] == [1, 3]
    assert doc["padding"] == [[0, 0]]
    assert doc["operation"] == "conv_transpose"
