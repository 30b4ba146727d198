"""Hostile input, as a permanent suite: whatever a config, a batch line, an argument or the environment holds, the
README's contract holds. No traceback, exit 0, 1 or 2 (130 interrupted, 141 a closed pipe), one ``error:`` line,
and from ``shape --batch`` exactly one JSON answer per input line, in order (issue 11, 'Crashes' and 'Exit codes').

Stream cases run ``python -m tconvcalc`` in a subprocess; everything else runs in-process through :func:`invoke`.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from helpers import TF_SAME_ODD_CROP, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tconvcalc.core.specs import INT_LIMIT, SPECS, show
from tconvcalc.io import batch

ROOT = Path(__file__).resolve().parent.parent
UNET = str(ROOT / "examples" / "unet.toml")
EXAMPLES = int(os.environ.get("TCONVCALC_EXAMPLES", "150"))
DEEP = 100_000
HUGE = "9" * 5000  # past CPython's 4,300-digit int/str limit


# ---------------------------------------------------------------------------------------------------------------
# Values of every type, and their JSON, TOML and YAML text (a huge integer and deep nesting cannot go through the
# standard library's writers, so each format has a small writer of its own).


class Huge:
    """An integer literal of ``digits`` digits, past what Python converts to or from text."""

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"Huge({self.digits})"


class Deep:
    """``depth`` nested empty lists, deeper than any parser's recursion."""

    def __init__(self, depth: int) -> None:
        self.depth = depth

    def __repr__(self) -> str:
        return f"Deep({self.depth})"


WORDS = ["tconv", "conv", "maxpool", "avgpool", "maxunpool", "upsample", "same", "valid", "input", "nearest", "zeros"]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 9),
    st.integers(),
    st.sampled_from([INT_LIMIT - 1, INT_LIMIT, -INT_LIMIT, 2**100]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, 1e-320, 2.0, 0.5]),
    st.text(max_size=6),
    st.sampled_from(WORDS),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.integers(4301, 6000).map(Huge),
    st.sampled_from([Deep(DEEP), Deep(900), Deep(60)]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)
# Values that are right for most keys, so that a wrong one is often the only thing wrong.
PLAUSIBLE = st.one_of(st.integers(0, 9), st.lists(st.integers(0, 9), min_size=1, max_size=3))

LAYER_KEYS = sorted({f.name for cls in SPECS.values() for f in fields(cls)})
CONFIG_KEYS = [*LAYER_KEYS, "type", "name", "expect", "match"]
BATCH_KEYS = [*LAYER_KEYS, "type", "input", "dims"]
BASE = {  # a valid layer of each type
    "tconv": {"kernel_size": 3},
    "conv": {"kernel_size": 3},
    "maxpool": {"kernel_size": 2},
    "avgpool": {"kernel_size": 2},
    "maxunpool": {"kernel_size": 2},
    "upsample": {"scale_factor": 2},
}


def _float(value: float, nan: str, inf: str) -> str:
    if math.isnan(value):
        return nan
    if math.isinf(value):
        return inf if value > 0 else "-" + inf
    return repr(value)


