"""The Typer app, the options its commands share, the error boundary and the entry point.

Only typer and the standard library are imported at module level, so that ``--json``/``--plain``,
``--help`` and TAB completion never import NumPy or rich.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from typer._types import TyperChoice  # typer 0.28's choice type (pinned <0.29 in pyproject)
from typer.core import TyperGroup

from tconvcalc import __version__, startup
from tconvcalc.core.catalog import PADDING_MODES, UPSAMPLE_MODES
from tconvcalc.core.conventions import CONVENTIONS
from tconvcalc.core.errors import ExitStatus, TConvError, UsageError
from tconvcalc.startup import ClosedStream


class _Group(TyperGroup):
    """The app's command group: where what Click and the streams do is made to keep the README's promises.

    * Click's own usage errors (``-g 3.0``, an unknown option or command) are one ``error:`` line, exit 2, like
      tconvcalc's own (Click prints a four-line ``Usage: ... Error:`` block); ``--help`` is unchanged.
    * A closed pipe (``tconvcalc ... | head -1``) ends quietly with exit 141 (128 + SIGPIPE), as a command killed
      by SIGPIPE would: not exit 1, which says "the numbers do not work".
    * Output that cannot be written (a full disk, a closed stdout, a character the output encoding lacks) is one
      ``error:`` line on stderr, exit 2.

    Everything is flushed here, inside the boundary, so no write is left for the interpreter's exit to fail on.
    Under ``standalone_mode=False`` (a caller that handles Click itself) nothing changes.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        from typer._click.exceptions import ClickException, NoArgsIsHelpError  # typer < 0.29 vendors Click

        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
            sys.stdout.flush()
        except NoArgsIsHelpError as exc:
            exc.show()
            code = exc.exit_code
        except ClickException as exc:
            code = _say(exc.format_message(), exc.exit_code)
        except typer.Abort:  # Click's word for an end of input at a prompt; tconvcalc has none
            code = _say("aborted", ExitStatus.INVALID)
        except BrokenPipeError:
            code = _pipe_closed()
        except OSError as exc:  # the readers word their own; what is left is the output, or a closed stdin
            message = exc.strerror if isinstance(exc, ClosedStream) else f"cannot write the output ({exc.strerror})"
            code = _say(message or str(exc), ExitStatus.USAGE, drop_output=True)
        except UnicodeEncodeError as exc:
            bad = exc.object[exc.start : exc.end]
            hint = "" if exc.encoding.replace("-", "").lower() == "utf8" else "; set PYTHONIOENCODING=utf-8"
            code = _say(f"the output encoding {exc.encoding} cannot show {bad!r}{hint}", ExitStatus.USAGE, True)
        sys.exit(code if isinstance(code, int) else 0)

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _closed_pipe_exits():  # --help into a closed pipe
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _closed_pipe_exits():  # before typer's own handler, which turns it into a silent exit 1
            return super().invoke(ctx)


@contextmanager
def _closed_pipe_exits() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise typer.Exit(_pipe_closed()) from None


def _pipe_closed() -> int:
    """The reader of stdout went away: drop what is left to write and end with 128 + SIGPIPE."""
    _drop_output()
    return ExitStatus.BROKEN_PIPE


def _drop_output() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush has nowhere to fail."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # not a real file (a test runner's buffer, a closed stdout)
        pass


