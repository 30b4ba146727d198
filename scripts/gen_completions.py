"""Regenerate completions/ from the app: ``python scripts/gen_completions.py`` (``--check`` for drift).

The scripts are Typer's own: they re-run ``tconvcalc`` on every TAB, so completion speed is startup speed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from typer._completion_shared import get_completion_script

ROOT = Path(__file__).resolve().parent.parent
FILES = {"bash": "tconvcalc.bash", "zsh": "_tconvcalc", "fish": "tconvcalc.fish"}


def scripts() -> dict[Path, str]:
    """The completion script of every shell, keyed by its path under completions/."""
    return {
        ROOT / "completions" / name: get_completion_script(
            prog_name="tconvcalc", complete_var="_TCONVCALC_COMPLETE", shell=shell
        ).rstrip("\n")
        + "\n"
        for shell, name in FILES.items()
    }


def main() -> int:
    stale = [path for path, text in scripts().items() if not path.exists() or path.read_text() != text]
    if "--check" in sys.argv[1:]:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)} (run python scripts/gen_completions.py)", file=sys.stderr)
        return 1 if stale else 0
    for path, text in scripts().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
