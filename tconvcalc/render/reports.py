"""Output for people (rich) and for scripts (JSON, plain). rich is imported inside functions only."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

from tconvcalc.core import sizes
from tconvcalc.core.layer import LayerResult, LayerShape
from tconvcalc.core.tensor import ResizeShape, format_shape
from tconvcalc.render.console import clean, console, dim_names, fits
from tconvcalc.render.jsonout import emit as emit_json


def _pad_text(pad: tuple[int, int]) -> str:
    return str(pad[0]) if pad[0] == pad[1] else f"{pad[0]},{pad[1]}"


def layer_title(layer: LayerShape) -> str:
    name = "ConvTranspose" if layer.operation == "conv_transpose" else "Conv"
    return f"{name}{layer.dims}d  {format_shape(layer.input_shape)} -> {format_shape(layer.output_shape)}"


def dim_formula(layer: LayerShape, dim: int) -> str:
    i, k, s = layer.input_spatial[dim], layer.kernel_size[dim], layer.stride[dim]
    pad, d = layer.padding[dim], layer.dilation[dim]
    if layer.operation == "conv_transpose":
        return sizes.convt_formula(i, k, s, pad, layer.output_padding[dim], d)
    return sizes.conv_formula(i, k, s, pad, d)


def explain_lines(layer: LayerShape) -> list[str]:
    """The size formula with the numbers substituted, step by step, one block per dimension."""
    lines: list[str] = []
    for dim, name in enumerate(dim_names(layer.dims)):
        i, k, s = layer.input_spatial[dim], layer.kernel_size[dim], layer.stride[dim]
        (pb, pe), d = layer.padding[dim], layer.dilation[dim]
        op, o, full = layer.output_padding[dim], layer.output_spatial[dim], layer.full_size[dim]
        k_eff = sizes.effective_kernel(k, d)
        params = f"i={i} k={k} s={s} p={_pad_text((pb, pe))} d={d}"
        if layer.operation == "conv_transpose":
            lines += [
                f"{name} (dim {dim}): {params} op={op}",
                f"  k_eff = d*(k-1)+1        = {d}*({k}-1)+1 = {k_eff}",
                f"  full  = (i-1)*s + k_eff  = ({i}-1)*{s} + {k_eff} = {full}",
                f"          ({s - 1} zero(s) between inputs, every kernel window whole)",
                f"  crop padding             = {full} - {pb} - {pe} = {full - pb - pe}",
                f"  + output_padding         = {full - pb - pe} + {op} = {o}",
                "          (computed values at the end, not zeros)",
                f"  output                   = {o}",
            ]
        else:
            spare = (full - k_eff) % s
            lines += [
                f"{name} (dim {dim}): {params}",
                f"  k_eff  = d*(k-1)+1            = {d}*({k}-1)+1 = {k_eff}",
                f"  padded = i + p_begin + p_end  = {i} + {pb} + {pe} = {full}",
                f"  output = floor((padded-k_eff)/s)+1 = floor(({full}-{k_eff})/{s})+1 = {o}",
                f"  unused = (padded-k_eff) mod s = {spare}",
            ]
            if pb == pe:
                lines.append(f"          (a ConvTranspose needs output_padding={spare} to give back {i})")
    return lines


def print_layer(layer: LayerShape, explain: bool) -> None:
    """A rich table of one layer: a row per spatial dimension, then weight and parameter count."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    out = console()
    transposed = layer.operation == "conv_transpose"
    legend = "k kernel_size, s stride, p padding, d dilation" + (", op output_padding" if transposed else "")
    table = Table(
        title=Text(layer_title(layer)),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        caption=Text(legend),
        caption_justify="left",
    )
    headers = ["dim", "in", "k", "s", "p", "d"] + (["op"] if transposed else [])
    for name in headers:
        table.add_column(name, justify="right")
    table.add_column("out", justify="right", style="bold")
    table.add_column("formula", no_wrap=True)
    for dim, name in enumerate(dim_names(layer.dims)):
        row = [
            name,
            str(layer.input_spatial[dim]),
            str(layer.kernel_size[dim]),
            str(layer.stride[dim]),
            _pad_text(layer.padding[dim]),
            str(layer.dilation[dim]),
        ]
        if transposed:
            row.append(str(layer.output_padding[dim]))
        row += [str(layer.output_spatial[dim]), dim_formula(layer, dim).replace(" ", "")]
        table.add_row(*(Text(c) for c in row))
    out.print(table)
    if layer.weight_shape is not None and layer.parameters is not None and layer.out_channels is not None:
        layout = "(C_in, C_out/groups, *k)" if transposed else "(C_out, C_in/groups, *k)"
        weights = layer.parameters - layer.out_channels
        out.print(Text(f"weight {layout}: {tuple(layer.weight_shape)}, groups={layer.groups}"))
        out.print(Text(f"parameters: {layer.parameters:,} ({weights:,} weights + {layer.out_channels:,} bias)"))
    if explain:
        for line in explain_lines(layer):
            out.print(Text(line))


