"""`tconvcalc matrix`: the sparse matrix W."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from tconvcalc.cli.common import (
    Dilation,
    Groups,
    Json,
    MemoryLimit,
    Padding,
    Stride,
    app,
    choices,
    epilog,
    errors,
)
from tconvcalc.core.errors import LayerError, UsageError

EPILOG_MATRIX = """\
Examples:
  tconvcalc matrix "[[1,2],[3,4]]" --input-size 3x3
  tconvcalc matrix --symbolic -k 3 --input-size 5 -s 2 --transpose --overlap
  tconvcalc matrix "[[1,2],[3,4]]" --input-size 3x3 --verify --json
"""


@app.command(short_help="The sparse matrix W: conv = W x, transposed conv = W^T y.", epilog=epilog(EPILOG_MATRIX))
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
    stride: Stride = None,
    padding: Padding = None,
    dilation: Dilation = None,
    groups: Groups = None,
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
    fmt: Annotated[
        str,
        typer.Option(
            "--format", click_type=choices(("table", "dense", "coo", "csv", "npy")), help="npy is binary, to a pipe."
        ),
    ] = "table",
    save: Annotated[
        str | None,
        typer.Option("--save", help="Write the matrix to FILE: .npy/.csv (dense), .npz (coordinates), .json."),
    ] = None,
    svg: Annotated[
        str | None, typer.Option("-o", "--output", help="With --overlap: also draw it as an SVG heat map (FILE.svg).")
    ] = None,
    precision: Annotated[
        int, typer.Option("--precision", min=1, max=17, help="Significant digits of non-integral entries.")
    ] = 6,
    memory_limit: MemoryLimit = "1GiB",
    json_: Json = False,
) -> None:
    """The sparse matrix W with conv(x) = W x; the transposed convolution multiplies by W^T."""
    from tconvcalc.cli import tokens
    from tconvcalc.io import tensorio

    with errors():
        if not input_size:
            raise UsageError("--input-size is required: the convolution's input, e.g. 3x3 or 2x5x5")
        if fmt != "table" and (overlap or (verify and fmt == "npy")):
            raise UsageError(
                f"--format {fmt} writes only the matrix: --overlap (and --verify with npy) go with the table or --json"
            )
        if json_ and fmt != "table":
            raise UsageError("--json and --format are two output formats: give one")
        if svg is not None:
            from tconvcalc.cli.draw import check_svg_path

            check_svg_path(svg, overlap)
        limit = tensorio.parse_bytes(memory_limit)
        import numpy as np

        from tconvcalc.core.budget import check_memory
        from tconvcalc.engine import matrix as matrices
        from tconvcalc.render import matrixview

        labels: Sequence[str] | None = None
        size = tokens.parse_ints(input_size, "--input-size")
        if symbolic:
            if weight is not None or kernel_size is None:
                raise UsageError("--symbolic takes --kernel-size instead of WEIGHT")
            k_values = tokens.parse_ints(kernel_size, "--kernel-size")
            n = dims or (len(k_values) if len(k_values) > 1 else min(3, len(size)))
            if not 1 <= n <= 3:
                raise UsageError(f"--kernel-size has {n} values: give 1 to 3 (one per spatial dimension)")
            k = tokens.parse_per_dim(kernel_size, n, "--kernel-size")
            taps = math.prod(k)
            check_memory(taps * 8, limit, f"a --symbolic kernel of {taps:,} taps")
            w, labels = matrices.symbolic_weight(k)
        else:
            if weight is None:
                raise UsageError("give WEIGHT, or --symbolic with --kernel-size")
            w = tensorio.read_tensor(weight, None, "WEIGHT", limit)
            from tconvcalc.engine.run import infer_dims

            n = infer_dims(w, dims)
            if w.ndim == n:
                w = w.reshape(1, 1, *w.shape)
        size = size * n if len(size) == 1 else size
        stride_n = tokens.parse_per_dim(stride or "1", n, "--stride")
        padding_n = tokens.parse_padding(padding or "0", n)
        dilation_n = tokens.parse_per_dim(dilation or "1", n, "--dilation")
        planned = matrices.plan(
            w.shape, w.dtype.itemsize, size, stride_n, padding_n, dilation_n, groups or 1, transpose
        )
        shape = planned.shape[::-1] if transpose else planned.shape
        steps = [(planned.peak, f"building W ({shape[0]:,} x {shape[1]:,}, {planned.entries:,} entries)")]
        out_need, out_step = matrixview.output_memory(shape, planned.entries, fmt, save, json_)
        steps.append((planned.held + out_need, out_step))
        if overlap:  # the single-channel pattern of W, then its column counts
            pattern = matrices.plan((1, 1, *w.shape[2:]), 8, size[-n:], stride_n, padding_n, dilation_n)
            steps.append((planned.held + pattern.peak, "--overlap"))
        if verify:  # a random tensor through W and through the convolution: W, the products, both results
            steps.append((planned.held + planned.entries * 16 + 4 * 8 * max(shape), "--verify"))
        need, step = max(steps, key=lambda item: item[0])
        check_memory(need, limit, "matrix", step)
        result = matrices.build(w, size, stride_n, padding_n, dilation_n, groups or 1, transpose)
        m = result.matrix
        if save is not None:
            from tconvcalc.io.matrixfile import save_matrix

            save_matrix(save, result, labels)
        from tconvcalc.engine.functional import verify as verify_matrix

        diff = verify_matrix(result, memory_limit=limit) if verify else None
        counts, uniform = None, True
        if overlap:
            from tconvcalc.core.invert import uniform_overlap

            counts = matrices.overlap_counts(
                w.shape[2:], result.input_shape[1:], result.stride, result.padding, result.dilation
            )
            uniform = all(uniform_overlap(k, s, d) for k, s, d in zip(w.shape[2:], result.stride, result.dilation))
        if json_:
            from tconvcalc.render import jsonout

            values: list[Any] = matrixview.labelled(m.value, labels) if labels else m.value.tolist()
            doc = {
                "layer": f"{'ConvTranspose' if transpose else 'Conv'}{len(result.stride)}d",
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
            if counts is not None:
                doc["overlap"] = {"counts": counts.tolist(), "uniform": uniform}
            jsonout.emit(doc)
        elif fmt != "table":
            matrixview.emit(result, fmt, labels, precision)
        else:
            from tconvcalc.render import reports

            reports.print_matrix_result(result, labels, precision)
        if counts is not None and not json_:
            matrixview.print_overlap(counts, uniform, w.shape[2:], result.stride, result.dilation)
        if counts is not None and svg is not None:
            from tconvcalc.cli.draw import write_overlap

            write_overlap(svg, counts.tolist(), uniform, w.shape[2:], result.stride, result.dilation, json_)
        if diff is not None and not json_:
            typer.echo(
                f"verify: {'W^T y' if transpose else 'W x'} equals "
                f"{'conv_transpose' if transpose else 'conv'} of a random tensor to {diff:.3g}"
            )
        if diff is not None and not diff <= 1e-9 * max(1.0, float(np.abs(m.value).max(initial=0.0))):  # NaN fails
            if diff != diff:
                raise LayerError("nothing verified: the comparison is NaN (the weight holds NaN or infinity)")
            raise LayerError(f"the matrix disagrees with the convolution by {diff:.3g}")
