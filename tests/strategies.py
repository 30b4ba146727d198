"""Hypothesis strategies for layer configurations, including ones PyTorch refuses."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


@st.composite
def layer_configs(draw: Any, operation: str) -> dict[str, Any]:
    """A random layer: mostly valid, with enough zeros, negatives and oversized values to hit every refusal."""
    dims = draw(st.integers(1, 3))

    def vec(lo: int, hi: int) -> tuple[int, ...]:
        if draw(st.booleans()):
            return (draw(st.integers(lo, hi)),) * dims
        return tuple(draw(st.integers(lo, hi)) for _ in range(dims))

    groups = draw(st.sampled_from([1, 1, 1, 2, 3, 0]))
    cin = draw(st.integers(1, 6))
    cout = draw(st.integers(1, 6))
    config: dict[str, Any] = {
        "operation": operation,
        "dims": dims,
        "spatial": vec(1, 7) if draw(st.integers(0, 30)) else vec(0, 2),
        "batch": draw(st.sampled_from([None, 1, 2, 0])),
        "in_channels": cin,
        "out_channels": cout,
        "groups": groups,
        "kernel_size": vec(1, 5) if draw(st.integers(0, 20)) else vec(0, 2),
        "stride": vec(1, 4) if draw(st.integers(0, 20)) else vec(0, 2),
        "padding": vec(0, 4) if draw(st.integers(0, 20)) else vec(-1, 1),
        "dilation": vec(1, 3) if draw(st.integers(0, 20)) else vec(0, 2),
        "output_padding": (0,) * dims,
        "output_size_offset": None,
    }
    if operation == "conv_transpose":
        config["output_padding"] = vec(0, 3) if draw(st.integers(0, 20)) else vec(-1, 1)
        if draw(st.integers(0, 3)) == 0:
            config["output_size_offset"] = vec(-1, 4)
    elif draw(st.integers(0, 4)) == 0:
        config["padding"] = draw(st.sampled_from(["same", "valid"]))
    return config


def input_shape(config: dict[str, Any]) -> tuple[int, ...]:
    """The (N, C, *spatial) or (C, *spatial) tensor shape of a config."""
    lead = () if config["batch"] is None else (config["batch"],)
    return (*lead, config["in_channels"], *config["spatial"])


def output_size(config: dict[str, Any]) -> Any:
    """The requested output_size: the op=0 size plus the drawn offset, or None."""
    if config["output_size_offset"] is None:
        return None
    from tconvcalc.core.sizes import effective_kernel

    return tuple(
        (i - 1) * s - 2 * p + effective_kernel(k, d) + off
        for i, k, s, p, d, off in zip(
            config["spatial"],
            config["kernel_size"],
            config["stride"],
            config["padding"],
            config["dilation"],
            config["output_size_offset"],
        )
    )