def print_run(result: Any, mode: str, explain: bool, precision: int) -> None:
    """``tconvcalc run`` output: compact literal (plain), one JSON document, or grids for people."""
    from tconvcalc.render import tensorview

    out = result.output
    if mode == "plain":
        sys.stdout.write(tensorview.compact(out) + "\n")
        return
    lay = result.layer
    if mode == "json":
        doc: dict[str, Any] = {
            "layer": lay.layer,
            "operation": lay.operation,
            "output_shape": list(out.shape),
            "output": tensorview.to_nested(out),
            "dtype": str(out.dtype),
            "method": result.method,
            "output_padding": list(lay.output_padding),
        }
        if lay.operation == "conv":
            doc["padding_mode"] = lay.padding_mode
        if result.checks:
            doc["check"] = {
                "max_abs_difference": result.checks,
                "tolerance": result.tolerance,
                "passed": result.check_passed,
            }
        if explain:
            doc["explain"] = explain_lines(lay)
        emit_json(doc)
        return
    from rich.text import Text

    if explain and lay.operation == "conv_transpose":
        y, w = result.input, result.weight
        if tensorview.scatter_figure_fits(y, w, lay):
            tensorview.print_scatter_figure(y, w, lay, precision)
        else:
            console().print(
                Text(
                    "--explain draws the figure for one channel in and out, 1-D or 2-D, "
                    "at most 16 input elements and a full output of at most 400 values"
                )
            )
    name = "ConvTranspose" if lay.operation == "conv_transpose" else "Conv"
    tensorview.print_tensor(out, lay.dims, precision, f"{name}{lay.dims}d ({result.method})")
    if result.checks:
        worst = max(result.checks.values())
        verdict = "agree" if result.check_passed else "DISAGREE"
        details = ", ".join(f"{m} {d:.3g}" for m, d in result.checks.items())
        console().print(
            Text(
                f"check: the four methods {verdict}; largest |difference| from {result.method}: "
                f"{details} (max {worst:.3g}, tolerance {result.tolerance:.3g})"
            )
        )