def to_json(value: Any) -> str:
    """JSON as Python's json module reads it (NaN and Infinity included); dates become strings."""
    if isinstance(value, Huge):
        return "9" * value.digits
    if isinstance(value, Deep):
        return "[" * value.depth + "]" * value.depth
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value, "NaN", "Infinity")
    if isinstance(value, (datetime.date, datetime.time)):
        return json.dumps(value.isoformat())
    if isinstance(value, list):
        return "[" + ", ".join(to_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {to_json(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def to_toml(value: Any) -> str | None:
    """A TOML value (None has none: the key is left out); inline tables and arrays, dates as TOML dates."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _float(value, "nan", "inf")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, list):
        items = [to_toml(v) for v in value]
        return "[" + ", ".join(i for i in items if i is not None) + "]"
    if isinstance(value, dict):
        items = [(json.dumps(k), to_toml(v)) for k, v in value.items()]
        return "{" + ", ".join(f"{k} = {v}" for k, v in items if v is not None) + "}"
    return to_json(value)


def to_yaml(value: Any) -> str:
    """YAML flow style: JSON, with dates and times bare so that YAML reads them as dates. Deep nesting is capped
    at 400 levels here: PyYAML's pure-Python scanner takes seconds on 100,000 (test_deep_nesting has that case)."""
    if isinstance(value, Deep):
        return to_json(Deep(min(value.depth, 400)))
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, float):
        return _float(value, ".nan", ".inf")
    if isinstance(value, list):
        return "[" + ", ".join(to_yaml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {to_yaml(v)}" for k, v in value.items()) + "}"
    return to_json(value)


def _toml_key(key: str) -> str:
    return key if key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key) else json.dumps(key)


def toml_config(top: dict[str, Any], layer: dict[str, Any]) -> str:
    """A config in TOML: the top-level keys, then one [[layer]] table; bare keys where TOML allows them."""
    lines = [f"{_toml_key(k)} = {v}" for k, v in ((k, to_toml(v)) for k, v in top.items()) if v is not None]
    lines.append("[[layer]]")
    lines += [f"{_toml_key(k)} = {v}" for k, v in ((k, to_toml(v)) for k, v in layer.items()) if v is not None]
    return "\n".join(lines) + "\n"


def json_config(top: dict[str, Any], layer: dict[str, Any]) -> str:
    return to_json({**top, "layer": [layer]})


def yaml_config(top: dict[str, Any], layer: dict[str, Any]) -> str:
    lines = [f"{json.dumps(k)}: {to_yaml(v)}" for k, v in top.items()]
    lines.append("layer:")
    lines += [
        ("  - " if n == 0 else "    ") + f"{json.dumps(k)}: {to_yaml(v)}" for n, (k, v) in enumerate(layer.items())
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# The contract


def assert_one_error_line(result: Any, allowed: tuple[int, ...] = (0, 1, 2)) -> None:
    """Exit in ``allowed``, no exception, no traceback; on failure exactly one line on stderr, 'error: ...'."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in allowed, (result.exit_code, result.stderr[-500:])
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 0:
        assert result.stderr == "", result.stderr[-500:]
    else:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-500:]


def _strict(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def assert_batch_answers(result: Any, lines: list[bytes]) -> None:
    """One strict JSON answer per input line, in order; exit 1 exactly when one was refused."""
    assert_one_error_line(result, (0, 1))
    answers = result.stdout.splitlines()
    assert len(answers) == len(lines), (len(answers), len(lines), result.stdout[-500:])
    refused = 0
    for number, answer in enumerate(answers, 1):
        doc = _strict(answer)
        assert isinstance(doc, dict)
        if "error" in doc:
            refused += 1
            assert doc["line"] == number and doc["exit_code"] in (1, 2), doc
            assert "\n" not in doc["error"]
        else:
            assert "output_shape" in doc, doc
    assert result.exit_code == (1 if refused else 0)


def as_lines(text: str | bytes) -> list[bytes]:
    data = text.encode() if isinstance(text, str) else text
    return data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")


# ---------------------------------------------------------------------------------------------------------------
# shape --batch: every line gets an answer


BAD_LINES = [
    b'{"input": [1, 4, 8, 8], "kernel_size": 3, "type": ["tconv"]}',
    b'{"input": [1, 4, 8, 8], "kernel_size": 3, "out_channels": "8"}',
    b'{"input": [1, 4, 8, 8], "kernel_size": 3, "groups": null}',
    b'{"input": [1, 4, 8, 8], "type": "upsample", "scale_factor": 1e400}',
    b'{"input": [1, 4, 8, 8], "kernel_size": ' + HUGE.encode() + b"}",
    b'{"input": [1, 4, 8, 8], "kernel_size": 9223372036854775808}',
    b'{"input": [1, 4, 9223372036854775807, 8], "kernel_size": 3, "stride": 9223372036854775807}',
    b"[" * DEEP + b"]" * DEEP,
    b'{"input": ' + b"[" * DEEP + b"}",
    b"[1, 2]",
    b'"text"',
    b"null",
    b'{"input": [1, 4, 8, 8], "kernel_size": 3, "dims": true}',
    b'{"input": [1, 4, 8, 8], "kernel_size": [[3]]}',
    b'{"input": [1, 4, 8, 8], "kernel_size": 3, "bias": "\xff\xfe"}',  # not UTF-8
    b"",
    b"   \r",
    b"{not json",
]
GOOD = b'{"input": [1, 4, 8, 8], "kernel_size": 3}'


def test_batch_answers_every_line_in_order_from_a_file_and_from_stdin(tmp_path):
    """Each kind of bad line is answered alone, between good ones, the same from a file as from stdin."""
    lines = [GOOD]
    for bad in BAD_LINES:
        lines += [bad, GOOD]
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / "q.jsonl"
    path.write_bytes(data)
    from_file = invoke(["shape", "--batch", str(path)])
    from_stdin = invoke(["shape", "--batch", "-"], input=data)
    for result in (from_file, from_stdin):
        assert_batch_answers(result, lines)
    assert from_file.stdout == from_stdin.stdout
    answers = [json.loads(a) for a in from_file.stdout.splitlines()]
    assert all(answers[i]["output_shape"] == [1, 4, 10, 10] for i in range(0, len(lines), 2))
    errors = [answers[i]["error"] for i in range(1, len(lines), 2)]
    assert "nested too deeply" in errors[BAD_LINES.index(b"[" * DEEP + b"]" * DEEP)]
    assert "more than 4,300 digits" in errors[4] and "below 2**63" in errors[5] and "2**63 or more" in errors[6]
    assert errors[BAD_LINES.index(b"")].startswith("empty line")


def test_batch_parallel_path_answers_bad_lines_in_order(tmp_path, monkeypatch):
    """The worker pool answers the same lines, in the same order, as one process."""
    lines = [GOOD, *BAD_LINES, GOOD] * 3
    path = tmp_path / "q.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    serial = invoke(["shape", "--batch", str(path)]).stdout
    monkeypatch.setattr(batch, "PARALLEL_FROM", 10)
    monkeypatch.setattr(batch, "CHUNK_LINES", 7)
    with open(tmp_path / "out.jsonl", "w") as handle:
        refused = batch.batch_file(str(path), handle, 2)
    assert (tmp_path / "out.jsonl").read_text() == serial
    assert refused == serial.count('{"line": ')


@st.composite
def batch_lines(draw: Any) -> bytes:
    """A valid query of a random type with one key (any key) given a value of any type; or any JSON value; or
    bytes (blank, not UTF-8, not JSON)."""
    shape = draw(st.integers(0, 5))
    if shape == 0:
        return to_json(draw(VALUES)).encode()
    if shape == 1:
        return draw(st.binary(max_size=12).filter(lambda b: b"\n" not in b))
    kind = draw(st.sampled_from(sorted(BASE)))
    query = {"type": kind, "input": [1, 4, 8, 8], **BASE[kind], draw(st.sampled_from(BATCH_KEYS)): draw(VALUES)}
    return to_json(query).encode()


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(batch_lines(), min_size=1, max_size=5))
def test_batch_lines_of_any_value(lines):
    """Hypothesis: lines holding values of every type under every key are answered one by one, in order."""
    assert_batch_answers(invoke(["shape", "--batch", "-"], input=b"\n".join(lines) + b"\n"), lines)


# ---------------------------------------------------------------------------------------------------------------
# check: every key of every type


@st.composite
def configs(draw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid layer of a random type with one key (any key) given a value of any type, maybe a plausible value
    for another key; one time in four a top-level key (input, dims or an unknown one) of any value too."""
    kind = draw(st.sampled_from(sorted(BASE)))
    layer = {"type": kind, **BASE[kind], draw(st.sampled_from(CONFIG_KEYS)): draw(VALUES)}
    if draw(st.booleans()):
        layer.setdefault(draw(st.sampled_from(CONFIG_KEYS)), draw(PLAUSIBLE))
    top: dict[str, Any] = {"input": [1, 4, 8, 8]}
    if draw(st.integers(0, 3)) == 0:
        top[draw(st.sampled_from(["input", "dims", "extra"]))] = draw(VALUES | PLAUSIBLE)
    return top, layer


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs())
def test_check_toml_of_any_value(config):
    """Hypothesis: TOML configs with values of every type (dates, nan, huge and deep) for every key."""
    assert_one_error_line(invoke(["check", "-"], input=toml_config(*config)))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs())
