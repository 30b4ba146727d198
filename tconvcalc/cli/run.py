"""`tconvcalc run`: the transposed convolution (or the convolution) on real numbers."""

from __future__ import annotations

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
    DivisorOverride,
    Explain,
    Groups,
    InterpMode,
    Json,
    Kernel,
    Layout,
    MemoryLimit,
    OutputPadding,
    OutputShape,
    OutputSize,
    Padding,
    PaddingMode,
    Pads,
    ReturnIndices,
    ScaleFactor,
    Stride,
    app,
    choices,
    epilog,
    errors,
    output_mode,
)
from tconvcalc.cli.options import FLAGS, ConventionOptions, LayerOptions
from tconvcalc.core.errors import LayerError, UsageError

LAYER_TYPES = ("maxpool", "avgpool", "maxunpool", "upsample")


def _run_layer(
    kind: str,
    input: str,
    key: str | None,
    indices: str | None,
    options: LayerOptions,
    weight_path: dict[str, Any],
    dims: int | None,
    mode: str,
    precision: int,
    save: str | None,
    limit: int,
) -> None:
    """run --layer: a pool, MaxUnpool or interpolate on INPUT, with torch 2.13's values."""
    import numpy as np

    from tconvcalc.core.specs import implied_dims
    from tconvcalc.engine import resample
    from tconvcalc.engine.problem import compute_dtype
    from tconvcalc.io import tensorio

    for flag, given in weight_path.items():
        if given is not None:
            raise UsageError(f"{flag} does not apply to run --layer {kind}")
    if kind != "maxunpool" and indices is not None:
        raise UsageError(f"--indices is MaxUnpool's: it does not apply to --layer {kind}", param="indices")
    if kind == "maxunpool" and indices is None:
        raise UsageError("--layer maxunpool needs --indices (MaxPool's return_indices)", param="indices")
    spec = options.spec(kind)
    x = tensorio.read_tensor(input, key, "INPUT", limit)
    n = dims or implied_dims(spec) or (1 if x.ndim == 1 else 2)
    if x.ndim not in (n, n + 1, n + 2):
        raise LayerError(
            f"input of shape {x.shape}: with {n} spatial dimension(s) give {n}, {n + 1} (C, ...) or "
            f"{n + 2} (N, C, ...) axes"
        )
    lead = x.ndim - n  # 0 bare, 1 (C, ...), 2 (N, C, ...)
    batch = x.reshape((1,) * (2 - lead) + x.shape)
    batch = batch.astype(compute_dtype(batch), copy=False)
    found: np.ndarray | None = None
    if kind == "maxpool":
        out, found = resample.max_pool(spec, batch, lead != 1, limit)  # type: ignore[arg-type]
        if not getattr(spec, "return_indices", False):
            found = None
    elif kind == "avgpool":
        out = resample.avg_pool(spec, batch, lead != 1, limit)  # type: ignore[arg-type]
    elif kind == "maxunpool":
        assert indices is not None
        idx = tensorio.read_tensor(indices, key, "--indices", limit)
        if idx.shape != x.shape:
            raise LayerError(f"--indices of shape {idx.shape} must have INPUT's shape {x.shape}", param="indices")
        out = resample.max_unpool(spec, batch, idx.reshape(batch.shape), lead != 1, limit)  # type: ignore[arg-type]
    else:
        if lead == 1:
            raise LayerError(
                "Upsample/interpolate needs a batched input (N, C, *spatial) or a bare one: PyTorch reads an "
                f"unbatched (C, *spatial) tensor of {n + 1} axes as {n - 1}-D (N, C, ...)"
            )
        out = resample.interpolate(spec, batch, limit)  # type: ignore[arg-type]
    out = out.reshape(out.shape[2 - lead :])
    if found is not None:
        found = found.reshape(found.shape[2 - lead :])
    if save is not None:
        tensorio.save_tensor(save, out)
    _print_layer(resample.torch_layer_name(spec, n), out, found, n, mode, precision)


