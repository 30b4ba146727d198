"""`tconvcalc check`: architecture configs."""

from __future__ import annotations

from typing import Annotated

import typer

from tconvcalc.cli.app import (
    Json,
    app,
    errors,
)
from tconvcalc.core.errors import ConfigError, LayerError, UsageError


@app.command()
def check(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="Architecture config: TOML, JSON (or YAML with PyYAML); - for stdin.",
            show_default=False,
        ),
    ],
    sizes: Annotated[
        str | None, typer.Option("--sizes", help="Sweep the input's spatial size over A:B and report which sizes pass.")
    ] = None,
    json_: Json = False,
) -> None:
    """Check a network's shapes layer by layer: exit 0 if every layer is valid and every expect/match holds."""
    from tconvcalc.core import network
    from tconvcalc.io import configfile

    with errors():
        span = None if sizes is None else _range(sizes)
        config, text = configfile.load(file)
        try:
            if span is not None:
                low, high = span
                passing = network.sweep(config, low, high)
                summary = network.describe_sizes(passing, low, high)
                if json_:
                    import json

                    typer.echo(
                        json.dumps({"ok": bool(passing), "sizes": passing, "range": [low, high], "summary": summary})
                    )
                else:
                    typer.echo(f"input sizes that pass, from {low} to {high}: {summary}")
                if not passing:
                    raise LayerError(f"no input size from {low} to {high} passes the network")
                return
            report = network.check(config)
        except UsageError as exc:  # the config's own words: keys and lines, not command-line flags
            line = None
            if isinstance(exc, ConfigError) and exc.key is not None:
                line = configfile.line_of_key(text, exc.layer, exc.key)
            raise UsageError(f"{file}: {exc}" + (f" (line {line})" if line else "")) from None
        if json_:
            import json

            typer.echo(json.dumps(report.to_json()))
        else:
            from tconvcalc.render import reports

            reports.print_report(report)
        failure = report.first_failure
        if failure is not None:
            detail = f": {failure.message}" if failure.message else ""
            fix = f"; fix: {failure.fix}" if failure.fix else ""
            raise LayerError(f"layer {failure.name!r} ({failure.status}){detail}{fix}")


def _range(text: str) -> tuple[int, int]:
    from tconvcalc.cli.tokens import parse_ints

    parts = [parse_ints(part, "--sizes") for part in text.split(":")]
    if len(parts) != 2 or len(parts[0]) != 1 or len(parts[1]) != 1:
        raise UsageError(f"--sizes {text!r}: give two integers A:B, e.g. 32:256")
    (low,), (high,) = parts
    if not 1 <= low <= high or high - low > 100_000:
        raise UsageError(f"--sizes {text!r}: need 1 <= A <= B and at most 100,000 sizes")
    return low, high
