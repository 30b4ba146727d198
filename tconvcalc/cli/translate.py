"""`tconvcalc translate`: one layer in every framework's convention."""

from __future__ import annotations

from typing import Annotated

import typer

from tconvcalc.cli.common import (
    AutoPad,
    Consistent,
    Cropping,
    Dilation,
    Dims,
    Groups,
    Json,
    Kernel,
    Layout,
    OutChannels,
    OutputPadding,
    OutputShape,
    Padding,
    Pads,
    Stride,
    app,
    choices,
    epilog,
    errors,
    output_mode,
)
from tconvcalc.core.conventions import CONVENTIONS

EPILOG_TRANSLATE = """\
Examples:
  tconvcalc translate 1x4x5x5 -k 3 -s 2 -p 1 --output-padding 1
  tconvcalc translate 4 --dims 1 -k 3 -s 2 --from tf -p SAME --output-shape 8
  tconvcalc translate 3x3 -k 3 -s 2 --from onnx --auto-pad SAME_UPPER

-p takes integers for torch, SAME or VALID for keras, tf and jax (jax also
LO:HI pairs); ONNX takes --pads or --auto-pad.
"""


@app.command(short_help="One transposed convolution in every framework's terms.", epilog=epilog(EPILOG_TRANSLATE))
def translate(
    size: Annotated[str, typer.Argument(metavar="SIZE", help="Input shape, as in shape.", show_default=False)],
    kernel_size: Kernel,
    convention: Annotated[
        str | None,
        typer.Option(
            "--from", click_type=choices(CONVENTIONS), help="The convention the layer is given in (default torch)."
        ),
    ] = None,
    dims: Dims = None,
    stride: Stride = None,
    padding: Padding = None,
    output_padding: OutputPadding = None,
    dilation: Dilation = None,
    groups: Groups = None,
    out_channels: OutChannels = None,
    pads: Pads = None,
    auto_pad: AutoPad = None,
    output_shape: OutputShape = None,
    consistent: Consistent = False,
    cropping: Cropping = None,
    layout: Layout = None,
    json_: Json = False,
    plain: Annotated[
        bool, typer.Option("--plain", help="Print only the exact PyTorch layer, or 'none' if there is none.")
    ] = False,
) -> None:
    """The same transposed convolution in PyTorch, ONNX, Keras, TF and JAX, and where no exact equivalent exists."""
    from tconvcalc.cli import conventions, tokens
    from tconvcalc.cli.options import ConventionOptions, LayerOptions
    from tconvcalc.core import translate as translation
    from tconvcalc.core.layer import channels_for

    layer = LayerOptions(
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        groups=groups,
        out_channels=out_channels,
    )
    with errors():
        framework = ConventionOptions(
            convention, pads, auto_pad, output_shape, consistent, cropping=cropping, layout=layout
        )
        values = tokens.parse_ints(size, "SIZE")
        source, n = conventions.read_size(framework, layer, values, dims)
        p = conventions.placement(framework, layer, source.spatial)
        cin, cout = channels_for(source, out_channels, groups or 1)
        t = translation.translate(p, groups or 1, cin, cout)
        doc = t.to_json()
        doc["layout"] = framework.channel_layout
        mode = output_mode(json_, plain)
        if mode == "plain":
            typer.echo(doc["torch"] or "none")
        elif mode == "json":
            from tconvcalc.render import jsonout

            jsonout.emit(doc)
        else:
            from tconvcalc.render import reports

            reports.print_translation(doc)
