"""Reading tensors safely: literals without eval, .npy without pickle, .npz, .csv, .json, stdin."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tconvcalc import UsageError
from tconvcalc.io.tensorio import parse_bytes, parse_literal, read_tensor, save_tensor


def test_literal_json_and_python_forms():
    """JSON and Python literals (tuples, exponents) parse to the same array."""
    assert parse_literal("[[0,1],[2,3]]").tolist() == [[0, 1], [2, 3]]
    assert parse_literal("((0, 1e0), (2, 3))").tolist() == [[0, 1.0], [2, 3]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[1, 2], [3]]", "ragged"),
        ('[[1, "a"]]', "must be a number"),
        ("[[true, false]]", "must be a number"),
        ("__import__('os').system('echo pwned')", "not a nested list"),
        ("[]", "empty"),
        ("{'a': 1}", "expected a nested list"),
    ],
)
def test_bad_literals_refused(text, message):
    """Ragged, non-numeric, empty or executable literals are usage errors; nothing is evaluated."""
    with pytest.raises(UsageError, match=message):
        parse_literal(text)


def test_npy_is_never_unpickled(tmp_path):
    """An object .npy (which needs pickle) is refused, not loaded."""
    path = tmp_path / "evil.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(UsageError, match="cannot read it as a tensor"):
        read_tensor(str(path))


def test_npz_key_selection(tmp_path):
    """.npz with one array loads it; with several, --key chooses and a missing key is named."""
    one, many = tmp_path / "one.npz", tmp_path / "many.npz"
    np.savez(one, a=np.ones(3))
    np.savez(many, a=np.ones(2), b=np.zeros(2))
    assert read_tensor(str(one)).tolist() == [1, 1, 1]
    assert read_tensor(str(many), key="b").tolist() == [0, 0]
    with pytest.raises(UsageError, match="holds 2 arrays"):
        read_tensor(str(many))
    with pytest.raises(UsageError, match="no array 'c'"):
        read_tensor(str(many), key="c")


def test_csv_txt_json(tmp_path):
    """CSV (comma or whitespace) and JSON files load as 2-D arrays."""
    (tmp_path / "a.csv").write_text("1,2\n3,4\n")
    (tmp_path / "a.txt").write_text("# comment\n1 2\n3 4\n")
    (tmp_path / "a.json").write_text("[[1, 2], [3, 4]]")
    for name in ("a.csv", "a.txt", "a.json"):
        assert read_tensor(str(tmp_path / name)).tolist() == [[1, 2], [3, 4]]
    (tmp_path / "bad.csv").write_text("1,2\n3\n")
    with pytest.raises(UsageError, match="rows of different lengths"):
        read_tensor(str(tmp_path / "bad.csv"))


def test_missing_file():
    """A missing file is a usage error naming it."""
    with pytest.raises(UsageError, match="no such file 'missing.npy'"):
        read_tensor("missing.npy", name="INPUT")


def test_stdin_npy_and_literal(monkeypatch):
    """'-' reads a .npy stream or a literal from stdin."""
    buffer = io.BytesIO()
    np.save(buffer, np.arange(4.0))

    class Stdin:
        def __init__(self, data: bytes):
            self.buffer = io.BytesIO(data)

    monkeypatch.setattr("sys.stdin", Stdin(buffer.getvalue()))
    assert read_tensor("-").tolist() == [0, 1, 2, 3]
    monkeypatch.setattr("sys.stdin", Stdin(b"[[5, 6]]"))
    assert read_tensor("-").tolist() == [[5, 6]]


def test_save_round_trip(tmp_path):
    """--save writes .npy of any rank and .csv of rank <= 2; other suffixes are refused."""
    array = np.arange(6.0).reshape(2, 3)
    save_tensor(str(tmp_path / "o.npy"), array)
    save_tensor(str(tmp_path / "o.csv"), array)
    assert np.load(tmp_path / "o.npy").tolist() == array.tolist()
    assert read_tensor(str(tmp_path / "o.csv")).tolist() == array.tolist()
    with pytest.raises(UsageError, match="CSV holds 1-D or 2-D"):
        save_tensor(str(tmp_path / "o.csv"), np.ones((2, 2, 2)))
    with pytest.raises(UsageError, match="unknown format"):
        save_tensor(str(tmp_path / "o.xls"), array)


def test_parse_bytes():
    """Memory limits accept units; garbage is a usage error."""
    assert parse_bytes("2KiB") == 2048
    with pytest.raises(UsageError):
        parse_bytes("lots")
