"""Every bound of the README's "Limits" section, held in time and memory.

Each refusal runs ``python -m tconvcalc`` in a subprocess under an address-space limit (``RLIMIT_AS``) and a
timeout: the work must be refused with the documented exit code and one ``error:`` line naming the size, before
it allocates. Allocating first (what these inputs did) dies under the limit with a MemoryError traceback, or
runs into the timeout, and fails the test. The memory estimates the budget rests on are held to
``tracemalloc``'s measured peaks in-process.
"""

from __future__ import annotations

import io
import json
import os
import resource
import struct
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tconvcalc.core import budget
from tconvcalc.engine import functional, problem
from tconvcalc.engine import matrix as matrices
from tconvcalc.render import tensorview

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20
# Address space for a run: Python, NumPy and OpenBLAS take about 150 MiB of it before any work.
SMALL = 400 * MiB
# Reading an endless stream up to the 256 MiB cap is the documented cost of finding out it is endless.
READER = SMALL + budget.MAX_READ_BYTES + 64 * MiB
FAST = 3.0  # seconds: a refusal (start-up included) takes well under this


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    seconds: float


def _limits(address_space: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))


def tconvcalc(
    *args: str, memory: int = SMALL, timeout: float = 20, stdin: object = subprocess.DEVNULL, data: bytes | None = None
) -> Outcome:
    """``python -m tconvcalc ARGS`` from the repository root (this checkout's package), under ``memory`` bytes of
    address space and ``timeout`` seconds."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "COLUMNS": "80"}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "tconvcalc", *args],
        cwd=ROOT,
        env=env,
        input=data,
        stdin=None if data is not None else stdin,
        capture_output=True,
        timeout=timeout,
        preexec_fn=lambda: _limits(memory),
        check=False,
    )
    seconds = time.perf_counter() - start
    return Outcome(proc.returncode, proc.stdout.decode(), proc.stderr.decode(errors="replace"), seconds)


def refused(outcome: Outcome, code: int, *words: str, seconds: float = FAST) -> None:
    """Exit ``code``, one ``error:`` line holding every one of ``words``, no traceback, within ``seconds``."""
    assert outcome.code == code, outcome.stderr[-2000:]
    assert outcome.stderr.startswith("error: ") and outcome.stderr.count("\n") == 1, outcome.stderr[-2000:]
    for word in words:
        assert word in outcome.stderr, outcome.stderr
    assert outcome.seconds < seconds, f"{outcome.seconds:.2f} s"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    # a 128-byte .npy whose header declares a (10^6, 10^6) float64 array: 7.3 TiB
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
    (folder / "huge.npy").write_bytes(b"\x93NUMPY\x01\x00" + header.getvalue()[8:])
    # a small .npz: its member says it inflates to 3 GiB; another understates what it inflates to
    good = io.BytesIO()
    np.savez_compressed(good, a=np.zeros(100_000))
    data = good.getvalue()
    for name, size in (("inflates.npz", 3 << 30), ("understated.npz", 200)):
        (folder / name).write_bytes(_patch_sizes(data, size))
    np.savez(folder / "stored.npz", a=np.arange(6.0))
    stored = bytearray((folder / "stored.npz").read_bytes())
    stored[stored.index(b"\x93NUMPY") + 130] ^= 0xFF  # a byte of the array: the CRC no longer matches
    (folder / "badcrc.npz").write_bytes(bytes(stored))
    deflated = bytearray(data)
    start = deflated.index(b"a.npy") + 5
    deflated[start + 2 : start + 40] = bytes(b ^ 0x55 for b in deflated[start + 2 : start + 40])
    (folder / "baddeflate.npz").write_bytes(bytes(deflated))
    (folder / "notzip.npz").write_bytes(b"PK\x03\x04" + b"not a zip at all" * 10)
    # configs: 1,000 layers; 20,000 layers in under 1 MiB; 5 MiB of TOML
    layer = '[[layer]]\ntype = "conv"\nkernel_size = 1\n'
    (folder / "deep.toml").write_text("input = [1, 1, 32, 32]\n" + layer * 1_000)
    (folder / "huge.toml").write_text("input = [1, 1, 32, 32]\n" + layer * 20_000)
    (folder / "big.toml").write_text("input = [1, 1, 32, 32]\n" + layer + "# padding\n" * 500_000)
    (folder / "wide.toml").write_text("input = [1, 1, 32, 32]\n" + layer * 5_000)
    return folder


def _patch_sizes(zip_bytes: bytes, size: int) -> bytes:
    """A copy of a one-member zip whose local and central headers declare ``size`` uncompressed bytes."""
    data = bytearray(zip_bytes)
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, size)
    struct.pack_into("<I", data, central + 24, size)
    return bytes(data)


# --- readers ---------------------------------------------------------------------------------------------------


def test_npy_header_declaring_terabytes(files: Path) -> None:
    """A 128-byte .npy declaring (10^6, 10^6) is refused from its header: exit 2, the shape and sizes named."""
    refused(tconvcalc("run", str(files / "huge.npy"), "[[1]]"), 2, "(1000000, 1000000)", "7.3 TiB", "0 B of data")


def test_npz_member_declared_past_the_cap(files: Path) -> None:
    """A .npz member declaring 3 GiB is refused before it is inflated: exit 1, its size and the cap named."""
    refused(tconvcalc("run", str(files / "inflates.npz"), "[[1]]"), 1, "inflates to 3.0 GiB", "256.0 MiB")


def test_npz_member_inflating_past_its_header(files: Path) -> None:
    """Inflating stops at the size the header declares: a member that is larger is one error line, exit 2."""
    refused(tconvcalc("run", str(files / "understated.npz"), "[[1]]"), 2, "understated.npz")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("notzip.npz", ["File is not a zip file"]),
        ("badcrc.npz", ["Bad CRC-32"]),
        ("baddeflate.npz", ["decompressing data"]),
    ],
)
def test_corrupt_npz_is_one_line(files: Path, name: str, words: list[str]) -> None:
    """Not a zip, a bad CRC, bad deflate data: one error line naming the file, exit 2, not a traceback."""
    refused(tconvcalc("run", str(files / name), "[[1]]"), 2, name, *words)


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["run", "/dev/zero", "[[1]]"], 1, ["INPUT '/dev/zero'", "more than 256.0 MiB"]),
        (["run", "-", "[[1]]"], 1, ["INPUT (stdin)", "more than 256.0 MiB"]),
        (["check", "/dev/zero"], 1, ["/dev/zero", "more than 256.0 MiB"]),
        (["check", "-"], 1, ["- (stdin)", "more than 256.0 MiB"]),
        (["shape", "--batch", "/dev/zero"], 1, ["line 1 runs on for more than 256.0 MiB"]),
        (["shape", "--batch", "-"], 1, ["line 1 runs on for more than 256.0 MiB"]),
    ],
)
def test_endless_input_is_read_up_to_a_cap(args: list[str], code: int, words: list[str]) -> None:
    """/dev/zero as INPUT, as a config or as a --batch file (named or on stdin) is read up to its cap, then refused."""
    with open("/dev/zero", "rb") as zero:
        outcome = tconvcalc(*args, memory=READER, stdin=zero)
    refused(outcome, code, *words)


def test_config_over_its_byte_cap_and_layer_cap(files: Path) -> None:
    """A 5 MiB config is refused unread (exit 1, its size named); 20,000 layers are refused naming the count."""
    refused(tconvcalc("check", str(files / "big.toml")), 1, "4.0 MiB a config may hold")
    refused(tconvcalc("check", str(files / "huge.toml")), 1, "20,000 layers in the config, over the limit of 10,000")


@pytest.mark.parametrize("limit", ["1e400", "nan", "0"])
def test_memory_limit_must_be_a_finite_size(limit: str) -> None:
    """--memory-limit 1e400, inf, nan (and 0, or past 1 EiB) are usage errors, not an OverflowError."""
    refused(tconvcalc("run", "[[1]]", "[[1]]", "--memory-limit", limit), 2, "--memory-limit", repr(limit))


# --- run -------------------------------------------------------------------------------------------------------

HUGE = ["[[1,1],[1,1]]", "[[1,1],[1,1]]", "-s", "100000"]  # a 100,001 x 100,001 output: 74.5 GiB


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (HUGE, ["conv_transpose would need 74.5 GiB"]),
        ([*HUGE, "--method", "scatter"], ["conv_transpose --method scatter would need"]),
        ([*HUGE, "--method", "matrix"], ["conv_transpose --method matrix would need"]),
        ([*HUGE, "--method", "zero-insert"], ["conv_transpose --method zero-insert would need"]),
        ([*HUGE, "--check"], ["conv_transpose --check (all four methods) would need"]),
        (["[[1]]", "[[1]]", "--conv", "-p", "100000", "-s", "100000"], ["conv would need 298.0 GiB"]),
        (["[[1]]", "[[1]]", "--convention", "jax", "-p", "100000:100000"], ["(jax convention) would need"]),
        (["[[1]]", "[[1]]", "--convention", "onnx", "--output-shape", "100000x100000"], ["(onnx convention)"]),
        (
            ["[[1,1],[1,1]]", "[[1,1],[1,1]]", "-s", "1000", "--json", "--memory-limit", "50M"],
            ["the --json output of 1,004,004 values"],
        ),
        (
            ["[[1,1],[1,1]]", "[[1,1],[1,1]]", "-s", "1000", "--plain", "--memory-limit", "50M"],
            ["the --plain output of 1,004,004 values"],
        ),
    ],
)
def test_run_budget_covers_every_step(args: list[str], words: list[str]) -> None:
    """Every method, --conv with huge padding, the conventions, --check and the --json/--plain encoding are
    within --memory-limit: refused (exit 1) before allocating, naming what they would need."""
    refused(tconvcalc("run", *args), 1, *words, "over the memory limit of")


def test_run_huge_stride_on_one_element_is_fast() -> None:
    """-s 3000 on a 1x1 input visits the phases its taps reach, not all 9 million (it took 7-10 s)."""
    outcome = tconvcalc("run", "[[2]]", "[[1,1],[1,1]]", "-s", "3000", "--plain", timeout=10)
    assert outcome.code == 0 and outcome.stdout.strip() == "[[2,2],[2,2]]", outcome.stderr
    assert outcome.seconds < FAST


def test_json_output_within_its_budget_still_runs() -> None:
    """Below the budget the same encoding goes through: 252,004 values under a 50M limit."""
    outcome = tconvcalc("run", "[[1,1],[1,1]]", "[[1,1],[1,1]]", "-s", "500", "--json", "--memory-limit", "50M")
    assert outcome.code == 0, outcome.stderr
    assert json.loads(outcome.stdout)["output_shape"] == [502, 502]


# --- matrix ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--symbolic", "-k", "3", "--input-size", "100000x100000"], 1, ["89,996,400,036 entries", "4.1 TiB"]),
        (["--symbolic", "-k", ",".join(["3"] * 100), "--input-size", "5"], 2, ["--kernel-size has 100 values"]),
        (["[[1,2],[3,4]]", "--input-size", "512x512", "--format", "npy"], 1, ["a dense 261,121 x 262,144 matrix"]),
        (["--symbolic", "-k", "3", "--input-size", "2000x2000", "--json"], 1, ["the JSON of 35,928,036 entries"]),
        (["--symbolic", "-k", "100000x100000", "--input-size", "100000x100000"], 1, ["10,000,000,000 taps"]),
    ],
)
def test_matrix_is_bounded(args: list[str], code: int, words: list[str]) -> None:
    """W, its dense forms, its JSON and the symbolic kernel are sized before anything is built."""
    refused(tconvcalc("matrix", *args), code, *words)


def test_matrix_one_by_one_output_of_a_huge_kernel_is_a_quick_summary() -> None:
    """A 1x1 output needs no labels for its 4 million columns: the summary comes at once."""
    outcome = tconvcalc("matrix", "--symbolic", "-k", "2000x2000", "--input-size", "2000x2000", timeout=10)
    assert outcome.code == 0, outcome.stderr
    assert "shape 1 x 4,000,000, 4,000,000 non-zeros" in outcome.stdout
    assert outcome.seconds < FAST


# --- invert-conv, solve, check ---------------------------------------------------------------------------------


def test_invert_conv_huge_stride_is_a_range() -> None:
    """-s 1000000000 has 10^9 preimage sizes: a range and null restores, at once (it took 3.8 GB)."""
    outcome = tconvcalc("invert-conv", "16", "-k", "3", "-s", "1000000000", "--json")
    assert outcome.code == 0, outcome.stderr
    doc = json.loads(outcome.stdout)
    assert doc["preimage"] == [[3, 1000000002]] * 2
    assert doc["output_padding_range"] == [[0, 999999999]] * 2 and doc["restores"] == [None, None]
    text = tconvcalc("invert-conv", "16", "-k", "3", "-s", "1000000000")
    assert "3 (op 0) ..." in text.stdout and "(op 999,999,999)" in text.stdout  # (rich wraps the cell)
    assert outcome.seconds < FAST and text.seconds < FAST


def test_solve_dimensions_and_search_are_bounded() -> None:
    """solve takes 1 to 3 dimensions (20-D took 195 s) and at most 300,000 candidates, refused naming the count."""
    twenty = "x".join(["16"] * 20)
    refused(tconvcalc("solve", twenty, twenty), 2, "IN and OUT have 20 values")
    maximal = ["--max-kernel", "64", "--max-stride", "64", "--max-dilation", "16"]
    refused(tconvcalc("solve", "100", "200", *maximal), 1, "2,173,440 candidate layers", "limit of 300,000")


def test_sweep_work_is_bounded(files: Path) -> None:
    """--sizes over 1,000 layers and 100,000 sizes (75 minutes) is refused naming both numbers."""
    refused(
        tconvcalc("check", str(files / "deep.toml"), "--sizes", "1:100000"),
        1,
        "100,000,000 layer evaluations",
        "100,000 sizes x 1,000 layers",
        "limit of 100,000",
    )
    outcome = tconvcalc("check", str(files / "deep.toml"), "--sizes", "8:17", "--json", timeout=20)
    assert outcome.code == 0 and json.loads(outcome.stdout)["sizes"] == list(range(8, 18))


def test_a_large_config_table_is_linear(files: Path) -> None:
    """5,000 layers print their table in about a second (rich took 2 ms a row: 205 s for 100,000)."""
    outcome = tconvcalc("check", str(files / "wide.toml"), timeout=20)
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.count(" ok\n") == 5_000
    assert outcome.seconds < 2 * FAST


# --- shape --batch ---------------------------------------------------------------------------------------------


def test_batch_overlong_line_is_answered_and_skipped() -> None:
    """A line over 1 MiB gets an error answer; the lines around it are answered in order."""
    line = json.dumps({"input": [4], "dims": 1, "kernel_size": 2}).encode()
    data = line + b"\n" + b"x" * (3 * MiB) + b"\n" + line + b"\n"
    outcome = tconvcalc("shape", "--batch", "-", data=data)
    answers = [json.loads(text) for text in outcome.stdout.splitlines()]
    assert outcome.code == 1 and len(answers) == 3
    assert answers[0]["output_shape"] == answers[2]["output_shape"] == [5]
    assert answers[1]["line"] == 2 and "over the limit of 1,048,576" in answers[1]["error"]


def test_batch_cache_is_bounded_in_bytes() -> None:
    """2,000 distinct 100 KB lines (200 MB; the old cache kept them all) stay within a 64 MiB cache."""
    lines = (('{"input": [4], "dims": 1,' + " " * (100_000 + n) + '"kernel_size": 2}\n').encode() for n in range(2_000))
    outcome = tconvcalc("shape", "--batch", "-", data=b"".join(lines), memory=150 * MiB, timeout=30)
    assert outcome.code == 0, outcome.stderr[-500:]
    assert outcome.stdout.count("\n") == 2_000
    assert outcome.seconds < 4 * FAST


def test_answer_cache_accounting() -> None:
    """The cache counts line and answer bytes plus an overhead, starts over when full, skips what cannot fit."""
    from tconvcalc.io.batch import AnswerCache

    cache = AnswerCache(budget=10_000)
    for n in range(100):
        cache.put("x" * 1000 + str(n), "y" * 100)
        assert cache.used <= cache.budget
    assert len(cache.answers) < 10
    cache.put("z" * 20_000, "a")
    assert cache.get("z" * 20_000) is None
    measured = _peak(lambda: [cache.put(f"{n:04d}" + "q" * 500, "a" * 300) for n in range(2_000)])
    assert measured <= cache.budget + 64 * 1024  # the counted bytes bound the real ones


# --- the estimates the budget rests on -------------------------------------------------------------------------


def _peak(work: object) -> int:
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        work()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


layers = st.fixed_dictionaries(
    {
        "dims": st.integers(1, 3),
        "n": st.sampled_from([None, 1, 2]),
        "groups": st.sampled_from([1, 2]),
        "cin_g": st.integers(1, 2),
        "cout_g": st.integers(1, 3),
        "size": st.integers(1, 9),
        "k": st.integers(1, 4),
        "s": st.sampled_from([1, 2, 3, 40]),
        "d": st.integers(1, 3),
        "p": st.integers(0, 3),
        "dtype": st.sampled_from(["float64", "float32", "int64"]),
        "bias": st.booleans(),
    }
)


def _problem(c: dict) -> tuple:
    dims = c["dims"]
    shape = ((c["n"],) if c["n"] else ()) + (c["groups"] * c["cin_g"],) + (c["size"] + 6 * (dims < 3),) * dims
    x = np.arange(np.prod(shape)).reshape(shape).astype(c["dtype"])
    w = np.ones((c["groups"] * c["cin_g"], c["cout_g"], *(c["k"],) * dims), dtype=c["dtype"])
    b = np.ones(c["groups"] * c["cout_g"], dtype=c["dtype"]) if c["bias"] else None
    return x, w, b


@settings(max_examples=40, deadline=None)
@given(c=layers, method=st.sampled_from(["fast", "scatter", "matrix", "zero-insert"]))
def test_method_estimates_bound_the_measured_peak(c: dict, method: str) -> None:
    """Each method's estimate (the budget's figure) is at least what tracemalloc measures it allocating."""
    x, w, b = _problem(c)
    args = (c["s"], c["p"], 0, c["groups"], c["d"])
    try:
        planned = problem.plan("conv_transpose", x, w, b, c["s"], c["p"], 0, c["d"], c["groups"])
    except ValueError:
        return  # a layer PyTorch refuses
    estimate = functional.conv_transpose_memory(planned, method)
    measured = _peak(lambda: functional.conv_transpose(x, w, b, *args, method=method, memory_limit=None))
    assert measured <= estimate


@settings(max_examples=20, deadline=None)
@given(c=layers)
def test_conv_estimate_bounds_the_measured_peak(c: dict) -> None:
    """The forward convolution's estimate covers np.pad's copy of a padded input."""
    x, _, b = _problem(c)
    w = np.ones((c["groups"] * c["cout_g"], c["cin_g"], *(c["k"],) * c["dims"]), dtype=x.dtype)
    pad = c["p"] * 5
    try:
        planned = problem.plan("conv", x, w, b, c["s"], pad, 0, c["d"], c["groups"])
    except ValueError:
        return
    estimate = budget.CALL_OVERHEAD_BYTES + planned.conversion_bytes() + problem.conv_memory(planned)
    assert _peak(lambda: functional.conv(x, w, b, c["s"], pad, c["d"], c["groups"], memory_limit=None)) <= estimate


@pytest.mark.parametrize("shape", [(150_000,), (20_000, 1, 1), (1, 2, 20, 20, 10), (1, 1, 1, 1, 1)])
@pytest.mark.parametrize("kind", ["random", "integral", "tiny"])
def test_text_estimate_bounds_json_encoding(shape: tuple[int, ...], kind: str) -> None:
    """--json/--plain's estimate (values, nested lists, text) is at least the measured peak of encoding."""
    rng = np.random.default_rng(0)
    array = {
        "random": lambda: rng.standard_normal(shape),
        "integral": lambda: np.full(shape, 123456789012345.0),
        "tiny": lambda: np.full(shape, -2.2250738585072014e-308),
    }[kind]()
    measured = _peak(lambda: json.dumps({"output": tensorview.to_nested(array)}) + "\n")
    assert measured <= tensorview.text_memory(shape, 8)


@pytest.mark.parametrize(
    ("weight", "size", "transpose"),
    [((1, 1, 3, 3), (200, 200), False), ((4, 2, 2, 3), (2, 40, 30), True), ((3, 1, 5), (1000,), True)],
)
def test_matrix_plan_bounds_building(weight: tuple[int, ...], size: tuple[int, ...], transpose: bool) -> None:
    """engine.matrix.plan's peak is at least what building (and transposing) W allocates."""
    w = np.ones(weight)
    planned = matrices.plan(w.shape, 8, size, 2, 1, 1, 1, transpose)
    measured = _peak(lambda: matrices.build(w, size, 2, 1, 1, 1, transpose))
    assert measured <= planned.peak + 64 * 1024
    assert matrices.build(w, size, 2, 1, 1, 1, transpose).matrix.nnz <= planned.entries
