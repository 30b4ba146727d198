"""PyTorch as the oracle: what shape a real module produces; it refuses a layer by raising TORCH_REFUSALS."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

Refused = None
TORCH_REFUSALS = (RuntimeError, ValueError, IndexError)  # what torch raises for a layer it refuses


def torch_layer_shape(*args: Any, **kwargs: Any) -> tuple[int, ...] | None:
    """:func:`torch_output_shape`, or None when PyTorch refuses the layer."""
    try:
        return torch_output_shape(*args, **kwargs)
    except TORCH_REFUSALS:
        return Refused


def torch_output_shape(
    operation: str,
    input_shape: Sequence[int],
    out_channels: int,
    kernel_size: Sequence[int],
    stride: Sequence[int],
    padding: str | Sequence[int],
    dilation: Sequence[int],
    groups: int,
    output_padding: Sequence[int] = (),
    output_size: Sequence[int] | None = None,
) -> tuple[int, ...]:
    """Run ``nn.ConvTranspose{n}d`` or ``nn.Conv{n}d`` on zeros: the output shape; TORCH_REFUSALS if refused.

    float64 on purpose: torch's float32 oneDNN path for batches of 2 or more skips the checks (it returns
    zero-size outputs and accepts dilation=0 where the kernel is 1); the float64 path applies them all.
    """
    import torch

    dims = len(kernel_size)
    cin = input_shape[-dims - 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if operation == "conv_transpose":
            module: Any = getattr(torch.nn, f"ConvTranspose{dims}d")(
                cin,
                out_channels,
                tuple(kernel_size),
                stride=tuple(stride),
                padding=tuple(padding),
                output_padding=tuple(output_padding),
                groups=groups,
                dilation=tuple(dilation),
                bias=True,
                dtype=torch.float64,
            )
            with torch.no_grad():
                out = module(torch.zeros(tuple(input_shape), dtype=torch.float64), output_size=output_size)
        else:
            pad = padding if isinstance(padding, str) else tuple(padding)
            module = getattr(torch.nn, f"Conv{dims}d")(
                cin,
                out_channels,
                tuple(kernel_size),
                stride=tuple(stride),
                padding=pad,
                dilation=tuple(dilation),
                groups=groups,
                bias=True,
                dtype=torch.float64,
            )
            with torch.no_grad():
                out = module(torch.zeros(tuple(input_shape), dtype=torch.float64))
    return tuple(out.shape)
