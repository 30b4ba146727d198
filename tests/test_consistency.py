"""One layer, three ways in: `shape --json` (options), `check --json` (a config) and `shape --batch` (a JSON line)
must give the same answer on every key they share, and refuse the same layers with the same exit code.
"""

from __future__ import annotations

import json
from typing import Any

from helpers import invoke
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

FLAG = {
    "kernel_size": "-k",
    "stride": "-s",
    "padding": "-p",
    "output_padding": "--output-padding",
    "dilation": "-d",
    "groups": "-g",
    "out_channels": "--out-channels",
    "output_size": "--output-size",
    "size": "--output-size",
    "padding_mode": "--padding-mode",
    "divisor_override": "--divisor-override",
    "scale_factor": "--scale-factor",
    "mode": "--mode",
}
BOOL_FLAG = {
    "bias": "--bias",
    "ceil_mode": "--ceil-mode",
    "count_include_pad": "--count-include-pad",
    "return_indices": "--return-indices",
    "align_corners": "--align-corners",
}


@st.composite
def queries(draw: Any) -> dict[str, Any]:
    """A layer of any type as PyTorch keyword arguments, with its input: mostly valid, often refused."""
    kind = draw(st.sampled_from(["tconv", "conv", "maxpool", "avgpool", "maxunpool", "upsample"]))
    dims = draw(st.integers(1, 3))

    def per_dim(lo: int, hi: int) -> int | list[int]:
        if draw(st.booleans()):
            return draw(st.integers(lo, hi))
        return [draw(st.integers(lo, hi)) for _ in range(dims)]

    channels = draw(st.sampled_from([1, 2, 3, 4, 4, 0]))
    lead = draw(st.sampled_from([[], [channels], [draw(st.integers(1, 2)), channels]]))
    spatial = [draw(st.integers(1, 9)) for _ in range(dims)]
    q: dict[str, Any] = {"input": lead + spatial, "type": kind}
    if draw(st.integers(0, 3)):
        q["dims"] = dims
    maybe = lambda: draw(st.booleans())  # noqa: E731
    if kind in ("tconv", "conv"):
        q["kernel_size"] = per_dim(1, 4)
        if maybe():
            q["stride"] = per_dim(1, 3)
        if maybe():
            q["padding"] = (
                per_dim(0, 2)
                if kind == "tconv" or draw(st.integers(0, 3))
                else draw(st.sampled_from(["same", "valid"]))
            )
        if maybe():
            q["dilation"] = per_dim(1, 2)
        if maybe():
            q["groups"] = draw(st.sampled_from([1, 2, 3]))
        if lead and maybe():
            q["out_channels"] = draw(st.integers(1, 6))
        if maybe():
            q["bias"] = draw(st.booleans())
        if draw(st.integers(0, 4)) == 0:
            q["padding_mode"] = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
        if kind == "tconv" and maybe():
            q["output_padding"] = per_dim(0, 2)
        if kind == "tconv" and draw(st.integers(0, 3)) == 0:
            size = [draw(st.integers(1, 24)) for _ in range(dims)]
            q["output_size"] = draw(st.sampled_from([size, lead + size, size[:1] if dims == 1 else size]))
    elif kind in ("maxpool", "avgpool", "maxunpool"):
        q["kernel_size"] = per_dim(1, 4)
        if maybe():
            q["stride"] = per_dim(1, 3)  # an explicit 1 included: it is not the default (the kernel size)
        if maybe():
            q["padding"] = per_dim(0, 2)
        if kind == "maxpool" and maybe():
            q["dilation"] = per_dim(1, 2)
        if kind != "maxunpool" and maybe():
            q["ceil_mode"] = draw(st.booleans())
        if kind == "avgpool" and maybe():
            q["divisor_override"] = draw(st.integers(-1, 3))
        if kind == "avgpool" and maybe():
            q["count_include_pad"] = draw(st.booleans())
        if kind == "maxpool" and maybe():
            q["return_indices"] = draw(st.booleans())
        if kind == "maxunpool" and maybe():
            size = [draw(st.integers(1, 24)) for _ in range(dims)]
            q["output_size"] = draw(st.sampled_from([size, [1, max(channels, 1), *size]]))
    else:
        if draw(st.integers(0, 3)):
            q["scale_factor"] = draw(st.sampled_from([2.0, 1.5, 0.5, 3.0, 0.1]))
        if draw(st.integers(0, 2)) == 0:
            q["size"] = per_dim(1, 12)
        q["mode"] = draw(st.sampled_from(["nearest", "nearest-exact", "area", "linear", "bilinear", "trilinear"]))
        if maybe():
            q["align_corners"] = draw(st.booleans())
    return q


