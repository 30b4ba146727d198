"""`tconvcalc check`: architecture configs, in a terminal or in CI (several files, GitHub/JUnit, --fix)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tconvcalc.cli.common import Json, app, choices, epilog, errors, say_error
from tconvcalc.core.errors import ConfigError, LayerError, TConvError, UsageError

FORMATS = ("text", "json", "github", "junit")
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

The full schema (every layer type, from/concat/add, expect/match) is in the README, 'tconvcalc check'.
"""


@app.command(short_help="Check a whole network's shapes (configs, CI formats, --fix).", epilog=epilog(EPILOG))
def check(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE...",
            help="Architecture configs: TOML, JSON (or YAML with PyYAML); - for stdin.",
            show_default=False,
        ),
    ],
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
    json_: Json = False,
    plain: Annotated[bool, typer.Option("--plain", help="Print only the network's output shape per file.")] = False,
) -> None:
    """Check networks' shapes layer by layer: exit 0 if every layer of every file is valid and every
    expect/match holds, 1 if a layer fails, 2 if a file is malformed (the worst over all files)."""
    with errors():
        fmt = _format(output_format, json_, plain)
        if sizes is not None and (fix or fmt in ("github", "junit")):
            raise UsageError("--sizes reports the sizes that pass: it does not go with --fix or --format github|junit")
        if files.count("-") > 1:
            raise UsageError("- (stdin) can be read once")
        if sizes is not None:
            raise typer.Exit(max(_sweep(path, sizes, fmt) for path in files))
        results = [_check_file(path, fmt, fix, len(files) > 1) for path in files]
        if fmt in ("github", "junit"):
            from tconvcalc.render import ci

            typer.echo((ci.github if fmt == "github" else ci.junit)(results), nl=False)
        raise typer.Exit(max(r.exit_code for r in results))


def _format(output_format: str | None, json_: bool, plain: bool) -> str:
    given = [f for f, on in (("json", json_), ("plain", plain), (output_format or "", output_format is not None)) if on]
    if len(set(given)) > 1:
        raise UsageError(
            f"give one output format: {', '.join('--' + f if f in ('json', 'plain') else '--format ' + str(f) for f in given)}"
        )
    return given[0] if given else "text"


def _load(path: str) -> tuple[Any, str]:
    """The parsed network and the file's text; a usage error names the file and, in TOML, the line."""
    from tconvcalc.core import network
    from tconvcalc.io import configfile

    config, text = configfile.load(path)
    try:
        return network.parse_config(config), text
    except UsageError as exc:  # the config's own words: keys and lines, not command-line flags
        line = None
        if isinstance(exc, ConfigError) and (exc.layer is not None or exc.key is not None):
            line = configfile.line_of_key(text, exc.layer, exc.key)
        raise UsageError(f"{path}: {exc}" + (f" (line {line})" if line else "")) from None


def _check_file(path: str, fmt: str, fix: bool, several: bool) -> Any:
    """Check one file, print it in ``fmt`` (text, json), and return its ci.FileResult."""
    from tconvcalc.core import network
    from tconvcalc.io import configfile
    from tconvcalc.render.ci import FileResult

    text = ""
    try:
        net, text = _load(path)
        report = network.check(net)
        if fix:
            report, net, text = _apply_fixes(path, text, net, report, fmt)
    except TConvError as exc:
        if fmt == "json":
            from tconvcalc.render import jsonout

            jsonout.emit({"file": path, "ok": False, "error": str(exc), "exit_code": int(exc.exit_code)})
        if fmt in ("text", "json", "plain"):
            say_error(exc)
        return FileResult(path, None, str(exc), int(exc.exit_code), lambda i: None)
    code = 0 if report.ok else 1
    result = FileResult(path, report, None, code, lambda i: configfile.line_of_key(text, i, "name"))
    if fmt == "json":
        from tconvcalc.render import jsonout

        jsonout.emit({"file": path, **report.to_json()})
    if fmt == "plain":
        last = report.steps[-1].output_shape if report.steps else None
        from tconvcalc.core.tensor import format_shape

        typer.echo(format_shape(tuple(last)) if last else "-")
    if fmt == "text":
        from tconvcalc.render import reports

        if several:
            from tconvcalc.render.console import clean

            typer.echo(f"== {clean(path)}")
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


def _apply_fixes(path: str, text: str, net: Any, report: Any, fmt: str) -> tuple[Any, Any, str]:
    """--fix: set each failed match's output_padding/padding in the TOML text (comments and layout kept),
    write the file atomically, and check it again."""
    from tconvcalc.core import network

    if path == "-" or not path.lower().endswith(".toml"):
        raise UsageError(f"--fix rewrites TOML configs, keeping their comments and layout; {path!r} is not one")
    fixes = [(i, s) for i, s in enumerate(report.steps) if s.fix_values]
    if not fixes:
        return report, net, text
    import tomlkit

    from tconvcalc.io.atomic import write_atomic

    document = tomlkit.parse(text)
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
    net, text = _load(path)
    return network.check(net), net, text


def _sweep(path: str, text_range: str, fmt: str) -> int:
    from tconvcalc.core import network

    try:
        net, _ = _load(path)
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
