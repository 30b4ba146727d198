"""`tconvcalc translate`: one layer in every framework's convention."""

from __future__ import annotations

from typing import Annotated

import typer

from tconvcalc.cli.app import (
    AutoPad,
    Consistent,
    Dilation,
    Dims,
    Groups,
    Json,
    Kernel,
    OutChannels,
    OutputPadding,
    OutputShape,
    Padding,
    Pads,
    Stride,
    app,
    errors,
)


@app.command()
def translate(
    size: Annotated[str, typer.Argument(metavar="SIZE", help="Input shape, as in shape.", show_default=False)],
    kernel_size: Kernel,
    convention: Annotated[
        str, typer.Option("--from", help="The convention the layer is given in: torch, onnx, keras, tf, jax.")
    ] = "torch",
    dims: Dims = 2,
    stride: Stride = "1",
    padding: Padding = "0",
    output_padding: OutputPadding = None,
    dilation: Dilation = "1",
    groups: Groups = 1,
    out_channels: OutChannels = None,
    pads: Pads = None,
    auto_pad: AutoPad = None,
    output_shape: OutputShape = None,
    consistent: Consistent = False,
    json_: Json = False,
) -> None:
    """The same transposed convolution in PyTorch, ONNX, Keras, TF and JAX, and where no exact equivalent exists."""
    from tconvcalc.cli import conventions, tokens
    from tconvcalc.core import translate as translation

    with errors():
        values = tokens.parse_shape(size, dims)
        p = conventions.from_tokens(
            convention,
            values,
            dims,
            kernel_size,
            stride,
            dilation,
            padding,
            output_padding,
            pads,
            auto_pad,
            output_shape,
            consistent,
        )
        cin = values[-dims - 1] if len(values) > dims else None
        t = translation.translate(p, groups, cin, out_channels if out_channels is not None else cin)
        doc = {
            "from": convention,
            "input_size": list(p.input_size),
            "output_size": list(p.output_size),
            "crops": [list(c) for c in p.crops],
            "torch": t.torch,
            "torch_same_shape": t.torch_same_shape,
            "onnx": t.onnx,
            "keras": t.keras,
            "tf": t.tf,
            "jax": t.jax,
            "exact_recipe": t.exact_recipe,
            "weights": list(t.weights),
            "notes": list(p.notes),
        }
        if json_:
            import json

            typer.echo(json.dumps(doc))
        else:
            from tconvcalc.render import reports

            reports.print_translation(doc)