def _shape_argv(q: dict[str, Any]) -> list[str]:
    argv = ["shape", "x".join(map(str, q["input"])), "--layer", q["type"], "--json"]
    if "dims" in q:
        argv += ["--dims", str(q["dims"])]
    for key, value in q.items():
        if key in FLAG:
            text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
            if key == "output_size" and isinstance(value, list):
                text = "x".join(map(str, value))
            argv += [FLAG[key], text]
        elif key in BOOL_FLAG:
            argv.append(BOOL_FLAG[key] if value else BOOL_FLAG[key].replace("--", "--no-", 1))
    return argv


def _invoke(argv: list[str], stdin: str | None = None) -> Any:
    return invoke(argv, stdin, catch_exceptions=False)


def _answers(q: dict[str, Any]) -> dict[str, tuple[int, dict[str, Any] | None]]:
    """(exit code, document or None) from each of the three ways in."""
    shape = _invoke(_shape_argv(q))
    layer = {k: v for k, v in q.items() if k not in ("input", "dims")}
    config = {"input": q["input"], "layer": [{"name": "only", **layer}]}
    if "dims" in q:
        config["dims"] = q["dims"]
    check = _invoke(["check", "-", "--json"], json.dumps(config))
    batch = _invoke(["shape", "--batch", "-"], json.dumps(q) + "\n")
    batch_doc = json.loads(batch.stdout) if batch.stdout.strip() else None
    check_doc = json.loads(check.stdout)["layers"][0] if check.exit_code != 2 else None
    return {
        "shape": (shape.exit_code, json.loads(shape.stdout) if shape.exit_code == 0 else None),
        "check": (check.exit_code if check_doc is None or check_doc["status"] != "ok" else 0, check_doc),
        "batch": (batch_doc.get("exit_code", 0) if batch_doc else 2, batch_doc),
    }


@settings(max_examples=250, deadline=None)
@given(queries())
@example({"input": [1, 1, 8, 8], "type": "avgpool", "kernel_size": 3, "stride": 1})  # -s 1 taken for the default
@example({"input": [1, 3, 8, 8], "type": "tconv", "kernel_size": 3, "bias": False, "out_channels": 2})
@example({"input": [1, 2, 5, 5], "type": "tconv", "kernel_size": 3, "stride": 2, "output_size": [1, 2, 10, 10]})
@example({"input": [3, 64, 64], "type": "conv", "kernel_size": 3})  # (C, H, W) in every command
@example({"input": [1, 1, 8, 8], "type": "conv", "kernel_size": 3, "padding": 8, "padding_mode": "reflect"})
@example({"input": [1, 0, 8, 8], "type": "maxpool", "kernel_size": 2})
@example({"input": [1, 1, 8, 8], "type": "avgpool", "kernel_size": 2, "divisor_override": 0})
@example({"input": [4, 8, 8], "type": "upsample", "scale_factor": 2.0, "mode": "bilinear"})
def test_shape_check_and_batch_agree(q: dict[str, Any]) -> None:
    """Same exit code from all three, and on success the same output shape, layer, parameters and MACs."""
    note(json.dumps(q))
    answers = _answers(q)
    note(repr(answers))
    codes = {way: code for way, (code, _) in answers.items()}
    assert len(set(codes.values())) == 1, codes
    if codes["shape"] != 0:
        return
    shape_doc, check_doc, batch_doc = (answers[w][1] for w in ("shape", "check", "batch"))
    assert shape_doc == batch_doc  # the same document, key for key
    for key in ("output_shape", "input_shape", "layer", "parameters", "macs"):
        assert check_doc[key] == shape_doc[key], key


