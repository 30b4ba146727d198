"""SVG figures of a transposed convolution, as the convolution-arithmetic paper draws them (``tconvcalc draw``).

Plain string building with the standard library: no dependency, no NumPy (values arrive as nested lists of
numbers, computed by the engine). Every geometric quantity comes from :mod:`tconvcalc.core.sizes` and the
layer's :class:`~tconvcalc.core.conventions.Placement` (the crop ``(begin, end)`` of the full output per
dimension), so any convention draws the same way.

Two views:

* ``zero-insertion``: ``s-1`` zeros between the inputs, a border of ``d(k-1) - begin`` zeros at the start and
  ``d(k-1) - end`` at the end (PyTorch: ``d(k-1)-p``, and ``+op`` at the end; negative: stretched elements cut
  off), then a stride-1 correlation with the kernel flipped 180 degrees (Dumoulin & Visin, relationship 14);
* ``scatter``: each input element stamps the kernel, scaled by its value, onto the full output at stride
  offsets; the stamps add up, and the crop of the placement gives the output (d2l's figure).

Every cell is an SVG ``rect`` with ``class="cell KIND"``; the kinds, their counts and the legend are
:data:`LEGEND`. Patterns tell the kinds apart without colour; a stylesheet can restyle them by class.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from tconvcalc.core import sizes
from tconvcalc.core.conventions import Placement
from tconvcalc.core.errors import UsageError
from tconvcalc.render import FIGURE_VIEWS
from tconvcalc.render.console import dim_names

VIEWS = FIGURE_VIEWS
# The most cells along one dimension that stay legible (at 30 px a cell: about 1900 px in 1-D, 720 px in 2-D).
LIMITS = {1: 64, 2: 24}
SCATTER_STAMPS_1D = 16  # rows of stamps in the 1-D scatter view
SCATTER_ACROSS_2D = 48  # cells across the block of stamps (input elements x (full size + 1)) in 2-D
OVERLAP_LIMITS = {1: 96, 2: 48}
SUMMARY = (
    "for a summary use `tconvcalc shape SIZE -k K -s S -p P --explain` (the sizes, step by step) or "
    "`tconvcalc matrix --symbolic -k K --input-size OUT -s S -p P --transpose --overlap` (taps per output)"
)
STEP_SECONDS = 0.7

# (classes, legend text): one legend entry per kind of cell, in drawing order.
LEGEND: tuple[tuple[tuple[str, ...], str], ...] = (
    (("input",), "input element"),
    (("zero",), "zero inserted between inputs: s-1 per gap"),
    (("pad",), "border zero: d(k-1) - crop on each side (PyTorch: d(k-1)-p)"),
    (("pad", "output-padding"), "border zero added at the end by output_padding"),
    (("removed",), "cut off by a negative border (the crop exceeds d(k-1))"),
    (("kernel",), "kernel tap"),
    (("kernel-gap",), "dilation gap: d-1 between taps"),
    (("tap",), "kernel window at one position (the flipped kernel)"),
    (("stamp",), "input element \u00d7 kernel tap, added into the full output"),
    (("empty",), "no contribution from this input element"),
    (("output",), "output"),
    (("output", "output-padding"), "output cell of output_padding: a computed value, not a padding zero"),
    (("output", "appended"), "beyond the full output (crop < 0): no tap reaches it, 0"),
    (("crop",), "full output cropped away by padding"),
    (("overlap",), "output position, shaded by its number of taps"),
)

STYLE = """
svg { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; }
.cell, .swatch { stroke: #333; stroke-width: 1; }
.input { fill: #6b9fd4; }
.zero { fill: url(#hatch); }
.pad { fill: url(#dots); }
.pad.output-padding { fill: url(#cross); }
.removed { fill: url(#strike); stroke: #777; stroke-dasharray: 3 2; }
.kernel { fill: #f2b84b; stroke-width: 2; }
.kernel-gap { fill: #fff; stroke: #999; stroke-dasharray: 2 2; }
.stamp { fill: #f7d48a; }
.empty { fill: #fff; stroke: #bbb; }
.output { fill: #9fdca4; }
.output.output-padding { fill: url(#rows); stroke-width: 2.5; }
.output.appended { fill: url(#rings); }
.crop { fill: #fff; stroke: #777; stroke-dasharray: 4 3; }
.overlap { fill: #d9742b; }
.tap { fill: #000; fill-opacity: 0.22; stroke: #000; stroke-width: 3; }
.window { fill: none; stroke: #000; stroke-width: 2; stroke-dasharray: 7 4; }
.slot { fill: none; stroke: #bbb; stroke-dasharray: 2 2; }
.current { fill: none; stroke: #b00; stroke-width: 3.5; }
.value { font-size: 12px; text-anchor: middle; dominant-baseline: central; pointer-events: none; }
.muted { fill: #777; }
.tap-value { font-size: 9px; text-anchor: end; fill: #000; pointer-events: none; }
.label { font-size: 13px; }
.caption { font-size: 12px; fill: #222; }
.heading { font-size: 16px; font-weight: bold; }
.sign { font-size: 22px; text-anchor: middle; dominant-baseline: central; }
"""

PATTERNS = """<defs>
<pattern id="hatch" patternUnits="userSpaceOnUse" width="7" height="7" patternTransform="rotate(45)">\
<rect width="7" height="7" fill="#fff"/><line x1="0" y1="0" x2="0" y2="7" stroke="#555" stroke-width="2.2"/></pattern>
<pattern id="dots" patternUnits="userSpaceOnUse" width="6" height="6">\
<rect width="6" height="6" fill="#fff"/><circle cx="3" cy="3" r="1.3" fill="#555"/></pattern>
<pattern id="cross" patternUnits="userSpaceOnUse" width="8" height="8">\
<rect width="8" height="8" fill="#fff"/><path d="M0 0L8 8M8 0L0 8" stroke="#555" stroke-width="1.2"/></pattern>
<pattern id="strike" patternUnits="userSpaceOnUse" width="10" height="10">\
<rect width="10" height="10" fill="#f4f4f4"/><path d="M0 10L10 0" stroke="#aaa" stroke-width="1"/></pattern>
<pattern id="rows" patternUnits="userSpaceOnUse" width="6" height="6">\
<rect width="6" height="6" fill="#9fdca4"/><line x1="0" y1="3" x2="6" y2="3" stroke="#2d6a32" stroke-width="1.4"/></pattern>
<pattern id="rings" patternUnits="userSpaceOnUse" width="9" height="9">\
<rect width="9" height="9" fill="#9fdca4"/><circle cx="4.5" cy="4.5" r="2.4" fill="none" stroke="#2d6a32"/></pattern>
</defs>"""


@dataclass(frozen=True)
class Values:
    """The numbers to show, as nested lists (one level per spatial dimension), computed by the engine.

    ``kernel`` is PyTorch's ConvTranspose kernel (the zero-insertion view shows it flipped); ``full`` the full
    output (padding 0); ``output`` the layer's output; ``stamps`` the products, shape ``(*input, *kernel)``.
    """

    input: Any
    kernel: Any
    full: Any
    output: Any
    stamps: Any


@dataclass(frozen=True)
class Figure:
    """An SVG document and what it holds: cells per class, size in px, animation steps (0: static)."""

    svg: str
    counts: dict[str, int]
    width: int
    height: int
    steps: int = 0


@dataclass(frozen=True)
class Axis:
    """One spatial dimension of the figure: its numbers and, per position, what kind of cell is drawn there.

    Zero-insertion positions ``q`` count from the start of the padded input (negative: cut off); output
    positions ``f`` count along the full output (outside ``[0, full)``: appended zeros).
    """

    i: int
    k: int
    s: int
    d: int
    crop: tuple[int, int]
    op: int

    @property
    def k_eff(self) -> int:
        return sizes.effective_kernel(self.k, self.d)

    @property
    def full(self) -> int:
        return sizes.full_size(self.i, self.k, self.s, self.d)

    @property
    def out(self) -> int:
        return self.full - self.crop[0] - self.crop[1]

    @property
    def stretched(self) -> int:
        return sizes.stretched_size(self.i, self.s)

    @property
    def border(self) -> tuple[int, int]:
        return sizes.zero_insert_border(self.k, self.d, self.crop)

    @property
    def padded(self) -> int:
        return self.stretched + self.border[0] + self.border[1]

    @property
    def op_zeros(self) -> int:
        return min(self.op, max(self.border[1], 0))

    @property
    def op_cells(self) -> int:
        return min(self.op, self.out)

    @property
    def input_range(self) -> range:
        start = self.border[0]
        return range(min(0, start), max(self.padded, start + self.stretched))

    @property
    def output_range(self) -> range:
        begin, end = self.crop
        return range(min(0, begin), max(self.full, self.full - end))

    def input_kind(self, q: int) -> tuple[str, bool] | None:
        """``(kind, cut_off)`` at padded-input position ``q``: kind input, zero, pad or op (a border zero of
        output_padding); None where neither the padded nor the stretched input has a cell."""
        t = q - self.border[0]
        inside = 0 <= q < self.padded
        if 0 <= t < self.stretched:
            return ("input" if t % self.s == 0 else "zero"), not inside
        if not inside:
            return None
        if t >= self.stretched and q >= self.padded - self.op_zeros:
            return "op", False
        return "pad", False

    def output_kind(self, f: int) -> tuple[bool, bool, bool]:
        """``(in_output, in_full, output_padding)`` at full-output position ``f``."""
        begin, end = self.crop
        window = begin <= f < self.full - end
        return window, 0 <= f < self.full, window and f >= self.full - end - self.op_cells

    def describe(self, name: str, convention: str, view: str) -> str:
        """One caption line: this dimension's numbers."""
        (begin, end), (left, right) = self.crop, self.border
        crop = _crop_text(begin, end)
        if convention == "torch" and (begin, end) != (0, 0):
            crop = f"crop p + (p-op) = {begin} + {end}" if self.op else f"crop p + p = {begin} + {end}"
            if end < 0:
                crop += f" (negative: {-end} appended)"
        if view == "scatter":
            taps = f", d={self.d}: taps {self.d} apart" if self.d > 1 else ""
            return (
                f"{name}: i={self.i}, s={self.s}: stamps {self.s} apart; k={self.k}{taps}: each stamp {self.k_eff} "
                f"wide; full (i-1)s + d(k-1) + 1 = {self.full}, {crop} -> output {self.out}"
            )
        zeros = f"{self.s - 1} zero{'s' if self.s != 2 else ''} between inputs" if self.s > 1 else "no zeros between"
        kernel = f"k={self.k}" + (f", d={self.d}: extent {self.k_eff}" if self.d > 1 else "")
        if convention == "torch":
            p = begin
            border = f"border d(k-1)-p = {self.d}*{self.k - 1}-{p} = {left}" + (
                f", +op {self.op} at the end = {right}" if self.op else " per side"
            )
        else:
            border = f"border d(k-1)-crop = {left} at the start, {right} at the end"
        return f"{name}: i={self.i}, s={self.s}: {zeros}; {kernel}; {border}; full {self.full}, {crop} -> output {self.out}"


def _crop_text(begin: int, end: int) -> str:
    """A crop in words: ``crop 1 + 0``, ``no crop``, or with the zeros a negative crop appends."""
    if (begin, end) == (0, 0):
        return "no crop"
    text = f"crop {max(begin, 0)} + {max(end, 0)}"
    if begin < 0:
        text += f", {-begin} appended at the start"
    if end < 0:
        text += f", {-end} appended at the end"
    return text


def axes_of(placement: Placement, output_padding: Sequence[int] | None = None) -> tuple[Axis, ...]:
    """The figure's axes; ``output_padding`` (PyTorch and ONNX: extra elements at the end) marks those cells."""
    n = len(placement.input_size)
    op = tuple(output_padding) if output_padding is not None else (0,) * n
    return tuple(
        Axis(i, k, s, d, crop, o)
        for i, k, s, d, crop, o in zip(
            placement.input_size, placement.kernel_size, placement.stride, placement.dilation, placement.crops, op
        )
    )


def check_dims(n: int) -> None:
    """draw shows 1-D and 2-D layers."""
    if n not in LIMITS:
        raise UsageError(f"draw shows 1-D and 2-D layers; this one has {n} spatial dimensions: {SUMMARY}", param="dims")


def check_size(axes: Sequence[Axis], view: str) -> None:
    """Refuse a figure too large to read, naming the limit and the summary views."""
    n = len(axes)
    check_dims(n)
    limit, names = LIMITS[n], dim_names(n)
    for name, a in zip(names, axes):
        rows = [("the full output", len(a.output_range))]
        if view == "zero-insertion":
            rows.append(("the zero-inserted, padded input", len(a.input_range)))
        for what, count in rows:
            if count > limit:
                raise UsageError(
                    f"too large to draw legibly: {what} has {count} cells along {name}, and draw allows at most "
                    f"{limit} cells per dimension in {n}-D; {SUMMARY}"
                )
    if view == "scatter":
        if n == 1 and axes[0].i > SCATTER_STAMPS_1D:
            raise UsageError(
                f"too large to draw legibly: the scatter view draws one row per input element, {axes[0].i} here, "
                f"and allows at most {SCATTER_STAMPS_1D}; use --view zero-insertion, or {SUMMARY}"
            )
        if n == 2:
            for name, a in zip(names, axes):
                across = a.i * (a.full + 1)
                if across > SCATTER_ACROSS_2D:
                    raise UsageError(
                        f"too large to draw legibly: the scatter view's {a.i} stamps of the {a.full}-cell full output "
                        f"need {across} cells along {name}, and it allows at most {SCATTER_ACROSS_2D}; use --view "
                        f"zero-insertion, or {SUMMARY}"
                    )


def number(value: float) -> str:
    """A cell's number: integral values below a million as integers, others with 3 significant digits (a cell
    is a few characters wide).

    >>> [number(v) for v in (3.0, -0.0, 0.125, -123456.0, 1e20, float("nan"), float("-inf"))]
    ['3', '0', '0.125', '-123456', '1e+20', 'nan', '-inf']
    """
    if value != value:
        return "nan"
    if value in (math.inf, -math.inf):
        return "inf" if value > 0 else "-inf"
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3g}"


def _at(nested: Any, index: Sequence[int]) -> float:
    for i in index:
        nested = nested[i]
    return float(nested)


def _f(x: float) -> str:
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _text_width(text: str, size: float) -> float:
    return len(text) * size * 0.6


class _Canvas:
    """The SVG being built: elements in order, the extent they reach, the cells counted per class."""

    def __init__(self, size: float) -> None:
        self.size = size
        self.parts: list[str] = []
        self.right = 0.0
        self.bottom = 0.0
        self.counts: dict[str, int] = {}
        self.combos: set[tuple[str, ...]] = set()

    def reach(self, x: float, y: float) -> None:
        self.right, self.bottom = max(self.right, x), max(self.bottom, y)

    def text(self, x: float, y: float, text: str, cls: str, anchor: str | None = None, size: float = 12) -> None:
        attrs = f' text-anchor="{anchor}"' if anchor else ""
        self.parts.append(f'<text class="{cls}" x="{_f(x)}" y="{_f(y)}"{attrs}>{escape(text)}</text>')
        width = _text_width(text, size)
        self.reach(x + (width if anchor in (None, "start") else width / 2 if anchor == "middle" else 0), y + 4)

    def rect(self, x: float, y: float, w: float, h: float, cls: str, inner: str = "", attrs: str = "") -> None:
        self.parts.append(
            f'<rect class="{cls}" x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}"{attrs}>{inner}</rect>'
            if inner
            else f'<rect class="{cls}" x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}"{attrs}/>'
        )
        self.reach(x + w, y + h)

    def cell(
        self,
        x: float,
        y: float,
        classes: Sequence[str],
        tip: str,
        label: str | None = None,
        muted: bool = False,
        reveal: str = "",
        attrs: str = "",
    ) -> None:
        """One cell (counted under each of its classes), its tooltip and its number."""
        for name in classes:
            self.counts[name] = self.counts.get(name, 0) + 1
        self.combos.add(tuple(classes))
        c = self.size
        rect = (
            f'<rect class="cell {" ".join(classes)}" x="{_f(x)}" y="{_f(y)}" width="{_f(c)}" height="{_f(c)}"{attrs}>'
            f"<title>{escape(tip)}</title></rect>"
        )
        text = ""
        if label is not None:
            text = (
                f'<text class="value{" muted" if muted else ""}" x="{_f(x + c / 2)}" y="{_f(y + c / 2)}">'
                f"{escape(label)}</text>"
            )
        if reveal:  # drawn when its step comes: until then an empty slot
            slot = f'<rect class="slot" x="{_f(x)}" y="{_f(y)}" width="{_f(c)}" height="{_f(c)}"/>'
            self.parts.append(f"{slot}<g>{reveal}{rect}{text}</g>")
        else:
            self.parts.append(rect + text)
        self.reach(x + c, y + c)


def _index(pos: Sequence[int]) -> str:
    return ",".join(str(p) for p in pos)


def _product(ranges: Iterable[range]) -> Iterable[tuple[int, ...]]:
    return itertools.product(*ranges)


class _Figure:
    """Shared drawing of the panels: where each kind of cell goes and what it says."""

    def __init__(self, placement: Placement, axes: tuple[Axis, ...], values: Values | None, view: str) -> None:
        self.p, self.axes, self.values, self.view = placement, axes, values, view
        self.n = len(axes)
        cell = 30.0
        if values is not None:
            longest = max((len(number(v)) for v in _flatten(values)), default=1)
            cell = max(cell, 9.0 + 7.2 * longest)
        self.c = _Canvas(cell)
        self.size = cell

    # -- the kinds of cell -------------------------------------------------------------------------------------
    def input_cell(self, q: tuple[int, ...]) -> tuple[list[str], str, str | None, bool] | None:
        kinds = [a.input_kind(qq) for a, qq in zip(self.axes, q)]
        if any(k is None for k in kinds):
            return None
        known = [k for k in kinds if k is not None]
        cut = any(c for _, c in known)
        names = [kind for kind, _ in known]
        if cut and any(kind in ("pad", "op") for kind in names):
            return None  # a border zero beside a cut-off element: in neither input
        t = tuple(qq - a.border[0] for a, qq in zip(self.axes, q))
        where = _index(t)
        if all(kind == "input" for kind in names):
            j = tuple(tt // a.s for tt, a in zip(t, self.axes))
            value = None if self.values is None else number(_at(self.values.input, j))
            tip = f"input x[{_index(j)}]" + (f" = {value}" if value is not None else "")
            if cut:
                return ["removed"], tip + ": cut off by the negative border", value, True
            return ["input"], tip, value, False
        if cut:
            return ["removed"], f"zero at stretched position {where}: cut off by the negative border", None, True
        if any(kind in ("pad", "op") for kind in names):
            op = any(kind == "op" for kind in names)
            return (
                (["pad", "output-padding"] if op else ["pad"]),
                "border zero" + (" (output_padding)" if op else ""),
                None,
                False,
            )
        return ["zero"], f"zero inserted at stretched position {where}", None, False

    def output_cell(self, f: tuple[int, ...]) -> tuple[list[str], str, str | None, bool] | None:
        kinds = [a.output_kind(ff) for a, ff in zip(self.axes, f)]
        window = all(k[0] for k in kinds)
        full = all(k[1] for k in kinds)
        if window:
            o = tuple(ff - a.crop[0] for ff, a in zip(f, self.axes))
            classes = ["output"]
            if not full:
                classes.append("appended")
            if any(k[2] for k in kinds):
                classes.append("output-padding")
            value = None if self.values is None else number(_at(self.values.output, o))
            tip = f"output y[{_index(o)}]" + (f" = {value}" if value is not None else "")
            if "output-padding" in classes:
                tip += " (output_padding)"
            if "appended" in classes:
                tip += " (beyond the full output: zero)"
            return classes, tip, value, False
        if full:
            value = None if self.values is None else number(_at(self.values.full, f))
            tip = f"full output {_index(f)}" + (f" = {value}" if value is not None else "") + ": cropped by padding"
            return ["crop"], tip, value, True
        return None

    def kernel_cell(self, t: tuple[int, ...], flipped: bool) -> tuple[list[str], str, str | None]:
        if any(tt % a.d for tt, a in zip(t, self.axes)):
            return ["kernel-gap"], "dilation gap", None
        j = tuple(tt // a.d for tt, a in zip(t, self.axes))
        source = tuple(a.k - 1 - jj for jj, a in zip(j, self.axes)) if flipped else j
        value = None if self.values is None else number(_at(self.values.kernel, source))
        tip = f"kernel w[{_index(source)}]" + (" (flipped)" if flipped else "")
        return ["kernel"], tip + (f" = {value}" if value is not None else ""), value

    # -- panels --------------------------------------------------------------------------------------------------
    def grid(
        self,
        x0: float,
        y0: float,
        ranges: Sequence[range],
        kind: Callable[[tuple[int, ...]], tuple[list[str], str, str | None, bool] | None],
        reveal: Callable[[tuple[int, ...]], str] | None = None,
    ) -> None:
        """Cells over ``ranges`` (one per dimension; 1-D is one row), the first position at (x0, y0)."""
        c = self.size
        for pos in _product(ranges):
            found = kind(pos)
            if found is None:
                continue
            classes, tip, label, muted = found
            col = pos[-1] - ranges[-1].start
            row = pos[0] - ranges[0].start if self.n == 2 else 0
            self.c.cell(
                x0 + col * c, y0 + row * c, classes, tip, label, muted, reveal(pos) if reveal is not None else ""
            )

    def kernel_grid(self, x0: float, y0: float, flipped: bool) -> None:
        ranges = [range(a.k_eff) for a in self.axes]

        def kind(t: tuple[int, ...]) -> tuple[list[str], str, str | None, bool]:
            classes, tip, value = self.kernel_cell(t, flipped)
            return classes, tip, value, False

        self.grid(x0, y0, ranges, kind)

    def extent(self, ranges: Sequence[range]) -> tuple[float, float]:
        """Width and height in px of a grid over ``ranges``."""
        c = self.size
        return len(ranges[-1]) * c, (len(ranges[0]) if self.n == 2 else 1) * c


def _flatten(values: Values) -> Iterable[float]:
    for nested in (values.input, values.kernel, values.full, values.output, values.stamps):
        yield from _leaves(nested)


def _leaves(nested: Any) -> Iterable[float]:
    if isinstance(nested, list):
        for item in nested:
            yield from _leaves(item)
    else:
        yield float(nested)


def _title(p: Placement, axes: Sequence[Axis], view: str, op: Sequence[int] | None, animate: bool) -> str:
    n = len(axes)

    def show(values: Sequence[int]) -> str:
        return str(values[0]) if len(set(values)) == 1 else ",".join(map(str, values))

    size_in = "x".join(str(a.i) for a in axes)
    size_out = "x".join(str(a.out) for a in axes)
    if p.convention == "torch":
        params = f"k={show(p.kernel_size)}, s={show(p.stride)}, p={show([a.crop[0] for a in axes])}"
        if op is not None and any(op):
            params += f", output_padding={show(op)}"
    else:
        params = f"k={show(p.kernel_size)}, s={show(p.stride)}, crops {[list(c) for c in p.crops]}"
    if any(d > 1 for d in p.dilation):
        params += f", d={show(p.dilation)}"
    who = f"ConvTranspose{n}d" + ("" if p.convention == "torch" else f" ({p.convention} convention)")
    return f"{who} {size_in} -> {size_out}: {params}, {view} view" + (", animated" if animate else "")


def draw(
    placement: Placement,
    view: str = "zero-insertion",
    output_padding: Sequence[int] | None = None,
    values: Values | None = None,
    animate: bool = False,
) -> Figure:
    """The figure of ``placement`` (a 1-D or 2-D layer) in ``view``; refuses one too large to read.

    ``output_padding`` marks the cells output_padding adds (PyTorch, ONNX); ``values`` shows numbers in the
    cells; ``animate`` steps the kernel over the output positions (zero-insertion) or the input elements (scatter)
    with SMIL, which browsers play in an ``<img>`` too.
    """
    if view not in VIEWS:
        raise UsageError(f"--view {view!r}: choose zero-insertion or scatter", param="view")
    axes = axes_of(placement, output_padding)
    check_size(axes, view)
    fig = _Figure(placement, axes, values, view)
    title = _title(placement, axes, view, output_padding, animate)
    captions = [a.describe(name, placement.convention, view) for name, a in zip(dim_names(len(axes)), axes)]
    captions += [f"note: {note}" for note in placement.notes]
    top = 34.0 + 18.0 * len(captions) + 16
    if view == "zero-insertion":
        steps = _zero_insertion(fig, top, animate)
    else:
        steps = _scatter(fig, top, animate)
    return _finish(fig, title, captions, steps)


def _zero_insertion(fig: _Figure, top: float, animate: bool) -> int:
    """The stride-1 correlation of the flipped kernel over the zero-inserted, padded input."""
    c, axes, canvas = fig.size, fig.axes, fig.c
    in_ranges = [a.input_range for a in axes]
    out_ranges = [a.output_range for a in axes]
    outputs = list(_product(range(a.out) for a in axes))
    steps = len(outputs) if animate else 0
    slots = steps + 2

    def times(k: int) -> str:
        return f"{k / slots:.4f}"

    def moving(offsets: Sequence[tuple[float, float]]) -> str:
        hold = [offsets[-1]] * (slots - len(offsets))
        values = ";".join(f"{_f(x)} {_f(y)}" for x, y in [*offsets, *hold])
        return (
            f'<animateTransform attributeName="transform" type="translate" values="{values}" '
            f'dur="{_f(slots * STEP_SECONDS)}s" calcMode="discrete" repeatCount="indefinite"/>'
        )

    def reveal(f: tuple[int, ...]) -> str:
        if not animate:
            return ""
        o = tuple(ff - a.crop[0] for ff, a in zip(f, axes))
        if not all(0 <= oo < a.out for oo, a in zip(o, axes)):
            return ""
        k = outputs.index(o)
        if k == 0:
            return ""
        return (
            f'<animate attributeName="opacity" values="0;1" keyTimes="0;{times(k)}" '
            f'dur="{_f(slots * STEP_SECONDS)}s" calcMode="discrete" repeatCount="indefinite"/>'
        )

    offsets_in = [
        ((o[-1]) * c, (o[0] if fig.n == 2 else 0) * c) for o in outputs
    ]  # the window moves by one cell per output position
    if fig.n == 1:
        a = axes[0]
        label_w = 190.0
        shift = (a.k_eff - 1) / 2  # each output sits under the middle of its window
        first = min(in_ranges[0].start, 0, out_ranges[0].start - a.crop[0] + shift)

        def x_of(q: float) -> float:
            return label_w + (q - first) * c

        rows = {"kernel": top + 8, "input": top + 8 + 1.9 * c, "output": top + 8 + 3.8 * c}
        canvas.text(label_w - 10, rows["kernel"] + c / 2 + 4, "kernel, flipped", "label", "end")
        canvas.text(label_w - 10, rows["input"] + c / 2 + 4, "input, zero-inserted", "label", "end")
        canvas.text(label_w - 10, rows["input"] + c / 2 + 19, "and padded", "label", "end")
        canvas.text(label_w - 10, rows["output"] + c / 2 + 4, "output", "label", "end")
        fig.kernel_grid(x_of(0), rows["kernel"], flipped=True)
        fig.grid(x_of(in_ranges[0].start), rows["input"], in_ranges, fig.input_cell)
        _window(fig, x_of(0), rows["input"], moving(offsets_in) if animate else "")
        fig.grid(x_of(out_ranges[0].start - a.crop[0] + shift), rows["output"], out_ranges, fig.output_cell, reveal)
        current_x = x_of(shift)
        _current(fig, current_x, rows["output"], moving(offsets_in) if animate else "")
        return steps
    # 2-D: kernel | padded input | output, side by side
    gap = max(2 * c, 50.0)
    x, y = 16.0, top + 22
    kw, kh = fig.extent([range(a.k_eff) for a in axes])
    iw, ih = fig.extent(in_ranges)
    ow, oh = fig.extent(out_ranges)
    canvas.text(x, y - 8, "kernel, flipped", "label")
    fig.kernel_grid(x, y, flipped=True)
    x += max(kw, _text_width("kernel, flipped", 13)) + gap
    canvas.text(x, y - 8, "input, zero-inserted and padded", "label")
    fig.grid(x, y, in_ranges, fig.input_cell)
    origin = (x - in_ranges[1].start * c, y - in_ranges[0].start * c)  # padded position (0, 0)
    _window(fig, origin[0], origin[1], moving(offsets_in) if animate else "")
    x += max(iw, _text_width("input, zero-inserted and padded", 13)) + gap
    canvas.text(x - gap / 2, y + ih / 2, "\u2192", "sign")
    canvas.text(x, y - 8, _output_label(axes, "output"), "label")
    fig.grid(x, y, out_ranges, fig.output_cell, reveal)
    out_origin = (x + (axes[1].crop[0] - out_ranges[1].start) * c, y + (axes[0].crop[0] - out_ranges[0].start) * c)
    _current(fig, out_origin[0], out_origin[1], moving(offsets_in) if animate else "")
    canvas.reach(x + ow, y + max(kh, ih, oh))
    return steps


def _cropped(axes: Sequence[Axis]) -> bool:
    return any(a.crop != (0, 0) for a in axes)


def _output_label(axes: Sequence[Axis], what: str) -> str:
    return what + (" (dashed: cropped by padding)" if any(a.crop[0] > 0 or a.crop[1] > 0 for a in axes) else "")


def _window(fig: _Figure, x0: float, y0: float, motion: str) -> None:
    """The kernel window at output position 0 (``motion`` moves it): its frame and its taps."""
    c, axes, canvas = fig.size, fig.axes, fig.c
    extent_w = axes[-1].k_eff * c
    extent_h = (axes[0].k_eff if fig.n == 2 else 1) * c
    parts = [f'<g class="kernel-window">{motion}']
    parts.append(
        f'<rect class="window" x="{_f(x0 - 2)}" y="{_f(y0 - 2)}" width="{_f(extent_w + 4)}" height="{_f(extent_h + 4)}"/>'
    )
    for j in _product(range(a.k) for a in axes):
        t = tuple(jj * a.d for jj, a in zip(j, axes))
        col, row = t[-1], (t[0] if fig.n == 2 else 0)
        x, y = x0 + col * c + 2.5, y0 + row * c + 2.5
        source = tuple(a.k - 1 - jj for jj, a in zip(j, axes))
        parts.append(
            f'<rect class="tap" x="{_f(x)}" y="{_f(y)}" width="{_f(c - 5)}" height="{_f(c - 5)}">'
            f"<title>tap w[{_index(source)}] (flipped)</title></rect>"
        )
        canvas.counts["tap"] = canvas.counts.get("tap", 0) + 1
        if fig.values is not None:
            value = number(_at(fig.values.kernel, source))
            parts.append(f'<text class="tap-value" x="{_f(x + c - 7)}" y="{_f(y + c - 8)}">{escape(value)}</text>')
    parts.append("</g>")
    canvas.parts.append("".join(parts))


def _current(fig: _Figure, x: float, y: float, motion: str) -> None:
    """The output cell the window computes (``motion`` moves it with the window)."""
    c = fig.size
    fig.c.parts.append(
        f'<g class="current-output">{motion}<rect class="current" x="{_f(x + 1.5)}" y="{_f(y + 1.5)}" '
        f'width="{_f(c - 3)}" height="{_f(c - 3)}"/></g>'
    )


def _scatter(fig: _Figure, top: float, animate: bool) -> int:
    """Each input element stamps the kernel, scaled, onto the full output; the stamps add up; the crop."""
    c, axes, canvas = fig.size, fig.axes, fig.c
    inputs = list(_product(range(a.i) for a in axes))
    steps = len(inputs) if animate else 0
    slots = steps + 2
    dur = f"{_f(slots * STEP_SECONDS)}s"

    def input_kind(j: tuple[int, ...]) -> tuple[list[str], str, str | None, bool]:
        value = None if fig.values is None else number(_at(fig.values.input, j))
        return ["input"], f"input x[{_index(j)}]" + (f" = {value}" if value is not None else ""), value, False

    def stamp_kind(j: tuple[int, ...]) -> Callable[[tuple[int, ...]], tuple[list[str], str, str | None, bool]]:
        def kind(f: tuple[int, ...]) -> tuple[list[str], str, str | None, bool]:
            t = [ff - jj * a.s for ff, jj, a in zip(f, j, axes)]
            if all(0 <= tt < a.k_eff and tt % a.d == 0 for tt, a in zip(t, axes)):
                taps = tuple(tt // a.d for tt, a in zip(t, axes))
                value = None if fig.values is None else number(_at(fig.values.stamps, (*j, *taps)))
                tip = f"x[{_index(j)}] * w[{_index(taps)}]" + (f" = {value}" if value is not None else "")
                return ["stamp"], tip + f" -> full output {_index(f)}", value, False
            return ["empty"], f"x[{_index(j)}] adds nothing at full output {_index(f)}", None, False

        return kind

    def moving(offsets: Sequence[tuple[float, float]]) -> str:
        hold = [offsets[-1]] * (slots - len(offsets))
        values = ";".join(f"{_f(x)} {_f(y)}" for x, y in [*offsets, *hold])
        return (
            f'<animateTransform attributeName="transform" type="translate" values="{values}" dur="{dur}" '
            f'calcMode="discrete" repeatCount="indefinite"/>'
        )

    def frame(x: float, y: float, w: float, h: float, motion: str, cls: str = "current") -> None:
        canvas.parts.append(
            f'<g class="scatter-step">{motion}<rect class="{cls}" x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" '
            f'height="{_f(h)}"/></g>'
        )

    def show(k: int) -> str:
        if not animate or k == 0:
            return ""
        return (
            f'<animate attributeName="opacity" values="0;1" keyTimes="0;{k / slots:.4f}" dur="{dur}" '
            f'calcMode="discrete" repeatCount="indefinite"/>'
        )

    full_ranges = [range(a.full) for a in axes]
    out_ranges = [a.output_range for a in axes]
    if fig.n == 1:
        a = axes[0]
        label_w = 190.0
        first = min(0, out_ranges[0].start)

        def x_of(f: float) -> float:
            return label_w + (f - first) * c

        y = top + 8
        canvas.text(label_w - 10, y + c / 2 + 4, "input x", "label", "end")
        fig.grid(x_of(0), y, [range(a.i)], input_kind)
        if animate:
            frame(x_of(0) + 1.5, y + 1.5, c - 3, c - 3, moving([(j[0] * c, 0) for j in inputs]))
        y += 1.6 * c
        canvas.text(label_w - 10, y + c / 2 + 4, "kernel w", "label", "end")
        fig.kernel_grid(x_of(0), y, flipped=False)
        y += 1.9 * c
        for k, j in enumerate(inputs):
            name = f"x[{j[0]}]" + ("" if fig.values is None else f" = {number(_at(fig.values.input, j))}")
            canvas.parts.append(f"<g>{show(k)}")
            canvas.text(label_w - 10, y + c / 2 + 4, f"{name}, times w", "label", "end")
            fig.grid(x_of(0), y, full_ranges, stamp_kind(j))
            canvas.parts.append("</g>")
            y += 1.15 * c
        y += 0.5 * c
        canvas.text(label_w - 10, y + c / 2 + 4, "sum" + (", cropped" if _cropped(axes) else ""), "label", "end")
        fig.grid(x_of(out_ranges[0].start), y, out_ranges, fig.output_cell)
        if animate:
            frame(x_of(0) - 2, y - 2, a.k_eff * c + 4, c + 4, moving([(j[0] * a.s * c, 0) for j in inputs]), "window")
        return steps
    # 2-D: input, kernel; the block of stamps (one per input element, at its row and column); = the sum
    gap = max(1.5 * c, 40.0)
    x, y = 16.0, top + 22
    canvas.text(x, y - 8, "input x", "label")
    fig.grid(x, y, [range(a.i) for a in axes], input_kind)
    if animate:
        frame(x + 1.5, y + 1.5, c - 3, c - 3, moving([(j[1] * c, j[0] * c) for j in inputs]))
    iw, ih = fig.extent([range(a.i) for a in axes])
    kx = x + max(iw, _text_width("input x", 13)) + gap
    canvas.text(kx, y - 8, "kernel w", "label")
    fig.kernel_grid(kx, y, flipped=False)
    kw, kh = fig.extent([range(a.k_eff) for a in axes])
    y += max(ih, kh) + 46
    fw, fh = fig.extent(full_ranges)
    pitch_x = max(fw + c, _text_width("x[0,0] \u00b7 w", 12) + 24)
    pitch_y = fh + c + 14
    left = x + (c if axes[0].i > 1 else 0)  # room for the "+" that starts each further row
    for k, j in enumerate(inputs):
        sx, sy = left + j[1] * pitch_x, y + j[0] * pitch_y
        canvas.parts.append(f"<g>{show(k)}")
        canvas.text(sx, sy - 7, f"x[{_index(j)}] \u00b7 w", "caption")
        fig.grid(sx, sy, full_ranges, stamp_kind(j))
        if j[1] > 0:
            canvas.text(sx - (pitch_x - fw) / 2, sy + fh / 2, "+", "sign")
        elif j[0] > 0:
            canvas.text(sx - c / 2, sy + fh / 2, "+", "sign")
        canvas.parts.append("</g>")
    if animate:
        frame(left - 3, y - 3, fw + 6, fh + 6, moving([(j[1] * pitch_x, j[0] * pitch_y) for j in inputs]))
    block_w = (axes[1].i - 1) * pitch_x + fw
    block_h = (axes[0].i - 1) * pitch_y + fh
    sx = left + block_w + gap
    canvas.text(sx - gap / 2, y + block_h / 2, "=", "sign")
    ow, oh = fig.extent(out_ranges)
    y = max(y, y + (block_h - oh) / 2)  # the sum beside the middle of the stamps
    canvas.text(sx, y - 8, _output_label(axes, "sum"), "label")
    fig.grid(sx, y, out_ranges, fig.output_cell)
    if animate:
        origin_x = sx - out_ranges[1].start * c
        origin_y = y - out_ranges[0].start * c
        frame(
            origin_x - 2,
            origin_y - 2,
            axes[1].k_eff * c + 4,
            axes[0].k_eff * c + 4,
            moving([(j[1] * axes[1].s * c, j[0] * axes[0].s * c) for j in inputs]),
            "window",
        )
    return steps


def _finish(fig: _Figure, title: str, captions: Sequence[str], steps: int) -> Figure:
    canvas = fig.c
    body = canvas.parts
    canvas.parts = []
    canvas.text(16, 24, title, "heading", size=16)
    for n, line in enumerate(captions):
        canvas.text(16, 46 + 18 * n, line, "caption")
    head = canvas.parts
    canvas.parts = []
    _legend(canvas, canvas.bottom + 26, steps > 0)
    tail = canvas.parts
    width, height = math.ceil(canvas.right + 16), math.ceil(canvas.bottom + 14)
    desc = "; ".join(captions)
    svg = "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="title desc">',
            f'<title id="title">{escape(title)}</title>',
            f'<desc id="desc">{escape(desc)}</desc>',
            f"<style>{STYLE}</style>",
            PATTERNS,
            f'<rect class="background" width="{width}" height="{height}" fill="#fff"/>',
            *head,
            *body,
            *tail,
            "</svg>",
            "",
        ]
    )
    counts = dict(sorted(canvas.counts.items()))
    return Figure(svg, counts, width, height, steps)


def _legend(canvas: _Canvas, y: float, animated: bool) -> None:
    """One swatch per kind of cell drawn, with what it is."""
    entries = []
    for classes, text in LEGEND:
        drawn = classes in canvas.combos or (
            len(classes) > 1 and any(set(classes) <= set(combo) for combo in canvas.combos)
        )
        if classes == ("tap",) and "tap" in canvas.counts:
            drawn = True
            if animated:
                text = "kernel window (the flipped kernel), stepping over the output positions"
        if drawn:
            entries.append((classes, text))
    canvas.text(16, y, "legend", "label")
    y += 10
    width = max((_text_width(text, 12) for _, text in entries), default=0) + 40
    columns = 2 if len(entries) > 5 and canvas.right > 2 * width + 32 else 1
    per = math.ceil(len(entries) / columns)
    for n, (classes, text) in enumerate(entries):
        col, row = divmod(n, per)
        x, yy = 16 + col * (width + 16), y + row * 24
        if classes == ("tap",):
            canvas.rect(x, yy, 18, 18, "swatch zero")
            canvas.rect(x + 1.5, yy + 1.5, 15, 15, "swatch-tap tap")
        else:
            canvas.rect(x, yy, 18, 18, "swatch " + " ".join(classes))
        canvas.text(x + 26, yy + 13, text, "caption")


def overlap_map(
    counts: Any, uniform: bool, kernel_size: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> Figure:
    """``matrix --overlap -o FILE.svg``: the taps per output position of the transposed convolution, as a heat map.

    ``counts`` is a nested list (1-D or 2-D); cells are shaded by their count (``class="cell overlap taps-N"``)
    and show it, so the checkerboard of an uneven kernel/stride stands out.
    """
    shape = _shape(counts)
    n = len(shape)
    if n not in OVERLAP_LIMITS:
        raise UsageError(f"the overlap heat map draws 1-D and 2-D layers; this one has {n} spatial dimensions")
    for name, size in zip(dim_names(n), shape):
        if size > OVERLAP_LIMITS[n]:
            raise UsageError(
                f"too large to draw legibly: the overlap has {size} positions along {name}, and the heat map allows "
                f"at most {OVERLAP_LIMITS[n]} per dimension in {n}-D; the --overlap table or --json summarise it"
            )
    flat = [int(v) for v in _leaves(counts)]
    top, low = max(flat, default=0), min(flat, default=0)
    canvas = _Canvas(max(26.0, 9.0 + 7.2 * len(str(top))))
    c = canvas.size
    x0, y0 = 16.0, 92.0
    rows = shape[0] if n == 2 else 1
    for pos in itertools.product(*(range(s) for s in shape)):
        taps = int(_at(counts, pos))
        row, col = (pos[0], pos[1]) if n == 2 else (0, pos[0])
        shade = f' fill-opacity="{_f(_shade(taps, top))}"'  # a presentation attribute: CSS can restyle it
        tip = f"output {_index(pos)}: {taps} taps"
        canvas.cell(x0 + col * c, y0 + row * c, ["overlap", f"taps-{taps}"], tip, str(taps), attrs=shade)
    canvas.reach(x0 + shape[-1] * c, y0 + rows * c)
    show = tuple(kernel_size), tuple(stride), tuple(dilation)
    title = f"taps per output position of the transposed convolution: kernel {show[0]}, stride {show[1]}"
    if any(d > 1 for d in dilation):
        title += f", dilation {show[2]}"
    verdict = (
        "uniform away from the borders: no checkerboard"
        if uniform
        else "UNEVEN: the kernel does not tile the stride evenly, the checkerboard of Odena et al. (2016)"
    )
    lines = [verdict, f"from {low} to {top} taps; darker: more (input element, kernel tap) pairs land there"]
    body = canvas.parts
    canvas.parts = []
    canvas.text(16, 24, title, "heading", size=16)
    for k, line in enumerate(lines):
        canvas.text(16, 48 + 18 * k, line, "caption")
    head = canvas.parts
    canvas.parts = []
    y = canvas.bottom + 24
    canvas.text(16, y, "legend: taps", "label")
    for k, taps in enumerate(sorted(set(flat))[:16]):
        x = 16 + k * (c + 8)
        canvas.rect(x, y + 10, c, c, f"swatch overlap taps-{taps}", attrs=f' fill-opacity="{_f(_shade(taps, top))}"')
        canvas.text(x + c / 2, y + 10 + c / 2, str(taps), "value", "middle")
    tail = canvas.parts
    width, height = math.ceil(canvas.right + 16), math.ceil(canvas.bottom + 14)
    svg = "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="title desc">',
            f'<title id="title">{escape(title)}</title>',
            f'<desc id="desc">{escape("; ".join(lines))}</desc>',
            f"<style>{STYLE}</style>",
            f'<rect class="background" width="{width}" height="{height}" fill="#fff"/>',
            *head,
            *body,
            *tail,
            "</svg>",
            "",
        ]
    )
    return Figure(svg, dict(sorted(canvas.counts.items())), width, height)


def _shape(nested: Any) -> tuple[int, ...]:
    shape = []
    while isinstance(nested, list):
        shape.append(len(nested))
        nested = nested[0] if nested else None
    return tuple(shape)


def _shade(taps: int, top: int) -> float:
    """Opacity of a count: 0.12 for none, up to 0.85 for the most (light enough to read the number on)."""
    if top <= 0:
        return 0.12
    return 0.12 + 0.73 * taps / top
