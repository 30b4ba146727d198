"""Batch benchmark: queries per second through `tconvcalc shape --batch FILE`, against torch computing the
same shapes in-process (a module built and run on a zero tensor per query, the usual way to ask torch).

    python benchmarks/batch.py [--lines 200000] [--torch-lines 2000]

Two workloads: every line distinct (the worst case) and a sweep-like file where lines repeat (answered
from the cache). Goal (issue 6): at least 100,000 queries per second.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def queries(count: int, distinct: bool, seed: int = 0) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        kind = rng.choice(["tconv", "tconv", "conv", "maxpool", "upsample"])
        size = (8 + i % 700, 8 + (i // 700) % 700) if distinct else (rng.randint(8, 64),) * 2
        q: dict[str, object] = {"input": [1, rng.choice([3, 16, 64]), *size], "type": kind}
        if kind in ("tconv", "conv"):
            q.update(kernel_size=rng.choice([2, 3, 4]), stride=rng.choice([1, 2]), padding=rng.choice([0, 1]))
        elif kind == "maxpool":
            q["kernel_size"] = 2
        else:
            q["scale_factor"] = 2.0
        out.append(q)
    return out


def torch_rate(sample: list[dict[str, object]]) -> float:
    import torch

    torch.set_num_threads(1)
    start = time.perf_counter()
    with torch.no_grad():
        for q in sample:
            x = torch.zeros(*q["input"], device="meta")  # type: ignore[misc]
            kind, cin = q["type"], q["input"][1]  # type: ignore[index]
            if kind == "tconv":
                m = torch.nn.ConvTranspose2d(cin, cin, q["kernel_size"], q["stride"], q["padding"], device="meta")
            elif kind == "conv":
                m = torch.nn.Conv2d(cin, cin, q["kernel_size"], q["stride"], q["padding"], device="meta")
            elif kind == "maxpool":
                m = torch.nn.MaxPool2d(q["kernel_size"])
            else:
                m = torch.nn.Upsample(scale_factor=q["scale_factor"])
            m(x)
    return len(sample) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--torch-lines", type=int, default=2_000)
    args = parser.parse_args()
    beside = Path(sys.executable).with_name("tconvcalc")
    exe = str(beside) if beside.exists() else (shutil.which("tconvcalc") or "tconvcalc")
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, distinct in (("every line distinct", True), ("sweep-like, lines repeat", False)):
            path = Path(tmp) / "q.jsonl"
            path.write_text("".join(json.dumps(q) + "\n" for q in queries(args.lines, distinct)))
            times = []
            for _ in range(3):
                start = time.perf_counter()
                subprocess.run([exe, "shape", "--batch", str(path)], stdout=subprocess.DEVNULL, check=True)
                times.append(time.perf_counter() - start)
            rates[name] = args.lines / sorted(times)[1]
    reference = torch_rate(queries(args.torch_lines, True))
    print(f"{'workload':28} {'queries/s':>12} {'x torch':>8}")
    for name, rate in rates.items():
        print(f"{name:28} {rate:12,.0f} {rate / reference:8.1f}")
    print(f"{'torch modules on meta':28} {reference:12,.0f} {1.0:8.1f}")
    print(
        f"goal >= 100,000 queries/s: distinct {rates['every line distinct']:,.0f}, "
        f"repeating {rates['sweep-like, lines repeat']:,.0f} (median of 3 runs, {args.lines:,} lines)"
    )


if __name__ == "__main__":
    main()
