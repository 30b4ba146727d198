"""The Typer app: parse options, call the core, render. No arithmetic here.

Only typer and the standard library are imported at module level, so that ``--json``/``--plain``,
``--help`` and TAB completion never import NumPy or rich.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from tconvcalc import __version__
from tconvcalc.errors import ExitStatus, TConvError, UsageError

app = typer.Typer(
    name="tconvcalc",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

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


@app.command()
def shape(
    size: Annotated[
        str,
        typer.Argument(
            metavar="SIZE",
            help="Input shape: 16, 16x16, CxHxW or NxCxHxW ('x' or ',' between values).",
            show_default=False,
        ),
    ],
    kernel_size: Kernel,
    dims: Dims = 2,
    stride: Stride = "1",
    padding: Padding = "0",
    output_padding: OutputPadding = None,
    dilation: Dilation = "1",
    groups: Groups = 1,
    out_channels: OutChannels = None,
    output_size: OutputSize = None,
    conv: Conv = False,
    explain: Explain = False,
    json_: Json = False,
    plain: Plain = False,
) -> None:
    """Output shape of a ConvTranspose (default) or, with --conv, a Conv layer."""
    from tconvcalc import layer, params

    with errors():
        mode = _output_mode(json_, plain)
        source = layer.TensorShape.from_tuple(params.parse_shape(size, dims), dims)
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
            return
        from tconvcalc import render

        if mode == "json":
            doc = result.to_json()
            if explain:
                doc["explain"] = render.explain_lines(result)
            render.emit_json(doc)
        else:
            render.print_layer(result, explain)


def _interrupted(signum: int, frame: object) -> None:
    sys.stderr.write("\ninterrupted\n")
    raise SystemExit(ExitStatus.INTERRUPTED)


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGINT, _interrupted)
    app(prog_name="tconvcalc")