def _say(message: str, code: int, drop_output: bool = False) -> int:
    """One ``error:`` line on stderr, if stderr can take it; the exit code."""
    if drop_output:
        _drop_output()
    text = " ".join(message.split())
    try:
        sys.stderr.write(f"error: {text[:1].lower()}{text[1:]}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return code


_APP_SETTINGS: dict[str, Any] = {
    "name": "tconvcalc",
    "cls": _Group,
    "no_args_is_help": True,
    "rich_markup_mode": None,
    "pretty_exceptions_enable": False,
    "context_settings": {"help_option_names": ["-h", "--help"]},
}
app = typer.Typer(**_APP_SETTINGS)


def choices(values: Sequence[str], case_sensitive: bool = True) -> Any:
    """An option's fixed set of values: listed in --help, completed by TAB, refused otherwise (exit 2)."""
    return TyperChoice(tuple(values), case_sensitive=case_sensitive)


# Options shared by the commands, named as PyTorch names the parameters. Every default is "not given" (None):
# the layer's own default applies, and an option given where it does not apply is refused.
Dims = Annotated[
    int | None,
    typer.Option(
        "--dims", min=1, max=3, metavar="1|2|3", help="Spatial dimensions (default: from the options, else 2)."
    ),
]
Kernel = Annotated[
    str | None,
    typer.Option(
        "-k", "--kernel-size", "--kernel_size", metavar="K[,K...]", help="Kernel size: an int, or one per dimension."
    ),
]
Stride = Annotated[
    str | None,
    typer.Option("-s", "--stride", metavar="S[,S...]", help="Stride: an int, or one per dimension. [default: 1]"),
]
Padding = Annotated[
    str | None,
    typer.Option(
        "-p", "--padding", metavar="P[,P...]", help="Padding per side: an int, or one per dimension. [default: 0]"
    ),
]
OutputPadding = Annotated[
    str | None,
    typer.Option(
        "--output-padding",
        "--output_padding",
        metavar="OP[,OP...]",
        help="Extra computed elements at the end of each dimension (0 <= op < max(stride, dilation)). [default: 0]",
    ),
]
Dilation = Annotated[
    str | None,
    typer.Option("-d", "--dilation", metavar="D[,D...]", help="Dilation: an int, or one per dimension. [default: 1]"),
]
Groups = Annotated[
    int | None, typer.Option("-g", "--groups", metavar="G", help="Number of channel groups. [default: 1]")
]
OutChannels = Annotated[
    int | None,
    typer.Option(
        "--out-channels", "--out_channels", metavar="C", help="Output channels (default: the input's channel count)."
    ),
]
OutputSize = Annotated[
    str | None,
    typer.Option(
        "--output-size",
        "--output_size",
        metavar="SIZE",
        help="The output size wanted, as forward(output_size=...): derives output_padding.",
    ),
]
Conv = Annotated[
    bool, typer.Option("--conv", help="The forward convolution (Conv1d/2d/3d) instead of the transposed one.")
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
Plain = Annotated[bool, typer.Option("--plain", help="Print only the output shape, e.g. 32x32.")]
Convention = Annotated[
    str | None,
    typer.Option(
        "--convention",
        click_type=choices(CONVENTIONS),
        help="Whose parameters these are (default torch).",
    ),
]
Pads = Annotated[
    str | None, typer.Option("--pads", metavar="B,...,E,...", help="ONNX pads: begin values then end values.")
]
AutoPad = Annotated[
    str | None,
    typer.Option(
        "--auto-pad",
        click_type=choices(("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"), case_sensitive=False),
        help="ONNX auto_pad.",
    ),
]
OutputShape = Annotated[
    str | None, typer.Option("--output-shape", metavar="SIZE", help="ONNX/TF output_shape (spatial).")
]
Consistent = Annotated[
    bool,
    typer.Option(
        "--consistent-padding", help="JAX: LO:HI pairs are the forward conv's padding (use_consistent_padding)."
    ),
]
Cropping = Annotated[
    str | None,
    typer.Option(
        "--cropping",
        metavar="C|A,B|T,B,L,R|same",
        help="MATLAB 'Cropping': an int, one per dimension, begin,end per dimension, or same.",
    ),
]
Layout = Annotated[
    str | None,
    typer.Option(
        "--layout",
        click_type=choices(("channels_first", "channels_last")),
        help="How SIZE, --output-shape and tensors are laid out (default: the convention's; keras, tf, matlab "
        "channels_last).",
    ),
]
CeilMode = Annotated[bool | None, typer.Option("--ceil-mode/--no-ceil-mode", help="Pooling: round the output size up.")]
CountIncludePad = Annotated[
    bool | None, typer.Option("--count-include-pad/--no-count-include-pad", help="AvgPool: count padding.")
]
DivisorOverride = Annotated[
    int | None, typer.Option("--divisor-override", help="AvgPool: divide by this instead of the window size.")
]
ReturnIndices = Annotated[
    bool | None,
    typer.Option(
        "--return-indices/--no-return-indices", help="MaxPool: also return the indices (run: flat per plane)."
    ),
]
ScaleFactor = Annotated[
    str | None, typer.Option("--scale-factor", help="Upsample: a float, or one per dimension (2,1.5).")
]
AlignCorners = Annotated[
    bool | None, typer.Option("--align-corners/--no-align-corners", help="Upsample: align_corners.")
]


InterpMode = Annotated[
    str | None, typer.Option("--mode", click_type=choices(UPSAMPLE_MODES), help="Upsample's interpolation mode.")
]
PaddingMode = Annotated[
    str | None,
    typer.Option(
        "--padding-mode",
        click_type=choices(PADDING_MODES),
        help="Conv's padding_mode (how the input is padded; ConvTranspose has only zeros).",
    ),
]
Explain = Annotated[bool, typer.Option("--explain", help="Show the formula step by step with the numbers substituted.")]
MemoryLimit = Annotated[
    str,
    typer.Option("--memory-limit", help="Refuse work needing more memory than this (e.g. 512M, 4GiB)."),
]


def epilog(text: str) -> str:
    """A command's epilog kept as written: click rewraps every paragraph unless it starts with a \\b line."""
    return "\n\n".join("\b\n" + paragraph for paragraph in text.strip("\n").split("\n\n"))


@contextmanager
def errors() -> Iterator[None]:
    """The one error boundary: a TConvError becomes 'error: <message>' on stderr, the parameter named by its
    flag, and the exit code of its kind (1 the numbers do not work, 2 a malformed request)."""
    try:
        yield
    except TConvError as exc:
        raise typer.Exit(say_error(exc)) from None


def say_error(exc: TConvError) -> int:
    """Print the one ``error:`` line for ``exc`` (user data escaped, parameters named by their flags) and
    return its exit code."""
    from tconvcalc.cli.options import FLAGS
    from tconvcalc.render.console import clean

    typer.echo(f"error: {clean(exc.worded(FLAGS))}", err=True)  # user data never reaches the terminal raw
    return int(exc.exit_code)


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
    2 usage error (malformed option, unreadable file, output that cannot be written); 130 interrupted;
    141 the reader of the output went away (a closed pipe).
    """


def _only(name: str) -> typer.Typer:
    """The app with just one subcommand registered: typer converts every registered command's signature on
    each start, so a call of ``shape`` need not pay for ``run`` (about 2 ms a command, measured)."""
    single = typer.Typer(**_APP_SETTINGS)
    single.registered_callback = app.registered_callback
    single.registered_commands = [c for c in app.registered_commands if _command_name(c) == name]
    return single


def _command_name(info: typer.models.CommandInfo) -> str:
    return info.name or (info.callback.__name__ if info.callback else "").replace("_", "-")


# Each command's module, in the order --help lists them. A call of one command imports only its module.
COMMAND_MODULES = {
    "shape": "shape",
    "run": "run",
    "matrix": "matrix",
    "invert-conv": "analysis",
    "solve": "analysis",
    "check": "check",
    "translate": "translate",
    "draw": "draw",
}


def load_commands(name: str | None = None) -> None:
    """Register one command (its module), or all of them in --help's order."""
    import importlib

    for module in dict.fromkeys(COMMAND_MODULES.values() if name is None else [COMMAND_MODULES[name]]):
        importlib.import_module(f"tconvcalc.cli.{module}")


def run_app() -> None:
    """Run the app on ``sys.argv`` (the console script, :func:`tconvcalc.__main__.main`, calls this once its
    Ctrl-C handler is in place). A command's call builds and imports that command alone."""
    argv = sys.argv[1:]
    lazy = bool(argv) and argv[0] in COMMAND_MODULES and "_TCONVCALC_COMPLETE" not in os.environ
    load_commands(argv[0] if lazy else None)
    (_only(argv[0]) if lazy else app)(prog_name="tconvcalc")


def main() -> None:
    """The console script's former target, which installed scripts may still name; the console script is now
    :func:`tconvcalc.__main__.main`, which installs the Ctrl-C handler before these imports."""
    startup.prepare()
    run_app()
