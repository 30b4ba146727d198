"""Hypothesis properties: every size, and every refusal, equals PyTorch 2.13's modules."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, example, given, settings
from ours import our_layer_shape, torch_answer
from strategies import layer_configs

SETTINGS = settings(
    max_examples=int(os.environ.get("TCONVCALC_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(config=layer_configs("conv_transpose"))
@example(
    config={  # output_size whose derived output_padding gives a size of 0 (torch refuses)
        "operation": "conv_transpose",
        "dims": 2,
        "spatial": (1, 1),
        "batch": 1,
        "in_channels": 1,
        "out_channels": 1,
        "groups": 1,
        "kernel_size": (1, 1),
        "stride": (3, 3),
        "padding": (1, 1),
        "dilation": (1, 1),
        "output_padding": (0, 0),
        "output_size_offset": (1, 1),
    }
)
def test_conv_transpose_shape_matches_torch(torch, config):
    """ConvTranspose{1,2,3}d: same output shape as torch, or refused exactly when torch refuses."""
    _compare(config)


def _compare(config):
    """Equal to torch, except for an empty batch, on which torch skips its checks (README, 'Differences')."""
    if config["batch"] == 0:
        assert our_layer_shape(config) is None
    else:
        assert our_layer_shape(config) == torch_answer(config), config


@SETTINGS
@given(config=layer_configs("conv"))
def test_conv_shape_matches_torch(torch, config):
    """Conv{1,2,3}d (ints, 'same', 'valid'): same output shape as torch, or refused exactly when torch refuses."""
    _compare(config)
