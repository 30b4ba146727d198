"""`tconvcalc shape`: sizes of one layer, other layers, --compare, --convention and --batch."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from tconvcalc.cli.app import (
    AutoPad,
    Consistent,
    Conv,
    Convention,
    Dilation,
    Dims,
    Explain,
    Groups,
    Json,
    OutChannels,
    OutputPadding,
    OutputShape,
    OutputSize,
    Padding,
    Pads,
    Plain,
    Stride,
    app,
    errors,
    output_mode,
)
from tconvcalc.core.errors import LayerError, TConvError, UsageError
from tconvcalc.core.layer import format_shape

LAYERS = ("tconv", "conv", "maxpool", "avgpool", "maxunpool", "upsample")


@app.command()
def shape(
    size: Annotated[
        str | None,
        typer.Argument(
            metavar="SIZE",
            help="Input shape: 16, 16x16, CxHxW or NxCxHxW ('x' or ',' between values).",
            show_default=False,
        ),
    ] = None,
    kernel_size: Annotated[
        str | None, typer.Option("-k", "--kernel-size", help="Kernel size: an int, or one per dimension (3,5).")
    ] = None,
    dims: Dims = 2,
    stride: Stride = "1",
    padding: Padding = "0",
    output_padding: OutputPadding = None,
    dilation: Dilation = "1",
    groups: Groups = 1,
    out_channels: OutChannels = None,
    output_size: OutputSize = None,
    conv: Conv = False,
    layer_type: Annotated[
        str, typer.Option("--layer", help="tconv, conv, maxpool, avgpool, maxunpool or upsample.")
    ] = "tconv",
    ceil_mode: Annotated[
        bool, typer.Option("--ceil-mode", help="Pooling: round the output size up (ceil_mode).")
    ] = False,
    scale_factor: Annotated[
        str | None, typer.Option("--scale-factor", help="Upsample: a float, or one per dimension (2,1.5).")
    ] = None,
    interp_mode: Annotated[
        str | None,
        typer.Option("--mode", help="Upsample: nearest, nearest-exact, area, linear, bilinear, bicubic, trilinear."),
    ] = None,
    compare: Annotated[
        bool,
        typer.Option("--compare", help="ConvTranspose, MaxUnpool and interpolate on the same input, in one table."),
    ] = False,
    batch: Annotated[
        str | None, typer.Option("--batch", help="JSON Lines of queries (FILE or -): one JSON result per line.")
    ] = None,
    convention: Convention = "torch",
    pads: Pads = None,
    auto_pad: AutoPad = None,
    output_shape: OutputShape = None,
    consistent: Consistent = False,
    explain: Explain = False,
    json_: Json = False,
    plain: Plain = False,
) -> None:
    """Output shape of a ConvTranspose (default), a Conv (--conv) or another layer (--layer)."""
    from tconvcalc.cli import conventions, tokens
    from tconvcalc.core import layer

    with errors():
        mode = output_mode(json_, plain)
        if batch is not None:
            from tconvcalc.io import batch as batches

            failed = batches.run_batch(batch, sys.stdout)
            if failed:
                raise LayerError(f"{failed:,} of the batch's queries were refused (their lines say why)")
            return
        if size is None:
            raise UsageError("give SIZE (or --batch FILE)")
        kind = "conv" if conv else layer_type
        if kind not in LAYERS:
            raise UsageError(f"--layer {layer_type!r}: choose one of {', '.join(LAYERS)}")
        values = tokens.parse_shape(size, dims)
        if convention != "torch" or pads is not None or auto_pad is not None or output_shape is not None:
            if kind != "tconv" or compare:
                raise UsageError(
                    "--convention, --pads, --auto-pad and --output-shape describe a transposed convolution"
                )
            placement = conventions.from_tokens(
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
            _print_placement(placement, values, dims, groups, out_channels, mode)
            return
        if compare or kind not in ("tconv", "conv"):
            _other_layer(
                kind,
                values,
                dims,
                kernel_size,
                stride,
                padding,
                output_padding,
                dilation,
                groups,
                out_channels,
                output_size,
                ceil_mode,
                scale_factor,
                interp_mode,
                compare,
                mode,
            )
            return
        if kernel_size is None:
            raise UsageError("missing --kernel-size (-k)")
        source = layer.TensorShape.from_tuple(values, dims)
        k, s, d = (
            tokens.parse_per_dim(v, dims, n)
            for v, n in ((kernel_size, "--kernel-size"), (stride, "--stride"), (dilation, "--dilation"))
        )
        pad = tokens.parse_padding(padding, dims)
        if conv:
            if output_padding is not None or output_size is not None:
                raise UsageError("--output-padding and --output-size apply to the transposed convolution, not --conv")
            result = layer.conv_layer(source, k, s, pad, d, groups, out_channels)
        else:
            if output_padding is not None and output_size is not None:
                raise UsageError(
                    "give --output-padding or --output-size, not both (output_size replaces output_padding)"
                )
            op = tokens.parse_per_dim(output_padding or "0", dims, "--output-padding")
            want = None if output_size is None else tokens.parse_output_size(output_size, dims)
            result = layer.conv_transpose_layer(source, k, s, pad, op, d, groups, out_channels, want)
        if mode == "plain":
            typer.echo(format_shape(result.output_shape))
        elif mode == "json":  # the scripting path: no render module, no rich
            import json

            doc = result.to_json()
            if explain:
                from tconvcalc.render.reports import explain_lines

                doc["explain"] = explain_lines(result)
            typer.echo(json.dumps(doc))
        else:
            from tconvcalc.render import reports

            reports.print_layer(result, explain)


def _other_layer(
    kind: str,
    values: tuple[int, ...],
    dims: int,
    kernel_size: str | None,
    stride: str,
    padding: str,
    output_padding: str | None,
    dilation: str,
    groups: int,
    out_channels: int | None,
    output_size: str | None,
    ceil_mode: bool,
    scale_factor: str | None,
    interp_mode: str | None,
    compare: bool,
    mode: str,
) -> None:
    """shape --layer maxpool|avgpool|maxunpool|upsample, and --compare: specs handed to batch.query."""
    from tconvcalc.cli import tokens
    from tconvcalc.io import batch as batches

    def ints(token: str | None, name: str) -> list[int] | None:
        return None if token is None else list(tokens.parse_per_dim(token, dims, name))

    k = ints(kernel_size, "--kernel-size")
    base: dict[str, Any] = {"input": list(values), "dims": dims}
    if compare:
        if k is None:
            raise UsageError("--compare needs --kernel-size (and --stride) of the ConvTranspose")
        s = ints(stride, "--stride")
        tconv = {
            **base,
            "type": "tconv",
            "kernel_size": k,
            "stride": s,
            "padding": ints(padding, "--padding"),
            "output_padding": ints(output_padding or "0", "--output-padding"),
            "dilation": ints(dilation, "--dilation"),
            "groups": groups,
        }
        if out_channels is not None:
            tconv["out_channels"] = out_channels
        unpool = {**base, "type": "maxunpool", "kernel_size": k, "stride": s, "padding": ints(padding, "--padding")}
        upsample = {
            **base,
            "type": "upsample",
            "mode": interp_mode or {1: "linear", 2: "bilinear", 3: "trilinear"}[dims],
            "scale_factor": _floats(scale_factor, dims) if scale_factor else [float(v) for v in s or [1]],
        }
        rows: list[tuple[dict[str, Any], Any, str | None]] = []
        for each in (tconv, unpool, upsample):
            try:
                rows.append((each, batches.query(each), None))
            except TConvError as exc:
                rows.append((each, None, str(exc)))
        if mode == "rich":
            from tconvcalc.render import reports

            reports.print_compare(rows, dims)
        elif mode == "json":
            import json

            typer.echo(json.dumps([doc or {"operation": each["type"], "error": err} for each, doc, err in rows]))
        else:
            for each, doc, _ in rows:
                typer.echo(f"{each['type']} {format_shape(tuple(doc['output_shape'])) if doc else 'error'}")
        return
    spec: dict[str, Any] = {**base, "type": kind}
    if kind in ("maxpool", "avgpool", "maxunpool"):
        spec.update(kernel_size=k, padding=ints(padding, "--padding"))
        if stride != "1":  # the pools' stride defaults to the kernel size
            spec["stride"] = ints(stride, "--stride")
    if kind == "maxpool":
        spec.update(dilation=ints(dilation, "--dilation"), ceil_mode=ceil_mode)
    if kind == "avgpool":
        spec["ceil_mode"] = ceil_mode
    if kind == "maxunpool" and output_size is not None:
        spec["output_size"] = list(tokens.parse_output_size(output_size, dims))
    if kind == "upsample":
        if output_size is not None:
            spec["size"] = list(tokens.parse_output_size(output_size, dims))
        if scale_factor is not None:
            spec["scale_factor"] = _floats(scale_factor, dims)
        spec["mode"] = interp_mode or "nearest"
    doc = batches.query({key: value for key, value in spec.items() if value is not None})
    if mode == "json":
        import json

        typer.echo(json.dumps(doc))
    elif mode == "plain":
        typer.echo(format_shape(tuple(doc["output_shape"])))
    else:
        from tconvcalc.render import reports

        reports.print_query(doc)


def _floats(token: str, dims: int) -> list[float]:
    try:
        values = [float(v) for v in token.replace("x", ",").split(",")]
    except ValueError:
        raise UsageError(f"--scale-factor: {token!r} is not a number or one number per dimension") from None
    if len(values) == 1:
        return values * dims
    if len(values) != dims:
        raise UsageError(f"--scale-factor has {len(values)} values but --dims is {dims}")
    return values


def _print_placement(
    p: Any, values: tuple[int, ...], dims: int, groups: int, out_channels: int | None, mode: str
) -> None:
    from tconvcalc.core import conventions

    lead = list(values[: len(values) - dims])
    if lead and out_channels is not None:
        lead[-1] = out_channels
    shape = (*lead, *p.output_size)
    if mode == "plain":
        typer.echo(format_shape(shape))
        return
    exact, same = conventions.torch_equivalent(p), conventions.torch_same_shape(p)
    doc = {
        "convention": p.convention,
        "input_shape": list(values),
        "output_shape": list(shape),
        "full_size": list(p.full_size),
        "crops": [list(c) for c in p.crops],
        "torch_equivalent": None
        if exact is None
        else {"padding": list(exact[:dims]), "output_padding": list(exact[dims:])},
        "torch_same_shape": None
        if same is None or exact is not None
        else {"padding": list(same[0]), "output_padding": list(same[1])},
        "notes": list(p.notes),
    }
    if mode == "json":
        import json

        typer.echo(json.dumps(doc))
        return
    from tconvcalc.render import reports

    reports.print_placement(doc)
