"""The command-line interface: a thin Typer layer that parses options, calls the core and renders.

Only typer and the standard library are imported at module level, so that ``--json``/``--plain``,
``--help`` and TAB completion never import NumPy or rich. Each command lives in its own module; the console
script imports only the module of the command it runs (:func:`tconvcalc.cli.common.run_app`), while ``app``
here, for the library and the tests, has every command.
"""

from __future__ import annotations

from typing import Any

from tconvcalc.cli.common import main

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    if name == "app":  # every command registered, in --help's order
        from tconvcalc.cli import common

        common.load_commands()
        return common.app
    raise AttributeError(f"module 'tconvcalc.cli' has no attribute {name!r}")
