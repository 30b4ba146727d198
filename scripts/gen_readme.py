"""Regenerate the output of every ```console example in README.md, at 80 columns.

    python scripts/gen_readme.py          # rewrite README.md in place
    python scripts/gen_readme.py --check  # exit 1 if the README's examples are stale

tests/test_docs.py checks the same thing on every test run; this script is how the README is kept true.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _run(command: str) -> str:
    from tconvcalc.cli import app

    args = shlex.split(command)
    assert args[0] == "tconvcalc", command
    result = CliRunner().invoke(app, args[1:])
    return "\n".join(line.rstrip() for line in result.output.splitlines()).strip("\n")


def _block(match: re.Match[str]) -> str:
    lines, out = match.group(1).splitlines(), []
    for line in lines:
        if line.startswith("$ "):
            out.append(line)
            text = _run(line[2:])
            if text:
                out.append(text)
    return "```console\n" + "\n".join(out) + "\n```"


def main() -> int:
    os.environ["COLUMNS"] = "80"
    os.chdir(ROOT)  # the examples name files relative to the repository
    text = README.read_text()
    fresh = re.sub(r"```console\n(.*?)```", _block, text, flags=re.S)
    if "--check" in sys.argv:
        return int(fresh != text)
    README.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
