"""The Typer app: parse options, call the core, render. No arithmetic here.

Only typer and the standard library are imported at module level, so that ``--json``/``--plain``,
``--help`` and TAB completion never import NumPy or rich.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from tconvcalc import __version__
from tconvcalc.errors import ExitStatus, LayerError, TConvError, UsageError

_APP_SETTINGS: dict[str, Any] = {
    "name": "tconvcalc",
    "no_args_is_help": True,
    "rich_markup_mode": None,
    "pretty_exceptions_enable": False,
    "context_settings": {"help_option_names": ["-h", "--help"]},
}
app = typer.Typer(**_APP_SETTINGS)

# Options shared by the commands, named as PyTorch names the parameters.
Dims = Annotated[int, typer.Option("--dims", min=1, max=3, help="Number of spatial dimensions (1, 2 or 3).")]
Kernel = Annotated[str, typer.Option("-k", "--kernel-size", help="Kernel size: an int, or one per dimension (3,5).")]
Stride = Annotated[str, typer.Option("-s", "--stride", help="Stride: an int, or one per dimension.")]
Padding = Annotated[
    str,
    typer.Option(
        "-p", "--padding", help="Padding per side: an int or one per dimension; 'same' or 'valid' with --conv."
    ),
]
OutputPadding = Annotated[
    str | None,
    typer.Option(
        "--output-padding",
        help="Extra computed elements at the end of each dimension (0 <= op < max(stride, dilation)).",
    ),
]
Dilation = Annotated[str, typer.Option("-d", "--dilation", help="Dilation: an int, or one per dimension.")]
Groups = Annotated[int, typer.Option("-g", "--groups", help="Number of channel groups.")]
OutChannels = Annotated[
    int | None, typer.Option("--out-channels", help="Output channels (default: the input's channel count).")
]
OutputSize = Annotated[
    str | None,
    typer.Option("--output-size", help="The output size wanted, as forward(output_size=...): derives output_padding."),
]
Conv = Annotated[
    bool, typer.Option("--conv", help="The forward convolution (Conv1d/2d/3d) instead of the transposed one.")
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
Plain = Annotated[bool, typer.Option("--plain", help="Print only the output shape, e.g. 32x32.")]
Convention = Annotated[
    str, typer.Option("--convention", help="torch (default), onnx, keras, tf or jax: whose parameters these are.")
]
Pads = Annotated[str | None, typer.Option("--pads", help="ONNX pads: begin values then end values (1,2,1,2).")]
AutoPad = Annotated[
    str | None, typer.Option("--auto-pad", help="ONNX auto_pad: NOTSET, SAME_UPPER, SAME_LOWER, VALID.")
]
OutputShape = Annotated[str | None, typer.Option("--output-shape", help="ONNX/TF output_shape (spatial).")]
Consistent = Annotated[
    bool,
    typer.Option(
        "--consistent-padding", help="JAX: LO:HI pairs are the forward conv's padding (use_consistent_padding)."
    ),
]
Explain = Annotated[bool, typer.Option("--explain", help="Show the formula step by step with the numbers substituted.")]


@contextmanager
def errors() -> Iterator[None]:
    """The one error boundary: a TConvError becomes 'error: <message>' on stderr and its exit code."""
    try:
        yield
    except TConvError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(int(exc.exit_code)) from None


def _output_mode(json_: bool, plain: bool) -> str:
    if json_ and plain:
        raise UsageError("--json and --plain are mutually exclusive")
    return "json" if json_ else "plain" if plain else "rich"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tconvcalc {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Shape and arithmetic calculator for transposed convolutions, exactly as PyTorch 2.13.

    Exit codes: 0 ok; 1 the numbers do not work (invalid layer, failed check, no solution);
    2 usage error (malformed option, unreadable file); 130 interrupted.
    """


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
    from tconvcalc import layer, params

    with errors():
        mode = _output_mode(json_, plain)
        if batch is not None:
            from tconvcalc import network

            failed = network.run_batch(batch, sys.stdout)
            if failed:
                raise LayerError(f"{failed:,} of the batch's queries were refused (their lines say why)")
            return
        if size is None:
            raise UsageError("give SIZE (or --batch FILE)")
        kind = "conv" if conv else layer_type
        if kind not in LAYERS:
            raise UsageError(f"--layer {layer_type!r}: choose one of {', '.join(LAYERS)}")
        values = params.parse_shape(size, dims)
        if convention != "torch" or pads is not None or auto_pad is not None or output_shape is not None:
            if kind != "tconv" or compare:
                raise UsageError(
                    "--convention, --pads, --auto-pad and --output-shape describe a transposed convolution"
                )
            placement = _placement(
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
            params.parse_per_dim(v, dims, n)
            for v, n in ((kernel_size, "--kernel-size"), (stride, "--stride"), (dilation, "--dilation"))
        )
        pad = params.parse_padding(padding, dims)
        if conv:
            if output_padding is not None or output_size is not None:
                raise UsageError("--output-padding and --output-size apply to the transposed convolution, not --conv")
            result = layer.conv_layer(source, k, s, pad, d, groups, out_channels)
        else:
            if output_padding is not None and output_size is not None:
                raise UsageError(
                    "give --output-padding or --output-size, not both (output_size replaces output_padding)"
                )
            op = params.parse_per_dim(output_padding or "0", dims, "--output-padding")
            want = None if output_size is None else params.parse_output_size(output_size, dims)
            result = layer.conv_transpose_layer(source, k, s, pad, op, d, groups, out_channels, want)
        if mode == "plain":
            typer.echo(params.format_shape(result.output_shape))
        elif mode == "json":  # the scripting path: no render module, no rich
            import json

            doc = result.to_json()
            if explain:
                from tconvcalc.render import explain_lines

                doc["explain"] = explain_lines(result)
            typer.echo(json.dumps(doc))
        else:
            from tconvcalc import render

            render.print_layer(result, explain)


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
    """shape --layer maxpool|avgpool|maxunpool|upsample, and --compare: specs handed to network.query."""
    from tconvcalc import network, params

    def ints(token: str | None, name: str) -> list[int] | None:
        return None if token is None else list(params.parse_per_dim(token, dims, name))

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
                rows.append((each, network.query(each), None))
            except TConvError as exc:
                rows.append((each, None, str(exc)))
        if mode == "rich":
            from tconvcalc import render

            render.print_compare(rows, dims)
        elif mode == "json":
            import json

            typer.echo(json.dumps([doc or {"operation": each["type"], "error": err} for each, doc, err in rows]))
        else:
            for each, doc, _ in rows:
                typer.echo(f"{each['type']} {params.format_shape(tuple(doc['output_shape'])) if doc else 'error'}")
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
        spec["output_size"] = list(params.parse_output_size(output_size, dims))
    if kind == "upsample":
        if output_size is not None:
            spec["size"] = list(params.parse_output_size(output_size, dims))
        if scale_factor is not None:
            spec["scale_factor"] = _floats(scale_factor, dims)
        spec["mode"] = interp_mode or "nearest"
    doc = network.query({key: value for key, value in spec.items() if value is not None})
    if mode == "json":
        import json

        typer.echo(json.dumps(doc))
    elif mode == "plain":
        typer.echo(params.format_shape(tuple(doc["output_shape"])))
    else:
        from tconvcalc import render

        render.print_query(doc)


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