def test_check_json_of_any_value(config):
    """Hypothesis: JSON configs with values of every type (null, NaN, huge and deep) for every key."""
    assert_one_error_line(invoke(["check", "-"], input=json_config(*config)))


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs())
def test_check_yaml_of_any_value(config, tmp_path_factory):
    """Hypothesis: YAML configs (the yaml extra) with values of every type for every key."""
    pytest.importorskip("yaml")
    path = tmp_path_factory.mktemp("yaml") / "net.yaml"
    path.write_text(yaml_config(*config))
    assert_one_error_line(invoke(["check", str(path)]))


# Per key, values of a wrong type: each is exit 2, naming the key and, in TOML, its line.
WRONG: dict[str, tuple[str, list[Any]]] = {
    "kernel_size": ("tconv", [3.0, True, "3", [[3]], {"a": 1}, datetime.date(2024, 1, 1), [], [1, 2, 3, 4]]),
    "stride": ("tconv", [2.0, False, "2", [[2]], {"a": 1}, datetime.time(1, 2)]),
    "padding": ("tconv", [1.0, True, "same", [[1]], {"a": 1}]),
    "output_padding": ("tconv", [1.0, True, "1", [[1]]]),
    "dilation": ("conv", [1.0, True, "1", [[1]], datetime.date(2024, 1, 1)]),
    "out_channels": ("tconv", [3.0, True, "3", [3], {"a": 1}, datetime.date(2024, 1, 1)]),
    "groups": ("conv", [1.0, True, "1", [1], {"a": 1}]),
    "bias": ("tconv", [1, "true", [True], {"a": 1}, datetime.date(2024, 1, 1)]),
    "padding_mode": ("conv", [["zeros"], 3, "mirror", True]),
    "output_size": ("tconv", [32.0, "32", [[32]], True, {"a": 1}]),
    "return_indices": ("maxpool", [1, "yes", {"a": 1}]),
    "ceil_mode": ("avgpool", [0, "no", [False]]),
    "count_include_pad": ("avgpool", [1, "true"]),
    "divisor_override": ("avgpool", [3.0, "3", True, [3]]),
    "scale_factor": ("upsample", ["2", True, [[2]], {"a": 1}, float("nan"), float("inf"), datetime.date(2024, 1, 1)]),
    "size": ("upsample", [4.0, "4", [[4]], True]),
    "mode": ("upsample", [["nearest"], 3, "cubic", True]),
    "align_corners": ("upsample", [1, "true"]),
    "recompute_scale_factor": ("upsample", [1, "false"]),
    "type": ("tconv", [3, ["tconv"], True, {"a": 1}, "deconv", datetime.date(2024, 1, 1)]),
    "name": ("tconv", [["a"], 3, datetime.date(1979, 5, 27), True, {"a": 1}]),
    "expect": ("tconv", ["x", 3, [[1]], [1.5], [True], {"a": 1}, []]),
    "match": ("tconv", [["a"], 3, {"a": 1}, "nosuch", True]),
}
WRONG_CASES = [(key, kind, value) for key, (kind, values) in WRONG.items() for value in values]


