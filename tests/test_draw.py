"""`tconvcalc draw`: the SVG's cells, counted per class, against the arithmetic of the zero-insertion view.

The expected counts are derived here from the paper's arithmetic (written out below), not from the renderer: the
input with s-1 zeros between its elements, d(k-1)-begin zeros before it and d(k-1)-end after it (negative: that
many stretched elements cut off), the last output_padding of those being output_padding's; the full output
(i-1)s + d(k-1) + 1 cropped (begin, end), negative crops appending zeros. Chromium renders the same files in
scripts/render_figures.py (not here: CI has no browser).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pytest
from helpers import invoke
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import tconvcalc
from tconvcalc.core import conventions
from tconvcalc.core.errors import LayerError, UsageError
from tconvcalc.render import figure

SVG = "{http://www.w3.org/2000/svg}"
EXAMPLES = int(os.environ.get("TCONVCALC_EXAMPLES", "120"))
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- reading an SVG ---------------------------------------------------------------------------------------------
def parse(svg: str) -> ElementTree.Element:
    """The document, which must be well-formed XML with an <svg> root."""
    root = ElementTree.fromstring(svg.encode())
    assert root.tag == f"{SVG}svg"
    return root


def classes(element: ElementTree.Element) -> set[str]:
    return set(element.get("class", "").split())


def cells(root: ElementTree.Element) -> list[ElementTree.Element]:
    return [e for e in root.iter(f"{SVG}rect") if "cell" in classes(e)]


def count(root: ElementTree.Element) -> dict[str, int]:
    """Cells per class, and the kernel's taps (overlay squares, not cells)."""
    out: dict[str, int] = {}
    for e in cells(root):
        for c in classes(e) - {"cell"}:
            out[c] = out.get(c, 0) + 1
    taps = sum(1 for e in root.iter(f"{SVG}rect") if classes(e) == {"tap"})
    if taps:
        out["tap"] = taps
    return out


def titled(root: ElementTree.Element, prefix: str) -> dict[str, str]:
    """{index: number} from the tooltips of cells whose title reads 'PREFIX[index] = number'."""
    found = {}
    pattern = re.compile(re.escape(prefix) + r"\[([0-9,]+)\] = (\S+)")
    for e in cells(root):
        title = e.find(f"{SVG}title")
        match = pattern.match(title.text or "") if title is not None else None
        if match:
            found[match.group(1)] = match.group(2)
    return found


# -- the arithmetic, independently ------------------------------------------------------------------------------
def input_row(i: int, k: int, s: int, d: int, crop: tuple[int, int], op: int) -> tuple[list[str], int, int]:
    """The padded input of one dimension as kinds, the stretched length and how many stretched elements stay.

    Pad d(k-1)-begin zeros at the start and d(k-1)-end at the end of the stretched input, the last op of those
    being output_padding's; a negative amount cuts that many elements from that end instead (which may reach
    into the other end's zeros when it exceeds the stretched input).
    """
    stretched = [("input" if t % s == 0 else "zero", True) for t in range((i - 1) * s + 1)]
    before, after = d * (k - 1) - crop[0], d * (k - 1) - crop[1]
    op_zeros = min(op, max(after, 0))
    row = [("pad", False)] * max(before, 0) + stretched
    row += [("pad", False)] * (max(after, 0) - op_zeros) + [("op", False)] * op_zeros
    row = row[max(-before, 0) : len(row) - max(-after, 0)]
    return [kind for kind, _ in row], len(stretched), sum(1 for _, inside in row if inside)


