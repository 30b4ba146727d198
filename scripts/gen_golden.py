"""Regenerate tests/data/golden_shapes.json from PyTorch: ``python scripts/gen_golden.py`` (needs torch).

A fixed-seed sample of layer configurations (valid and refused) with the shape torch 2.13 gives, or null.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from ours import torch_answer  # noqa: E402


def random_config(rng: random.Random, operation: str) -> dict[str, Any]:
    """Small layers with a share of zeros, negatives and oversize values, like the Hypothesis strategy."""
    dims = rng.choice([1, 2, 3])

    def vec(lo: int, hi: int, rare_lo: int, rare_hi: int) -> list[int]:
        a, b = (rare_lo, rare_hi) if rng.random() < 0.05 else (lo, hi)
        return [rng.randint(a, b)] * dims if rng.random() < 0.5 else [rng.randint(a, b) for _ in range(dims)]

    config: dict[str, Any] = {
        "operation": operation,
        "dims": dims,
        "spatial": vec(1, 7, 0, 2),
        "batch": rng.choice([None, 1, 2]),
        "in_channels": rng.randint(1, 6),
        "out_channels": rng.randint(1, 6),
        "groups": rng.choice([1, 1, 1, 2, 3, 0]),
        "kernel_size": vec(1, 5, 0, 2),
        "stride": vec(1, 4, 0, 2),
        "padding": vec(0, 2, -1, 4),
        "dilation": vec(1, 3, 0, 2),
        "output_padding": [0] * dims,
        "output_size_offset": None,
    }
    if config["groups"] > 0 and rng.random() < 0.9:  # mostly channels that the groups divide
        config["in_channels"] = config["groups"] * rng.randint(1, 3)
        config["out_channels"] = config["groups"] * rng.randint(1, 3)
    if operation == "conv_transpose":
        config["output_padding"] = vec(0, 1, -1, 3)
        if rng.random() < 0.25:
            config["output_size_offset"] = vec(-1, 4, -1, 4)
    elif rng.random() < 0.2:
        config["padding"] = rng.choice(["same", "valid"])
    return config


def value_cases(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Small float64 conv_transpose calls with torch's output: every parameter, groups, bias, batching."""
    import numpy as np
    import torch

    cases: list[dict[str, Any]] = []
    while len(cases) < count:
        dims, groups = rng.choice([1, 2, 3]), rng.choice([1, 1, 2])
        cin, cout_g = groups * rng.randint(1, 2), rng.randint(1, 2)
        spatial = [rng.randint(1, 4) for _ in range(dims)]
        kernel = [rng.randint(1, 3) for _ in range(dims)]
        stride = [rng.randint(1, 3) for _ in range(dims)]
        dilation = [rng.randint(1, 2) for _ in range(dims)]
        padding = [rng.randint(0, 2) for _ in range(dims)]
        op = [rng.randint(0, max(s, d) - 1) for s, d in zip(stride, dilation)]
        batched = rng.random() < 0.5
        gen = np.random.default_rng(rng.randint(0, 2**31))
        x = gen.integers(-3, 4, size=([2] if batched else []) + [cin, *spatial]).astype(float)
        w = gen.integers(-3, 4, size=[cin, cout_g, *kernel]).astype(float)
        b = gen.integers(-3, 4, size=[groups * cout_g]).astype(float) if rng.random() < 0.5 else None
        f = getattr(torch.nn.functional, f"conv_transpose{dims}d")
        try:
            y = f(
                torch.from_numpy(x),
                torch.from_numpy(w),
                None if b is None else torch.from_numpy(b),
                stride,
                padding,
                op,
                groups,
                dilation,
            )
        except RuntimeError:
            continue
        cases.append(
            {
                "x": x.tolist(),
                "w": w.tolist(),
                "bias": None if b is None else b.tolist(),
                "stride": stride,
                "padding": padding,
                "output_padding": op,
                "groups": groups,
                "dilation": dilation,
                "y": y.numpy().tolist(),
            }
        )
    return cases


def main() -> None:
    import torch

    rng = random.Random(2013)
    cases = []
    for operation, count in (("conv_transpose", 1500), ("conv", 1000)):
        for _ in range(count):
            config = random_config(rng, operation)
            shape = torch_answer(config)
            cases.append({"config": config, "expected": None if shape is None else list(shape)})
    doc = {"torch": torch.__version__, "generator": "scripts/gen_golden.py", "cases": cases}
    path = ROOT / "tests" / "data" / "golden_shapes.json"
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    refused = sum(c["expected"] is None for c in cases)
    print(f"{path.relative_to(ROOT)}: {len(cases)} cases, {refused} refused by torch {torch.__version__}")
    values = {"torch": torch.__version__, "generator": "scripts/gen_golden.py", "cases": value_cases(rng, 60)}
    path = ROOT / "tests" / "data" / "golden_values.json"
    path.write_text(json.dumps(values, separators=(",", ":")) + "\n")
    print(f"{path.relative_to(ROOT)}: {len(values['cases'])} conv_transpose calls with torch's output")


if __name__ == "__main__":
    main()
