"""The command-line interface: a thin Typer layer that parses options, calls the core and renders.

Only typer and the standard library are imported at module level, so that ``--json``/``--plain``,
``--help`` and TAB completion never import NumPy or rich. Each command lives in its own module.
"""

from tconvcalc.cli import analysis, check, draw, matrix, run, shape, translate  # noqa: F401 (they register commands)
from tconvcalc.cli.app import app, main

__all__ = ["app", "main"]
