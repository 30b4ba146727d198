"""Shape questions as data: ``shape --batch`` answers JSON Lines, one ``shape --json`` document per line.

:func:`query` is the single entry for one question (the CLI's ``shape --layer`` uses it too, so batch output
equals one-by-one output). Repeated lines come from a cache; large files are spread over the cores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tconvcalc.core import pool, sizes
from tconvcalc.core.errors import TConvError, UsageError
from tconvcalc.core.layer import TensorShape, conv_layer, conv_transpose_layer
from tconvcalc.core.network import _int_list, apply, validate_keys


def query(spec: Mapping[str, Any]) -> dict[str, Any]:
    """One ``shape`` question as a dict (``input``, optional ``dims`` (2), ``type`` (tconv) and the layer's
    keys): the document ``shape --json`` prints. Used by ``shape --batch`` for every JSON line."""
    raw, dims = spec.get("input"), spec.get("dims", 2)
    layer = {k: v for k, v in spec.items() if k != "input" and k != "dims"}
    if "type" not in layer:
        layer["type"] = "tconv"
    kind = validate_keys(layer, "query")
    if type(dims) is not int or not 1 <= dims <= 3:
        raise UsageError(f"dims must be 1, 2 or 3, got {dims!r}")
    values = _int_list(raw, "input")
    source = TensorShape.from_tuple(values * dims if len(values) == 1 else values, dims)
    if kind in ("conv", "tconv"):
        if layer.get("kernel_size") is None:
            raise UsageError(f"missing 'kernel_size' for type {kind!r}")
        args = (layer["kernel_size"], layer.get("stride", 1), layer.get("padding", 0))
        if kind == "tconv":
            out_size = layer.get("output_size")
            lay = conv_transpose_layer(
                source,
                *args,
                layer.get("output_padding", 0),
                layer.get("dilation", 1),
                layer.get("groups", 1),
                layer.get("out_channels"),
                None if out_size is None else sizes.per_dim(out_size, len(out_size), "output_size")[-dims:],
            )
        else:
            lay = conv_layer(source, *args, layer.get("dilation", 1), layer.get("groups", 1), layer.get("out_channels"))
        return lay.to_json()
    applied = apply(layer, source)
    doc: dict[str, Any] = {
        "operation": kind,
        "dims": dims,
        "input_shape": list(source.as_tuple()),
        "output_shape": list(applied.output.as_tuple()),
    }
    doc.update(_normalized(kind, layer, dims))
    return doc


def _normalized(kind: str, layer: Mapping[str, Any], dims: int) -> dict[str, Any]:
    """The layer's parameters with PyTorch's defaults filled in and one value per dimension (JSON-ready)."""

    def per(key: str, default: Any) -> list[int]:
        return list(sizes.per_dim(layer.get(key, default), dims, key))

    if kind in ("maxpool", "avgpool", "maxunpool"):
        kernel = per("kernel_size", 1)
        out: dict[str, Any] = {
            "kernel_size": kernel,
            "stride": per("stride", kernel) if "stride" in layer else kernel,
            "padding": per("padding", 0),
        }
        if kind == "maxpool":
            out["dilation"] = per("dilation", 1)
        if kind != "maxunpool":
            out["ceil_mode"] = bool(layer.get("ceil_mode", False))
        elif layer.get("output_size") is not None:
            out["output_size"] = list(layer["output_size"])[-dims:]
        return out
    scale = layer.get("scale_factor")
    return {
        "mode": layer.get("mode", "nearest"),
        "scale_factor": None if scale is None else list(pool._scales(scale, dims)),
        "size": None if layer.get("size") is None else per("size", 1),
        "align_corners": layer.get("align_corners"),
    }


def batch(lines: Any, first_line: int = 1) -> Any:
    """``shape --batch``: one JSON result per JSON line, errors included, in order; never stops on a bad line.

    Identical lines (common in sweeps) are answered from a cache.
    """
    import json

    encode = _line_encoder()
    cache: dict[str, str] = {}
    for number, line in enumerate(lines, first_line):
        text = line.strip()
        if not text:
            continue
        answer = cache.get(text)
        if answer is None:
            try:
                spec = json.loads(text)
                if not isinstance(spec, dict):
                    raise UsageError("each line must be a JSON object")
                answer = encode(query(spec))
                if len(cache) < 100_000:
                    cache[text] = answer
            except json.JSONDecodeError as exc:
                answer = encode({"line": number, "error": f"not JSON: {exc.msg}", "exit_code": 2})
            except TConvError as exc:
                answer = encode({"line": number, "error": str(exc), "exit_code": int(exc.exit_code)})
        yield answer


CHUNK_LINES = 4096
PARALLEL_FROM = 50_000  # lines; below this a worker pool's start-up costs more than it saves


def _chunk(job: tuple[int, list[str]]) -> str:
    first, lines = job
    return "".join(answer + "\n" for answer in batch(lines, first))


def _count_errors(text: str) -> int:
    return text.count('{"line": ')


def batch_file(path: str, out: Any, workers: int) -> int:
    """``shape --batch FILE``: large files are answered in ordered chunks by ``workers`` processes.

    Returns the number of refused lines."""
    try:
        with open(path, encoding="utf-8") as stream:
            lines = stream.readlines()
    except OSError as exc:
        raise UsageError(f"--batch {path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise UsageError(f"--batch {path}: not UTF-8 text") from None
    if workers <= 1 or len(lines) < PARALLEL_FROM:
        text = _chunk((1, lines))
        out.write(text)
        return _count_errors(text)
    import multiprocessing

    failed = 0
    jobs = ((start + 1, lines[start : start + CHUNK_LINES]) for start in range(0, len(lines), CHUNK_LINES))
    with multiprocessing.get_context("fork").Pool(workers) as workers_pool:
        for text in workers_pool.imap(_chunk, jobs, chunksize=1):
            out.write(text)
            failed += _count_errors(text)
    return failed


def run_batch(source: str, out: Any) -> int:
    """``shape --batch FILE|-``: stdin is streamed line by line; a file may use every core."""
    import os
    import sys

    if source == "-":
        failed = 0
        for answer in batch(sys.stdin):
            out.write(answer + "\n")
            failed += answer.startswith('{"line": ')
        return failed
    return batch_file(source, out, os.cpu_count() or 1)


def _line_encoder() -> Any:
    """One reusable JSON encoder: ``json.dumps`` builds a new C encoder on every call (measurable per line)."""
    import json

    try:
        from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - a Python without the C accelerator
        return json.dumps
    if c_make_encoder is None:  # pragma: no cover
        return json.dumps
    make = c_make_encoder(None, None, encode_basestring_ascii, None, ": ", ", ", False, False, True)
    return lambda doc: "".join(make(doc, 0))
