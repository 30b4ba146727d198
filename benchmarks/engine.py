"""Engine benchmark: tconvcalc.conv_transpose against torch.nn.functional.conv_transpose2d (CPU).

    python benchmarks/engine.py [--repeat 15] [--threads 2]

Same inputs, same thread count (torch.set_num_threads = the BLAS threads NumPy uses). Each
implementation is timed in its own block after a pause: torch's OpenMP threads spin after a call and
steal the cores from OpenBLAS (a GEMM measured 19 ms alone and 57 ms right after torch), so
interleaving single calls would measure the contention, not the code. Prints each case's ratio tconvcalc/torch, the geometric mean, and each case against
the bare matrix multiply it needs (the floor: (taps*C_out, C_in) @ (C_in, N*H*W) in the same dtype).
Goal (issue 3): geometric mean <= 1.0 and no case above 1.5.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from functools import partial

CASES = [  # (N, C_in, C_out, H=W, k, stride, padding, dtype)
    (1, 64, 32, 64, 4, 2, 1, "float32"),
    (8, 128, 64, 32, 4, 2, 1, "float32"),
    (1, 16, 16, 128, 3, 1, 1, "float32"),
    (4, 256, 128, 16, 3, 2, 1, "float32"),
    (16, 32, 3, 32, 4, 2, 1, "float32"),
    (1, 8, 8, 64, 5, 3, 2, "float64"),
]


def median_time(fn, repeat: int, pause: float = 0.3) -> float:
    time.sleep(pause)  # let the other library's spinning threads go idle
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    import numpy as np
    import torch

    import tconvcalc

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"torch {torch.__version__}, numpy {np.__version__}, threads {args.threads}, repeat {args.repeat}")
    print(
        f"{'case (N,Cin,Cout,H,k,s,p,dtype)':40} {'tconvcalc':>10} {'torch':>9} {'ratio':>6} {'gemm':>9} {'x gemm':>7} {'maxdiff':>8}"
    )
    ratios = []
    for n, cin, cout, h, k, s, p, dtype in CASES:
        x = rng.standard_normal((n, cin, h, h)).astype(dtype)
        w = rng.standard_normal((cin, cout, k, k)).astype(dtype)
        tx, tw = torch.from_numpy(x), torch.from_numpy(w)
        ours = median_time(partial(tconvcalc.conv_transpose, x, w, stride=s, padding=p), args.repeat)
        ref = median_time(partial(torch.nn.functional.conv_transpose2d, tx, tw, stride=s, padding=p), args.repeat)
        a = rng.standard_normal((k * k * cout, cin)).astype(dtype)
        b = rng.standard_normal((n, cin, h * h)).astype(dtype)
        gemm = median_time(partial(np.matmul, a, b), args.repeat)
        diff = np.abs(
            tconvcalc.conv_transpose(x, w, stride=s, padding=p)
            - torch.nn.functional.conv_transpose2d(tx, tw, stride=s, padding=p).numpy()
        ).max()
        ratios.append(ours / ref)
        label = str((n, cin, cout, h, k, s, p, dtype))
        print(
            f"{label:40} {ours * 1e3:8.2f}ms {ref * 1e3:7.2f}ms {ours / ref:6.2f} {gemm * 1e3:7.2f}ms "
            f"{ours / gemm:6.2f}x {diff:8.1e}"
        )
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print(f"geometric mean tconvcalc/torch: {geo:.2f} (goal <= 1.0); worst case: {max(ratios):.2f} (goal <= 1.5)")


if __name__ == "__main__":
    main()
