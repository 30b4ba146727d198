"""Tensors for people and scripts: integral results as integers, per-channel grids, the scatter figure."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tconvcalc.core.layer import LayerShape
from tconvcalc.core.sizes import effective_kernel
from tconvcalc.render.jsonout import dumps

GRID_LIMIT = 24  # widest grid printed as a table; larger outputs get a summary


_SCAN = 1 << 20  # values tested at a time: the test's temporaries stay small, whatever the array's size


def is_integral(array: np.ndarray) -> bool:
    """True when every value is a finite whole number (then it prints as ``12``, not ``12.0``)."""
    flat = np.asarray(array).reshape(-1)
    for start in range(0, flat.size, _SCAN):
        part = flat[start : start + _SCAN]
        if not (np.all(np.isfinite(part)) and np.all(part == np.round(part))):
            return False
    return True


def to_nested(array: np.ndarray) -> Any:
    """Nested lists of exact Python ints when integral (also at 2**63 and beyond), floats otherwise (non-finite
    ones stay floats: the JSON writer turns them into null)."""
    if not is_integral(array):
        return array.tolist()
    if array.size == 0 or float(np.abs(array).max()) < 2.0**62:
        return array.astype(np.int64).tolist()
    return np.frompyfunc(int, 1, 1)(array).tolist()  # a float64 holds its integer exactly; int() keeps it


# What printing a result allocates, measured with tracemalloc (tests/test_bounds.py holds these as upper bounds):
# nested lists take a Python number and a list slot per value plus a list per row, and the JSON text is built,
# joined and encoded (three copies of each number's at most 24 characters and its separator). CPython's JSON
# encoder also keeps up to 100,000 small strings (about 80 bytes each) before it joins them.
NUMBER_CHARS = 24  # the longest repr of a float64 (-2.2250738585072014e-308); int64 takes at most 20
TEXT_BYTES_PER_VALUE = 32 + 3 * (NUMBER_CHARS + 2)
TEXT_BYTES_PER_LIST = 80
TEXT_ENCODER_BYTES = 100_000 * 80


def text_memory(shape: tuple[int, ...], itemsize: int) -> int:
    """Peak bytes of :func:`to_nested` plus ``json.dumps`` (``--json``, ``--plain``) of an array of ``shape``:
    its values, its nested lists, the integrality test's temporaries.

    >>> text_memory((1000,), 8)
    8110080
    """
    values = math.prod(shape)
    lists = sum(math.prod(shape[:k]) for k in range(len(shape)))  # the root, then one per row of each axis
    return values * TEXT_BYTES_PER_VALUE + lists * TEXT_BYTES_PER_LIST + TEXT_ENCODER_BYTES


def summary_memory(shape: tuple[int, ...], itemsize: int) -> int:
    """Peak bytes of :func:`print_tensor` (grids when small, a summary otherwise): :func:`is_integral`'s rounded
    copy and two boolean masks of at most ``_SCAN`` values (and a copy if the array is not contiguous)."""
    return min(math.prod(shape), _SCAN) * (itemsize + 2)


def compact(array: np.ndarray) -> str:
    """The result as one compact literal, e.g. ``[[0,0,1],[0,4,6],[4,12,9]]`` (strict JSON: null for NaN/inf)."""
    return dumps(to_nested(array), separators=(",", ":"))


def fmt(value: float, integral: bool, precision: int) -> str:
    return str(int(value)) if integral else format(float(value), f".{precision}g")


def _grid_table(
    grid: np.ndarray, integral: bool, precision: int, title: str, highlight: Any = None, columns: Any = None
) -> Any:
    """A titled grid of numbers (``columns``: a range of them); with ``highlight``, the masked cells bold and
    the rest dim. Cells never wrap or shorten a number."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=False, box=box.SQUARE, padding=(0, 1))
    rows = grid.reshape(1, -1) if grid.ndim == 1 else grid
    mask = None if highlight is None else (highlight.reshape(1, -1) if highlight.ndim == 1 else highlight)
    picked = range(rows.shape[1]) if columns is None else columns
    for _ in picked:
        table.add_column(justify="right", no_wrap=True)
    for r, row in enumerate(rows):
        cells = []
        for c in picked:
            style = "" if mask is None else ("bold" if mask[r, c] else "dim")
            cells.append(Text(fmt(row[c], integral, precision), style=style))
        table.add_row(*cells)
    return Group(Text(title), table) if title else table


