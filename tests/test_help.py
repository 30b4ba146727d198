"""--help teaches: every command shows real examples that run, and every option with a fixed set of values
lists them and completes them on TAB."""

from __future__ import annotations

import glob
import shlex
import shutil
from pathlib import Path

import pytest
from helpers import invoke
from typer._types import TyperChoice
from typer.main import get_command

from tconvcalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def _examples(command: str) -> list[str]:
    text = invoke([command, "--help"], terminal_width=200).stdout
    return [line.strip().split("  #")[0].strip() for line in text.splitlines() if line.strip().startswith("tconvcalc ")]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_shows_examples(command: str) -> None:
    """Each command's --help has an Examples section with at least two real invocations of that command."""
    examples = _examples(command)
    assert len(examples) >= 2, examples
    assert all(line.split()[1] == command for line in examples)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_examples_run(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every example in --help runs (in a copy of examples/): exit 0, or 1 where it shows a failing check."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for line in _examples(command):
        args = []
        for token in shlex.split(line)[1:]:
            args += sorted(glob.glob(token)) if "*" in token else [token]
        result = invoke(args)
        assert result.exit_code in (0, 1), (line, result.output)
        assert "Traceback" not in result.output


def _choice_options() -> list[tuple[str, str, tuple[str, ...]]]:
    found = []
    for name, command in get_command(app).commands.items():  # type: ignore[attr-defined]
        for param in command.params:
            if isinstance(param.type, TyperChoice):
                found.append((name, param.opts[-1], tuple(param.type.choices)))
    return found


CHOICES = _choice_options()


def test_the_choice_options_are_there() -> None:
    """--layer, --mode, --method, --convention, --from, --auto-pad, --padding-mode, --format, --view are choices."""
    flags = {flag for _, flag, _ in CHOICES}
    expected = {"--layer", "--mode", "--method", "--convention", "--from", "--auto-pad", "--padding-mode"}
    assert expected | {"--format", "--view"} <= flags


@pytest.mark.parametrize(("command", "flag", "values"), CHOICES, ids=[f"{c} {f}" for c, f, _ in CHOICES])
def test_choices_are_listed_and_completed(command: str, flag: str, values: tuple[str, ...]) -> None:
    """A choice option's values complete on TAB, and --help lists them (--layer names its common ones)."""
    cli = get_command(app).commands[command]  # type: ignore[attr-defined]
    param = next(p for p in cli.params if p.opts[-1] == flag)
    with cli.make_context(command, [], resilient_parsing=True) as ctx:
        completed = [item.value for item in param.type.shell_complete(ctx, param, "")]
    assert [str(v).lower() for v in completed] == [v.lower() for v in values]
    text = invoke([command, "--help"], terminal_width=200).stdout
    shown = values[:6] if flag == "--layer" else values
    assert all(v.lower() in text.lower() for v in shown), (flag, text)