def print_inverse(inv: Any) -> None:
    """``invert-conv`` for people: the conv's output, the restoring output_padding, the preimage, the layer pair."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    con = console()
    dims = len(inv.output_padding)
    con.print(Text(f"Conv{dims}d  {format_shape(inv.input_shape)} -> {format_shape(inv.conv_output_shape)}"))
    table = Table(
        box=box.SIMPLE_HEAD, title=Text("ConvTranspose back, with the same hyperparameters"), title_justify="left"
    )
    table.caption = Text("op: the output_padding that restores that size; all of them give the same conv output")
    table.caption_justify = "left"
    for name in ("dim", "in", "conv out", "op", "inputs with the same conv output"):
        table.add_column(name, justify="left" if name.startswith("inputs") else "right")
    for dim, name in enumerate(dim_names(dims)):
        (lo, hi), (op_lo, op_hi) = inv.preimage[dim], inv.output_padding_range[dim]
        if hi - lo < 4:
            sizes = ", ".join(f"{lo + j} (op {op_lo + j})" for j in range(hi - lo + 1))
        else:
            sizes = f"{lo} (op {op_lo}) ... {hi:,} (op {op_hi:,}), {hi - lo + 1:,} sizes"
        table.add_row(
            *(
                Text(c)
                for c in (
                    name,
                    str(inv.input_shape[-dims + dim]),
                    str(inv.conv_output_shape[-dims + dim]),
                    str(inv.output_padding[dim]),
                    sizes,
                )
            )
        )
    con.print(table)
    con.print(Text(inv.conv_layer))
    con.print(Text(inv.conv_transpose_layer))


def print_solutions(sizes_in: Any, sizes_out: Any, per_dim: Any, top: int, conv: bool) -> None:
    """``solve`` for people: a ranked table per dimension (one table for dimensions that ask the same)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    con = console()
    kind = "Conv" if conv else "ConvTranspose"
    problems: dict[tuple[int, int], list[int]] = {}
    for dim, (i, o) in enumerate(zip(sizes_in, sizes_out)):
        problems.setdefault((i, o), []).append(dim)
    for (i, o), dims in problems.items():
        sols = per_dim[dims[0]]
        where = (
            ""
            if len(per_dim) == 1
            else f" (dim {', '.join(map(str, dims))})"
            if len(dims) == 1
            else (f" (dims {', '.join(map(str, dims))})")
        )
        con.print(
            Text(
                f"{kind} {i} -> {o}{where}: {len(sols)} solution(s)"
                + (f", best {top} shown" if len(sols) > top else ""),
                style="bold",
            )
        )
        table = Table(box=box.SIMPLE_HEAD)
        for name in ("k", "s", "p", "op", "d", "note"):
            table.add_column(name, justify="left" if name == "note" else "right", no_wrap=name != "note")
        for x in sols[:top]:
            notes = []
            if not x.uniform_overlap:
                notes.append("its ConvTranspose overlaps unevenly" if conv else "uneven overlap: checkerboard")
            if x.crops_beyond_kernel:
                notes.append("padding crops whole windows" if not conv else "windows wholly in padding")
            cells = (x.kernel_size, x.stride, x.padding, x.output_padding, x.dilation)
            table.add_row(*(Text(str(c)) for c in cells), Text("; ".join(notes)))
        con.print(table)
    con.print(
        Text(
            "k kernel_size, s stride, p padding, d dilation, op output_padding"
            + (" (that a ConvTranspose needs to undo it)" if conv else "")
        )
    )


def print_matrix_result(result: Any, labels: Sequence[str] | None, precision: int) -> None:
    """``matrix`` for people: what W is, then the table (or a summary when it is too large); the rows' and
    columns' labels are made only for a table that is printed."""
    from rich.text import Text

    from tconvcalc.render import matrixview

    con = console()
    m = result.matrix
    conv_in, conv_out = format_shape(result.input_shape), format_shape(result.output_shape)
    if result.transposed:
        op = ", ".join(map(str, result.output_padding))
        con.print(
            Text(
                f"W^T ({m.shape[0]} x {m.shape[1]}): the transposed convolution {conv_out} -> {conv_in}, "
                f"output_padding ({op}) to give back {conv_in}"
            )
        )
    else:
        con.print(
            Text(
                f"W ({m.shape[0]} x {m.shape[1]}): conv(x) = W x for x {conv_in} -> {conv_out}; "
                "the transposed convolution is W^T"
            )
        )
    if matrixview.fits_table(m):
        rows = matrixview.position_labels("y", result.output_shape[0], result.output_shape[1:])
        cols = matrixview.position_labels("x", result.input_shape[0], result.input_shape[1:])
        if result.transposed:
            rows, cols = cols, rows
        block = math.prod(result.input_shape[1:] if result.transposed else result.output_shape[1:])
        matrixview.print_matrix(m, rows, cols, block, labels, precision)
    else:
        for line in matrixview.summary_lines(m):
            con.print(Text(line))


REPORT_LAYOUTS = (  # the widest that fits the terminal is used; numbers and shapes never wrap
    (("layer", "module", "in -> out", "params", "MACs", "status"), False),
    (("layer", "module", "output", "params", "MACs", "status"), False),
    (("layer", "module", "output", "params", "status"), False),
    (("layer", "module", "output", "params", "status"), True),
)
REPORT_TABLE_ROWS = 1_000  # above this many layers, `check` prints its table as plain columns (rich: ~2 ms a row)
_REPORT_HEADERS = ("layer", "module", "in -> out", "params", "MACs", "status")
_REPORT_RIGHT = frozenset({"params", "MACs"})


