"""The command-line interface: a thin Typer layer that parses options, calls the core and renders.

Only typer and the standard library are imported at module level, so that ``--json``/``--plain``,
``--help`` and TAB completion never import NumPy or rich. Each command lives in its own module.
"""

# Registered in this order, which --help keeps: shape, run, matrix, invert-conv, solve, check, translate, draw.
from tconvcalc.cli import shape, run, matrix, analysis, check, translate, draw  # noqa: F401, I001
from tconvcalc.cli.app import app, main

__all__ = ["app", "main"]
