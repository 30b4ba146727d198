"""README drift: its examples print what it says, and .ci/run runs its test command."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from helpers import invoke

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _examples() -> list[tuple[str, str]]:
    """(command, expected output) pairs from the README's ```console blocks."""
    pairs: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        command, output = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    pairs.append((command, "\n".join(output)))
                command, output = line[2:], []
            else:
                output.append(line)
        if command:
            pairs.append((command, "\n".join(output)))
    return pairs


def _strip(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


@pytest.mark.parametrize(("command", "expected"), _examples(), ids=[c for c, _ in _examples()])
def test_readme_example(command, expected, monkeypatch):
    """Every `$ tconvcalc ...` example in the README prints exactly the output shown."""
    monkeypatch.setenv("COLUMNS", "80")
    args = shlex.split(command)
    assert args[0] == "tconvcalc"
    result = invoke(args[1:])
    assert _strip(result.output) == _strip(expected)


def test_readme_has_examples():
    """The README shows examples (the drift test above is not vacuous)."""
    assert len(_examples()) >= 5


def test_ci_runs_the_readme_test_command():
    """.ci/run runs the README's test command verbatim."""
    commands = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text()
