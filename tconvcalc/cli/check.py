"""`tconvcalc check`: architecture configs, in a terminal or in CI (several files, GitHub/JUnit, --fix)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tconvcalc.cli.common import Json, app, choices, epilog, errors, say_error
from tconvcalc.core.errors import ConfigError, LayerError, TConvError, UsageError

FORMATS = ("text", "json", "github", "junit")
EMITS = ("toml", "json")
EPILOG = """\
A minimal config (TOML; JSON and YAML have the same structure):

  input = [1, 3, 64, 64]        # (N, C, *spatial); dims = n if ambiguous

  [[layer]]
  name = "down"
  type = "conv"                 # conv tconv maxpool avgpool maxunpool upsample
  out_channels = 16             #   relu batchnorm linear concat add ... (README)
  kernel_size = 3
  stride = 2
  padding = 1

  [[layer]]
  type = "tconv"
  out_channels = 3
  kernel_size = 3
  stride = 2
  padding = 1
  output_padding = 1            # without it: 63, one short (check names the fix)
  match = "input"               # its spatial size must equal the input's

Examples:
  tconvcalc check examples/unet.toml
  tconvcalc check examples/*.toml --format github
  tconvcalc check examples/decoder-one-short.toml --fix   # writes the fix into the file
  tconvcalc check examples/unet-tiny.onnx --input 1x3x64x64   # an ONNX export (pip install 'tconvcalc[onnx]')
  tconvcalc check examples/dcgan-printout.txt --input 8x100 --emit toml   # print(model), as a config

A printout shows the modules, not the forward: they run in printed order (nn.Sequential); for skips (U-Nets)
check the ONNX export or a config.

The full schema (every layer type, from/concat/add, expect/match) is in the README, 'tconvcalc check'.
"""


@app.command(short_help="Check a whole network's shapes (configs, models, CI formats, --fix).", epilog=epilog(EPILOG))
def check(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE...",
            help="Architecture configs (TOML, JSON, YAML with PyYAML), ONNX models or print(model) printouts, "
            "recognised from their content; - for stdin.",
            show_default=False,
        ),
    ],
    input_: Annotated[
        str | None,
        typer.Option(
            "--input",
            metavar="SIZE",
            help="The input shape (N, C, *spatial): required for a printout; overrides an ONNX model's dynamic "
            "dimensions; replaces a config's input.",
        ),
    ] = None,
    sizes: Annotated[
        str | None, typer.Option("--sizes", help="Sweep the input's spatial size over A:B and report which sizes pass.")
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            click_type=choices(FORMATS),
            help="text (default), json (one document per file), github (annotations), junit.",
        ),
    ] = None,
    fix: Annotated[
        bool,
        typer.Option("--fix", help="Write the output_padding/padding fixes into the TOML file(s), keeping comments."),
    ] = False,
    emit: Annotated[
        str | None,
        typer.Option(
            "--emit",
            help="Print the file as a config (toml or json) instead of the report, its outputs pinned with "
            "expect: a model becomes a reviewed config.",
        ),
    ] = None,
    json_: Json = False,
    plain: Annotated[bool, typer.Option("--plain", help="Print only the network's output shape per file.")] = False,
) -> None:
    """Check networks' shapes layer by layer: exit 0 if every layer of every file is valid and every
    expect/match holds, 1 if a layer fails, 2 if a file is malformed (the worst over all files)."""
    with errors():
        fmt = _format(output_format, json_, plain)
        if sizes is not None and (fix or fmt in ("github", "junit")):
            raise UsageError("--sizes reports the sizes that pass: it does not go with --fix or --format github|junit")
        if emit is not None:
            if emit not in EMITS:
                raise UsageError(f"--emit {emit!r}: choose one of {', '.join(EMITS)}")
            if fix or sizes is not None or output_format is not None or json_ or len(files) > 1:
                raise UsageError(
                    "--emit prints one file as a config: give one file, without --fix, --sizes or --format"
                )
        if files.count("-") > 1:
            raise UsageError("- (stdin) can be read once")
        shape = _shape(input_)
        if sizes is not None:
            raise typer.Exit(max(_sweep(path, sizes, fmt, shape) for path in files))
        results = [_check_file(path, fmt, fix, len(files) > 1, shape, emit) for path in files]
        if fmt in ("github", "junit"):
            from tconvcalc.render import ci

            typer.echo((ci.github if fmt == "github" else ci.junit)(results), nl=False)
        raise typer.Exit(max(r.exit_code for r in results))


def _shape(token: str | None) -> tuple[int, ...] | None:
    if token is None:
        return None
    from tconvcalc.cli.tokens import parse_ints

    values = parse_ints(token, "--input")
    if any(v < 1 for v in values) or len(values) > 5:
        raise UsageError(f"--input {token!r}: give the shape as 1 to 5 positive sizes, e.g. 1x3x64x64")
    return values


def _format(output_format: str | None, json_: bool, plain: bool) -> str:
    given = [f for f, on in (("json", json_), ("plain", plain), (output_format or "", output_format is not None)) if on]
    if len(set(given)) > 1:
        shown = ", ".join("--" + f if f in ("json", "plain") else "--format " + str(f) for f in given)
        raise UsageError(f"give one output format: {shown}")
    return given[0] if given else "text"


def _load(path: str, shape: tuple[int, ...] | None = None) -> tuple[Any, Any]:
    """The parsed network and its source (a config, an ONNX model or a printout); a usage error names the file
    and, where the format has lines, the line."""
    from tconvcalc.core import network
    from tconvcalc.io import sources

    source = sources.load(path, shape)
    try:
        return network.parse_config(source.config), source
    except UsageError as exc:  # the config's own words: keys and lines, not command-line flags
        line = None
        if isinstance(exc, ConfigError) and (exc.layer is not None or exc.key is not None):
            line = None if exc.layer is None else source.line_of(exc.layer)
            if source.format == "toml":
                from tconvcalc.io import configfile

                line = configfile.line_of_key(source.text, exc.layer, exc.key)
        raise UsageError(f"{path}: {exc}" + (f" (line {line})" if line else "")) from None


def _check_file(
    path: str, fmt: str, fix: bool, several: bool, shape: tuple[int, ...] | None = None, emit: str | None = None
) -> Any:
    """Check one file, print it in ``fmt`` (text, json) or as a config (``emit``), and return its ci.FileResult."""
    from tconvcalc.core import network
    from tconvcalc.render.ci import FileResult

    try:
        net, source = _load(path, shape)
        report = network.check(net)
        if fix:
            report, net, source = _apply_fixes(path, source, net, report, fmt)
    except TConvError as exc:
        if fmt == "json":
            from tconvcalc.render import jsonout

            jsonout.emit({"file": path, "ok": False, "error": str(exc), "exit_code": int(exc.exit_code)})
        if fmt in ("text", "json", "plain"):
            say_error(exc)
        return FileResult(path, None, str(exc), int(exc.exit_code), lambda i: None)
    code = 0 if report.ok else 1
    result = FileResult(path, report, None, code, source.line_of)
    if emit is not None:
        _emit(source, report, emit)
    elif fmt == "json":
        from tconvcalc.render import jsonout

        jsonout.emit({"file": path, "format": source.format, "notes": source.notes, **report.to_json()})
    elif fmt == "plain":
        from tconvcalc.core.tensor import format_shape

        last = report.steps[-1].output_shape if report.steps else None
        typer.echo(format_shape(tuple(last)) if last else "-")
    elif fmt == "text":
        from tconvcalc.render import reports
        from tconvcalc.render.console import clean

        if several:
            typer.echo(f"== {clean(path)}")
        for note in source.notes:
            typer.echo(_wrapped(clean(f"note: {note}")))
        reports.print_report(report)
    failure = report.first_failure
    if failure is not None and fmt in ("text", "json", "plain"):
        detail = f": {failure.message}" if failure.message else ""
        hint = f"; fix: {failure.fix}" if failure.fix else ""
        more = sum(s.status not in ("ok", "not reached") for s in report.steps) - 1
        also = f" (and {more} more)" if more > 0 else ""
        where = f"{path}: " if several else ""
        say_error(LayerError(f"{where}layer {failure.name!r} ({failure.status}){detail}{hint}{also}"))
    return result


def _emit(source: Any, report: Any, kind: str) -> None:
    """--emit: the source as a config on stdout, its outputs pinned with the shapes they check to, the notes in
    its header."""
    from tconvcalc.io import emit
    from tconvcalc.render.console import clean

    shapes = {s.name: s.output_shape for s in report.steps if s.status == "ok"}
    outputs = source.outputs or [report.steps[-1].name]
    config = emit.pinned(source.config, {name: shapes[name] for name in outputs if name in shapes})
    if kind == "json":
        typer.echo(emit.to_json(config), nl=False)
        return
    import textwrap

    where = "stdin" if source.path == "-" else source.path
    header = [f"converted from {where} ({source.format}) by tconvcalc check --emit toml"]
    for note in source.notes:
        header += textwrap.wrap(f"note: {note}", width=100, subsequent_indent="  ")
    typer.echo(emit.to_toml(config, [clean(line) for line in header]), nl=False)


def _wrapped(text: str) -> str:
    import shutil
    import textwrap

    return textwrap.fill(text, width=max(shutil.get_terminal_size().columns, 40), subsequent_indent="  ")


def _apply_fixes(path: str, source: Any, net: Any, report: Any, fmt: str) -> tuple[Any, Any, Any]:
    """--fix: set each failed match's output_padding/padding in the TOML text (comments and layout kept),
    write the file atomically, and check it again."""
    from tconvcalc.core import network

    if path == "-" or source.format != "toml" or not path.lower().endswith(".toml"):
        raise UsageError(f"--fix rewrites TOML configs, keeping their comments and layout; {path!r} is not one")
    fixes = [(i, s) for i, s in enumerate(report.steps) if s.fix_values]
    if not fixes:
        return report, net, source
    import tomlkit

    from tconvcalc.io.atomic import write_atomic

    document = tomlkit.parse(source.text)
    for index, step in fixes:
        table = document["layer"][index]
        for key, value in step.fix_values.items():
            table[key] = value
        if fmt == "text":
            from tconvcalc.render.console import clean

            typer.echo(clean(f"{path}: fixed layer {step.name!r}: {step.fix}"))
    fixed = tomlkit.dumps(document)

    def write(stream: Any) -> None:
        stream.write(fixed.encode("utf-8"))

    write_atomic(path, write, what="--fix")
    net, source = _load(path)
    return network.check(net), net, source


def _sweep(path: str, text_range: str, fmt: str, shape: tuple[int, ...] | None = None) -> int:
    from tconvcalc.core import network

    try:
        net, _ = _load(path, shape)
        low, high = _range(text_range)
        passing = network.sweep(net, low, high)
    except TConvError as exc:
        return say_error(exc)
    summary = network.describe_sizes(passing, low, high)
    if fmt == "json":
        from tconvcalc.render import jsonout

        jsonout.emit({"file": path, "ok": bool(passing), "sizes": passing, "range": [low, high], "summary": summary})
    else:
        typer.echo(f"input sizes that pass, from {low} to {high}: {summary}")
    if not passing:
        return say_error(LayerError(f"no input size from {low} to {high} passes the network"))
    return 0


def _range(text: str) -> tuple[int, int]:
    from tconvcalc.cli.tokens import parse_ints

    parts = [parse_ints(part, "--sizes") for part in text.split(":")]
    if len(parts) != 2 or len(parts[0]) != 1 or len(parts[1]) != 1:
        raise UsageError(f"--sizes {text!r}: give two integers A:B, e.g. 32:256")
    (low,), (high,) = parts
    if not 1 <= low <= high or high - low > 100_000:
        raise UsageError(f"--sizes {text!r}: need 1 <= A <= B and at most 100,000 sizes")
    return low, high