def _report_cells(step: Any) -> dict[str, str]:
    """One row of the ``check`` table by column, user data escaped."""
    shape_in = format_shape(tuple(step.input_shape)) if step.input_shape else "-"
    shape_out = format_shape(tuple(step.output_shape)) if step.output_shape else "-"
    return {
        "layer": clean(step.name),
        "module": clean(step.summary),
        "in -> out": f"{shape_in} -> {shape_out}",
        "output": shape_out,
        "params": "-" if step.parameters is None else f"{step.parameters:,}",
        "MACs": f"{step.macs:,}",
        "status": step.status,
    }


def _print_plain_table(title: str, rows: list[dict[str, str]]) -> None:
    """The table in rich's SIMPLE_HEAD layout, without rich: linear and fast for thousands of rows."""
    headers = _REPORT_HEADERS
    widths = [max(len(h), *(len(r[h]) for r in rows)) for h in headers]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if h in _REPORT_RIGHT else c.ljust(w) for c, w, h in zip(cells, widths, headers)]
        return ("  " + "   ".join(parts)).rstrip() + "\n"

    out = [title + "\n", "\n", line(headers), " " + "─" * (sum(widths) + 3 * len(widths) - 1) + "\n"]
    sys.stdout.writelines(out)
    sys.stdout.writelines(line([r[h] for h in headers]) for r in rows)


def _report_table(report: Any, columns: tuple[str, ...], wrap_text: bool) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, title=Text(f"input {format_shape(tuple(report.input))}"), title_justify="left")
    for name in columns:
        text_column = name in ("layer", "module")
        table.add_column(
            name,
            justify="right" if name in _REPORT_RIGHT else "left",
            no_wrap=not (wrap_text and text_column),
            overflow="fold" if text_column else "ellipsis",
        )
    styles = {"ok": "green", "not reached": "dim"}
    for step in report.steps:
        cells = _report_cells(step)
        table.add_row(
            *(
                Text(cells[name], style=styles.get(step.status, "bold red") if name == "status" else "")
                for name in columns
            )
        )
    return table


def print_report(report: Any) -> None:
    """``check`` for people: the shape through every layer, its status, totals and every failure with its fix.
    The table takes the widest layout that fits the terminal (80 columns and up: no number ever wraps); a
    config of thousands of layers is printed as plain columns."""
    from rich.text import Text

    con = console()
    if len(report.steps) > REPORT_TABLE_ROWS:
        _print_plain_table(f"input {format_shape(tuple(report.input))}", [_report_cells(s) for s in report.steps])
    else:
        for columns, wrap in REPORT_LAYOUTS:
            table = _report_table(report, columns, wrap)
            if fits(table) or wrap:
                break
        con.print(table)
    total_p = sum(s.parameters or 0 for s in report.steps)
    total_m = sum(s.macs for s in report.steps)
    con.print(Text(f"total: {total_p:,} parameters, {total_m:,} MACs (per layer: --json)"))
    con.print(
        Text(
            "MACs of a ConvTranspose count its input: C_in * C_out/groups * prod(k) * prod(input size), "
            "the MACs of its dual convolution"
        )
    )
    last = report.steps[-1] if report.steps else None
    if last is not None and last.receptive_field:
        field = "x".join(str(v) for v in last.receptive_field)
        con.print(
            Text(clean(f"receptive field of {last.name!r} (last layer): {field} input positions; per layer in --json"))
        )
    for step in report.steps:
        if step.status not in ("ok", "not reached"):
            con.print(
                Text(
                    clean(f"{step.name}: {step.status}: {step.message}" + (f"; fix: {step.fix}" if step.fix else "")),
                    style="bold",
                )
            )


def print_result(result: LayerResult, explain: bool) -> None:
    """One layer's result for people: the convolution table, or a resize layer's settings and shapes."""
    if isinstance(result, LayerShape):
        print_layer(result, explain)
    else:
        print_resize(result)