def _placement(
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
) -> Any:
    from tconvcalc import conventions, params

    if kernel_size is None:
        raise UsageError("missing --kernel-size (-k)")
    return conventions.from_options(
        convention,
        values[-dims:],
        params.parse_per_dim(kernel_size, dims, "--kernel-size"),
        params.parse_per_dim(stride, dims, "--stride"),
        params.parse_per_dim(dilation, dims, "--dilation"),
        None if padding == "0" else padding,
        output_padding,
        pads,
        auto_pad,
        None if output_shape is None else params.parse_output_size(output_shape, dims),
        consistent,
    )


def _print_placement(
    p: Any, values: tuple[int, ...], dims: int, groups: int, out_channels: int | None, mode: str
) -> None:
    from tconvcalc import conventions, params

    lead = list(values[: len(values) - dims])
    if lead and out_channels is not None:
        lead[-1] = out_channels
    shape = (*lead, *p.output_size)
    if mode == "plain":
        typer.echo(params.format_shape(shape))
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
    from tconvcalc import render

    render.print_placement(doc)


def _run_convention(
    x: Any,
    w: Any,
    b: Any,
    n: int,
    convention: str,
    stride: str,
    dilation: str,
    padding: str,
    output_padding: str | None,
    groups: int,
    pads: str | None,
    auto_pad: str | None,
    output_shape: str | None,
    consistent: bool,
    weight_layout: str | None,
    transpose_kernel: bool,
    mode: str,
    precision: int,
    save: str | None,
) -> None:
    """run --convention: the kernel in the framework's layout, the framework's crop of the full output."""
    from tconvcalc import conventions, engine, tensorio

    if convention not in conventions.CONVENTIONS:
        raise UsageError(f"--convention {convention!r}: choose one of {', '.join(conventions.CONVENTIONS)}")
    if transpose_kernel and convention != "jax":
        raise UsageError("--transpose-kernel is JAX's option: add --convention jax")
    if convention in ("keras", "tf", "jax") and groups != 1:
        raise UsageError(f"{convention} has no groups in its transposed convolution")
    bare_input = x.ndim == n
    if bare_input:
        x = x.reshape(1, *x.shape)
    layout = weight_layout or conventions.default_layout(convention, n)
    if w.ndim == n:  # a bare kernel: one channel in and out, whatever the layout
        w = w.reshape(1, 1, *w.shape)
        layout = "IO" + conventions.SPATIAL_LETTERS[n]
    elif convention == "jax" and transpose_kernel:  # JAX's letters then name the forward conv: its O is our I
        layout = layout.upper().translate(str.maketrans("IO", "OI"))
    w = conventions.to_torch_weight(w, layout, n, flip=convention == "jax" and not transpose_kernel)
    p = _placement(
        convention,
        tuple(x.shape[-n:]),
        n,
        ",".join(map(str, w.shape[2:])),
        stride,
        dilation,
        padding,
        output_padding,
        pads,
        auto_pad,
        output_shape,
        consistent,
    )
    full = engine.conv_transpose(x, w, None, p.stride, 0, 0, groups, p.dilation)
    out = conventions.apply_placement(full, p.crops, b)
    if bare_input and out.shape[0] == 1:
        out = out[0]
    if save is not None:
        tensorio.save_tensor(save, out)
    from tconvcalc import tensorview

    if mode == "plain":
        typer.echo(tensorview.compact(out))
    elif mode == "json":
        import json

        typer.echo(
            json.dumps(
                {
                    "convention": convention,
                    "output_shape": list(out.shape),
                    "output": tensorview.to_nested(out),
                    "dtype": str(out.dtype),
                    "crops": [list(c) for c in p.crops],
                    "notes": list(p.notes),
                }
            )
        )
    else:
        from tconvcalc import render

        tensorview.print_tensor(out, n, precision, f"ConvTranspose{n}d ({convention} convention)")
        for note in p.notes:
            render.console().print(f"note: {note}", markup=False)


