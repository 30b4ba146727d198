"""`tconvcalc invert-conv` and `tconvcalc solve`."""

from __future__ import annotations

from typing import Annotated

import typer

from tconvcalc.cli.app import (
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
    errors,
)
from tconvcalc.core.errors import LayerError, UsageError


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
    from tconvcalc.cli import tokens
    from tconvcalc.core import invert, layer

    with errors():
        source = layer.TensorShape.from_tuple(tokens.parse_shape(size, dims), dims)
        k, s, d = (
            tokens.parse_per_dim(v, dims, n)
            for v, n in ((kernel_size, "--kernel-size"), (stride, "--stride"), (dilation, "--dilation"))
        )
        result = invert.invert_conv(source, k, s, tokens.parse_padding(padding, dims), d, groups, out_channels)
        if json_:
            import json

            typer.echo(json.dumps(result.to_json()))
        else:
            from tconvcalc.render import reports

            reports.print_inverse(result)


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
    from tconvcalc.cli import tokens
    from tconvcalc.core import invert

    with errors():
        sizes_in = tokens.parse_ints(input_size, "IN")
        sizes_out = tokens.parse_ints(output_size, "OUT")
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
            from tconvcalc.render import reports

            reports.print_solutions(sizes_in, sizes_out, per_dim, top, conv)
        empty = [f"{i} -> {o}" for i, o, sols in zip(sizes_in, sizes_out, per_dim) if not sols]
        if empty:
            raise LayerError(
                f"no layer within the bounds maps {', '.join(empty)} (max kernel {max_kernel}, "
                f"stride {max_stride}, dilation {max_dilation}); raise the bounds"
            )
