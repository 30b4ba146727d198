"""PyTorch as the oracle: what shape a real module produces, or None when PyTorch refuses the layer."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

Refused = None


def torch_layer_shape(
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
) -> tuple[int, ...] | None:
    """Run ``nn.ConvTranspose{n}d`` or ``nn.Conv{n}d`` on zeros; the output shape, or None if refused.

    float64 on purpose: torch's float32 oneDNN path for batches of 2 or more skips the checks (it returns
    zero-size outputs and accepts dilation=0 where the kernel is 1); the float64 path applies them all.
    """
    import torch

    dims = len(kernel_size)
    cin = input_shape[-dims - 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
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
        except (RuntimeError, ValueError, IndexError):
            return Refused
    return tuple(out.shape)