@app.command()
def run(
    input: Annotated[
        str,
        typer.Argument(
            metavar="INPUT",
            help="Input tensor: a literal like [[0,1],[2,3]], a .npy/.npz/.csv/.txt/.json file, or - for stdin.",
            show_default=False,
        ),
    ],
    weight: Annotated[
        str,
        typer.Argument(
            metavar="WEIGHT",
            help="Weight tensor, as INPUT: a bare kernel or PyTorch's layout (C_in, C_out/groups, *k).",
            show_default=False,
        ),
    ],
    bias: Annotated[str | None, typer.Option("--bias", help="Bias tensor of C_out values, as INPUT.")] = None,
    key: Annotated[str | None, typer.Option("--key", help="Array name inside .npz files.")] = None,
    dims: Annotated[
        int | None, typer.Option("--dims", min=1, max=3, help="Spatial dimensions (default: from the weight).")
    ] = None,
    stride: Stride = "1",
    padding: Padding = "0",
    output_padding: OutputPadding = None,
    output_size: OutputSize = None,
    dilation: Dilation = "1",
    groups: Groups = 1,
    conv: Conv = False,
    method: Annotated[
        str,
        typer.Option("--method", help="fast, scatter, matrix or zero-insert: four computations of the same result."),
    ] = "fast",
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Run all four methods and report the largest difference (exit 1 beyond rounding)."
        ),
    ] = False,
    convention: Convention = "torch",
    pads: Pads = None,
    auto_pad: AutoPad = None,
    output_shape: OutputShape = None,
    consistent: Consistent = False,
    weight_layout: Annotated[
        str | None,
        typer.Option("--weight-layout", help="Kernel axes, e.g. IOHW (torch, onnx), HWOI (keras, tf), HWIO (jax)."),
    ] = None,
    transpose_kernel: Annotated[
        bool, typer.Option("--transpose-kernel", help="JAX: transpose_kernel=True (mirror and swap I/O, as PyTorch).")
    ] = False,
    explain: Explain = False,
    precision: Annotated[
        int, typer.Option("--precision", min=1, max=17, help="Significant digits of non-integral results.")
    ] = 6,
    save: Annotated[str | None, typer.Option("--save", help="Also write the output to FILE (.npy or .csv).")] = None,
    memory_limit: Annotated[
        str, typer.Option("--memory-limit", help="Refuse work needing more memory than this (e.g. 512M, 4GiB).")
    ] = "1GiB",
    json_: Json = False,
    plain: Annotated[bool, typer.Option("--plain", help="Print only the output, as one compact nested list.")] = False,
) -> None:
    """Compute a ConvTranspose (default) or, with --conv, a Conv on real numbers, exactly as PyTorch."""
    from tconvcalc import params, tensorio

    with errors():
        mode = _output_mode(json_, plain)
        if method not in ("fast", "scatter", "matrix", "zero-insert"):
            raise UsageError(f"--method {method!r}: choose fast, scatter, matrix or zero-insert")
        x = tensorio.read_tensor(input, key, "INPUT")
        w = tensorio.read_tensor(weight, key, "WEIGHT")
        b = None if bias is None else tensorio.read_tensor(bias, key, "--bias").reshape(-1)
        from tconvcalc.run import infer_dims
        from tconvcalc.run import run as run_layer

        n = infer_dims(w, dims)
        if convention != "torch" or pads is not None or auto_pad is not None or output_shape is not None:
            _run_convention(
                x,
                w,
                b,
                n,
                convention,
                stride,
                dilation,
                padding,
                output_padding,
                groups,
                pads,
                auto_pad,
                output_shape,
                consistent,
                weight_layout,
                transpose_kernel,
                mode,
                precision,
                save,
            )
            return
        if conv and (output_padding is not None or output_size is not None):
            raise UsageError("--output-padding and --output-size apply to the transposed convolution, not --conv")
        if output_padding is not None and output_size is not None:
            raise UsageError("give --output-padding or --output-size, not both (output_size replaces output_padding)")
        result = run_layer(
            x,
            w,
            b,
            dims=n,
            transposed=not conv,
            stride=params.parse_per_dim(stride, n, "--stride"),
            padding=params.parse_padding(padding, n),
            output_padding=params.parse_per_dim(output_padding or "0", n, "--output-padding"),
            output_size=None if output_size is None else params.parse_output_size(output_size, n),
            dilation=params.parse_per_dim(dilation, n, "--dilation"),
            groups=groups,
            method=method,
            check=check,
            memory_limit=tensorio.parse_bytes(memory_limit),
        )
        if save is not None:
            tensorio.save_tensor(save, result.output)
        from tconvcalc import render

        render.print_run(result, mode, explain, precision)
        if check and not result.check_passed:
            raise LayerError(
                f"the methods disagree by up to {max(result.checks.values()):.3g} (tolerance {result.tolerance:.3g})"
            )