def print_resize(result: ResizeShape) -> None:
    """A pooling/unpooling/upsampling layer's shape for people."""
    from rich.text import Text

    con = console()
    settings = ", ".join(f"{k}={v}" for k, v in result.settings.items() if v is not None)
    con.print(Text(f"{result.layer} ({settings})"))
    con.print(Text(f"{format_shape(result.input_shape)} -> {format_shape(result.output_shape)}", style="bold"))


def print_compare(rows: Sequence[tuple[Any, LayerResult | None, Exception | None]], dims: int) -> None:
    """--compare: the three ways to upsample, on the same input, in one table."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from tconvcalc.core.invert import uniform_overlap
    from tconvcalc.core.network import describe

    table = Table(box=box.SIMPLE_HEAD, title=Text("upsampling the same input three ways"), title_justify="left")
    for name in ("layer", "output", "parameters", "note"):
        table.add_column(name)
    for spec, result, err in rows:
        note = {
            "maxunpool": "needs MaxPool's indices (return_indices=True); zeros where no maximum was",
            "upsample": "fixed interpolation, no parameters; follow with a conv to learn",
        }.get(spec.TYPE, "learned weights")
        if isinstance(result, LayerShape):
            even = all(uniform_overlap(k, s, d) for k, s, d in zip(result.kernel_size, result.stride, result.dilation))
            note += "; even overlap" if even else "; uneven overlap: checkerboard artifacts"
        table.add_row(
            Text(describe(spec, dims)),
            Text(format_shape(result.output_shape) if result else f"error: {err}"),
            Text("-" if result is None else f"{result.parameters or 0:,}"),
            Text(note),
        )
    console().print(table)


def print_placement(doc: dict[str, Any]) -> None:
    """shape --convention for people: the output, the crop of the full output, the PyTorch equivalent."""
    from rich.text import Text

    con = console()
    con.print(
        Text(
            f"{doc['layer']} ({doc['convention']} convention)  {format_shape(tuple(doc['input_shape']))} -> "
            f"{format_shape(tuple(doc['output_shape']))}",
            style="bold",
        )
    )
    crops = ", ".join(
        f"{b} at the start and {e} at the end" if e >= 0 else f"{b} at the start, {-e} zero(s) appended"
        for b, e in doc["crops"]
    )
    con.print(Text(f"full output {format_shape(tuple(doc['full_size']))}, cropped {crops}"))
    exact, same = doc["torch_equivalent"], doc["torch_same_shape"]
    if exact:
        con.print(Text(f"PyTorch: padding={exact['padding']}, output_padding={exact['output_padding']}"))
    else:
        con.print(
            Text(
                "PyTorch: no exact equivalent (it cannot crop more at the end than at the start)"
                + (
                    f"; padding={same['padding']}, output_padding={same['output_padding']} gives the same "
                    "shape with the values shifted by one"
                    if same
                    else ""
                )
            )
        )
    for note in doc["notes"]:
        con.print(Text(f"note: {note}"))


def print_translation(doc: dict[str, Any]) -> None:
    """translate for people: one line per framework."""
    from rich.text import Text

    con = console()
    con.print(
        Text(
            f"from {doc['from']}: {format_shape(tuple(doc['input_size']))} -> "
            f"{format_shape(tuple(doc['output_size']))}, crops of the full output {doc['crops']}",
            style="bold",
        )
    )
    rows = [
        ("PyTorch", doc["torch"] or ("no exact equivalent. " + (doc["torch_same_shape"] or ""))),
        (
            "ONNX",
            "ConvTranspose " + ", ".join(f"{k}={v}" for k, v in doc["onnx"].items())
            if doc["onnx"]
            else "no exact equivalent with non-negative pads",
        ),
        ("Keras", doc["keras"] or "no exact equivalent ('valid'/'same' with any output_padding place it differently)"),
        ("TF", doc["tf"] or "no exact equivalent (SAME/VALID with this output_shape place it differently)"),
        ("JAX", doc["jax"]),
        ("MATLAB", doc["matlab"] or "no exact equivalent (Cropping cannot append zeros; no dilation or groups)"),
    ]
    for name, text in rows:
        con.print(Text(f"{name + ':':9}{text}"))
    con.print(Text(doc["exact_recipe"]))
    for line in doc["weights"]:
        con.print(Text(f"weights: {line}"))
    for note in doc["notes"]:
        con.print(Text(f"note: {note}"))
