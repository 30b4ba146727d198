"""Command-line options of each convention, parsed into a :class:`~tconvcalc.core.conventions.Placement`."""

from __future__ import annotations

from collections.abc import Sequence

from tconvcalc.cli import tokens
from tconvcalc.core.conventions import (
    CONVENTIONS,
    Placement,
    jax_placement,
    keras_placement,
    onnx_placement,
    tf_placement,
    torch_placement,
)
from tconvcalc.core.errors import UsageError


def from_options(
    convention: str,
    input_size: Sequence[int],
    kernel_size: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    padding: str | None,
    output_padding: str | None,
    pads: str | None,
    auto_pad: str | None,
    output_shape: Sequence[int] | None,
    consistent: bool,
) -> Placement:
    """The placement described by command-line options of ``convention`` (tokens not yet parsed)."""
    n = len(input_size)
    if convention not in CONVENTIONS:
        raise UsageError(f"--convention {convention!r}: choose one of {', '.join(CONVENTIONS)}")
    if convention != "onnx" and (pads is not None or auto_pad is not None):
        raise UsageError("--pads and --auto-pad are ONNX attributes: add --convention onnx")
    if convention not in ("onnx", "tf") and output_shape is not None:
        raise UsageError(f"--output-shape belongs to onnx and tf; for {convention} use the convention's own options")
    op = None if output_padding is None else tokens.parse_per_dim(output_padding, n, "--output-padding")
    if convention == "torch":
        pad = tokens.parse_per_dim(padding or "0", n, "--padding")
        return torch_placement(input_size, kernel_size, stride, pad, op or 0, dilation)
    if convention == "onnx":
        if padding not in (None, "0"):
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
        return tf_placement(input_size, kernel_size, stride, padding or "SAME", output_shape, dilation)
    if op is not None:
        raise UsageError("jax.lax.conv_transpose has no output_padding: give explicit --padding LO:HI pairs")
    token = padding or "VALID"
    if token.upper() in ("SAME", "VALID"):
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


def from_tokens(
    convention: str,
    values: tuple[int, ...],
    dims: int,
    kernel_size: str | None,
    stride: str,
    dilation: str,
    padding: str,
    output_padding: str | None,
    pads: str | None,
    auto_pad: str | None,
    output_shape: str | None,
    consistent: bool,
) -> Placement:
    """The placement described by the command line's tokens (shape, run and translate share it)."""
    if kernel_size is None:
        raise UsageError("missing --kernel-size (-k)")
    return from_options(
        convention,
        values[-dims:],
        tokens.parse_per_dim(kernel_size, dims, "--kernel-size"),
        tokens.parse_per_dim(stride, dims, "--stride"),
        tokens.parse_per_dim(dilation, dims, "--dilation"),
        None if padding == "0" else padding,
        output_padding,
        pads,
        auto_pad,
        None if output_shape is None else tokens.parse_output_size(output_shape, dims),
        consistent,
    )
