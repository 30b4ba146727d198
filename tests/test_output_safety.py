"""What tconvcalc writes is safe to consume: strict JSON, exact integers, escaped user data, whole files."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
from helpers import TF_SAME_ODD_CROP, invoke

from tconvcalc import UsageError
from tconvcalc.io import atomic
from tconvcalc.io.tensorio import save_tensor

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def strict_loads(text: str):
    """json.loads that refuses NaN, Infinity and -Infinity, as RFC 8259 parsers do."""

    def refuse(constant: str):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


JSON_COMMANDS = [
    ["shape", "1x4x5x5", "-k", "3", "-s", "2", "--json"],
    ["shape", "1x4x8x8", "--layer", "maxpool", "-k", "2", "--json"],
    ["shape", "1x4x8x8", "--layer", "upsample", "--scale-factor", "1.5", "--json"],
    ["shape", "1x16x32x32", "-k", "2", "-s", "2", "--compare", "--json"],
    ["shape", "3x3", "-k", "3", "-s", "2", "--convention", "onnx", "--auto-pad", "SAME_UPPER", "--json"],
    ["shape", "8", "-k", "3", "--explain", "--json"],
    [*TF_SAME_ODD_CROP, "--json"],
    ["invert-conv", "24", "-k", "3", "-s", "2", "-p", "1", "--json"],
    ["solve", "16", "32", "--json"],
    ["check", str(EXAMPLES / "dcgan.toml"), "--json"],
    ["check", str(EXAMPLES / "unet.toml"), "--sizes", "8:20", "--json"],
    ["matrix", "[[1,2],[3,4]]", "--input-size", "3x3", "--json", "--verify", "--overlap"],
    ["matrix", "[[1,NaN],[Infinity,4]]", "--input-size", "3x3", "--json"],
    ["run", "[[Infinity,1],[2,NaN]]", "[[1,-Infinity]]", "--json", "--check"],
    ["run", "[[1e19]]", "[[1]]", "--json"],
    ["run", "[[1,2],[3,4]]", "[[1,1],[1,1]]", "--convention", "keras", "--json"],
]


@pytest.mark.parametrize("argv", JSON_COMMANDS, ids=[" ".join(a[:3]) for a in JSON_COMMANDS])
def test_every_json_writer_is_strict(argv: list[str]) -> None:
    """Each --json output is one RFC 8259 document: no NaN/Infinity constants, whatever the numbers."""
    result = invoke(argv)
    assert result.exit_code in (0, 1), result.output
    strict_loads(result.stdout)


def test_non_finite_values_are_null_and_counted() -> None:
    """NaN and infinities in a result are written as null, and the document counts them in non_finite."""
    doc = strict_loads(invoke(["run", "[[Infinity,1],[2,NaN]]", "[[1]]", "--json"]).stdout)
    assert doc["output"] == [[None, 1.0], [2.0, None]] and doc["non_finite"] == 2
    assert invoke(["run", "[[Infinity,1],[2,3]]", "[[1]]", "--plain"]).stdout == "[[null,1.0],[2.0,3.0]]\n"


def test_batch_lines_are_strict_json() -> None:
    """--batch answers are strict JSON, refusals included."""
    lines = '{"input": [1, 2, 8, 8], "type": "upsample", "scale_factor": 1.5}\n{"input": [5], "kernel_size": 0}\n'
    for line in invoke(["shape", "--batch", "-"], lines).stdout.splitlines():
        strict_loads(line)


@pytest.mark.parametrize("value", ["1e19", "-9.3e18", "1e300", "9007199254740993"])
def test_large_integral_results_are_exact(value: str) -> None:
    """Integral results at 2**63 and beyond print exactly in --json and --plain (no int64 wrap-around)."""
    expected = int(float(value))
    doc = strict_loads(invoke(["run", f"[[{value}]]", "[[1]]", "--json"]).stdout)
    assert doc["output"] == [[expected]]
    assert invoke(["run", f"[[{value}]]", "[[1]]", "--plain"]).stdout == f"[[{expected}]]\n"


ESC = "\x1b"


def test_layer_names_are_escaped_in_tables_and_errors(tmp_path: Path) -> None:
    """A name carrying terminal control sequences is printed escaped: no raw ESC or BEL reaches the terminal."""
    path = tmp_path / "evil.toml"
    path.write_text(
        'input = [1, 3, 8, 8]\n[[layer]]\nname = "a\\u001b]0;owned\\u0007\\u001b[2J"\ntype = "conv"\n'
        "kernel_size = 3\nexpect = [1, 3, 9, 9]\n"
    )
    result = invoke(["check", str(path)])
    assert result.exit_code == 1
    for text in (result.stdout, result.stderr):
        assert ESC not in text and "\x07" not in text
    assert "a\\x1b]0;owned\\x07\\x1b[2J" in result.stderr


def test_paths_are_escaped_in_error_lines(tmp_path: Path) -> None:
    """A file name with control characters appears escaped in the one error line."""
    result = invoke(["check", str(tmp_path / f"no{ESC}[2Jfile.toml")])
    assert result.exit_code == 2
    assert ESC not in result.stderr and "\\x1b[2J" in result.stderr
    assert result.stderr.count("\n") == 1


def test_save_keeps_the_old_file_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed --save (a full disk) leaves the previous file whole and no temporary file behind."""
    target = tmp_path / "out.npy"
    save_tensor(str(target), np.arange(4.0))
    before = target.read_bytes()

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full_disk)
    with pytest.raises(UsageError, match="No space left on device"):
        save_tensor(str(target), np.zeros(1000))
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.npy"]


def test_save_replaces_a_symlink_not_its_target(tmp_path: Path) -> None:
    """--save over a symbolic link replaces the link with the file; the link's target is not written through."""
    (tmp_path / "keep.npy").write_text("old")
    (tmp_path / "link.npy").symlink_to(tmp_path / "keep.npy")
    save_tensor(str(tmp_path / "link.npy"), np.arange(3.0))
    assert (tmp_path / "keep.npy").read_text() == "old"
    assert not (tmp_path / "link.npy").is_symlink()
    np.testing.assert_array_equal(np.load(tmp_path / "link.npy"), np.arange(3.0))


@pytest.mark.parametrize("name", ["out.NPY", "out.Npy", "out.CSV"])
def test_save_suffix_is_case_insensitive(tmp_path: Path, name: str) -> None:
    """--save out.NPY writes out.NPY (not out.NPY.npy), in the format its suffix names in any case."""
    result = invoke(["run", "[[1,2],[3,4]]", "[[1]]", "--plain", "--save", str(tmp_path / name)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_save_into_a_directory_path_is_one_error(tmp_path: Path) -> None:
    """--save naming a directory, or a path under a file, is one usage error naming the path."""
    for target in (tmp_path, tmp_path / "f.npy" / "x.npy"):
        (tmp_path / "f.npy").write_text("x")
        result = invoke(["run", "[[1]]", "[[1]]", "--save", str(target)])
        assert result.exit_code == 2 and result.stderr.startswith("error: --save"), result.output
        assert "None" not in result.stderr


def test_verify_fails_on_nan() -> None:
    """matrix --verify cannot pass when the comparison is NaN."""
    result = invoke(["matrix", "[[1,NaN],[3,4]]", "--input-size", "3x3", "--verify"])
    assert result.exit_code == 1 and "nothing verified" in result.stderr
