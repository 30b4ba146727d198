"""Command-line options of each convention, parsed into a :class:`~tconvcalc.core.conventions.Placement`."""

from __future__ import annotations

from collections.abc import Sequence

from tconvcalc.cli import tokens
from tconvcalc.cli.options import FLAGS, ConventionOptions, LayerOptions
from tconvcalc.core.conventions import (
    CONVENTIONS,
    Placement,
    jax_placement,
    keras_placement,
    matlab_placement,
    onnx_placement,
    tf_placement,
    to_channels_first,
    torch_placement,
)
from tconvcalc.core.errors import UsageError
from tconvcalc.core.tensor import TensorShape

PLACEMENT_REFUSES = (
    "output_size",
    "bias",
    "padding_mode",
    "ceil_mode",
    "count_include_pad",
    "divisor_override",
    "return_indices",
    "scale_factor",
    "mode",
    "align_corners",
    "recompute_scale_factor",
)


def read_size(
    conv: ConventionOptions, layer: LayerOptions, values: Sequence[int], dims: int | None
) -> tuple[TensorShape, int]:
    """SIZE as ``conv``'s layout gives it (``--layout``, else the framework's), read channels-first by the SIZE
    rule; and the number of spatial dimensions."""
    n = TensorShape.read(values, dims, implied=layer.implied_dims()).dims
    first = to_channels_first(values, n, conv.channel_layout)
    return TensorShape.read(first, dims, implied=layer.implied_dims()), n


def placement(
    conv: ConventionOptions, layer: LayerOptions, input_size: Sequence[int], kernel: Sequence[int] | None = None
) -> Placement:
    """The placement the command line describes: ``conv``'s framework options and the layer's kernel, stride,
    dilation, padding and output_padding (``kernel`` when it comes from a weight tensor instead of ``-k``).
    ``--groups`` and ``--out-channels`` change only the channels; any other layer option is refused."""
    conv.check()
    convention = conv.name
    n = len(input_size)
    if convention not in CONVENTIONS:
        raise UsageError(f"--convention {convention!r}: choose one of {', '.join(CONVENTIONS)}")
    for key in PLACEMENT_REFUSES:
        if getattr(layer, key) is not None:
            raise UsageError(f"{FLAGS[key]} does not apply to --convention {convention}", param=key)
    if kernel is None:
        if layer.kernel_size is None:
            raise UsageError("missing --kernel-size (-k)")
        kernel = tokens.parse_per_dim(layer.kernel_size, n, "--kernel-size")
    elif layer.kernel_size is not None:
        raise UsageError("--kernel-size comes from the weight here: leave it out")
    kernel_size = tuple(kernel)
    stride = tokens.parse_per_dim(layer.stride or "1", n, "--stride")
    dilation = tokens.parse_per_dim(layer.dilation or "1", n, "--dilation")
    padding, output_padding, pads, auto_pad, consistent = (
        layer.padding,
        layer.output_padding,
        conv.pads,
        conv.auto_pad,
        conv.consistent,
    )
    output_shape: tuple[int, ...] | None = None
    if conv.output_shape is not None:
        output_shape = tokens.parse_ints(conv.output_shape, "--output-shape")
        if len(output_shape) == 1:
            output_shape *= n
        elif conv.channel_layout == "channels_last" and len(output_shape) in (n + 1, n + 2):
            output_shape = output_shape[len(output_shape) - n - 1 : -1]  # (N,) *spatial, C
        elif convention != "onnx":  # ONNX reads a full-rank output_shape itself (and notes that ORT refuses it)
            output_shape = tokens.parse_output_size(conv.output_shape, n)
    op = None if output_padding is None else tokens.parse_per_dim(output_padding, n, "--output-padding")
    if convention == "torch":
        pad = tokens.parse_per_dim(padding or "0", n, "--padding")
        return torch_placement(input_size, kernel_size, stride, pad, op or 0, dilation)
    if convention == "onnx":
        if padding is not None:
            raise UsageError("ONNX takes --pads BEGIN...,END... (or --auto-pad), not --padding")
        pad_values = None if pads is None else list(tokens.parse_ints(pads, "--pads"))
        return onnx_placement(
            input_size, kernel_size, stride, pad_values, op or 0, output_shape, auto_pad or "NOTSET", dilation
        )
    if convention == "keras":
        return keras_placement(input_size, kernel_size, stride, padding or "valid", op, dilation)
    if convention == "tf":
        if output_shape is None:
            raise UsageError("tf.nn.conv2d_transpose needs --output-shape (the convolution is not invertible in shape)")
        if op is not None:
            raise UsageError("tf.nn.conv2d_transpose has no output_padding: give --output-shape")
        if padding is not None and padding.strip().startswith("["):
            return tf_placement(
                input_size, kernel_size, stride, _tf_pairs(padding, n, conv.channel_layout), output_shape, dilation
            )
        return tf_placement(input_size, kernel_size, stride, padding or "SAME", output_shape, dilation)
    if convention == "matlab":
        if padding is not None:
            raise UsageError("MATLAB's transposedConv layers take --cropping, not --padding", param="padding")
        if op is not None:
            raise UsageError("MATLAB's transposedConv layers have no output_padding: use --cropping [t b l r]")
        token = (conv.cropping or "0").strip()
        crop: str | tuple[int, ...] = token if token.lower() == "same" else tokens.parse_ints(token, "--cropping")
        return matlab_placement(input_size, kernel_size, stride, crop, dilation)
    if op is not None:
        raise UsageError("jax.lax.conv_transpose has no output_padding: give explicit --padding LO:HI pairs")
    token = padding or "VALID"
    if token.upper() in ("SAME", "VALID"):  # jax_placement refuses the lower-case spelling, as JAX does
        return jax_placement(input_size, kernel_size, stride, token, dilation, consistent)
    pairs = []
    for part in token.split(","):
        lo_hi = part.split(":")
        if len(lo_hi) != 2:
            raise UsageError(f"--padding {token!r}: JAX pairs are LO:HI per dimension, e.g. 1:2,0:1")
        pairs.append(tuple(tokens.parse_ints(x, "--padding")[0] for x in lo_hi))
    if len(pairs) == 1:
        pairs *= n
    return jax_placement(input_size, kernel_size, stride, pairs, dilation, consistent)


def _tf_pairs(token: str, n: int, layout: str) -> list[tuple[int, int]]:
    """TF's explicit padding ``[[0,0],[1,1],[1,1],[0,0]]`` (batch and channel pairs zero, in ``layout``), or
    only the spatial pairs ``[[1,1],[1,1]]``."""
    import json

    try:
        value = json.loads(token)
    except ValueError:
        value = None
    if not (
        isinstance(value, list)
        and all(isinstance(p, list) and len(p) == 2 and all(type(v) is int for v in p) for p in value)
    ):
        raise UsageError(f"--padding {token!r}: TF's explicit padding is a list of [before, after] pairs")
    pairs = [(p[0], p[1]) for p in value]
    if len(pairs) == n + 2:
        other = [pairs[0], pairs[-1]] if layout == "channels_last" else pairs[:2]
        if any(p != (0, 0) for p in other):
            raise UsageError(f"--padding {token!r}: the batch and channel pairs must be [0, 0] (TF refuses others)")
        pairs = pairs[1:-1] if layout == "channels_last" else pairs[2:]
    if len(pairs) != n:
        raise UsageError(f"--padding {token!r}: give {n + 2} pairs (batch, spatial, channel) or {n} spatial pairs")
    return pairs