def expected_counts(dims: list[dict[str, Any]], view: str) -> dict[str, int]:
    """What the figure must hold, from each dimension's (i, k, s, d, crop, op)."""
    n = len(dims)
    full = [(a["i"] - 1) * a["s"] + a["d"] * (a["k"] - 1) + 1 for a in dims]
    outs = [f - a["crop"][0] - a["crop"][1] for f, a in zip(full, dims)]
    inside = [min(f, f - a["crop"][1]) - max(0, a["crop"][0]) for f, a in zip(full, dims)]  # output within full
    inside = [max(v, 0) for v in inside]
    op_cells = [min(a["op"], o) for a, o in zip(dims, outs)]
    k_eff = [a["d"] * (a["k"] - 1) + 1 for a in dims]
    prod = math.prod
    out = {
        "output": prod(outs),
        "appended": prod(outs) - prod(inside),
        "crop": prod(full) - prod(inside),
        "kernel": prod(a["k"] for a in dims),
        "kernel-gap": prod(k_eff) - prod(a["k"] for a in dims),
    }
    op_out = prod(outs) - prod(o - c for o, c in zip(outs, op_cells))
    if view == "scatter":
        taps, inputs = prod(a["k"] for a in dims), prod(a["i"] for a in dims)
        out.update(input=inputs, stamp=inputs * taps, empty=inputs * (prod(full) - taps), **{"output-padding": op_out})
    else:
        rows = [input_row(a["i"], a["k"], a["s"], a["d"], tuple(a["crop"]), a["op"]) for a in dims]
        for (row, _, _), o, ke in zip(rows, outs, k_eff):
            assert len(row) == o + ke - 1  # a stride-1 correlation over the padded input gives the output
        tally = {"input": 0, "zero": 0, "pad": 0, "op": 0}
        for kinds in itertools.product(*(row for row, _, _ in rows)):
            if any(kd in ("pad", "op") for kd in kinds):
                tally["pad"] += 1
                tally["op"] += any(kd == "op" for kd in kinds)
            elif all(kd == "input" for kd in kinds):
                tally["input"] += 1
            else:
                tally["zero"] += 1
        removed = prod(length for _, length, _ in rows) - prod(kept for _, _, kept in rows)
        out.update(
            input=tally["input"],
            zero=tally["zero"],
            pad=tally["pad"],
            removed=removed,
            tap=prod(a["k"] for a in dims),
            **{"output-padding": op_out + tally["op"]},
        )
    assert n in (1, 2)
    return {key: value for key, value in out.items() if value}


def dims_of(p: conventions.Placement, op: tuple[int, ...] | None) -> list[dict[str, Any]]:
    ops = op or (0,) * len(p.crops)
    return [
        {"i": i, "k": k, "s": s, "d": d, "crop": c, "op": o}
        for i, k, s, d, c, o in zip(p.input_size, p.kernel_size, p.stride, p.dilation, p.crops, ops)
    ]


# -- random layers ----------------------------------------------------------------------------------------------
@st.composite
def torch_layers(draw: Any) -> tuple[conventions.Placement, tuple[int, ...]]:
    """A PyTorch layer of 1 or 2 dimensions, padding up to beyond d(k-1) (a negative border), output_padding."""
    n = draw(st.integers(1, 2))
    i, k, s, d, p, op = [], [], [], [], [], []
    for _ in range(n):
        i.append(draw(st.integers(1, 5)))
        k.append(draw(st.integers(1, 4)))
        s.append(draw(st.integers(1, 3)))
        d.append(draw(st.integers(1, 3)))
        p.append(draw(st.integers(0, d[-1] * (k[-1] - 1) + 2)))
        op.append(draw(st.integers(0, max(s[-1], d[-1]) - 1)))
    try:
        placement = conventions.torch_placement(i, k, s, p, op, d)
    except LayerError:
        assume(False)
        raise
    return placement, tuple(op)