def _run_compare(
    input: str,
    weight: str | None,
    key: str | None,
    options: LayerOptions,
    dims: int | None,
    mode: str,
    precision: int,
    limit: int,
) -> None:
    """run --compare: the reference program's three upsamplers and a ConvTranspose on the same pooled tensor."""
    import numpy as np

    from tconvcalc.cli import tokens
    from tconvcalc.core.specs import MaxPoolSpec, MaxUnpoolSpec, UpsampleSpec
    from tconvcalc.engine import functional, resample
    from tconvcalc.engine.problem import compute_dtype
    from tconvcalc.io import tensorio

    if options.kernel_size is None:
        raise UsageError("run --compare needs -k (MaxPool's and ConvTranspose's kernel size)", param="kernel_size")
    x = tensorio.read_tensor(input, key, "INPUT", limit)
    implied = options.implied_dims()
    n = dims or (implied[0] if implied else (1 if x.ndim == 1 else 2))
    if x.ndim not in (n, n + 2):
        raise LayerError(f"run --compare takes a bare {n}-D INPUT or (N, C, *spatial); got shape {x.shape}")
    lead = x.ndim - n
    batch = x.reshape((1,) * (2 - lead) + x.shape)
    batch = batch.astype(compute_dtype(batch), copy=False)
    k = tokens.parse_per_dim(options.kernel_size, n, "--kernel-size")
    s = tokens.parse_per_dim(options.stride, n, "--stride") if options.stride else k
    pooled, found = resample.max_pool(MaxPoolSpec(kernel_size=k, stride=s), batch, True, limit)
    unpooled = resample.max_unpool(MaxUnpoolSpec(kernel_size=k, stride=s), pooled, found, True, limit)
    interp_mode = options.mode or "nearest"
    upsample = UpsampleSpec(
        scale_factor=tuple(float(v) for v in s), mode=interp_mode, align_corners=options.align_corners
    )
    interpolated = resample.interpolate(upsample, pooled, limit)
    channels = batch.shape[1]
    if weight is None:
        w = np.ones((channels, 1, *k), dtype=batch.dtype)  # a box kernel per channel: only the overlap shows
    else:
        w = tensorio.read_tensor(weight, key, "WEIGHT", limit)
        if w.ndim == n:
            w = np.broadcast_to(w, (channels, 1, *w.shape))
        if tuple(w.shape[2:]) != tuple(k):
            raise UsageError(f"WEIGHT's kernel {tuple(w.shape[2:])} must be -k {tuple(k)} for a like-for-like compare")
    groups = channels if w.shape[0] == channels and w.shape[1] == 1 else 1
    padding = tokens.parse_per_dim(options.padding or "0", n, "--padding")
    tconv = functional.conv_transpose(pooled, w, None, s, padding, 0, groups, memory_limit=limit)
    overlap = functional.conv_transpose(
        np.ones((1, 1, *pooled.shape[2:])), np.ones((1, 1, *k)), None, s, padding, memory_limit=limit
    )[0, 0]

    def strip(a: Any) -> Any:
        return a.reshape(a.shape[2 - lead :])

    results = {
        "pooled": strip(pooled),
        "indices": strip(found),
        "maxunpool": strip(unpooled),
        "interpolate": strip(interpolated),
        "conv_transpose": strip(tconv),
    }
    zeros = int(np.count_nonzero(unpooled == 0))
    notes = [
        f"MaxUnpool{n}d: each maximum back at its index, zeros elsewhere ({zeros:,} of {unpooled.size:,} values)",
        f"interpolate ({interp_mode}, scale_factor {[float(v) for v in s]}): every position filled "
        "from its neighbours in the pooled tensor",
        f"ConvTranspose{n}d (stride {list(s)}, {'WEIGHT' if weight is not None else 'a kernel of ones'}): each "
        f"pooled value spread over a kernel window; windows overlap 0 to {int(overlap.max())} times (overlap)",
    ]
    if mode == "json":
        from tconvcalc.render import jsonout, tensorview

        doc: dict[str, Any] = {"layer": "compare", "input_shape": list(x.shape)}
        for name, value in results.items():
            doc[name] = value.tolist() if name == "indices" else tensorview.to_nested(value)
            doc[f"{name}_shape"] = list(value.shape)
        doc["overlap"] = overlap.astype(int).tolist()
        doc["notes"] = notes
        jsonout.emit(doc)
        return
    from tconvcalc.render import tensorview
    from tconvcalc.render.console import console

    titles = {
        "pooled": f"MaxPool{n}d(kernel_size={list(k)}, stride={list(s)})",
        "indices": "indices (flat, per plane)",
        "maxunpool": f"MaxUnpool{n}d",
        "interpolate": f"interpolate(mode={interp_mode!r})",
        "conv_transpose": f"ConvTranspose{n}d",
    }
    for name, value in results.items():
        tensorview.print_tensor(value, n, precision, titles[name])
    tensorview.print_tensor(overlap, n, precision, "overlap (kernel windows per ConvTranspose output)")
    for note in notes:
        console().print(f"note: {note}", markup=False)


