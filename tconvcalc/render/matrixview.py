"""The matrix W for people: labelled rows and columns, dimmed zeros, channel blocks, or a summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# The engine's SparseMatrix (shape, nnz, row, col, value): render takes it as data and never imports the engine.
SparseMatrix = Any

TABLE_LIMIT = (48, 36)  # rows, columns beyond which a table is unreadable
# What the other outputs allocate, measured with tracemalloc (tests/test_bounds.py holds them as upper bounds):
JSON_BYTES_PER_ENTRY = 320  # --json, --save .json: row, col and value as Python objects, then text (at most 275)
CELL_TEXT_BYTES = 96  # one cell of a --format dense|csv row while it is formatted and joined
COO_CHUNK = 1 << 16  # --format coo writes this many entries at a time


def labelled(values: np.ndarray, labels: Sequence[str]) -> list[str]:
    """The label of each entry (``values`` are 1-based label indices), each distinct label made once."""
    distinct, inverse = np.unique(values, return_inverse=True)
    names = np.array([labels[int(v) - 1] for v in distinct.tolist()], dtype=object)
    out: list[str] = names[inverse.reshape(-1)].tolist()
    return out


def position_labels(name: str, channels: int, spatial: tuple[int, ...]) -> list[str]:
    """``x(2,0)`` for every flattened position, with the channel first when there is more than one."""
    labels = []
    for c in range(channels):
        for index in np.ndindex(*spatial):
            coords = ([c] if channels > 1 else []) + list(index)
            labels.append(f"{name}({','.join(map(str, coords))})")
    return labels


def fits_table(matrix: SparseMatrix) -> bool:
    return bool(matrix.shape[0] <= TABLE_LIMIT[0] and matrix.shape[1] <= TABLE_LIMIT[1])


def summary_lines(matrix: SparseMatrix) -> list[str]:
    """Shape, non-zeros, density and non-zeros per row, for matrices too large to print."""
    rows, cols = matrix.shape
    per_row = np.bincount(matrix.row, minlength=rows)
    density = matrix.nnz / max(1, rows * cols)
    return [
        f"shape {rows:,} x {cols:,}, {matrix.nnz:,} non-zeros, density {density:.3g}",
        f"non-zeros per row: min {int(per_row.min(initial=0))}, max {int(per_row.max(initial=0))}, "
        f"mean {float(per_row.mean()) if rows else 0:.3g}",
        f"too large for a table ({TABLE_LIMIT[0]} rows x {TABLE_LIMIT[1]} columns at most): "
        "use --format coo|dense|csv|npy, --json, or --save FILE (.npy .csv .npz .json)",
    ]


def print_matrix(
    matrix: SparseMatrix,
    row_labels: list[str],
    col_labels: list[str],
    row_block: int,
    labels: Sequence[str] | None,
    precision: int,
) -> None:
    """A rich table: labelled rows and columns, zeros dimmed, a rule between output-channel blocks."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from tconvcalc.render.tensorview import fmt, is_integral

    dense = matrix.todense()
    integral = is_integral(dense) if labels is None else True

    def block(columns: range) -> Any:
        table = Table(box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1), show_edge=False)  # one space between
        table.add_column("", no_wrap=True)
        for c in columns:
            table.add_column(Text(col_labels[c]), justify="right", no_wrap=True, min_width=len(col_labels[c]))
        for r in range(dense.shape[0]):
            if r and row_block and r % row_block == 0:
                table.add_section()
            cells = [Text(row_labels[r], style="bold")]
            for value in dense[r][columns.start : columns.stop]:
                if value == 0:
                    cells.append(Text("0" if labels is None else "·", style="dim"))
                else:
                    cells.append(
                        Text(labels[int(value) - 1] if labels is not None else fmt(float(value), integral, precision))
                    )
            table.add_row(*cells)
        return table

    from tconvcalc.render.console import print_column_blocks

    print_column_blocks(block, dense.shape[1])  # never truncated: wide matrices come in blocks of columns