@st.composite
def other_layers(draw: Any) -> tuple[conventions.Placement, tuple[int, ...] | None]:
    """A layer in ONNX, Keras, TF or JAX terms; only ONNX's output_padding is marked (PyTorch's meaning)."""
    n = draw(st.integers(1, 2))
    i = [draw(st.integers(1, 5)) for _ in range(n)]
    k = [draw(st.integers(1, 4)) for _ in range(n)]
    s = [draw(st.integers(1, 3)) for _ in range(n)]
    d = [draw(st.integers(1, 2)) for _ in range(n)]
    which = draw(st.sampled_from(["onnx", "onnx-same", "keras", "tf", "jax", "jax-pairs"]))
    op: tuple[int, ...] | None = None
    try:
        if which == "onnx":
            op = tuple(draw(st.integers(0, max(ss, dd) - 1)) for ss, dd in zip(s, d))
            pads = [draw(st.integers(0, 3)) for _ in range(2 * n)]
            p = conventions.onnx_placement(i, k, s, pads, op, None, "NOTSET", d)
        elif which == "onnx-same":
            p = conventions.onnx_placement(
                i, k, s, None, 0, None, draw(st.sampled_from(["SAME_UPPER", "SAME_LOWER"])), d
            )
        elif which == "keras":
            given = draw(st.booleans())
            keras_op = [draw(st.integers(0, ss - 1)) for ss in s] if given else None
            d = [1] * n if any(ss > 1 for ss in s) else d
            p = conventions.keras_placement(i, k, s, draw(st.sampled_from(["valid", "same"])), keras_op, d)
        elif which == "tf":
            mode = draw(st.sampled_from(["SAME", "VALID"]))
            ke = [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]
            if mode == "SAME":
                shape = [draw(st.integers((ii - 1) * ss + 1, ii * ss)) for ii, ss in zip(i, s)]
            else:
                shape = [
                    draw(st.integers((ii - 1) * ss + e, (ii - 1) * ss + e + ss - 1)) for ii, ss, e in zip(i, s, ke)
                ]
            p = conventions.tf_placement(i, k, s, mode, shape, d)
        elif which == "jax":
            p = conventions.jax_placement(i, k, s, draw(st.sampled_from(["SAME", "VALID"])), d)
        else:
            pairs = [(draw(st.integers(-2, 4)), draw(st.integers(-2, 4))) for _ in range(n)]
            p = conventions.jax_placement(i, k, s, pairs, d, draw(st.booleans()))
    except (LayerError, UsageError):
        assume(False)
        raise
    return p, op


def drawable(p: conventions.Placement, op: tuple[int, ...] | None, view: str) -> bool:
    try:
        figure.check_size(figure.axes_of(p, op), view)
    except UsageError:
        return False
    return True


@FAST
@given(layer=torch_layers(), view=st.sampled_from(figure.VIEWS))
def test_cells_per_class_match_the_arithmetic(layer, view):
    """Every PyTorch layer: the cells of each class number what the zero-insertion arithmetic says."""
    p, op = layer
    assume(drawable(p, op, view))
    drawn = figure.draw(p, view, op)
    root = parse(drawn.svg)
    expected = expected_counts(dims_of(p, op), view)
    assert count(root) == expected
    assert drawn.counts == expected  # what --json reports is what the file holds


@FAST
@given(layer=other_layers(), view=st.sampled_from(figure.VIEWS))
def test_other_conventions_draw_their_crop(layer, view):
    """ONNX, Keras, TF and JAX placements (odd crops, negative crops): the same arithmetic on their crops."""
    p, op = layer
    assume(drawable(p, op, view))
    root = parse(figure.draw(p, view, op).svg)
    assert count(root) == expected_counts(dims_of(p, op), view)


def test_negative_border_cuts_the_stretched_input():
    """p > d(k-1): the border is negative, stretched elements are cut off, and the output is what torch gives."""
    p = conventions.torch_placement([4], 2, 2, 3, 1, 1)  # border d(k-1)-p = -2 at the start, -1 at the end
    root = parse(figure.draw(p, output_padding=(1,)).svg)
    got = count(root)
    assert got["removed"] == 3 and "pad" not in got
    assert got["output"] == (4 - 1) * 2 - 2 * 3 + 1 * (2 - 1) + 1 + 1 == 3


def test_paper_figures():
    """Dumoulin & Visin's figures 4.5, 4.6 and 4.7: their padded inputs and outputs, cell for cell."""
    for size, padding, op, padded, output in [(2, 0, 0, 7, 5), (3, 1, 0, 7, 5), (3, 1, 1, 8, 6)]:
        p = conventions.torch_placement([size, size], 3, 2, padding, op, 1)
        got = count(parse(figure.draw(p, output_padding=(op, op)).svg))
        assert got["input"] == size * size
        assert got["input"] + got["zero"] + got["pad"] == padded * padded
        assert got["output"] == output * output
        assert got.get("output-padding", 0) == (0 if not op else (padded**2 - (padded - 1) ** 2) + (output**2 - 25))


