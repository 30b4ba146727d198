"""The committed completion scripts equal what the generator makes from the app now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_completions_are_fresh():
    """scripts/gen_completions.py --check fails when completions/ is stale."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_completions.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_completion_scripts_name_the_program():
    """Each shell's script completes `tconvcalc` through its completion variable."""
    for name in ("tconvcalc.bash", "_tconvcalc", "tconvcalc.fish"):
        text = (ROOT / "completions" / name).read_text()
        assert "_TCONVCALC_COMPLETE" in text and "tconvcalc" in text