def _print_layer(name: str, out: Any, found: Any, n: int, mode: str, precision: int) -> None:
    from tconvcalc.render import tensorview

    if mode == "plain":
        typer.echo(tensorview.compact(out))
        if found is not None:
            typer.echo(tensorview.compact(found))
    elif mode == "json":
        from tconvcalc.render import jsonout

        doc: dict[str, Any] = {
            "layer": name,
            "output_shape": list(out.shape),
            "output": tensorview.to_nested(out),
            "dtype": str(out.dtype),
        }
        if found is not None:
            doc["indices"] = found.tolist()
        jsonout.emit(doc)
    else:
        tensorview.print_tensor(out, n, precision, name)
        if found is not None:
            tensorview.print_tensor(found, n, precision, "indices (flat, per plane, as torch's return_indices)")


def _run_convention(
    x: Any,
    w: Any,
    b: Any,
    n: int,
    framework: ConventionOptions,
    layer: LayerOptions,
    memory_limit: int,
    mode: str,
) -> tuple[Any, Any]:
    """run --convention: the kernel in the framework's layout, the framework's crop of the full output."""
    import numpy as np

    from tconvcalc.cli import conventions
    from tconvcalc.engine import relayout

    if framework.name in ("keras", "tf", "jax", "matlab") and layer.groups not in (None, 1):
        raise UsageError(f"--groups: {framework.name} has no groups in its transposed convolution")
    w = relayout.torch_weight(w, n, framework.name, framework.weight_layout, framework.transpose_kernel)
    last = framework.channel_layout == "channels_last" and x.ndim > n
    if last:  # (N,) *spatial, C -> (N,) C, *spatial
        x = np.moveaxis(x, -1, x.ndim - n - 1)
    p = conventions.placement(framework, layer, tuple(x.shape[-n:]), tuple(w.shape[2:]))
    out = relayout.run_placement(x, w, b, p, layer.groups or 1, memory_limit, _output_step(mode))
    if last and out.ndim > n:
        out = np.ascontiguousarray(np.moveaxis(out, out.ndim - n - 1, -1))
    return out, p


def _output_step(mode: str) -> Any:
    """What printing the result in ``mode`` allocates, for the memory budget: (what, bytes for (shape, itemsize))."""
    from tconvcalc.render import tensorview

    if mode in ("json", "plain"):
        return (f"the --{mode} output", tensorview.text_memory)
    return ("the printed summary", tensorview.summary_memory)


def _print_convention(out: Any, p: Any, n: int, mode: str, precision: int, layout: str) -> None:
    from tconvcalc.render import tensorview

    if mode == "plain":
        typer.echo(tensorview.compact(out))
    elif mode == "json":
        from tconvcalc.render import jsonout

        doc = {
            "layer": f"ConvTranspose{n}d",
            "convention": p.convention,
            "output_shape": list(out.shape),
            "output": tensorview.to_nested(out),
            "dtype": str(out.dtype),
            "crops": [list(c) for c in p.crops],
            "layout": layout,
            "notes": list(p.notes),
        }
        jsonout.emit(doc)
    else:
        from tconvcalc.render.console import console

        tensorview.print_tensor(out, n, precision, f"ConvTranspose{n}d ({p.convention} convention)")
        for note in p.notes:
            console().print(f"note: {note}", markup=False)