# -- values ----------------------------------------------------------------------------------------------------
def test_d2l_example(tmp_path):
    """d2l's figure: input [[0,1],[2,3]], kernel [[0,1],[2,3]]: the stamps and the sum [[0,0,1],[0,4,6],[4,12,9]]."""
    out = tmp_path / "d2l.svg"
    x = "[[0,1],[2,3]]"
    result = invoke(["draw", "--input", x, "--weight", x, "--view", "scatter", "-o", str(out)])
    assert result.exit_code == 0, result.output
    root = parse(out.read_text())
    output = titled(root, "output y")
    assert [[output[f"{r},{c}"] for c in range(3)] for r in range(3)] == [
        ["0", "0", "1"],
        ["0", "4", "6"],
        ["4", "12", "9"],
    ]
    stamps = {}
    for e in cells(root):
        title = (e.find(f"{SVG}title").text or "") if e.find(f"{SVG}title") is not None else ""
        match = re.match(r"x\[([0-9,]+)\] \* w\[([0-9,]+)\] = (\S+) -> full output ([0-9,]+)", title)
        if match:
            stamps.setdefault(match.group(1), {})[match.group(4)] = match.group(3)
    assert stamps["1,1"] == {"1,1": "0", "1,2": "3", "2,1": "6", "2,2": "9"}  # 3 * [[0,1],[2,3]] at (1, 1)
    assert stamps["0,1"] == {"0,1": "0", "0,2": "1", "1,1": "2", "1,2": "3"}
    texts = [t.text for t in root.iter(f"{SVG}text") if "value" in classes(t)]
    assert texts.count("12") == 1  # the sum's 2*2 + ... shows once, in its cell


@FAST
@given(
    layer=torch_layers(),
    view=st.sampled_from(figure.VIEWS),
    seed=st.integers(0, 2**32 - 1),
)
def test_values_are_the_engines(layer, view, seed):
    """With numbers, output cells show conv_transpose's output, cropped cells the full output's values."""
    p, op = layer
    assume(drawable(p, op, view))
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, size=p.input_size).astype(float)
    w = rng.integers(-3, 4, size=p.kernel_size).astype(float)
    pads = [c[0] for c in p.crops]
    expected = tconvcalc.conv_transpose(x[None, None], w[None, None], None, p.stride, pads, op, 1, p.dilation)[0, 0]
    full = tconvcalc.conv_transpose(x[None, None], w[None, None], None, p.stride, 0, 0, 1, p.dilation)[0, 0]
    values = figure.Values(x.tolist(), w.tolist(), full.tolist(), expected.tolist(), np.multiply.outer(x, w).tolist())
    root = parse(figure.draw(p, view, op, values).svg)
    shown = titled(root, "output y")
    assert len(shown) == expected.size
    for index, value in np.ndenumerate(expected):
        assert shown[",".join(map(str, index))] == figure.number(value)
    for e in cells(root):
        if "crop" in classes(e):
            title = e.find(f"{SVG}title").text or ""
            where, value = re.match(r"full output ([0-9,]+) = (\S+):", title).groups()
            assert value == figure.number(full[tuple(int(v) for v in where.split(","))])