@app.command("invert-conv")
def invert_conv(
    size: Annotated[
        str,
        typer.Argument(
            metavar="SIZE", help="Input shape of the Conv: 16, 16x16, CxHxW or NxCxHxW.", show_default=False
        ),
    ],
    kernel_size: Kernel,
    dims: Dims = 2,
    stride: Stride = "1",
    padding: Padding = "0",
    dilation: Dilation = "1",
    groups: Groups = 1,
    out_channels: OutChannels = None,
    json_: Json = False,
) -> None:
    """The output_padding that makes a ConvTranspose undo this Conv, and every input size it cannot tell apart."""
    from tconvcalc import invert, layer, params

    with errors():
        source = layer.TensorShape.from_tuple(params.parse_shape(size, dims), dims)
        k, s, d = (
            params.parse_per_dim(v, dims, n)
            for v, n in ((kernel_size, "--kernel-size"), (stride, "--stride"), (dilation, "--dilation"))
        )
        result = invert.invert_conv(source, k, s, params.parse_padding(padding, dims), d, groups, out_channels)
        if json_:
            import json

            typer.echo(json.dumps(result.to_json()))
        else:
            from tconvcalc import render

            render.print_inverse(result)


@app.command()
def solve(
    input_size: Annotated[
        str, typer.Argument(metavar="IN", help="Input size per dimension: 16 or 16x8.", show_default=False)
    ],
    output_size: Annotated[
        str, typer.Argument(metavar="OUT", help="Wanted output size per dimension: 32 or 32x16.", show_default=False)
    ],
    conv: Conv = False,
    max_kernel: Annotated[int, typer.Option("--max-kernel", min=1, max=64, help="Largest kernel_size to try.")] = 7,
    max_stride: Annotated[int, typer.Option("--max-stride", min=1, max=64, help="Largest stride to try.")] = 4,
    max_dilation: Annotated[int, typer.Option("--max-dilation", min=1, max=16, help="Largest dilation to try.")] = 2,
    top: Annotated[int, typer.Option("--top", min=1, help="Show at most N solutions per dimension.")] = 10,
    json_: Json = False,
) -> None:
    """Every (kernel_size, stride, padding, output_padding, dilation) within bounds that maps IN to OUT."""
    from tconvcalc import invert, params

    with errors():
        sizes_in = params.parse_ints(input_size, "IN")
        sizes_out = params.parse_ints(output_size, "OUT")
        if len(sizes_in) != len(sizes_out):
            raise UsageError(f"IN has {len(sizes_in)} values and OUT {len(sizes_out)}; give one per dimension each")
        find = invert.solve_conv if conv else invert.solve_transpose
        per_dim = [find(i, o, max_kernel, max_stride, max_dilation) for i, o in zip(sizes_in, sizes_out)]
        if json_:
            import json

            doc = {
                "operation": "conv" if conv else "conv_transpose",
                "dims": [
                    {"input": i, "output": o, "count": len(sols), "solutions": [x.to_json() for x in sols[:top]]}
                    for i, o, sols in zip(sizes_in, sizes_out, per_dim)
                ],
            }
            typer.echo(json.dumps(doc))
        else:
            from tconvcalc import render

            render.print_solutions(sizes_in, sizes_out, per_dim, top, conv)
        empty = [f"{i} -> {o}" for i, o, sols in zip(sizes_in, sizes_out, per_dim) if not sols]
        if empty:
            raise LayerError(
                f"no layer within the bounds maps {', '.join(empty)} (max kernel {max_kernel}, "
                f"stride {max_stride}, dilation {max_dilation}); raise the bounds"
            )


