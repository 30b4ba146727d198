"""Render the README's figures: ``tconvcalc draw`` writes each SVG, headless Chromium screenshots it to PNG.

    python scripts/render_figures.py              # docs/figures/*.svg and *.png, as the README shows them
    python scripts/render_figures.py --out DIR    # somewhere else (to look at them without touching docs/)
    python scripts/render_figures.py --only d2l   # the figures whose name contains "d2l"

Needs a ``chromium`` on PATH (``scripts/install-chromium.sh`` installs Debian's). This is the browser check of
the figures, apart from the test suite (CI has no browser; tests/test_draw.py checks the SVG's structure). Each
PNG is checked to have the SVG's size in pixels and to hold a drawing, not a blank or an error page.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent

# (name, tconvcalc arguments; "-o FILE" is added). The paper's figures are Dumoulin & Visin's, chapter 4.
FIGURES: list[tuple[str, list[str]]] = [
    # Figure 4.5, no_padding_strides_transposed: the transpose of i=5, k=3, s=2, p=0 (i'=2 -> 5)
    ("paper-fig4.5-no-padding-strides-transposed", ["draw", "2", "-k", "3", "-s", "2"]),
    # Figure 4.6, padding_strides_transposed: the transpose of i=5, k=3, s=2, p=1 (i'=3 -> 5)
    ("paper-fig4.6-padding-strides-transposed", ["draw", "3", "-k", "3", "-s", "2", "-p", "1"]),
    # Figure 4.7, padding_strides_odd_transposed: the transpose of i=6, k=3, s=2, p=1 (i'=3, a=1 -> 6)
    (
        "paper-fig4.7-padding-strides-odd-transposed",
        ["draw", "3", "-k", "3", "-s", "2", "-p", "1", "--output-padding", "1"],
    ),
    # d2l's figure of the transposed convolution: 2x2 input, 2x2 kernel, stride 1
    ("d2l-scatter", ["draw", "--input", "[[0,1],[2,3]]", "--weight", "[[0,1],[2,3]]", "--view", "scatter"]),
    # 1-D, dilation 2, padding beyond d(k-1) (a negative border), output_padding
    (
        "1d-dilation-negative-border",
        [
            "draw",
            "--input",
            "[1,2,3,4,5]",
            "--weight",
            "[1,10,100]",
            "--dims",
            "1",
            "-s",
            "3",
            "-p",
            "5",
            "-d",
            "2",
            "--output-padding",
            "2",
        ],
    ),
    # the animation: figure 4.6 stepping
    ("paper-fig4.6-animated", ["draw", "3", "-k", "3", "-s", "2", "-p", "1", "--animate"]),
    # the checkerboard of k=3, s=2 as a heat map
    (
        "overlap-k3-s2",
        ["matrix", "--symbolic", "-k", "3", "--input-size", "9x9", "-s", "2", "-p", "1", "--transpose", "--overlap"],
    ),
]
# Animated figures are shot a few steps in: Chromium's virtual time runs the SMIL clock without waiting.
VIRTUAL_TIME_MS = {"paper-fig4.6-animated": 3500}


def svg_size(path: Path) -> tuple[int, int]:
    root = ElementTree.parse(path).getroot()
    return int(root.get("width", "0")), int(root.get("height", "0"))


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of a PNG (standard library only)."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    pos, width, height, idat = 8, 0, 0, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def screenshot(chromium: str, svg: Path, png: Path, virtual_ms: int | None) -> None:
    width, height = svg_size(svg)
    with tempfile.TemporaryDirectory() as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={width},{height}",
        ]
        if virtual_ms:
            command.append(f"--virtual-time-budget={virtual_ms}")
        command.append(svg.resolve().as_uri())
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0 or not png.exists():
        raise SystemExit(f"chromium failed on {svg}:\n{proc.stderr[-2000:]}")
    got_w, got_h, pixels = png_pixels(png)
    if (got_w, got_h) != (width, height):
        raise SystemExit(f"{png}: {got_w}x{got_h} px, the SVG is {width}x{height}")
    if len(set(pixels[:: max(1, len(pixels) // 50_000)])) < 8:
        raise SystemExit(f"{png}: nearly uniform, the figure did not render")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no chromium on PATH: run scripts/install-chromium.sh", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name, arguments in FIGURES:
        if args.only not in name:
            continue
        svg, png = args.out / f"{name}.svg", args.out / f"{name}.png"
        command = [sys.executable, "-m", "tconvcalc", *arguments, "-o", str(svg)]
        started = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(arguments)}: exit {proc.returncode}: {proc.stderr}")
        drawn = time.perf_counter() - started
        started = time.perf_counter()
        screenshot(chromium, svg, png, VIRTUAL_TIME_MS.get(name))
        shot = time.perf_counter() - started
        size = png.stat().st_size
        print(
            f"{png.relative_to(ROOT) if png.is_relative_to(ROOT) else png}: {size / 1024:.0f} KiB, "
            f"drawn in {drawn:.2f} s, rendered in {shot:.2f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
