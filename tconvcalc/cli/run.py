"""`tconvcalc run`: the transposed convolution (or the convolution) on real numbers."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tconvcalc.cli.app import (
    AutoPad,
    Consistent,
    Conv,
    Convention,
    Dilation,
    Explain,
    Groups,
    Json,
    OutputPadding,
    OutputShape,
    OutputSize,
    Padding,
    Pads,
    Stride,
    app,
    choices,
    epilog,
    errors,
    output_mode,
)
from tconvcalc.cli.options import ConventionOptions, LayerOptions
from tconvcalc.core.errors import LayerError, UsageError


def _run_convention(
    x: Any, w: Any, b: Any, n: int, framework: ConventionOptions, layer: LayerOptions, memory_limit: int
) -> tuple[Any, Any]:
    """run --convention: the kernel in the framework's layout, the framework's crop of the full output."""
    from tconvcalc.cli import conventions
    from tconvcalc.engine import relayout

    if framework.name in ("keras", "tf", "jax") and layer.groups not in (None, 1):
        raise UsageError(f"--groups: {framework.name} has no groups in its transposed convolution")
    w = relayout.torch_weight(w, n, framework.name, framework.weight_layout, framework.transpose_kernel)
    p = conventions.placement(framework, layer, tuple(x.shape[-n:]), tuple(w.shape[2:]))
    return relayout.run_placement(x, w, b, p, layer.groups or 1, memory_limit), p


def _print_convention(out: Any, p: Any, n: int, mode: str, precision: int) -> None:
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
    stride: Stride = None,
    padding: Padding = None,
    output_padding: OutputPadding = None,
    output_size: OutputSize = None,
    dilation: Dilation = None,
    groups: Groups = None,
    conv: Conv = False,
    padding_mode: Annotated[
        str | None,
        typer.Option(
            "--padding-mode",
            click_type=choices(("zeros", "reflect", "replicate", "circular")),
            help="--conv: nn.Conv's padding_mode (how the input is padded; ConvTranspose has only zeros).",
        ),
    ] = None,
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
    framework = ConventionOptions(convention, pads, auto_pad, output_shape, consistent, weight_layout, transpose_kernel)
    with errors():
        mode = output_mode(json_, plain)
        limit = tensorio.parse_bytes(memory_limit)
        x = tensorio.read_tensor(input, key, "INPUT")
        w = tensorio.read_tensor(weight, key, "WEIGHT")
        b = None if bias is None else tensorio.read_tensor(bias, key, "--bias").reshape(-1)
        from tconvcalc.engine.run import infer_dims
        from tconvcalc.engine.run import run as run_layer

        n = infer_dims(w, dims)
        if conv and (framework != ConventionOptions() and framework != ConventionOptions("torch")):
            raise UsageError("--convention and its options describe a transposed convolution, not --conv")
        if framework.placed:
            for flag, given in (("--method", method), ("--check", check or None), ("--explain", explain or None)):
                if given is not None:
                    raise UsageError(f"{flag} does not apply to --convention {framework.name}")
            out, p = _run_convention(x, w, b, n, framework, layer, limit)
            if save is not None:
                tensorio.save_tensor(save, out)
            _print_convention(out, p, n, mode, precision)
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
        )
        if save is not None:
            tensorio.save_tensor(save, result.output)
        from tconvcalc.render import reports

        reports.print_run(result, mode, explain, precision)
        if check and not result.check_passed:
            raise LayerError(
                f"the methods disagree by up to {max(result.checks.values()):.3g} (tolerance {result.tolerance:.3g})"
            )
