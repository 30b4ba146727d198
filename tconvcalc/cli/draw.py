"""`tconvcalc draw`: the figure of one transposed convolution, written as a standalone SVG file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer

from tconvcalc.cli.common import (
    AutoPad,
    Consistent,
    Convention,
    Cropping,
    Dilation,
    Dims,
    Json,
    Kernel,
    Layout,
    OutputPadding,
    OutputShape,
    Padding,
    Pads,
    Stride,
    app,
    choices,
    epilog,
    errors,
)
from tconvcalc.core.errors import UsageError
from tconvcalc.render import FIGURE_VIEWS

if TYPE_CHECKING:
    from tconvcalc.cli.options import ConventionOptions
    from tconvcalc.core.conventions import Placement
    from tconvcalc.render.figure import Figure, Values


EPILOG_DRAW = """\
Examples:
  tconvcalc draw 3 -k 3 -s 2 -p 1 -o fig.svg
  tconvcalc draw 3 -k 3 -s 2 -p 1 --output-padding 1 --animate -o fig.svg
  tconvcalc draw --view scatter --input "[[0,1],[2,3]]" --weight "[[0,1],[2,3]]" -o d2l.svg
"""


@app.command(short_help="Draw a transposed convolution as an SVG figure.", epilog=epilog(EPILOG_DRAW))
def draw(
    size: Annotated[
        str | None,
        typer.Argument(
            metavar="[SIZE]",
            help="Input shape, as in shape: 5, 3x3, CxHxW (omit with --input).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="The SVG file to write (FILE.svg).", show_default=False)
    ] = None,
    kernel_size: Kernel = None,
    dims: Dims = None,
    stride: Stride = None,
    padding: Padding = None,
    output_padding: OutputPadding = None,
    dilation: Dilation = None,
    convention: Convention = None,
    pads: Pads = None,
    auto_pad: AutoPad = None,
    output_shape: OutputShape = None,
    consistent: Consistent = False,
    cropping: Cropping = None,
    layout: Layout = None,
    view: Annotated[
        str,
        typer.Option(
            "--view",
            click_type=choices(FIGURE_VIEWS),
            help="zero-insertion (a stride-1 convolution over the zero-inserted, padded input) or scatter "
            "(each input element stamps the scaled kernel onto the output).",
        ),
    ] = "zero-insertion",
    animate: Annotated[
        bool,
        typer.Option("--animate", help="An animated SVG: the kernel steps over the positions (SMIL, loops)."),
    ] = False,
    input_tensor: Annotated[
        str | None,
        typer.Option("--input", help="Input tensor, as run's INPUT: the cells show its numbers (with --weight)."),
    ] = None,
    weight: Annotated[
        str | None,
        typer.Option("--weight", help="Kernel, as run's WEIGHT: a bare kernel, or one channel in and out."),
    ] = None,
    key: Annotated[str | None, typer.Option("--key", help="Array name inside .npz files.")] = None,
    json_: Json = False,
) -> None:
    """Draw a transposed convolution as the convolution-arithmetic paper does: an SVG of every cell."""
    from tconvcalc.cli import conventions, tokens
    from tconvcalc.cli.options import ConventionOptions, LayerOptions
    from tconvcalc.render import figure

    layer = LayerOptions(
        kernel_size=kernel_size, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation
    )
    framework = ConventionOptions(
        convention, pads, auto_pad, output_shape, consistent, cropping=cropping, layout=layout
    )
    with errors():
        if output is None:
            raise UsageError("give -o FILE.svg: the figure is written to a file")
        check_svg_path(output)
        tensors: tuple[Any, Any] | None = None
        if input_tensor is not None or weight is not None:
            if input_tensor is None or weight is None:
                raise UsageError("--input and --weight go together: the numbers of the input and of the kernel")
            if size is not None:
                raise UsageError("SIZE comes from --input here: leave it out")
            if layout is not None:
                raise UsageError("--layout reads SIZE; --input is drawn as one channel: give its spatial axes")
            tensors = _read(input_tensor, weight, key, dims, framework)
            spatial, kernel = tuple(tensors[0].shape), tuple(tensors[1].shape[2:])
        else:
            if size is None:
                raise UsageError("give SIZE (or --input and --weight)")
            source, _ = conventions.read_size(framework, layer, tokens.parse_ints(size, "SIZE"), dims)
            spatial, kernel = source.spatial, None
        figure.check_dims(len(spatial))
        p = conventions.placement(framework, layer, spatial, kernel)
        op = None
        if output_padding is not None and framework.name in ("torch", "onnx"):  # extra elements at the end
            op = tokens.parse_per_dim(output_padding, len(spatial), "--output-padding")
        figure.check_size(figure.axes_of(p, op), view)
        values = None if tensors is None else _values(*tensors, p)
        drawn = figure.draw(p, view, op, values, animate)
        _write(output, drawn.svg)
        _report(output, p, op, view, drawn, values is not None, json_)


def check_svg_path(path: str, overlap: bool = True) -> None:
    """``-o FILE.svg``: an SVG file name (and, for ``matrix``, only with ``--overlap``)."""
    if not overlap:
        raise UsageError("-o FILE.svg draws the --overlap heat map: add --overlap")
    if not path.lower().endswith(".svg"):
        raise UsageError(f"-o {path!r}: the figure is SVG, so name the file FILE.svg")


def write_overlap(
    path: str, counts: Any, uniform: bool, kernel: Any, stride: Any, dilation: Any, quiet: bool = False
) -> None:
    """``matrix --overlap -o FILE.svg``: the heat map of taps per output position, written atomically."""
    from tconvcalc.render import figure

    drawn = figure.overlap_map(counts, uniform, tuple(kernel), tuple(stride), tuple(dilation))
    _write(path, drawn.svg)
    if not quiet:
        from tconvcalc.render.console import clean

        typer.echo(f"wrote {clean(path)}: heat map of taps per output position, {drawn.width}x{drawn.height} px")


def _write(path: str, svg: str) -> None:
    from tconvcalc.io.atomic import write_atomic

    def write(stream: BinaryIO) -> None:
        stream.write(svg.encode())

    write_atomic(path, write, "-o")


def _read(
    input_tensor: str, weight: str, key: str | None, dims: int | None, framework: ConventionOptions
) -> tuple[Any, Any]:
    """The input as a bare array and the kernel as PyTorch's (1, 1, *k): draw shows one channel."""
    from tconvcalc.engine import relayout
    from tconvcalc.engine.run import infer_dims
    from tconvcalc.io import tensorio

    framework.check()
    x = tensorio.read_tensor(input_tensor, key, "--input")
    w = tensorio.read_tensor(weight, key, "--weight")
    n = infer_dims(w, dims)
    w = relayout.torch_weight(w, n, framework.name, None, False)
    if tuple(w.shape[:2]) != (1, 1):
        raise UsageError(
            f"--weight: draw shows one channel in and one out, the weight has {w.shape[0]} in and {w.shape[1]} out "
            "(give a bare kernel)"
        )
    if x.ndim < n or x.ndim > n + 2 or any(v != 1 for v in x.shape[: x.ndim - n]):
        raise UsageError(
            f"--input of shape {tuple(x.shape)}: draw shows one {n}-D channel; give {n} axes (or leading axes of 1)"
        )
    return x.reshape(x.shape[x.ndim - n :]), w


