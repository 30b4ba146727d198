"""One transposed convolution expressed in every framework's terms, and where no exact equivalent exists.

From a :class:`~tconvcalc.conventions.Placement` (the crop of the full output), find the PyTorch, ONNX, Keras,
TF and JAX parameters that produce exactly that crop; PyTorch cannot crop more at the end than at the start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tconvcalc.core.conventions import (
    SPATIAL_LETTERS,
    Placement,
    TConvErrorTypes,
    keras_placement,
    matlab_cropping,
    tf_placement,
    torch_equivalent,
    torch_same_shape,
)
from tconvcalc.core.sizes import output_padding_limit


@dataclass(frozen=True)
class Translation:
    """The same layer in every convention, or why there is no exact equivalent; fields are JSON keys."""

    placement: Placement
    torch: str | None
    torch_same_shape: str | None
    onnx: dict[str, Any] | None
    keras: str | None
    tf: str | None
    jax: str
    matlab: str | None
    exact_recipe: str
    weights: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        p = self.placement
        return {
            "layer": f"ConvTranspose{len(p.crops)}d",
            "from": p.convention,
            "input_size": list(p.input_size),
            "output_size": list(p.output_size),
            "crops": [list(c) for c in p.crops],
            "torch": self.torch,
            "torch_same_shape": self.torch_same_shape,
            "onnx": self.onnx,
            "keras": self.keras,
            "tf": self.tf,
            "jax": self.jax,
            "matlab": self.matlab,
            "exact_recipe": self.exact_recipe,
            "weights": list(self.weights),
            "notes": list(p.notes),
        }


def _fmt(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else str(tuple(values))


def translate(
    p: Placement, groups: int = 1, in_channels: int | None = None, out_channels: int | None = None
) -> Translation:
    """Express placement ``p`` in PyTorch, ONNX, Keras, TF and JAX, exactly where each can."""
    n = len(p.crops)
    cin = "in_channels" if in_channels is None else str(in_channels)
    cout = "out_channels" if out_channels is None else str(out_channels)
    k, s, d = _fmt(p.kernel_size), _fmt(p.stride), _fmt(p.dilation)
    extra = f", dilation={d}" if any(v != 1 for v in p.dilation) else ""
    extra += f", groups={groups}" if groups != 1 else ""
    exact = torch_equivalent(p)
    torch_call = same_call = None
    if exact is not None:
        torch_call = (
            f"nn.ConvTranspose{n}d({cin}, {cout}, kernel_size={k}, stride={s}, padding={_fmt(exact[:n])}, "
            f"output_padding={_fmt(exact[n:])}{extra})"
        )
    else:
        same = torch_same_shape(p)
        if same is not None:
            same_call = (
                f"nn.ConvTranspose{n}d({cin}, {cout}, kernel_size={k}, stride={s}, padding={_fmt(same[0])}, "
                f"output_padding={_fmt(same[1])}{extra}): same shape, but the crop window is shifted, so "
                "the values differ by one position"
            )
    full = p.full_size
    slices = ", ".join(f"{max(b, 0)}:{f - max(e, 0)}" for (b, e), f in zip(p.crops, full))
    zeros = [f"{-e} zero(s) at the end of dim {dim}" for dim, (_, e) in enumerate(p.crops) if e < 0]
    zeros += [f"{-b} zero(s) at the start of dim {dim}" for dim, (b, _) in enumerate(p.crops) if b < 0]
    recipe = (
        f"exact in any framework: the transposed convolution with padding 0 (full size {full}), then "
        f"y[..., {slices}]" + (f" and F.pad with {', '.join(zeros)}" if zeros else "")
    )
    onnx = None
    if all(b >= 0 for b, _ in p.crops):
        op = [max(-e, 0) for _, e in p.crops]
        if all(o < output_padding_limit(ss, dd) for o, ss, dd in zip(op, p.stride, p.dilation)):
            onnx = {
                "kernel_shape": list(p.kernel_size),
                "strides": list(p.stride),
                "dilations": list(p.dilation),
                "group": groups,  # an INT attribute in ONNX, not a list
                "pads": [b for b, _ in p.crops] + [max(e, 0) for _, e in p.crops],
                "output_padding": op,
            }
    keras = _keras_match(p) if groups == 1 else None
    tf = None
    if groups == 1:
        for mode in ("SAME", "VALID"):
            try:
                if (
                    tf_placement(p.input_size, p.kernel_size, p.stride, mode, p.output_size, p.dilation).crops
                    == p.crops
                ):
                    tf = (
                        f"tf.nn.conv{n}d_transpose(x, filters, output_shape=[N, {', '.join(map(str, p.output_size))}, "
                        f"C_out], strides={list(p.stride)}, padding='{mode}'"
                        + (f", dilations={list(p.dilation)}" if any(v != 1 for v in p.dilation) else "")
                        + ")"
                    )
                    break
            except TConvErrorTypes:
                continue
    pairs = [tuple(c) for c in p.crops]
    jax = (
        f"jax.lax.conv_transpose(x, w, strides={tuple(p.stride)}, padding={pairs}, rhs_dilation={tuple(p.dilation)}, "
        f"dimension_numbers=('NC{SPATIAL_LETTERS[n]}', 'OI{SPATIAL_LETTERS[n]}', 'NC{SPATIAL_LETTERS[n]}'), "
        "transpose_kernel=True, use_consistent_padding=True)"
    )
    if groups != 1:
        jax = "no direct equivalent: lax.conv_transpose has no feature groups (regroup the weight, or run per group)"
    crop = matlab_cropping(p)
    matlab = None
    if crop is not None and groups == 1:
        matlab = f"transposedConv{n}dLayer({_matlab_list(p.kernel_size)}, {cout if out_channels else 'numFilters'}"
        if any(v != 1 for v in p.stride):
            matlab += f", 'Stride', {_matlab_list(p.stride)}"
        matlab += f", 'Cropping', {crop})" if crop != "0" else ")"
    weights: tuple[str, ...] = (
        "PyTorch and ONNX: the same tensor w, (C_in, C_out/groups, *k)",
        f"Keras/TF kernel: w.permute({', '.join(str(2 + i) for i in range(n))}, 1, 0), i.e. (*k, C_out, C_in)",
        "JAX: w as 'OI...' with transpose_kernel=True (with transpose_kernel=False, JAX does not mirror the "
        "kernel: pass w flipped on its spatial axes, as (*k, C_in, C_out))",
    )
    weights += (
        f"MATLAB Weights: w.permute({', '.join(str(2 + i) for i in range(n))}, 1, 0), i.e. FilterSize x "
        "NumFilters x NumChannels (not mirrored)",
    )
    return Translation(p, torch_call, same_call, onnx, keras, tf, jax, matlab, recipe, weights)


def _matlab_list(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "[" + " ".join(map(str, values)) + "]"


def _keras_match(p: Placement) -> str | None:
    n = len(p.crops)
    options: list[object] = [None]
    for combo in _product([list(range(s)) for s in p.stride]):
        options.append(tuple(combo))
    for mode in ("valid", "same"):
        for op in options:
            try:
                if keras_placement(p.input_size, p.kernel_size, p.stride, mode, op, p.dilation).crops == p.crops:  # type: ignore[arg-type]
                    text = "None" if op is None else _fmt(op)  # type: ignore[arg-type]
                    dil = f", dilation_rate={_fmt(p.dilation)}" if any(v != 1 for v in p.dilation) else ""
                    return (
                        f"keras.layers.Conv{n}DTranspose(filters, kernel_size={_fmt(p.kernel_size)}, "
                        f"strides={_fmt(p.stride)}, padding='{mode}', output_padding={text}{dil})"
                    )
            except TConvErrorTypes:
                continue
    return None


def _product(lists: list[list[int]]) -> list[list[int]]:
    out: list[list[int]] = [[]]
    for values in lists:
        out = [prefix + [v] for prefix in out for v in values]
    return out