def _torch_output_shape(torch: Any, q: dict[str, Any]) -> tuple[int, ...] | None:
    """The shape PyTorch gives for the query's layer on zeros (float64), or None when PyTorch refuses it."""
    import warnings

    n, kind = q["dims"], q["type"]
    if "output_padding" in q and "output_size" in q:
        return None  # torch ignores output_padding then; tconvcalc refuses an option it would ignore (README)
    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in q.items() if k not in ("input", "dims", "type")}
    x = torch.zeros(q["input"], dtype=torch.float64)
    channels = q["input"][-n - 1]
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        try:
            if kind in ("tconv", "conv"):
                name = f"{'ConvTranspose' if kind == 'tconv' else 'Conv'}{n}d"
                out_channels = kw.pop("out_channels", channels)
                output_size = kw.pop("output_size", None)
                module = getattr(torch.nn, name)(channels, out_channels, dtype=torch.float64, **kw)
                y = module(x, output_size=output_size) if kind == "tconv" else module(x)
            elif kind == "maxpool":
                y = torch.nn.__dict__[f"MaxPool{n}d"](**kw)(x)
                y = y[0] if isinstance(y, tuple) else y
            elif kind == "avgpool":
                y = torch.nn.__dict__[f"AvgPool{n}d"](**kw)(x)
            elif kind == "maxunpool":
                output_size = kw.pop("output_size", None)
                indices = torch.zeros(q["input"], dtype=torch.int64)
                y = torch.nn.__dict__[f"MaxUnpool{n}d"](**kw)(x, indices, output_size=output_size)
            elif len(q["input"]) == n + 1:
                return None  # torch reads (C, *spatial) as (N, C, ...) of one dimension fewer: not this question
            else:
                y = torch.nn.Upsample(**kw)(x)
        except (RuntimeError, ValueError, TypeError, NotImplementedError, IndexError):
            return None
    return tuple(y.shape)


@settings(max_examples=300, deadline=None)
@given(queries())
@example({"input": [1, 1, 8, 8], "dims": 2, "type": "avgpool", "kernel_size": 3, "stride": 1})
@example({"input": [1, 1, 8, 8], "dims": 2, "type": "conv", "kernel_size": 3, "padding": 8, "padding_mode": "circular"})
@example({"input": [4, 8, 8], "dims": 2, "type": "upsample", "scale_factor": 2.0, "mode": "nearest"})
def test_shape_is_torchs_shape(torch: Any, q: dict[str, Any]) -> None:
    """`shape --json` gives PyTorch's output shape for every layer type, or refuses exactly where PyTorch does."""
    from hypothesis import assume

    n = q.get("dims")
    assume(n is not None and len(q["input"]) - n in (1, 2))  # PyTorch needs (C, ...) or (N, C, ...)
    assume(
        all(
            len(v) == n
            for v in q.values()
            if isinstance(v, list) and v is not q["input"] and v is not q.get("output_size")
        )
    )
    assume(q["input"][-n - 1] > 0 or q["type"] in ("maxpool", "avgpool", "upsample"))  # torch runs 0-channel convs
    note(json.dumps(q))
    result = _invoke(_shape_argv(q))
    ours = tuple(json.loads(result.stdout)["output_shape"]) if result.exit_code == 0 else None
    expected = _torch_output_shape(torch, q)
    assert ours == expected, (result.stderr, expected)
