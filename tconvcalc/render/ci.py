"""`check --format github|junit`: a checked network as CI systems read it.

* ``github``: GitHub Actions workflow commands, one ``::error file=F,line=L,title=...::message`` per failing
  layer (or per unreadable file), which the Actions log shows as annotations on the config's line.
* ``junit``: JUnit XML, one ``<testsuite>`` per file and one ``<testcase>`` per layer: a failure for a layer that
  is invalid or fails its expect/match, ``<skipped/>`` for a layer not reached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from tconvcalc.render.console import clean


@dataclass(frozen=True)
class FileResult:
    """One file's outcome: its report (None when it could not be read), or the error that stopped it."""

    path: str
    report: Any  # tconvcalc.core.network.Report | None
    error: str | None
    exit_code: int
    line_of: Callable[[int], int | None]  # the config line of layer i, where the format has lines


def _data(text: str) -> str:
    """A GitHub workflow command's message: %, CR and LF escaped as the runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _message(step: Any) -> str:
    fix = f"; fix: {step.fix}" if step.fix else ""
    return f"layer {step.name!r} ({step.status}): {step.message}{fix}"


def github(results: Sequence[FileResult]) -> str:
    """GitHub Actions annotations for every failure in every file (empty when all pass)."""
    out = []
    for result in results:
        where = f"file={_property(clean(result.path))}"
        if result.error is not None:
            out.append(f"::error {where},title=tconvcalc check::{_data(clean(result.error))}")
            continue
        for index, step in enumerate(result.report.steps):
            if step.status in ("ok", "not reached"):
                continue
            line = result.line_of(index)
            at = f",line={line}" if line else ""
            out.append(f"::error {where}{at},title=tconvcalc check::{_data(clean(_message(step)))}")
    return "".join(line + "\n" for line in out)


def junit(results: Sequence[FileResult]) -> str:
    """A JUnit XML document: a testsuite per file, a testcase per layer."""
    suites = []
    for result in results:
        name = quoteattr(clean(result.path))
        if result.error is not None:
            suites.append(
                f'  <testsuite name={name} tests="1" failures="0" errors="1" skipped="0">\n'
                f'    <testcase classname={name} name="config">\n'
                f"      <error message={quoteattr(clean(result.error))}/>\n"
                "    </testcase>\n  </testsuite>"
            )
            continue
        steps = result.report.steps
        failures = sum(s.status not in ("ok", "not reached") for s in steps)
        skipped = sum(s.status == "not reached" for s in steps)
        cases = []
        for step in steps:
            case = f"    <testcase classname={name} name={quoteattr(clean(step.name))}"
            if step.status == "ok":
                cases.append(case + "/>")
            elif step.status == "not reached":
                cases.append(
                    case
                    + '>\n      <skipped message="not reached: an earlier layer it reads failed"/>\n    </testcase>'
                )
            else:
                message = clean(_message(step))
                cases.append(
                    case
                    + f">\n      <failure message={quoteattr(message)} type={quoteattr(step.status)}>"
                    + f"{escape(message)}</failure>\n    </testcase>"
                )
        suites.append(
            f'  <testsuite name={name} tests="{len(steps)}" failures="{failures}" errors="0" skipped="{skipped}">\n'
            + "\n".join(cases)
            + "\n  </testsuite>"
        )
    return '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n' + "\n".join(suites) + "\n</testsuites>\n"