def test_cli_values_other_convention(tmp_path):
    """--convention keras with numbers: the output cells are run --convention keras's output."""
    out = tmp_path / "k.svg"
    args = ["--dims", "1", "-s", "2", "--convention", "keras", "-p", "same"]
    result = invoke(["draw", "--input", "[1,2,3]", "--weight", "[1,10,100]", *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    ran = invoke(["run", "[1,2,3]", "[1,10,100]", *args, "--json"])
    expected = json.loads(ran.output)["output"]
    shown = titled(parse(out.read_text()), "output y")
    assert [shown[str(i)] for i in range(len(expected))] == [figure.number(v) for v in expected]


# -- the command -------------------------------------------------------------------------------------------------
@settings(max_examples=max(EXAMPLES // 4, 10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layer=torch_layers(), view=st.sampled_from(figure.VIEWS), animate=st.booleans())
def test_cli_json_describes_the_file(layer, view, animate, tmp_path_factory):
    """draw --json: strict JSON naming the file, whose cells per class are those in the file."""
    p, op = layer
    assume(drawable(p, op, view))
    out = tmp_path_factory.mktemp("draw") / "figure.svg"
    n = len(p.crops)
    args = ["draw", "x".join(map(str, p.input_size)), "--dims", str(n), "-o", str(out), "--view", view, "--json"]
    args += ["-k", ",".join(map(str, p.kernel_size)), "-s", ",".join(map(str, p.stride))]
    args += ["-p", ",".join(str(c[0]) for c in p.crops), "--output-padding", ",".join(map(str, op))]
    args += ["-d", ",".join(map(str, p.dilation))] + (["--animate"] if animate else [])
    result = invoke(args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output, parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))
    assert doc["path"] == str(out) and doc["view"] == view and doc["animated"] == animate
    root = parse(out.read_text())
    assert doc["cells"] == count(root) == expected_counts(dims_of(p, op), view)
    assert doc["output_size"] == list(p.output_size) and doc["full_size"] == list(p.full_size)
    assert (doc["width"], doc["height"]) == (int(root.get("width")), int(root.get("height")))
    moves = list(root.iter(f"{SVG}animateTransform"))
    if animate:
        steps = math.prod(p.output_size) if view == "zero-insertion" else math.prod(p.input_size)
        assert doc["steps"] == steps and moves
        for move in moves:
            assert len(move.get("values").split(";")) == steps + 2  # every position, then a pause
    else:
        assert doc["steps"] == 0 and not moves


def test_legend_names_every_kind_drawn(tmp_path):
    """Each kind of cell in the figure has a swatch in the legend, with the same classes (so CSS styles both)."""
    out = tmp_path / "f.svg"
    args = ["draw", "4", "--dims", "1", "-k", "3", "-s", "3", "-p", "5", "-d", "2", "--output-padding", "2"]
    assert invoke([*args, "-o", str(out)]).exit_code == 0
    root = parse(out.read_text())
    drawn = {frozenset(classes(e) - {"cell"}) for e in cells(root)}
    swatches = {frozenset(classes(e) - {"swatch"}) for e in root.iter(f"{SVG}rect") if "swatch" in classes(e)}
    assert drawn <= swatches
    assert {"removed", "zero", "input", "output", "crop", "kernel", "kernel-gap"} <= set().union(*drawn)
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}style") is not None


def test_output_padding_cells(tmp_path):
    """i=3, k=3, s=2, p=1, op=1 (the paper's figure 4.7): a bottom row and right column of extra zeros in the
    input, and the output's last row and column are output_padding's."""
    out = tmp_path / "f.svg"
    result = invoke(["draw", "3", "-k", "3", "-s", "2", "-p", "1", "--output-padding", "1", "-o", str(out), "--json"])
    doc = json.loads(result.output)
    root = parse(out.read_text())
    marked = [classes(e) for e in cells(root) if "output-padding" in classes(e)]
    assert sum("pad" in c for c in marked) == 8 * 8 - 7 * 7
    assert sum("output" in c for c in marked) == 6 * 6 - 5 * 5
    assert doc["border"] == [[1, 2], [1, 2]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["40", "-k", "3", "-s", "2"], "at most 24 cells per dimension in 2-D"),
        (["40", "--dims", "1", "-k", "3", "-s", "2"], "at most 64 cells per dimension in 1-D"),
        (["6", "-k", "3", "-s", "2", "--view", "scatter"], "at most 48"),
        (["20", "--dims", "1", "-k", "2", "--view", "scatter"], "at most 16"),
        (["4", "--dims", "3", "-k", "3"], "1-D and 2-D"),
        (["4", "-k", "3", "--view", "gather"], "invalid value for '--view': 'gather'"),
        (["4", "-k", "3", "--input", "[1,2]"], "--input and --weight go together"),
        (["4", "--input", "[1,2]", "--weight", "[1,1]"], "SIZE comes from --input"),
        (["--input", "[[1,2]]", "--weight", "[[[1,1]],[[1,1]]]", "--dims", "1"], "one channel"),
        (["--input", "[[1,2],[3,4]]", "--weight", "[1,1]", "--dims", "1"], "one 1-D channel"),
    ],
)
def test_refusals_are_usage_errors(args, message, tmp_path):
    """Too large to read (the limit in the message, and the summary views), 3-D, bad options: exit 2, no file."""
    out = tmp_path / "f.svg"
    result = invoke(["draw", *args, "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.startswith("error: ")
    if "too large" in result.stderr:
        assert "--explain" in result.stderr and "--overlap" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["draw", "4", "-k", "3"], 2),  # no -o
        (["draw", "4", "-k", "3", "-o", "f.png"], 2),
        (["draw", "4", "-k", "0", "-o", "f.svg"], 1),
        (["draw", "4", "-k", "3", "-s", "2", "--output-padding", "2", "-o", "f.svg"], 1),
        (["draw", "2", "-k", "1", "-p", "1", "-o", "f.svg"], 1),
    ],
)
def test_exit_codes(args, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(args)
    assert result.exit_code == code, result.output
    assert not list(tmp_path.iterdir())


def test_write_is_atomic(tmp_path, monkeypatch):
    """The SVG replaces an existing file or symlink whole; a failed write leaves the old file and no partial one."""
    target = tmp_path / "f.svg"
    target.write_text("old")
    assert invoke(["draw", "3", "-k", "3", "-o", str(target)]).exit_code == 0
    assert target.read_text().startswith("<?xml")
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep")
    link = tmp_path / "link.svg"
    link.symlink_to(elsewhere)
    assert invoke(["draw", "3", "-k", "3", "-o", str(link)]).exit_code == 0
    assert not link.is_symlink() and elsewhere.read_text() == "keep"

    def fail(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    result = invoke(["draw", "3", "-k", "3", "-s", "2", "-o", str(target)])
    assert result.exit_code == 2 and "No space left on device" in result.stderr
    assert target.read_text().startswith("<?xml") and "s=2" not in target.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.txt", "f.svg", "link.svg"]
    missing = tmp_path / "no-such-dir" / "f.svg"
    result = invoke(["draw", "3", "-k", "3", "-o", str(missing)])
    assert result.exit_code == 2 and "no-such-dir" in result.stderr


def test_human_output_names_the_file(tmp_path):
    out = tmp_path / "f.svg"
    result = invoke(["draw", "3", "-k", "3", "-s", "2", "-p", "1", "-o", str(out)])
    assert result.exit_code == 0
    assert result.output.startswith(f"wrote {out}: ConvTranspose2d 3x3 -> 5x5, zero-insertion view, ")


@settings(max_examples=max(EXAMPLES, 60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    args=st.lists(
        st.sampled_from(
            ["-k", "-s", "-p", "-d", "--output-padding", "--dims", "--view", "--convention", "--input", "--weight"]
        ).flatmap(
            lambda o: st.tuples(st.just(o), st.sampled_from(["0", "1", "2", "3", "-1", "2,1", "[1,2]", "x", "same"]))
        ),
        max_size=5,
        unique_by=lambda t: t[0],
    ),
    size=st.sampled_from(["3", "2x2", "0", "x", "1x1x3", "[[1]]"]),
    flags=st.lists(st.sampled_from(["--animate", "--json"]), unique=True),
)
def test_no_traceback(args, size, flags, tmp_path_factory):
    """Odd arguments end in exit 0, 1 or 2, never an exception."""
    out = tmp_path_factory.mktemp("fuzz") / "f.svg"
    argv = ["draw", size, *[v for pair in args for v in pair], *flags, "-o", str(out)]
    result = invoke(argv)
    assert result.exception is None or isinstance(result.exception, SystemExit), (argv, result.exception)
    assert result.exit_code in (0, 1, 2), (argv, result.output)
    if result.exit_code == 0:
        parse(Path(out).read_text())


# -- matrix --overlap -o FILE.svg -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["--symbolic", "-k", "3", "--input-size", "9x9", "-s", "2", "-p", "1"],
        ["--symbolic", "-k", "4", "--input-size", "8", "-s", "2", "-p", "1"],
        ["[[1,2,3],[4,5,6]]", "--input-size", "7x9", "-s", "2,3", "-d", "2,1"],
    ],
)
def test_overlap_heat_map(args, tmp_path):
    """One cell per output position of the transposed convolution, classed and labelled by its taps, which are
    the counts matrix --json reports."""
    out = tmp_path / "overlap.svg"
    drawn = invoke(["matrix", *args, "--transpose", "--overlap", "-o", str(out)])
    assert drawn.exit_code == 0, drawn.output
    assert drawn.output.splitlines()[-1].startswith(f"wrote {out}: heat map")
    counts = np.array(
        json.loads(invoke(["matrix", *args, "--transpose", "--overlap", "--json"]).output)["overlap"]["counts"]
    )
    root = parse(out.read_text())
    found = cells(root)
    assert len(found) == counts.size
    tally: dict[int, int] = {}
    for e in found:
        (taps,) = [int(c[5:]) for c in classes(e) if c.startswith("taps-")]
        tally[taps] = tally.get(taps, 0) + 1
    assert tally == {int(v): int((counts == v).sum()) for v in np.unique(counts)}
    labels = [int(t.text) for t in root.iter(f"{SVG}text") if "value" in classes(t)]
    assert labels[: counts.size] == counts.ravel().tolist()  # row-major, then the legend's


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--symbolic", "-k", "3", "--input-size", "9", "-s", "2"], "add --overlap"),
        (["--symbolic", "-k", "3", "--input-size", "200", "-s", "2", "--overlap"], "at most 96"),
        # --json: without it the 3-D overlap table itself fails (a matrix bug, outside -o)
        (["--symbolic", "-k", "3", "--input-size", "5x5x5", "-s", "2", "--overlap", "--json"], "1-D and 2-D"),
    ],
)
def test_overlap_heat_map_refusals(args, message, tmp_path):
    out = tmp_path / "overlap.svg"
    result = invoke(["matrix", *args, "-o", str(out)])
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert not out.exists()


