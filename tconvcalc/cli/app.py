"""The Typer app, the options its commands share, the error boundary and the entry point.

Only typer and the standard library are imported at module level, so that ``--json``/``--plain``,
``--help`` and TAB completion never import NumPy or rich.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from tconvcalc import __version__
from tconvcalc.cli.options import FLAGS
from tconvcalc.core.errors import ExitStatus, TConvError, UsageError

_APP_SETTINGS: dict[str, Any] = {
    "name": "tconvcalc",
    "no_args_is_help": True,
    "rich_markup_mode": None,
    "pretty_exceptions_enable": False,
    "context_settings": {"help_option_names": ["-h", "--help"]},
}
app = typer.Typer(**_APP_SETTINGS)

# Options shared by the commands, named as PyTorch names the parameters. Every default is "not given" (None):
# the layer's own default applies, and an option given where it does not apply is refused.
Dims = Annotated[
    int | None,
    typer.Option("--dims", min=1, max=3, help="Spatial dimensions, 1 to 3 (default: from the options, else 2)."),
]
Kernel = Annotated[
    str | None, typer.Option("-k", "--kernel-size", help="Kernel size: an int, or one per dimension (3,5).")
]
Stride = Annotated[
    str | None, typer.Option("-s", "--stride", help="Stride: an int, or one per dimension. [default: 1]")
]
Padding = Annotated[
    str | None,
    typer.Option("-p", "--padding", help="Padding per side: an int or one per dimension. [default: 0]"),
]
OutputPadding = Annotated[
    str | None,
    typer.Option(
        "--output-padding",
        help="Extra computed elements at the end of each dimension (0 <= op < max(stride, dilation)). [default: 0]",
    ),
]
Dilation = Annotated[
    str | None, typer.Option("-d", "--dilation", help="Dilation: an int, or one per dimension. [default: 1]")
]
Groups = Annotated[int | None, typer.Option("-g", "--groups", help="Number of channel groups. [default: 1]")]
OutChannels = Annotated[
    int | None, typer.Option("--out-channels", help="Output channels (default: the input's channel count).")
]
OutputSize = Annotated[
    str | None,
    typer.Option("--output-size", help="The output size wanted, as forward(output_size=...): derives output_padding."),
]
Conv = Annotated[
    bool, typer.Option("--conv", help="The forward convolution (Conv1d/2d/3d) instead of the transposed one.")
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
Plain = Annotated[bool, typer.Option("--plain", help="Print only the output shape, e.g. 32x32.")]
Convention = Annotated[
    str | None,
    typer.Option("--convention", help="torch (default), onnx, keras, tf or jax: whose parameters these are."),
]
Pads = Annotated[str | None, typer.Option("--pads", help="ONNX pads: begin values then end values (1,2,1,2).")]
AutoPad = Annotated[
    str | None, typer.Option("--auto-pad", help="ONNX auto_pad: NOTSET, SAME_UPPER, SAME_LOWER, VALID.")
]
OutputShape = Annotated[str | None, typer.Option("--output-shape", help="ONNX/TF output_shape (spatial).")]
Consistent = Annotated[
    bool,
    typer.Option(
        "--consistent-padding", help="JAX: LO:HI pairs are the forward conv's padding (use_consistent_padding)."
    ),
]
Explain = Annotated[bool, typer.Option("--explain", help="Show the formula step by step with the numbers substituted.")]
MemoryLimit = Annotated[
    str,
    typer.Option("--memory-limit", help="Refuse work needing more memory than this (e.g. 512M, 4GiB)."),
]


@contextmanager
def errors() -> Iterator[None]:
    """The one error boundary: a TConvError becomes 'error: <message>' on stderr, the parameter named by its
    flag, and the exit code of its kind (1 the numbers do not work, 2 a malformed request)."""
    try:
        yield
    except TConvError as exc:
        typer.echo(f"error: {exc.worded(FLAGS)}", err=True)
        raise typer.Exit(int(exc.exit_code)) from None


def output_mode(json_: bool, plain: bool) -> str:
    if json_ and plain:
        raise UsageError("--json and --plain are mutually exclusive")
    return "json" if json_ else "plain" if plain else "rich"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tconvcalc {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Shape and arithmetic calculator for transposed convolutions, exactly as PyTorch 2.13.

    Exit codes: 0 ok; 1 the numbers do not work (invalid layer, failed check, no solution);
    2 usage error (malformed option, unreadable file); 130 interrupted.
    """


def _interrupted(signum: int, frame: object) -> None:
    sys.stderr.write("\ninterrupted\n")
    raise SystemExit(ExitStatus.INTERRUPTED)


def _only(name: str) -> typer.Typer:
    """The app with just one subcommand registered: typer converts every registered command's signature on
    each start, so a call of ``shape`` need not pay for ``run`` (about 2 ms a command, measured)."""
    single = typer.Typer(**_APP_SETTINGS)
    single.registered_callback = app.registered_callback
    single.registered_commands = [c for c in app.registered_commands if _command_name(c) == name]
    return single


def _command_name(info: typer.models.CommandInfo) -> str:
    return info.name or (info.callback.__name__ if info.callback else "").replace("_", "-")


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGINT, _interrupted)
    argv = sys.argv[1:]
    names = {_command_name(c) for c in app.registered_commands}
    lazy = argv and argv[0] in names and "_TCONVCALC_COMPLETE" not in os.environ
    (_only(argv[0]) if lazy else app)(prog_name="tconvcalc")