def print_tensor(out: np.ndarray, dims: int, precision: int, label: str) -> None:
    """Each output channel (and batch item, and depth slice) as a grid; a summary when too large."""
    from rich.text import Text

    from tconvcalc.render.console import console, print_column_blocks

    con = console()
    integral = is_integral(out)
    shape_text = "x".join(str(v) for v in out.shape)
    con.print(Text(f"{label}: shape {shape_text}, dtype {out.dtype}"))
    plane_axes = min(dims, 2)
    planes = out.reshape(-1, *out.shape[out.ndim - plane_axes :]) if out.ndim > plane_axes else out[None]
    if max(out.shape[-plane_axes:]) > GRID_LIMIT or planes.shape[0] > 64:
        con.print(
            Text(
                f"min {fmt(out.min(), integral, precision)}, max {fmt(out.max(), integral, precision)}, "
                f"mean {float(out.mean()):.{precision}g}, {out.size:,} values "
                "(too large to print as grids: use --json or --save FILE)"
            )
        )
        return
    lead_shape = out.shape[: out.ndim - plane_axes]
    names = _lead_names(len(lead_shape), dims)
    for index, plane in zip(np.ndindex(*lead_shape) if lead_shape else [()], planes):
        title = " ".join(f"{n}={i}" for n, i in zip(names, index)) or "output"
        grid = plane.reshape(1, -1) if plane.ndim == 1 else plane
        con.print(Text(title))

        def block(columns: range, grid: np.ndarray = grid) -> Any:
            return _grid_table(grid, integral, precision, "", columns=columns)

        print_column_blocks(block, grid.shape[1])


def _lead_names(count: int, dims: int) -> list[str]:
    extra = ["depth"] if dims == 3 else []
    names = ["n", "c", *extra]
    return names[len(names) - count :] if count <= len(names) else ["i"] * (count - len(names)) + names


def print_scatter_figure(y: np.ndarray, w: np.ndarray, lay: LayerShape, precision: int) -> None:
    """The textbook figure: each input element's scaled kernel in the full output, their sum, then the crop.

    For one channel in and out, 1-D or 2-D, with at most 16 input elements.
    """
    from rich.text import Text

    from tconvcalc.render.console import console

    con = console()
    full_shape = lay.full_size
    total = np.zeros(full_shape)
    integral = is_integral(y) and is_integral(w)
    k_eff = tuple(effective_kernel(k, d) for k, d in zip(lay.kernel_size, lay.dilation))
    dilated = np.zeros(k_eff)
    dilated[tuple(slice(None, None, d) for d in lay.dilation)] = w
    con.print(
        Text(
            f"Each input element times the kernel, placed at stride {lay.stride} in the full output "
            f"{'x'.join(map(str, full_shape))} (bold: the window it lands on):"
        )
    )
    for index in np.ndindex(*y.shape):
        part = np.zeros(full_shape)
        window = tuple(slice(i * s, i * s + k) for i, s, k in zip(index, lay.stride, k_eff))
        part[window] = y[index] * dilated
        mask = np.zeros(full_shape, dtype=bool)
        mask[window] = True
        total += part
        position = ",".join(map(str, index))
        con.print(
            _grid_table(part, integral, precision, f"x({position}) = {fmt(float(y[index]), integral, precision)}", mask)
        )
    con.print(_grid_table(total, integral, precision, "sum: the full transposed convolution (no padding)"))
    crop = tuple(slice(pb, pb + o) for (pb, _), o in zip(lay.padding, lay.output_spatial))
    keep = np.zeros(tuple(max(f, pb + o) for f, (pb, _), o in zip(full_shape, lay.padding, lay.output_spatial)), bool)
    keep[crop] = True
    from tconvcalc.render.console import dim_names

    pads = ", ".join(f"{pb} + {pe} from {name}" for name, (pb, pe) in zip(dim_names(lay.dims), lay.padding))
    extra = (
        ""
        if not any(lay.output_padding)
        else (f"; output_padding {list(lay.output_padding)} keeps that many more computed values at the end")
    )
    con.print(Text(f"padding crops (start + end) {pads}{extra}: the output is the bold region"))
    shown = np.zeros(keep.shape)
    shown[tuple(slice(0, f) for f in full_shape)] = total
    con.print(_grid_table(shown, integral, precision, "output (bold) within the full result", keep))


def scatter_figure_fits(y: np.ndarray, w: np.ndarray, lay: LayerShape) -> bool:
    """The figure is drawn for one channel in and out, 1-D or 2-D, at most 16 inputs and a small output."""
    return (
        lay.dims <= 2 and y.ndim == lay.dims and w.ndim == lay.dims and y.size <= 16 and math.prod(lay.full_size) <= 400
    )