def _committed_figures() -> list[tuple[str, list[str]]]:
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "scripts" / "render_figures.py"
    spec = importlib.util.spec_from_file_location("render_figures", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.FIGURES)


@pytest.mark.parametrize(("name", "arguments"), _committed_figures(), ids=[n for n, _ in _committed_figures()])
def test_committed_figures_are_fresh(name, arguments, tmp_path):
    """docs/figures/NAME.svg is what its command writes today (python scripts/render_figures.py regenerates them
    and their PNGs)."""
    out = tmp_path / f"{name}.svg"
    result = invoke([*arguments, "-o", str(out)])
    assert result.exit_code == 0, result.output
    committed = Path(__file__).resolve().parent.parent / "docs" / "figures" / f"{name}.svg"
    assert out.read_text() == committed.read_text(), f"stale: run python scripts/render_figures.py ({name})"
    png = committed.with_suffix(".png")
    assert png.stat().st_size < 200_000


@pytest.mark.parametrize(
    ("size", "options"),
    [
        ("1x8x6x3", ["--convention", "keras", "-p", "same"]),  # Keras: N, H, W, C
        ("1x3x8x6", ["--convention", "keras", "-p", "same", "--layout", "channels_first"]),
        ("8x6x3", ["--convention", "matlab", "--cropping", "1"]),  # MATLAB: h x w x c
        ("5x4", ["--convention", "matlab", "--cropping", "same"]),
        ("1x3x8x6", ["--convention", "torch", "-p", "1"]),
    ],
)
def test_draw_reads_size_as_shape_does(tmp_path, size, options):
    """draw's SIZE, --layout and --cropping are read as in shape and translate: the same sizes and crops."""
    args = [size, "-k", "4", "-s", "2", *options]
    drawn = invoke(["draw", *args, "-o", str(tmp_path / "f.svg"), "--json"])
    assert drawn.exit_code == 0, drawn.output
    translated = invoke(["translate", *["--from" if a == "--convention" else a for a in args], "--json"])
    assert translated.exit_code == 0, translated.output
    doc, want = json.loads(drawn.stdout), json.loads(translated.stdout)
    assert doc["input_size"] == want["input_size"] and doc["output_size"] == want["output_size"]
    assert doc["crops"] == want["crops"]


def test_draw_refuses_layout_with_input_numbers(tmp_path):
    args = ["--input", "[[1,2],[3,4]]", "--weight", "[[1,1],[1,1]]", "--layout", "channels_last"]
    result = invoke(["draw", *args, "-o", str(tmp_path / "f.svg")])
    assert result.exit_code == 2 and "--layout" in result.output
