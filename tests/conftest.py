"""Shared fixtures. The torch oracle must run in CI: with TCONVCALC_REQUIRE_TORCH=1 a missing torch fails."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"  # the tests carry their own data: nothing beside the clone is read


def _require_torch() -> Any:
    try:
        import torch
    except ImportError:
        if os.environ.get("TCONVCALC_REQUIRE_TORCH") == "1":
            pytest.fail("torch is required here (TCONVCALC_REQUIRE_TORCH=1): pip install -e '.[test]'")
        pytest.skip("torch is not installed; the golden vectors still check against its results")
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="session")
def torch() -> Any:
    """The PyTorch module, the oracle."""
    return _require_torch()


_skipped: list[str] = []


def pytest_runtest_logreport(report: Any) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    """Under TCONVCALC_REQUIRE_TORCH=1 (CI), a skipped test fails the run: skips may not pass for real tests."""
    if os.environ.get("TCONVCALC_REQUIRE_TORCH") == "1" and _skipped:
        sys.stderr.write(f"\n{len(_skipped)} test(s) skipped under TCONVCALC_REQUIRE_TORCH=1: {_skipped[:5]}\n")
        session.exitstatus = 1
