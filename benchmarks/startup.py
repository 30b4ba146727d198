"""Startup benchmark: median wall time of `tconvcalc shape` against bare python and the torch one-liner.

    python benchmarks/startup.py [--runs 21]

Runs every command in the same session, interleaved, and prints medians and ratios. The goals (issue 2):
tconvcalc --json/--plain at most 7x `python -c pass`, and at least 15x faster than the torch one-liner.

The package is byte-compiled first, as `pip install` does: with PYTHONDONTWRITEBYTECODE=1 (set on these
machines) an editable checkout would otherwise recompile every module on every call.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TORCH_ONE_LINER = (
    "import torch; print(torch.nn.ConvTranspose2d(1,1,4,stride=2,padding=1)(torch.zeros(1,1,16,16)).shape)"
)


def tconvcalc_exe() -> str:
    beside = Path(sys.executable).with_name("tconvcalc")
    return str(beside) if beside.exists() else (shutil.which("tconvcalc") or "tconvcalc")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--torch-runs", type=int, default=5)
    args = parser.parse_args()
    exe = tconvcalc_exe()
    import compileall

    import tconvcalc

    compileall.compile_dir(str(Path(tconvcalc.__file__).parent), quiet=1)
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "tconvcalc shape --json": [exe, "shape", "16", "-k", "4", "-s", "2", "-p", "1", "--json"],
        "tconvcalc shape --plain": [exe, "shape", "1x1x16x16", "-k", "4", "-s", "2", "-p", "1", "--plain"],
        "tconvcalc shape (table)": [exe, "shape", "16", "-k", "4", "-s", "2", "-p", "1"],
        "torch one-liner": [sys.executable, "-c", TORCH_ONE_LINER],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for run in range(args.runs):
        for name, cmd in commands.items():
            if name == "torch one-liner" and run >= args.torch_runs:
                continue
            start = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times[name].append(time.perf_counter() - start)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    base, torch_t = med["python -c pass"], med["torch one-liner"]
    print(f"{'command':26} {'median':>9} {'x python':>9} {'torch / it':>11}  runs")
    for name, m in med.items():
        print(f"{name:26} {m * 1000:7.1f}ms {m / base:8.1f}x {torch_t / m:10.1f}x  {len(times[name])}")
    worst = max(med["tconvcalc shape --json"], med["tconvcalc shape --plain"])
    print(f"goal: json/plain <= 7x python -> {worst / base:.1f}x; >= 15x faster than torch -> {torch_t / worst:.1f}x")


if __name__ == "__main__":
    main()