@pytest.mark.parametrize(("key", "kind", "value"), WRONG_CASES, ids=[f"{k}={show(v)}" for k, _, v in WRONG_CASES])
def test_check_wrong_type_names_key_and_line(key, kind, value):
    """A value of the wrong type is a usage error naming the key and its TOML line, never a crash or exit 0."""
    layer = {"type": kind, **BASE[kind]}
    layer = {**layer, key: value} if key != "type" else {key: value, **BASE[kind]}
    if key == "size":
        layer.pop("scale_factor")
    text = toml_config({"input": [1, 4, 8, 8]}, layer)
    result = invoke(["check", "-"], input=text)
    assert_one_error_line(result, (2,))
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith(f"{key} ="))
    assert key in result.stderr and result.stderr.rstrip().endswith(f"(line {line})"), result.stderr
    if not isinstance(value, (datetime.date, datetime.time)):  # JSON has no dates: they would be strings
        as_json = invoke(["check", "-"], input=json_config({"input": [1, 4, 8, 8]}, layer))
        assert_one_error_line(as_json, (2,))
        assert key in as_json.stderr


@pytest.mark.parametrize(
    ("key", "value"),
    [("input", v) for v in [3, "1x3x8x8", [[1]], [], [1.5], {"a": 1}, datetime.date(2024, 1, 1), [1, 2**63]]]
    + [("dims", v) for v in [-1, 4, True, "2", 2.0, [2]]],
)
def test_check_wrong_top_level_names_key_and_line(key, value):
    """input and dims of a wrong type or out of range: exit 2, the key and its line named."""
    text = toml_config({"input": [1, 4, 8, 8], key: value}, {"type": "tconv", "kernel_size": 3})
    result = invoke(["check", "-"], input=text)
    assert_one_error_line(result, (2,))
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith(f"{key} ="))
    assert key in result.stderr and result.stderr.rstrip().endswith(f"(line {line})"), result.stderr


