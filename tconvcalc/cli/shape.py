"""`tconvcalc shape`: sizes of one layer, other layers, --compare, --convention and --batch.

Every layer goes the one way: options -> :class:`~tconvcalc.cli.options.LayerOptions` -> spec
(:func:`~tconvcalc.core.specs.parse_spec`) -> :func:`~tconvcalc.core.layer.apply` -> a typed result.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from typing import Annotated, Any

import typer

from tconvcalc.cli.common import (
    AlignCorners,
    AutoPad,
    CeilMode,
    Consistent,
    Conv,
    Convention,
    CountIncludePad,
    Cropping,
    Dilation,
    Dims,
    DivisorOverride,
    Explain,
    Groups,
    InterpMode,
    Json,
    Kernel,
    Layout,
    OutChannels,
    OutputPadding,
    OutputShape,
    OutputSize,
    Padding,
    PaddingMode,
    Pads,
    Plain,
    ReturnIndices,
    ScaleFactor,
    Stride,
    app,
    choices,
    epilog,
    errors,
    output_mode,
)
from tconvcalc.cli.options import ConventionOptions, LayerOptions
from tconvcalc.core.catalog import TYPES
from tconvcalc.core.errors import LayerError, TConvError, UsageError
from tconvcalc.core.tensor import format_shape

COMPARE_ALLOWED = frozenset(
    {"kernel_size", "stride", "padding", "output_padding", "dilation", "groups", "out_channels", "output_size"}
    | {"bias", "scale_factor", "mode", "align_corners"}
)


EPILOG_SHAPE = """\
Examples:
  tconvcalc shape 1x20x6x6 -k 5 -s 3 -p 2 --out-channels 10
  tconvcalc shape 12 -k 3 -s 2 -p 1 --output-size 24 --plain
  tconvcalc shape 1x10x16x16 --conv -k 5 -s 3 -p 2 --out-channels 20
  tconvcalc shape 1x16x32x32 -k 2 -s 2 --compare
  tconvcalc shape 1x4x8x8 --layer maxpool -k 2