@app.command()
def matrix(
    weight: Annotated[
        str | None,
        typer.Argument(
            metavar="[WEIGHT]",
            help="Conv weight (C_out, C_in/groups, *k) or a bare kernel, as in run; omit with --symbolic.",
            show_default=False,
        ),
    ] = None,
    input_size: Annotated[
        str,
        typer.Option(
            "--input-size", help="The convolution's input: spatial (3x3) or (C, *spatial).", show_default=False
        ),
    ] = "",
    kernel_size: Annotated[
        str | None, typer.Option("-k", "--kernel-size", help="With --symbolic: the kernel size, instead of WEIGHT.")
    ] = None,
    dims: Annotated[
        int | None, typer.Option("--dims", min=1, max=3, help="Spatial dimensions (default: from the weight).")
    ] = None,
    stride: Stride = "1",
    padding: Padding = "0",
    dilation: Dilation = "1",
    groups: Groups = 1,
    transpose: Annotated[
        bool, typer.Option("--transpose", help="W^T: the transposed convolution's matrix, back to the input's shape.")
    ] = False,
    symbolic: Annotated[
        bool, typer.Option("--symbolic", help="Label the entries w11, w12, ... (give -k instead of WEIGHT).")
    ] = False,
    overlap: Annotated[
        bool,
        typer.Option(
            "--overlap", help="How many (input, tap) pairs land on each output of the transposed convolution."
        ),
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="Multiply by a random tensor and compare with conv / conv_transpose (exit 1 on mismatch)."
        ),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table, dense, coo, csv or npy (binary, to a pipe).")] = "table",
    save: Annotated[
        str | None,
        typer.Option("--save", help="Write the matrix to FILE: .npy/.csv (dense), .npz (coordinates), .json."),
    ] = None,
    precision: Annotated[
        int, typer.Option("--precision", min=1, max=17, help="Significant digits of non-integral entries.")
    ] = 6,
    json_: Json = False,
) -> None:
    """The sparse matrix W with conv(x) = W x; the transposed convolution multiplies by W^T."""
    from tconvcalc import params, tensorio

    with errors():
        if not input_size:
            raise UsageError("--input-size is required: the convolution's input, e.g. 3x3 or 2x5x5")
        if fmt not in ("table", "dense", "coo", "csv", "npy"):
            raise UsageError(f"--format {fmt!r}: choose table, dense, coo, csv or npy")
        import numpy as np

        from tconvcalc import matrix as matrices
        from tconvcalc import matrixview

        labels = None
        if symbolic:
            if weight is not None or kernel_size is None:
                raise UsageError("--symbolic takes --kernel-size instead of WEIGHT")
            k_values = params.parse_ints(kernel_size, "--kernel-size")
            n = dims or (
                len(k_values) if len(k_values) > 1 else min(3, len(params.parse_ints(input_size, "--input-size")))
            )
            w, labels = matrices.symbolic_weight(params.parse_per_dim(kernel_size, n, "--kernel-size"))
        else:
            if weight is None:
                raise UsageError("give WEIGHT, or --symbolic with --kernel-size")
            w = tensorio.read_tensor(weight, None, "WEIGHT")
            from tconvcalc.run import infer_dims

            n = infer_dims(w, dims)
            if w.ndim == n:
                w = w.reshape(1, 1, *w.shape)
        size = params.parse_ints(input_size, "--input-size")
        size = size * n if len(size) == 1 else size
        result = matrices.build(
            w,
            size,
            params.parse_per_dim(stride, n, "--stride"),
            params.parse_padding(padding, n),
            params.parse_per_dim(dilation, n, "--dilation"),
            groups,
            transpose,
        )
        m = result.matrix
        rows = matrixview.position_labels("y", result.output_shape[0], result.output_shape[1:])
        cols = matrixview.position_labels("x", result.input_shape[0], result.input_shape[1:])
        if transpose:
            rows, cols = cols, rows
        if save is not None:
            matrixview.save(save, result, labels)
        diff = matrices.verify(result) if verify else None
        values: list[object] = [labels[int(v) - 1] for v in m.value] if labels else m.value.tolist()
        if json_:
            import json

            doc = {
                "shape": list(m.shape),
                "nnz": m.nnz,
                "row": m.row.tolist(),
                "col": m.col.tolist(),
                "value": values,
                "transposed": transpose,
                "input_shape": list(result.input_shape),
                "output_shape": list(result.output_shape),
            }
            if transpose:
                doc["output_padding"] = list(result.output_padding)
            if diff is not None:
                doc["verify_max_abs_difference"] = diff
            typer.echo(json.dumps(doc))
        elif fmt != "table":
            matrixview.emit(result, fmt, labels, precision)
        else:
            from tconvcalc import render

            render.print_matrix_result(result, rows, cols, labels, precision)
        if overlap and not json_:
            from tconvcalc.invert import uniform_overlap

            counts = matrices.overlap_counts(
                w.shape[2:], result.input_shape[1:], result.stride, result.padding, result.dilation
            )
            uniform = all(uniform_overlap(k, s, d) for k, s, d in zip(w.shape[2:], result.stride, result.dilation))
            matrixview.print_overlap(counts, uniform, w.shape[2:], result.stride, result.dilation)
        if diff is not None and not json_:
            typer.echo(
                f"verify: {'W^T y' if transpose else 'W x'} equals "
                f"{'conv_transpose' if transpose else 'conv'} of a random tensor to {diff:.3g}"
            )
        if diff is not None and diff > 1e-9 * max(1.0, float(np.abs(m.value).max(initial=0.0))):
            raise LayerError(f"the matrix disagrees with the convolution by {diff:.3g}")