# ---------------------------------------------------------------------------------------------------------------
# Integers: |n| < 2**63 in configs and batch lines; no size of 2**63 or more


@pytest.mark.parametrize("value", [str(INT_LIMIT), str(-INT_LIMIT), HUGE, "-" + HUGE])
def test_integer_bound_in_configs(value):
    """An integer of 2**63 or more in magnitude (or past 4,300 digits) is exit 2, in TOML and in JSON."""
    for text in (
        f'input = [1, 4, 8, 8]\n[[layer]]\ntype = "conv"\nkernel_size = {value}\n',
        f'{{"input": [1, 4, 8, 8], "layer": [{{"type": "conv", "kernel_size": {value}}}]}}',
        f'input = [1, 4, {value}, 8]\n[[layer]]\ntype = "conv"\nkernel_size = 3\n',
    ):
        result = invoke(["check", "-"], input=text)
        assert_one_error_line(result, (2,))
        assert "2**63" in result.stderr or "4,300 digits" in result.stderr, result.stderr


def test_sizes_just_below_the_bound_are_computed():
    """2**63 - 1 is a size: shape, --json, --explain and the parameter count print it; an output of 2**63 or
    more is refused (exit 1), so no layer can feed the next a size past the bound."""
    explained = invoke(["shape", "1x1x999999999999999999", "--dims", "1", "-k", "1", "--json", "--explain"])
    assert_one_error_line(explained, (0,))
    assert json.loads(explained.stdout)["output_shape"] == [1, 1, 999999999999999999]
    big = str(INT_LIMIT - 1)
    line = f'{{"input": [1, 1, {big}], "dims": 1, "kernel_size": 1, "out_channels": {big}}}'
    answer = json.loads(invoke(["shape", "--batch", "-"], input=line + "\n").stdout)
    assert answer["output_shape"] == [1, INT_LIMIT - 1, INT_LIMIT - 1] and answer["parameters"] == 2 * (INT_LIMIT - 1)
    text = f'input = [1, 1, {big}]\ndims = 1\n[[layer]]\ntype = "tconv"\nkernel_size = 3\nstride = {big}\n'
    result = invoke(["check", "-"], input=text)
    assert_one_error_line(result, (1,))
    assert "2**63 or more" in result.stderr
    scaled = invoke(["shape", "1x1x4x4", "--layer", "upsample", "--scale-factor", "1e308"])
    assert_one_error_line(scaled, (1,))


def test_non_finite_and_oversized_floats():
    """--scale-factor inf|nan|1e400 and --memory-limit 1e400 are refused in one line."""
    for value in ("inf", "nan", "1e400", "-inf"):
        assert_one_error_line(invoke(["shape", "1x1x4x4", "--layer", "upsample", "--scale-factor", value]), (2,))
    assert_one_error_line(invoke(["run", "[[1]]", "[[1]]", "--memory-limit", "1e400"]), (2,))


# ---------------------------------------------------------------------------------------------------------------
# Deep nesting, in every reader


def test_deep_nesting_is_one_usage_error(tmp_path):
    """'[' * 100000 in a literal, a .json tensor, a TOML, JSON or YAML config: exit 2, 'nested too deeply'."""
    deep = "[" * DEEP
    (tmp_path / "t.json").write_text(deep)
    (tmp_path / "c.toml").write_text(f"input = {deep}\n")
    (tmp_path / "c.json").write_text('{"input": ' + deep + "}")
    (tmp_path / "c.yaml").write_text("input: " + "[" * 600 + "\n")  # PyYAML scans 100,000 in 2 s: 600 is enough
    (tmp_path / "block.yaml").write_text(
        "".join(" " * n + "- \n" for n in range(0, 1800, 2))
    )  # 900 levels in 0.8 MiB: under the 1 MiB YAML cap
    cases = [
        ["run", deep, "[[1]]"],
        ["run", "[[1]]", "[" * DEEP + "1" + "]" * DEEP],
        ["run", str(tmp_path / "t.json"), "[[1]]"],
        ["check", str(tmp_path / "c.toml")],
        ["check", str(tmp_path / "c.json")],
    ]
    if _has_yaml():
        cases += [["check", str(tmp_path / "c.yaml")], ["check", str(tmp_path / "block.yaml")]]
    for args in cases:
        result = invoke(args)
        assert_one_error_line(result, (2,))
        assert "nested too deeply" in result.stderr, (args[:2], result.stderr)


