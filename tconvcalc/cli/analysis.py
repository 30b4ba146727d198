"""`tconvcalc invert-conv` and `tconvcalc solve`."""

from __future__ import annotations

from typing import Annotated

import typer

from tconvcalc.cli.common import (
    Conv,
    Dilation,
    Dims,
    Groups,
    Json,
    Kernel,
    OutChannels,
    Padding,
    Stride,
    app,
    epilog,
    errors,
    output_mode,
)
from tconvcalc.core.errors import LayerError

EPILOG_INVERT_CONV = """\
Examples:
  tconvcalc invert-conv 24 -k 3 -s 2 -p 1
  tconvcalc invert-conv 1x3x64x64 -k 4 -s 2 -p 1 --out-channels 16
  tconvcalc invert-conv 23 -k 3 -s 2 -p 1 --json
"""


EPILOG_SOLVE = """\
Examples:
  tconvcalc solve 16 32
  tconvcalc solve 16x8 32x16 --max-kernel 5
  tconvcalc solve 64 32 --conv
"""


@app.command(
    "invert-conv",
    short_help="The output_padding with which a ConvTranspose undoes a Conv.",
    epilog=epilog(EPILOG_INVERT_CONV),
)
def invert_conv(
    size: Annotated[
        str,
        typer.Argument(
            metavar="SIZE", help="Input shape of the Conv: 16, 16x16, CxHxW or NxCxHxW.", show_default=False
        ),
    ],
    kernel_size: Kernel,
    dims: Dims = None,
    stride: Stride = None,
    padding: Padding = None,
    dilation: Dilation = None,
    groups: Groups = None,
    out_channels: OutChannels = None,
    json_: Json = False,
    plain: Annotated[bool, typer.Option("--plain", help="Print only the output_padding, e.g. 1 or 1,0.")] = False,
) -> None:
    """The output_padding that makes a ConvTranspose undo this Conv, and every input size it cannot tell apart."""
    from tconvcalc.cli import tokens
    from tconvcalc.cli.options import LayerOptions
    from tconvcalc.core import invert
    from tconvcalc.core.specs import ConvSpec
    from tconvcalc.core.tensor import TensorShape

    options = LayerOptions(
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        out_channels=out_channels,
    )
    with errors():
        spec = options.spec("conv")
        assert isinstance(spec, ConvSpec)
        source = TensorShape.read(tokens.parse_ints(size, "SIZE"), dims, [spec])
        result = invert.invert_conv(
            source, spec.kernel_size, spec.stride, spec.padding, spec.dilation, spec.groups, spec.out_channels
        )
        mode = output_mode(json_, plain)
        if mode == "plain":
            typer.echo(",".join(map(str, result.output_padding)))
        elif mode == "json":
            from tconvcalc.render import jsonout

            jsonout.emit(result.to_json())
        else:
            from tconvcalc.render import reports

            reports.print_inverse(result)


@app.command(short_help="Every layer within bounds that maps IN to OUT.", epilog=epilog(EPILOG_SOLVE))
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
    plain: Annotated[
        bool, typer.Option("--plain", help="Print only the best layer per dimension, e.g. k=2 s=2 p=0 op=0 d=1.")
    ] = False,
) -> None:
    """Every (kernel_size, stride, padding, output_padding, dilation) within bounds that maps IN to OUT."""
    from tconvcalc.cli import tokens
    from tconvcalc.core import invert

    with errors():
        sizes_in = tokens.parse_ints(input_size, "IN")
        sizes_out = tokens.parse_ints(output_size, "OUT")
        per_dim = invert.solve(sizes_in, sizes_out, conv, max_kernel, max_stride, max_dilation)
        mode = output_mode(json_, plain)
        if mode == "plain":
            for sols in per_dim:
                best = sols[0] if sols else None
                typer.echo(
                    "none"
                    if best is None
                    else f"k={best.kernel_size} s={best.stride} p={best.padding} op={best.output_padding} d={best.dilation}"
                )
        elif mode == "json":
            from tconvcalc.render import jsonout

            doc = {
                "layer": f"{'Conv' if conv else 'ConvTranspose'}{len(sizes_in)}d",
                "operation": "conv" if conv else "conv_transpose",
                "dims": [
                    {"input": i, "output": o, "count": len(sols), "solutions": [x.to_json() for x in sols[:top]]}
                    for i, o, sols in zip(sizes_in, sizes_out, per_dim)
                ],
            }
            jsonout.emit(doc)
        else:
            from tconvcalc.render import reports

            reports.print_solutions(sizes_in, sizes_out, per_dim, top, conv)
        empty = [f"{i} -> {o}" for i, o, sols in zip(sizes_in, sizes_out, per_dim) if not sols]
        if empty:
            raise LayerError(
                f"no layer within the bounds maps {', '.join(empty)} (max kernel {max_kernel}, "
                f"stride {max_stride}, dilation {max_dilation}); raise the bounds"
            )
