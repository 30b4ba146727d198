"""``matrix --save FILE``: .npy/.csv dense, .npz coordinates (row, col, value, shape), .json the entries."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from tconvcalc.core.errors import UsageError
from tconvcalc.io.atomic import write_atomic


def save_matrix(path: str, result: Any, labels: Sequence[str] | None) -> None:
    """Write ``result`` (an engine MatrixResult) to ``path`` by its suffix (any case), atomically."""
    import numpy as np

    from tconvcalc.core.jsontext import dumps

    m, suffix = result.matrix, Path(path).suffix.lower()
    if suffix not in (".npz", ".json", ".npy", ".csv"):
        raise UsageError(f"--save {path!r}: unknown format {suffix or '(none)'}; use .npy, .csv, .npz or .json")
    if labels is not None and suffix in (".npy", ".csv"):
        raise UsageError(f"--save {path!r}: symbolic entries are text; use .json")
    dense = result.dense(None, limit=None) if suffix in (".npy", ".csv") else None  # budgeted by the caller

    def write(stream: BinaryIO) -> None:
        if suffix == ".npz":
            np.savez(stream, row=m.row, col=m.col, value=m.value, shape=np.array(m.shape))
        elif suffix == ".json":
            values = [labels[int(v) - 1] for v in m.value] if labels else m.value.tolist()
            doc = {"shape": list(m.shape), "row": m.row.tolist(), "col": m.col.tolist(), "value": values}
            stream.write((dumps(doc) + "\n").encode())
        elif suffix == ".npy":
            assert dense is not None
            np.save(stream, dense, allow_pickle=False)
        else:
            assert dense is not None
            text = io.StringIO()
            np.savetxt(text, dense, delimiter=",", fmt="%.17g")
            stream.write(text.getvalue().encode())

    write_atomic(path, write)