EPILOG_RUN = """\
Examples:
  tconvcalc run "[[0,1],[2,3]]" "[[0,1],[2,3]]"
  tconvcalc run "[1,2,3]" "[1,1,1]" -s 2 -p 1 --output-size 6 --json
  tconvcalc run "[[0,1],[2,3]]" "[[1,1],[1,1]]" -s 2 --check
  tconvcalc run "[[0,1],[2,3]]" "[[0,1],[2,3]]" -s 2 --explain
  tconvcalc run "[1,2,3,4]" "[1,1,1]" --conv -p 2 --padding-mode reflect
"""


@app.command(short_help="Compute a ConvTranspose (or Conv) on real numbers.", epilog=epilog(EPILOG_RUN))
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
        str | None,
        typer.Argument(
            metavar="[WEIGHT]",
            help="Weight tensor, as INPUT: a bare kernel or PyTorch's layout (C_in, C_out/groups, *k); "
            "none with --layer.",
            show_default=False,
        ),
    ] = None,
    bias: Annotated[str | None, typer.Option("--bias", help="Bias tensor of C_out values, as INPUT.")] = None,
    key: Annotated[str | None, typer.Option("--key", help="Array name inside .npz files.")] = None,
    dims: Annotated[
        int | None, typer.Option("--dims", min=1, max=3, help="Spatial dimensions (default: from the weight).")
    ] = None,
    stride: Stride = None,
    padding: Padding = None,
    output_padding: OutputPadding = None,
    output_size: OutputSize = None,
    dilation: Dilation = None,
    groups: Groups = None,
    conv: Conv = False,
    padding_mode: PaddingMode = None,
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            click_type=choices(("fast", "scatter", "matrix", "zero-insert")),
            help="Four computations of the same result (default fast).",
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Run all four methods and report the largest difference (exit 1 beyond rounding)."
        ),
    ] = False,
    convention: Convention = None,
    pads: Pads = None,
    auto_pad: AutoPad = None,
    output_shape: OutputShape = None,
    consistent: Consistent = False,
    cropping: Cropping = None,
    layout: Layout = None,
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
    memory_limit: MemoryLimit = "1GiB",
    layer_type: Annotated[
        str | None,
        typer.Option(
            "--layer",
            click_type=choices(LAYER_TYPES),
            metavar="TYPE",
            help="maxpool, avgpool, maxunpool or upsample on INPUT (no WEIGHT), with shape --layer's options.",
        ),
    ] = None,
    kernel_size: Kernel = None,
    ceil_mode: CeilMode = None,
    count_include_pad: CountIncludePad = None,
    divisor_override: DivisorOverride = None,
    return_indices: ReturnIndices = None,
    indices: Annotated[
        str | None, typer.Option("--indices", help="MaxUnpool: MaxPool's indices, as INPUT (a literal or a file).")
    ] = None,
    scale_factor: ScaleFactor = None,
    interp_mode: InterpMode = None,
    align_corners: AlignCorners = None,
    recompute_scale_factor: Annotated[
        bool | None,
        typer.Option(
            "--recompute-scale-factor/--no-recompute-scale-factor",
            help="Upsample: interpolate with in/out instead of 1/scale_factor.",
        ),
    ] = None,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare",
            help="MaxPool INPUT (-k, -s), then MaxUnpool, interpolate (--mode) and ConvTranspose (WEIGHT or ones) "
            "of the pooled tensor, side by side.",
        ),
    ] = False,
    json_: Json = False,
    plain: Annotated[bool, typer.Option("--plain", help="Print only the output, as one compact nested list.")] = False,
) -> None:
    """Compute a ConvTranspose (default) or, with --conv, a Conv on real numbers, exactly as PyTorch."""
    from tconvcalc.cli import tokens
    from tconvcalc.io import tensorio

    layer = LayerOptions(
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        output_size=output_size,
        dilation=dilation,
        groups=groups,
        padding_mode=padding_mode,
    )
    framework = ConventionOptions(
        convention, pads, auto_pad, output_shape, consistent, weight_layout, transpose_kernel, cropping, layout
    )
    resample_options = LayerOptions(
        kernel_size=kernel_size,
        ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
        divisor_override=divisor_override,
        return_indices=return_indices,
        scale_factor=scale_factor,
        mode=interp_mode,
        align_corners=align_corners,
        recompute_scale_factor=recompute_scale_factor,
    )
    with errors():
        mode = output_mode(json_, plain)
        limit = tensorio.parse_bytes(memory_limit)
        convolution_only = {  # the options of a convolution run: neither --compare nor --layer takes them
            "--bias": bias,
            "--conv": conv or None,
            "--method": method,
            "--check": check or None,
            "--convention": convention,
            "--pads": pads,
            "--auto-pad": auto_pad,
            "--output-shape": output_shape,
            "--consistent-padding": consistent or None,
            "--cropping": cropping,
            "--layout": layout,
            "--weight-layout": weight_layout,
            "--transpose-kernel": transpose_kernel or None,
            "--explain": explain or None,
        }
        if compare:
            others = {"--layer": layer_type, **convolution_only, "--save": save, "--indices": indices}
            others["--plain"] = plain or None
            compared = {**layer.given_tokens(), **resample_options.given_tokens()}
            for key_name in compared:
                if key_name not in ("kernel_size", "stride", "padding", "mode", "align_corners"):
                    others[FLAGS[key_name]] = compared[key_name]
            for flag, token in others.items():
                if token is not None:
                    raise UsageError(f"{flag} does not apply to run --compare", param=flag.lstrip("-"))
            _run_compare(input, weight, key, LayerOptions(**compared), dims, mode, precision, limit)
            return
        if layer_type is not None:
            weight_path = {"WEIGHT": weight, **convolution_only}
            options = LayerOptions(**{**layer.given_tokens(), **resample_options.given_tokens()})
            _run_layer(layer_type, input, key, indices, options, weight_path, dims, mode, precision, save, limit)
            return
        for flag, token in {**resample_options.given_tokens(), "indices": indices}.items():
            if token is not None:
                raise UsageError(f"{FLAGS.get(flag, '--indices')} applies to run --layer, not to a convolution")
        if weight is None:
            raise UsageError("give WEIGHT (or --layer maxpool|avgpool|maxunpool|upsample, which take none)")
        x = tensorio.read_tensor(input, key, "INPUT", limit)
        w = tensorio.read_tensor(weight, key, "WEIGHT", limit)
        b = None if bias is None else tensorio.read_tensor(bias, key, "--bias", limit).reshape(-1)
        from tconvcalc.engine.run import infer_dims
        from tconvcalc.engine.run import run as run_layer

        n = infer_dims(w, dims)
        if conv and (framework != ConventionOptions() and framework != ConventionOptions("torch")):
            raise UsageError("--convention and its options describe a transposed convolution, not --conv")
        if framework.placed:
            for flag, given in (("--method", method), ("--check", check or None), ("--explain", explain or None)):
                if given is not None:
                    raise UsageError(f"{flag} does not apply to --convention {framework.name}")
            out, p = _run_convention(x, w, b, n, framework, layer, limit, mode)
            if save is not None:
                tensorio.save_tensor(save, out)
            _print_convention(out, p, n, mode, precision, framework.channel_layout)
            return
        framework.check()
        if framework.weight_layout is not None:
            from tconvcalc.engine import relayout

            w = relayout.torch_weight(w, n, "torch", framework.weight_layout, False)
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
            stride=tokens.parse_per_dim(stride or "1", n, "--stride"),
            padding=tokens.parse_padding(padding or "0", n),
            output_padding=tokens.parse_per_dim(output_padding or "0", n, "--output-padding"),
            output_size=layer.given().get("output_size"),
            dilation=tokens.parse_per_dim(dilation or "1", n, "--dilation"),
            groups=groups or 1,
            padding_mode=padding_mode or "zeros",
            method=method or "fast",
            check=check,
            memory_limit=limit,
            output=_output_step(mode),
        )
        if save is not None:
            tensorio.save_tensor(save, result.output)
        from tconvcalc.render import reports

        reports.print_run(result, mode, explain, precision)
        if check and not result.check_passed:
            raise LayerError(
                f"the methods disagree by up to {max(result.checks.values()):.3g} (tolerance {result.tolerance:.3g})"
            )
