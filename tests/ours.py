"""tconvcalc's answer for a config of :mod:`strategies`: the output shape, or None when it refuses."""

from __future__ import annotations

from typing import Any

from strategies import input_shape, output_size

from tconvcalc import TConvError, TensorShape, conv_layer, conv_transpose_layer


def our_layer_shape(config: dict[str, Any]) -> tuple[int, ...] | None:
    """Our output shape for the config, or None when tconvcalc refuses it."""
    source = TensorShape.from_tuple(input_shape(config), config["dims"])
    try:
        if config["operation"] == "conv_transpose":
            layer = conv_transpose_layer(
                source,
                config["kernel_size"],
                config["stride"],
                config["padding"],
                config["output_padding"],
                config["dilation"],
                config["groups"],
                config["out_channels"],
                output_size(config),
            )
        else:
            layer = conv_layer(
                source,
                config["kernel_size"],
                config["stride"],
                config["padding"],
                config["dilation"],
                config["groups"],
                config["out_channels"],
            )
    except TConvError:
        return None
    return layer.output_shape


def torch_answer(config: dict[str, Any]) -> tuple[int, ...] | None:
    """PyTorch's output shape for the config, or None when it refuses it."""
    from oracle import torch_layer_shape

    return torch_layer_shape(
        config["operation"],
        input_shape(config),
        config["out_channels"],
        config["kernel_size"],
        config["stride"],
        config["padding"],
        config["dilation"],
        config["groups"],
        config["output_padding"],
        output_size(config),
    )