@app.command()
def check(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="Architecture config: TOML, JSON (or YAML with PyYAML); - for stdin.",
            show_default=False,
        ),
    ],
    sizes: Annotated[
        str | None, typer.Option("--sizes", help="Sweep the input's spatial size over A:B and report which sizes pass.")
    ] = None,
    json_: Json = False,
) -> None:
    """Check a network's shapes layer by layer: exit 0 if every layer is valid and every expect/match holds."""
    from tconvcalc import configfile, network

    with errors():
        config, text = configfile.load(file)
        try:
            if sizes is not None:
                low, high = _range(sizes)
                passing = network.sweep(config, low, high)
                summary = network.describe_sizes(passing, low, high)
                if json_:
                    import json

                    typer.echo(
                        json.dumps({"ok": bool(passing), "sizes": passing, "range": [low, high], "summary": summary})
                    )
                else:
                    typer.echo(f"input sizes that pass, from {low} to {high}: {summary}")
                if not passing:
                    raise LayerError(f"no input size from {low} to {high} passes the network")
                return
            report = network.check(config)
        except network.ConfigError as exc:
            line = None if exc.layer is None or exc.key is None else configfile.line_of_key(text, exc.layer, exc.key)
            raise UsageError(f"{file}: {exc}" + (f" (line {line})" if line else "")) from None
        if json_:
            import json

            typer.echo(json.dumps(report.to_json()))
        else:
            from tconvcalc import render

            render.print_report(report)
        failure = report.first_failure
        if failure is not None:
            detail = f": {failure.message}" if failure.message else ""
            fix = f"; fix: {failure.fix}" if failure.fix else ""
            raise LayerError(f"layer {failure.name!r} ({failure.status}){detail}{fix}")