def print_overlap(counts: np.ndarray, uniform: bool, kernel: Any, stride: Any, dilation: Any) -> None:
    """The overlap grid of the transposed convolution and whether its interior is uniform."""
    from rich.text import Text

    from tconvcalc.render.console import console
    from tconvcalc.render.tensorview import _grid_table

    con = console()
    if max(counts.shape) <= 32:
        con.print(
            _grid_table(
                counts.astype(float),
                True,
                6,
                "(input element, kernel tap) pairs per output position of the transposed convolution",
            )
        )
    else:
        con.print(Text(f"overlap counts: min {counts.min()}, max {counts.max()} over {counts.size:,} positions"))
    if uniform:
        con.print(Text("overlap is uniform away from the borders: no checkerboard artifacts"))
    else:
        con.print(
            Text(
                f"overlap is UNEVEN: kernel {tuple(kernel)} with dilation {tuple(dilation)} does not tile "
                f"stride {tuple(stride)} evenly, the cause of checkerboard artifacts (Odena et al. 2016); "
                "a kernel divisible by the stride, or resize-then-conv, avoids it"
            )
        )


def output_memory(shape: tuple[int, int], entries: int, fmt: str, save: str | None, json_: bool) -> tuple[int, str]:
    """Peak bytes of writing W (``shape``, at most ``entries`` non-zeros) as asked, and what it is: ``--json`` or
    ``--save .json`` per entry, a dense form (``--format dense|csv|npy``, ``--save .npy|.csv``) per cell plus one
    row's text, a table or summary per row. W itself is not counted: it is held already."""
    from pathlib import Path

    rows, cols = shape
    steps = [(rows * 8, "the summary")]  # non-zeros per row (a table is at most 48 x 36)
    suffix = Path(save).suffix.lower() if save else ""
    if json_ or suffix == ".json":
        steps.append((entries * JSON_BYTES_PER_ENTRY, f"the JSON of {entries:,} entries"))
    if fmt in ("dense", "csv", "npy") or suffix in (".npy", ".csv"):
        text = cols * CELL_TEXT_BYTES if fmt in ("dense", "csv") or suffix == ".csv" else 0
        steps.append(
            (rows * cols * 8 + text, f"a dense {rows:,} x {cols:,} matrix; use --format coo or --save FILE.npz")
        )
    return max(steps, key=lambda step: step[0])


def emit(result: Any, fmt: str, labels: Sequence[str] | None, precision: int) -> None:
    """--format dense|coo|csv|npy on stdout."""
    import sys

    from tconvcalc.core.errors import UsageError
    from tconvcalc.render.tensorview import fmt as number

    m = result.matrix
    if fmt == "coo":
        sys.stdout.write("row,col,value\n")
        for start in range(0, m.nnz, COO_CHUNK):  # a chunk at a time: the entries never exist as text all at once
            part = slice(start, start + COO_CHUNK)
            chunk = m.value[part]
            values = labelled(chunk, labels) if labels else [number(float(v), False, 17) for v in chunk]
            sys.stdout.writelines(
                f"{r},{c},{v}\n" for r, c, v in zip(m.row[part].tolist(), m.col[part].tolist(), values)
            )
        return
    if fmt == "npy":
        if labels is not None:
            raise UsageError("--format npy holds numbers; drop --symbolic")
        if sys.stdout.isatty():
            raise UsageError("--format npy writes binary: redirect it to a file or use --save FILE.npy")
        np.save(sys.stdout.buffer, m.todense(), allow_pickle=False)
        return
    dense = result.dense(labels, limit=None)  # within the budget cli/matrix checked first
    integral = labels is None and bool(np.all(dense == np.round(dense)))
    sep = "," if fmt == "csv" else " "
    for row in dense:
        cells = [str(v) if labels else number(float(v), integral, precision) for v in row]
        sys.stdout.write(sep.join(cells) + "\n")