def _values(x: Any, w: Any, p: Placement) -> Values:
    """The numbers of every cell, from the engine: the full output, the layer's output, the stamps."""
    import numpy as np

    from tconvcalc.core.conventions import torch_equivalent
    from tconvcalc.engine import functional, relayout
    from tconvcalc.render.figure import Values

    batch = x.reshape(1, 1, *x.shape)
    full = functional.conv_transpose(batch, w, None, p.stride, 0, 0, 1, p.dilation)
    exact = torch_equivalent(p) if p.convention == "torch" else None
    if exact is not None:
        n = len(p.crops)
        out = functional.conv_transpose(batch, w, None, p.stride, exact[:n], exact[n:], 1, p.dilation)
    else:
        out = relayout.run_placement(batch, w, None, p, 1, None)
    kernel = w[0, 0]
    return Values(
        input=x.tolist(),
        kernel=kernel.tolist(),
        full=full[0, 0].tolist(),
        output=out[0, 0].tolist(),
        stamps=np.multiply.outer(x, kernel).tolist(),
    )


def _report(
    path: str, p: Placement, op: tuple[int, ...] | None, view: str, drawn: Figure, values: bool, json_: bool
) -> None:
    from tconvcalc.core import sizes

    n = len(p.crops)
    if json_:
        from tconvcalc.render import jsonout

        jsonout.emit(
            {
                "path": path,
                "layer": f"ConvTranspose{n}d",
                "convention": p.convention,
                "view": view,
                "animated": drawn.steps > 0,
                "steps": drawn.steps,
                "values": values,
                "input_size": list(p.input_size),
                "kernel_size": list(p.kernel_size),
                "stride": list(p.stride),
                "dilation": list(p.dilation),
                "output_padding": list(op) if op is not None else [0] * n,
                "full_size": list(p.full_size),
                "crops": [list(c) for c in p.crops],
                "border": [
                    list(sizes.zero_insert_border(k, d, c)) for k, d, c in zip(p.kernel_size, p.dilation, p.crops)
                ],
                "output_size": list(p.output_size),
                "width": drawn.width,
                "height": drawn.height,
                "cells": drawn.counts,
            }
        )
        return
    from tconvcalc.core.tensor import format_shape
    from tconvcalc.render.console import clean

    what = f"{view} view" + (", animated" if drawn.steps else "")
    typer.echo(
        f"wrote {clean(path)}: ConvTranspose{n}d {format_shape(p.input_size)} -> {format_shape(p.output_size)}, "
        f"{what}, {drawn.width}x{drawn.height} px"
    )