def _range(text: str) -> tuple[int, int]:
    from tconvcalc.params import parse_ints

    parts = text.split(":")
    if len(parts) != 2:
        raise UsageError(f"--sizes {text!r}: give A:B, e.g. 32:256")
    (low,), (high,) = parse_ints(parts[0], "--sizes"), parse_ints(parts[1], "--sizes")
    if not 1 <= low <= high or high - low > 100_000:
        raise UsageError(f"--sizes {text!r}: need 1 <= A <= B and at most 100,000 sizes")
    return low, high


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
    from tconvcalc import conventions, params

    with errors():
        values = params.parse_shape(size, dims)
        p = _placement(
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
        t = conventions.translate(p, groups, cin, out_channels if out_channels is not None else cin)
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
            from tconvcalc import render

            render.print_translation(doc)


def _interrupted(signum: int, frame: object) -> None:
    sys.stderr.write("\ninterrupted\n")
    raise SystemExit(ExitStatus.INTERRUPTED)


def _only(name: str) -> typer.Typer:
    """The app with just one subcommand registered: typer converts every registered command's signature on
    each start, so a call of ``shape`` need not pay for ``run`` (about 2 ms a command, measured)."""
    single = typer.Typer(**_APP_SETTINGS)
    single.registered_callback = app.registered_callback
    single.registered_commands = [c for c in app.registered_commands if _command_name(c) == name]
    return single


def _command_name(info: typer.models.CommandInfo) -> str:
    return info.name or (info.callback.__name__ if info.callback else "").replace("_", "-")


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGINT, _interrupted)
    argv = sys.argv[1:]
    names = {_command_name(c) for c in app.registered_commands}
    lazy = argv and argv[0] in names and "_TCONVCALC_COMPLETE" not in os.environ
    (_only(argv[0]) if lazy else app)(prog_name="tconvcalc")
