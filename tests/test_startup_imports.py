"""Startup hygiene in real subprocesses: the fast paths import neither NumPy nor rich."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TF_SAME_ODD_CROP

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys, runpy
sys.argv = ["tconvcalc", *{args!r}]
try:
    runpy.run_module("tconvcalc", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted(m for m in ("numpy", "rich", "torch", "pydantic") if m in sys.modules)
sys.stderr.write("HEAVY=" + ",".join(heavy) + " CODE=" + str(code) + "\\n")
"""


def _imports(*args: str, code: int = 0) -> tuple[str, str]:
    """Run the command in a probe process; its 'HEAVY=...' line and stdout. The probe must exit 0 (no crash),
    and the command with ``code``."""
    env = {**os.environ, "_TCONVCALC_COMPLETE": ""}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args))], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    tail = proc.stderr.strip().splitlines()[-1]
    assert tail.endswith(f" CODE={code}"), (tail, proc.stderr)
    return tail, proc.stdout


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("shape", "16", "-k", "4", "-s", "2", "-p", "1", "--json"), 0),
        (("shape", "1x3x16x16", "-k", "4", "-s", "2", "-p", "1", "--plain"), 0),
        (("shape", "16", "-k", "0", "--json"), 1),
        (("shape", "--help"), 0),
        (("run", "--help"), 0),
        (("invert-conv", "--help"), 0),
        (("solve", "16", "32", "--json"), 0),
        (("matrix", "--help"), 0),
        (("draw", "--help"), 0),
        (("check", str(ROOT / "examples" / "unet.toml"), "--json"), 0),
        ((*TF_SAME_ODD_CROP, "--json"), 0),
        (("shape", "3x3", "--convention", "onnx", "-k", "3", "-s", "2", "--auto-pad", "SAME_UPPER", "--json"), 0),
        (("shape", "7x7", "--layer", "maxpool", "-k", "2", "--json"), 0),
        (("invert-conv", "24", "--dims", "1", "-k", "3", "-s", "2", "-p", "1", "--json"), 0),
        (("--help",), 0),
    ],
)
def test_fast_paths_import_no_numpy_or_rich(args, code):
    """shape --json/--plain, errors and --help never import numpy, rich, torch or pydantic."""
    tail, _ = _imports(*args, code=code)
    assert tail.startswith("HEAVY= "), tail


def test_probe_sees_rich_when_rendering_a_table():
    """The probe can fail: the table output does import rich."""
    tail, _ = _imports("shape", "16", "-k", "4")
    assert "rich" in tail


def test_tab_completion_imports_nothing_heavy():
    """A TAB completion (Typer's protocol) answers without importing numpy or rich."""
    env = {
        **os.environ,
        "_TCONVCALC_COMPLETE": "complete_bash",
        "COMP_WORDS": "tconvcalc shape 16 --out",
        "COMP_CWORD": "3",
    }
    code = (
        "import sys; from tconvcalc.cli import main\ncode = 'none'\ntry: main()\nexcept SystemExit as exc: code = exc.code\n"
        "sys.stderr.write(f'CODE={code} ' + str(sorted(m for m in ('numpy','rich') if m in sys.modules)))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "--output-size" in proc.stdout.split()
    assert proc.stderr.endswith("CODE=0 []"), proc.stderr


def test_console_script_json_round_trip():
    """python -m tconvcalc prints one JSON document that parses."""
    proc = subprocess.run(
        [sys.executable, "-m", "tconvcalc", "shape", "2", "-k", "2", "-s", "2", "--json"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["output_shape"] == [4, 4]


def test_lazy_entry_point_runs_each_command():
    """The console entry builds only the invoked command; each command still runs, and --help lists them all."""
    run = subprocess.run(
        [sys.executable, "-m", "tconvcalc", "run", "[[0,1],[2,3]]", "[[0,1],[2,3]]", "--plain"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "[[0,0,1],[0,4,6],[4,12,9]]\n"
    top = subprocess.run([sys.executable, "-m", "tconvcalc", "--help"], capture_output=True, text=True)
    assert top.returncode == 0, top.stderr
    assert "shape" in top.stdout and "run" in top.stdout
    bad = subprocess.run([sys.executable, "-m", "tconvcalc", "shape", "5", "-k", "0"], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr == "error: --kernel-size=0 must be at least 1 (dim 0)\n"


def test_interrupt_exits_130():
    """Ctrl-C (SIGINT) ends a command with exit code 130 and one line, not a traceback."""
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "tconvcalc", "shape", "--batch", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)  # it is now waiting for stdin
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err.strip() == "interrupted"