def _has_yaml() -> bool:
    try:
        import yaml  # noqa: F401
    except ImportError:
        return False
    return True


def test_a_literal_past_numpy_dimensions_is_one_line():
    """Nesting NumPy cannot hold (more than 64 dimensions) is a usage error too, not 'ragged'."""
    result = invoke(["run", "[" * 100 + "1" + "]" * 100, "[[1]]"])
    assert_one_error_line(result, (2,))
    assert "ragged" not in result.stderr


# ---------------------------------------------------------------------------------------------------------------
# Other malformed input, exit codes and messages


@pytest.mark.parametrize("sizes", ["1,2:5", "1:2:3", "a:5", ":", "5", "1x2:3"])
def test_check_sizes_malformed(sizes):
    assert_one_error_line(invoke(["check", UNET, "--sizes", sizes]), (2,))


@pytest.mark.parametrize(
    "args",
    [
        ["shape", "5", "-k", "3", "-g", "3.0"],
        ["shape", "5", "-k", "3", "--dims", "0"],
        ["shape", "5", "-k", "3", "--kernel"],
        ["shape", "-1"],
        ["shapes", "5"],
        ["run", "[[1]]"],
        ["--no-such-option"],
        ["solve", "16", "32", "--top", "x"],
        ["matrix", "[[1]]", "--input-size", "3", "--format"],
    ],
)
def test_click_usage_errors_are_one_line(args):
    """Click's own usage errors print one 'error:' line, exit 2, not a 'Usage: ... Error:' block."""
    result = invoke(args)
    assert_one_error_line(result, (2,))
    assert "Usage:" not in result.stderr


def test_help_is_unchanged():
    result = invoke(["shape", "--help"])
    assert result.exit_code == 0 and result.stdout.startswith("Usage: ") and "--kernel-size" in result.stdout


def test_no_runtime_warnings_on_non_finite_data():
    """inf and NaN (and float64 overflow) are results: no NumPy RuntimeWarning (pytest turns them into errors)."""
    for args in (
        ["run", "[[Infinity,1],[2,3]]", "[[1]]", "--check"],
        ["run", "[[1e308,1e308],[2,3]]", "[[1e308,2],[3,4]]"],
        ["run", "[[1e308,1e308],[2,3]]", "[[1e308,2],[3,4]]", "--conv"],
        ["matrix", "[[Infinity,1],[2,3]]", "--input-size", "3x3", "--verify"],
    ):
        assert_one_error_line(invoke(args, catch_exceptions=False))


# ---------------------------------------------------------------------------------------------------------------
# Streams and signals, in real processes

COMMANDS = {
    "shape": ["shape", "16", "-k", "3"],
    "shape --json": ["shape", "16", "-k", "3", "--json"],
    "run": ["run", "[[0,1],[2,3]]", "[[0,1],[2,3]]"],
    "matrix": ["matrix", "[[1,2],[3,4]]", "--input-size", "3x3"],
    "invert-conv": ["invert-conv", "16", "-k", "3", "-s", "2"],
    "solve": ["solve", "16", "32"],
    "translate": TF_SAME_ODD_CROP,
    "check": ["check", UNET],
    "--help": ["--help"],
}


def _cli(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tconvcalc", *args], capture_output=True, text=True, timeout=60, cwd=ROOT, **kwargs
    )