SIZE: 16, 16x16, CxHxW or NxCxHxW (or [1,3,64,64], torch.Size([...])). The
number of spatial dimensions is --dims, else the length of a per-dimension
list (-k 3,4,4 is 3-D), else 2.
"""


@app.command(short_help="Output shape of a ConvTranspose, a Conv or another layer.", epilog=epilog(EPILOG_SHAPE))
def shape(
    size: Annotated[
        str | None,
        typer.Argument(
            metavar="SIZE",
            help="Input shape: 16, 16x16, CxHxW or NxCxHxW ('x' or ',' between values).",
            show_default=False,
        ),
    ] = None,
    kernel_size: Kernel = None,
    dims: Dims = None,
    stride: Stride = None,
    padding: Padding = None,
    output_padding: OutputPadding = None,
    dilation: Dilation = None,
    groups: Groups = None,
    out_channels: OutChannels = None,
    output_size: OutputSize = None,
    bias: Annotated[
        bool | None, typer.Option("--bias/--no-bias", help="Conv/ConvTranspose: a bias (counted in parameters).")
    ] = None,
    padding_mode: PaddingMode = None,
    conv: Conv = False,
    layer_type: Annotated[
        str | None,
        typer.Option(
            "--layer",
            click_type=choices(TYPES),
            metavar="TYPE",
            help="tconv (default), conv, maxpool, avgpool, maxunpool, upsample, or any check layer type (relu, ...).",
        ),
    ] = None,
    ceil_mode: CeilMode = None,
    count_include_pad: CountIncludePad = None,
    divisor_override: DivisorOverride = None,
    return_indices: ReturnIndices = None,
    scale_factor: ScaleFactor = None,
    interp_mode: InterpMode = None,
    align_corners: AlignCorners = None,
    compare: Annotated[
        bool,
        typer.Option("--compare", help="ConvTranspose, MaxUnpool and interpolate on the same input, in one table."),
    ] = False,
    batch: Annotated[
        str | None, typer.Option("--batch", help="JSON Lines of queries (FILE or -): one JSON result per line.")
    ] = None,
    convention: Convention = None,
    pads: Pads = None,
    auto_pad: AutoPad = None,
    output_shape: OutputShape = None,
    consistent: Consistent = False,
    cropping: Cropping = None,
    layout: Layout = None,
    explain: Explain = False,
    json_: Json = False,
    plain: Plain = False,
) -> None:
    """Output shape of a ConvTranspose (default), a Conv (--conv) or another layer (--layer)."""
    layer = LayerOptions(
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        groups=groups,
        out_channels=out_channels,
        output_size=output_size,
        bias=bias,
        padding_mode=padding_mode,
        ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
        divisor_override=divisor_override,
        return_indices=return_indices,
        scale_factor=scale_factor,
        mode=interp_mode,
        align_corners=align_corners,
    )
    framework = ConventionOptions(
        convention, pads, auto_pad, output_shape, consistent, cropping=cropping, layout=layout
    )
    with errors():
        mode = output_mode(json_, plain)
        if batch is not None:
            _refuse_with_batch(size, dims, layer, framework, conv, layer_type, compare, explain, json_, plain)
            from tconvcalc.io import batch as batches

            failed = batches.run_batch(batch, sys.stdout)
            if failed:
                raise LayerError(f"{failed:,} of the batch's queries were refused (their lines say why)")
            return
        if size is None:
            raise UsageError("give SIZE (or --batch FILE)")
        if conv and layer_type not in (None, "conv"):
            raise UsageError(f"--conv is --layer conv; it does not go with --layer {layer_type}")
        kind = "conv" if conv else layer_type or "tconv"
        if kind not in TYPES:
            raise UsageError(f"--layer {kind!r}: choose one of {', '.join(TYPES)}", param="type")
        from tconvcalc.cli import tokens

        values = tokens.parse_ints(size, "SIZE")
        if framework.placed:
            if kind != "tconv" or compare or explain:
                raise UsageError(
                    "--convention, --pads, --auto-pad and --output-shape describe one transposed convolution: "
                    "they do not go with --conv, --layer, --compare or --explain"
                )
            _print_placement(framework, layer, values, dims, mode)
            return
        framework.check()
        if compare:
            if layer_type is not None or conv or explain:
                raise UsageError(
                    "--compare shows tconv, maxunpool and upsample: it does not take --layer, --conv or --explain"
                )
            _compare(layer, values, dims, mode)
            return
        _one_layer(kind, layer, values, dims, explain, mode)


def _refuse_with_batch(*given: Any) -> None:
    """--batch reads every question from its lines: any other option would be ignored, so it is refused."""
    size, dims, layer, framework, conv, layer_type, compare, explain, json_, plain = given
    if size is not None or dims is not None or conv or layer_type or compare or explain or json_ or plain:
        raise UsageError("--batch takes every question from its lines: give no SIZE or other option with it")
    if any(getattr(layer, f.name) is not None for f in fields(layer)) or framework != ConventionOptions():
        raise UsageError("--batch takes every question from its lines: give no layer option with it")


def _one_layer(
    kind: str, layer: LayerOptions, values: tuple[int, ...], dims: int | None, explain: bool, mode: str
) -> None:
    from tconvcalc.core.layer import LayerShape
    from tconvcalc.core.model import apply_layer
    from tconvcalc.core.tensor import TensorShape

    spec = layer.spec(kind)
    result = apply_layer(spec, TensorShape.read(values, dims, [spec]))
    if explain and not isinstance(result, LayerShape):
        raise UsageError(f"--explain shows the convolution formulas; it does not apply to {result.layer}")
    explained = result if explain and isinstance(result, LayerShape) else None
    if mode == "plain":
        typer.echo(format_shape(result.output_shape))
    elif mode == "json":  # the scripting path: no render module, no rich
        from tconvcalc.render import jsonout

        doc = result.to_json()
        if explained is not None:
            from tconvcalc.render.reports import explain_lines

            doc["explain"] = explain_lines(explained)
        jsonout.emit(doc)
    else:
        from tconvcalc.render import reports

        reports.print_result(result, explain)


def _compare(layer: LayerOptions, values: tuple[int, ...], dims: int | None, mode: str) -> None:
    """--compare: a ConvTranspose, MaxUnpool and interpolate built from the same options on the same input."""
    from dataclasses import replace

    from tconvcalc.core.layer import LayerResult
    from tconvcalc.core.model import apply_layer
    from tconvcalc.core.specs import implied_dims
    from tconvcalc.core.tensor import TensorShape

    if layer.kernel_size is None:
        raise UsageError("--compare needs --kernel-size (and --stride) of the ConvTranspose")
    for key in layer.given():
        if key not in COMPARE_ALLOWED:
            raise UsageError(f"--{key.replace('_', '-')} does not apply to --compare", param=key)
    tconv = replace(layer, scale_factor=None, mode=None, align_corners=None).spec("tconv")
    n = dims or implied_dims(tconv) or TensorShape.read(values, None).dims
    unpool = LayerOptions(
        kernel_size=layer.kernel_size, stride=layer.stride, padding=layer.padding, output_size=layer.output_size
    ).spec("maxunpool")
    stride = layer.given().get("stride", 1)
    upsample = LayerOptions(
        scale_factor=layer.scale_factor if layer.output_size is None and layer.scale_factor is not None else None,
        output_size=layer.output_size,
        mode=layer.mode or {1: "linear", 2: "bilinear", 3: "trilinear"}[n],
        align_corners=layer.align_corners,
    )
    if upsample.scale_factor is None and upsample.output_size is None:
        scale = ",".join(str(float(v)) for v in (stride if isinstance(stride, tuple) else (stride,)))
        upsample = replace(upsample, scale_factor=scale)
    specs = [tconv, unpool, upsample.spec("upsample")]
    source = TensorShape.read(values, dims, specs)
    rows: list[tuple[Any, LayerResult | None, TConvError | None]] = []
    for spec in specs:
        try:
            rows.append((spec, apply_layer(spec, source), None))
        except TConvError as exc:
            rows.append((spec, None, exc))
    if mode == "rich":
        from tconvcalc.render import reports

        reports.print_compare(rows, source.dims)
    elif mode == "json":
        from tconvcalc.render import jsonout

        jsonout.emit(
            [
                result.to_json()
                if result
                else {"type": spec.TYPE, "error": str(err), "exit_code": int(getattr(err, "exit_code", 1))}
                for spec, result, err in rows
            ]
        )
    else:
        for spec, result, _ in rows:
            typer.echo(f"{spec.TYPE} {format_shape(result.output_shape) if result else 'error'}")
    refused = [(spec, err) for spec, _, err in rows if err is not None]
    if refused:
        spec, err = refused[0]
        raise LayerError(f"{spec.TYPE} is refused: {err}")


def _print_placement(
    framework: ConventionOptions, layer: LayerOptions, values: tuple[int, ...], dims: int | None, mode: str
) -> None:
    from tconvcalc.cli.conventions import placement, read_size
    from tconvcalc.core import conventions
    from tconvcalc.core.layer import channels_for

    source, n = read_size(framework, layer, values, dims)
    chosen = framework.channel_layout
    p = placement(framework, layer, source.spatial)
    _, cout = channels_for(source, layer.out_channels, layer.groups or 1)
    lead = list(source.as_tuple()[: -source.dims])
    if lead and cout is not None:
        lead[-1] = cout
    shape = conventions.from_channels_first((*lead, *p.output_size), n, chosen)
    if mode == "plain":
        typer.echo(format_shape(shape))
        return
    exact, same = conventions.torch_equivalent(p), conventions.torch_same_shape(p)
    d = source.dims
    doc = {
        "layer": f"ConvTranspose{d}d",
        "convention": p.convention,
        "input_shape": list(values) if len(values) > 1 else list(source.as_tuple()),
        "output_shape": list(shape),
        "layout": chosen,
        "full_size": list(p.full_size),
        "crops": [list(c) for c in p.crops],
        "torch_equivalent": None if exact is None else {"padding": list(exact[:d]), "output_padding": list(exact[d:])},
        "torch_same_shape": None
        if same is None or exact is not None
        else {"padding": list(same[0]), "output_padding": list(same[1])},
        "notes": list(p.notes),
    }
    if mode == "json":
        from tconvcalc.render import jsonout

        jsonout.emit(doc)
        return
    from tconvcalc.render import reports

    reports.print_placement(doc)