def _sh(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``script`` run by sh with "$@" = python -m tconvcalc ARGS (for redirections such as <&- and >&-)."""
    return subprocess.run(
        ["sh", "-c", script, "sh", sys.executable, "-m", "tconvcalc", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", list(COMMANDS.values()), ids=list(COMMANDS))
def test_full_disk_on_stdout(args):
    """stdout to /dev/full: one error line, exit 2, for every command."""
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "tconvcalc", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    assert proc.returncode == 2
    assert proc.stderr == "error: cannot write the output (No space left on device)\n"


@pytest.mark.parametrize("args", list(COMMANDS.values()), ids=list(COMMANDS))
def test_closed_stdout(args):
    proc = _sh('exec "$@" >&-', *args)
    assert (proc.returncode, proc.stderr) == (2, "error: stdout is closed\n")


@pytest.mark.parametrize("args", list(COMMANDS.values()), ids=list(COMMANDS))
def test_closed_pipe_exits_141_quietly(args):
    """The reader of stdout is gone (| head -1): exit 141, nothing on stderr; not exit 1."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "tconvcalc", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (141, "")


def test_closed_pipe_mid_batch(tmp_path):
    """shape --batch big | head -1: the first answers arrive, then exit 141 without a word."""
    path = tmp_path / "big.jsonl"
    path.write_text("".join(f'{{"input": [1, 4, {n}, 8], "kernel_size": 3}}\n' for n in range(1, 20_001)))
    with subprocess.Popen(
        [sys.executable, "-m", "tconvcalc", "shape", "--batch", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 141 and err == b""
    assert json.loads(first)["output_shape"] == [1, 4, 3, 10]


@pytest.mark.parametrize(
    "args", [["check", "-"], ["shape", "--batch", "-"], ["run", "-", "[[1]]"]], ids=["check", "batch", "run"]
)
def test_closed_stdin(args):
    proc = _sh('exec "$@" <&-', *args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and "stdin is closed" in proc.stderr, proc.stderr


def test_closed_stderr_keeps_the_exit_code():
    assert _sh('exec "$@" 2>&-', "shape", "5", "-k", "0").returncode == 1


def test_ascii_output_encoding(tmp_path):
    """PYTHONIOENCODING=ascii meeting '·' or a non-ASCII name: one error line, exit 2; --json stays ASCII."""
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    config = tmp_path / "net.toml"
    config.write_text('input = [1, 3, 8, 8]\n[[layer]]\nname = "café"\ntype = "conv"\nkernel_size = 3\n', "utf-8")
    for args in (
        ["matrix", "--symbolic", "-k", "3", "--input-size", "5", "-s", "2", "--transpose"],
        ["check", str(config)],
    ):
        proc = _cli(args, env=env)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: the output encoding ascii"), proc.stderr
    assert _cli(["check", str(config), "--json"], env=env).returncode == 0


PROBE = textwrap.dedent(
    """
    import os, signal, sys
    class Interrupt:  # Ctrl-C while typer is being imported, the slowest part of start-up
        def find_spec(self, name, path=None, target=None):
            if name == "typer":
                os.kill(os.getpid(), signal.SIGINT)
            return None
    sys.meta_path.insert(0, Interrupt())
    sys.argv = ["tconvcalc", "shape", "16", "-k", "3", "--json"]
    from tconvcalc.__main__ import main
    main()
    """
)


def test_ctrl_c_during_start_up():
    """An interrupt while the CLI is still importing ends with exit 130 and one line, not a traceback."""
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert (proc.returncode, proc.stderr) == (130, "\ninterrupted\n")


def test_the_handler_comes_before_any_import_of_ours():
    """The console script's module imports nothing of tconvcalc but the package and startup before main() runs."""
    code = (
        "import sys, tconvcalc.__main__; print(sorted(m for m in sys.modules if m.startswith(('tconvcalc', 'typer'))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.stdout.strip() == "['tconvcalc', 'tconvcalc.__main__', 'tconvcalc.startup']", proc.stdout


PARALLEL = textwrap.dedent(
    """
    import os, sys, time
    from tconvcalc import startup
    startup.prepare()
    from tconvcalc.io import batch
    import tconvcalc.cli
    from tconvcalc.cli.common import run_app
    batch.PARALLEL_FROM, batch.CHUNK_LINES = 1, 1
    slow = batch.query
    batch.query = lambda line: (time.sleep(0.05), slow(line))[1]
    os.cpu_count = lambda: 3
    sys.argv = ["tconvcalc", "shape", "--batch", sys.argv[1]]
    run_app()
    """
)


def test_ctrl_c_on_a_parallel_batch_says_interrupted_once(tmp_path):
    """Ctrl-C reaches every process of the group; only the parent speaks, once, and the pool ends."""
    path = tmp_path / "q.jsonl"
    path.write_text('{"input": [1, 4, 8, 8], "kernel_size": 3}\n' * 400)
    with subprocess.Popen(
        [sys.executable, "-c", PARALLEL, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        start_new_session=True,
    ) as proc:
        assert proc.stdout is not None
        proc.stdout.readline()  # the pool is answering
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err.decode()) == (130, "\ninterrupted\n")
