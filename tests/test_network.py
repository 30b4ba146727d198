"""check, the sweep, shape --layer/--compare and shape --batch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import invoke

from tconvcalc.core import network
from tconvcalc.io import batch

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_examples_pass_and_fail_as_documented():
    """The DCGAN and U-Net examples pass (exit 0); the one-pixel-short decoder fails (exit 1) naming the fix."""
    assert invoke(["check", str(EXAMPLES / "dcgan.toml")]).exit_code == 0
    assert invoke(["check", str(EXAMPLES / "unet.toml")]).exit_code == 0
    broken = invoke(["check", str(EXAMPLES / "decoder-one-short.toml")])
    assert broken.exit_code == 1
    assert broken.stderr.startswith("error: layer 'dec1' (match failed)")
    assert "fix: output_padding=1" in broken.stderr


def test_check_json_document():
    """--json: per layer shapes, parameters, MACs and status, and an overall ok."""
    doc = json.loads(invoke(["check", str(EXAMPLES / "dcgan.toml"), "--json"]).stdout)
    assert doc["ok"] is True and doc["first_failure"] is None
    first = doc["layers"][0]
    assert first["input_shape"] == [1, 100, 1, 1] and first["output_shape"] == [1, 512, 4, 4]
    assert first["parameters"] == 100 * 512 * 16  # bias = false
    assert first["macs"] == 100 * 512 * 16  # by its input: C_in * C_out * prod(k) * prod(input)
    assert doc["layers"][-1]["output_shape"] == [1, 3, 64, 64]


def _write(tmp_path, text, name="net.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_invalid_layer_names_first_failure_and_stops(tmp_path):
    """An invalid layer fails the check (exit 1), is named, and the layers after it are not reached."""
    path = _write(
        tmp_path,
        'input = [1, 3, 8, 8]\n[[layer]]\nname = "a"\ntype = "conv"\nkernel_size = 9\n'
        '[[layer]]\nname = "b"\ntype = "conv"\nkernel_size = 1\n',
    )
    result = invoke(["check", path, "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [layer["status"] for layer in doc["layers"]] == ["invalid", "not reached"]
    assert "error: layer 'a' (invalid): padded input size 8" in result.stderr


def test_expect_failure(tmp_path):
    """A wrong expect fails with both shapes in the message."""
    path = _write(
        tmp_path,
        'input = [1, 3, 8, 8]\n[[layer]]\nname = "a"\ntype = "maxpool"\nkernel_size = 2\nexpect = [1, 3, 5, 5]\n',
    )
    result = invoke(["check", path])
    assert result.exit_code == 1
    assert "expected [1, 3, 5, 5], got [1, 3, 4, 4]" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'input = [1, 3, 8, 8]\n[[layer]]\ntype = "conv"\nkernel_size = 3\nstrid = 2\n',
            "unknown key 'strid' for type 'conv' (line 5)",
        ),
        ('input = [1, 3, 8, 8]\n[[layer]]\ntype = "deconv"\nkernel_size = 3\n', "unknown type 'deconv'"),
        ("input = [1, 3, 8, 8]\n[[layer\n", "line 2"),
        ("input = [1, 3, 8, 8]\n", "no layers"),
        ('input = "big"\n[[layer]]\ntype = "conv"\nkernel_size = 3\n', "input must be a list of integers"),
        ('input = [1, 3, 8, 8]\n[[layer]]\ntype = "conv"\nkernel_size = "x"\n', "kernel_size must be an integer"),
        (
            'input = [1, 3, 8, 8]\n[[layer]]\ntype = "tconv"\nkernel_size = 2\nmatch = "nowhere"\n',
            "names no earlier layer (line 5)",
        ),
        ("input = [1, 3, 8, 8]\nlayers = []\n", "unknown top-level key 'layers'"),
    ],
)
def test_malformed_configs_exit_2(tmp_path, text, message):
    """Malformed files, unknown types and keys are usage errors (exit 2) with the key and the line."""
    result = invoke(["check", _write(tmp_path, text)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_json_config_and_json_errors(tmp_path):
    """JSON configs have the same structure; a JSON syntax error names its line."""
    good = {
        "input": [1, 3, 8, 8],
        "layer": [{"name": "up", "type": "tconv", "kernel_size": 2, "stride": 2, "expect": [1, 3, 16, 16]}],
    }
    assert invoke(["check", _write(tmp_path, json.dumps(good), "net.json")]).exit_code == 0
    bad = invoke(["check", _write(tmp_path, '{"input": [1,\n 2,,]}', "bad.json")])
    assert bad.exit_code == 2 and "line 2" in bad.stderr


def test_yaml_needs_pyyaml_or_works(tmp_path):
    """YAML configs load with PyYAML, or say how to get it."""
    path = _write(tmp_path, "input: [1, 3, 8, 8]\nlayer:\n  - {type: maxpool, kernel_size: 2}\n", "net.yaml")
    result = invoke(["check", path])
    try:
        import yaml  # noqa: F401
    except ImportError:
        assert result.exit_code == 2 and "pip install 'tconvcalc[yaml]'" in result.stderr
    else:
        assert result.exit_code == 0


def test_sweep_describes_passing_sizes():
    """--sizes A:B reports which spatial sizes pass, compactly."""
    result = invoke(["check", str(EXAMPLES / "unet.toml"), "--sizes", "8:64"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "input sizes that pass, from 8 to 64: multiples of 4 from 8 to 64"
    doc = json.loads(invoke(["check", str(EXAMPLES / "unet.toml"), "--sizes", "8:20", "--json"]).stdout)
    assert doc["sizes"] == [8, 12, 16, 20]


def _torch_passes(torch, config, size):
    """Brute force: build the network in torch and run it on zeros; do all matches hold?"""
    import warnings

    net = network.parse_config(config)
    shape, dims, layers = list(net.input.as_tuple()), net.dims, config["layer"]
    x = torch.zeros(*shape[: len(shape) - dims], *([size] * dims), dtype=torch.float64)
    outputs = {"input": tuple(x.shape[-dims:])}
    n = dims
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for index, spec in enumerate(layers):
                kind = spec["type"]
                kw = {k: v for k, v in spec.items() if k not in ("name", "type", "expect", "match", "out_channels")}
                if kind == "conv":
                    x = getattr(torch.nn, f"Conv{n}d")(x.shape[1], spec["out_channels"], dtype=torch.float64, **kw)(x)
                elif kind == "tconv":
                    x = getattr(torch.nn, f"ConvTranspose{n}d")(
                        x.shape[1], spec["out_channels"], dtype=torch.float64, **kw
                    )(x)
                elif kind == "maxpool":
                    x = getattr(torch.nn, f"MaxPool{n}d")(**kw)(x)
                elif kind == "upsample":
                    x = torch.nn.Upsample(**kw)(x)
                outputs[spec.get("name", f"layer{index + 1}")] = tuple(x.shape[-dims:])
                if "match" in spec and tuple(x.shape[-dims:]) != outputs[spec["match"]]:
                    return False
        except RuntimeError:
            return False
    return True


def test_sweep_against_torch_brute_force(torch):
    """The sweep agrees with running the U-Net (and the strided decoder) in torch for every size."""
    import tomllib

    for name, (low, high) in (("unet.toml", (1, 40)), ("decoder-one-short.toml", (1, 40))):
        config = tomllib.loads((EXAMPLES / name).read_text())
        expected = [v for v in range(low, high + 1) if _torch_passes(torch, config, v)]
        assert network.sweep(config, low, high) == expected, name


def test_fix_is_right_in_torch(torch):
    """The suggested output_padding makes the failing decoder match in torch."""
    import tomllib

    config = tomllib.loads((EXAMPLES / "decoder-one-short.toml").read_text())
    report = network.check(config)
    assert report.first_failure.fix == "output_padding=1"
    config["layer"][1]["output_padding"] = 1
    assert network.check(config).ok and _torch_passes(torch, config, 64)


QUERIES = [
    {"input": [1, 3, 16, 16], "type": "tconv", "kernel_size": 4, "stride": 2, "padding": 1},
    {"input": [1, 3, 16, 16], "type": "conv", "kernel_size": 3, "stride": 2, "padding": 1, "out_channels": 8},
    {"input": [12], "dims": 1, "kernel_size": 3, "stride": 2, "padding": 1, "output_size": [24]},
    {"input": [7, 7], "type": "maxpool", "kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"input": [1, 4, 7, 7], "type": "upsample", "scale_factor": 1.5},
    {"input": [3, 3], "type": "maxunpool", "kernel_size": 2, "stride": 2, "output_size": [7, 7]},
]
EQUIVALENT_ARGS = [
    ["1x3x16x16", "-k", "4", "-s", "2", "-p", "1"],
    ["1x3x16x16", "--conv", "-k", "3", "-s", "2", "-p", "1", "--out-channels", "8"],
    ["12", "--dims", "1", "-k", "3", "-s", "2", "-p", "1", "--output-size", "24"],
    ["7x7", "--layer", "maxpool", "-k", "3", "-s", "2", "--ceil-mode"],
    ["1x4x7x7", "--layer", "upsample", "--scale-factor", "1.5"],
    ["3x3", "--layer", "maxunpool", "-k", "2", "-s", "2", "--output-size", "7x7"],
]


def test_batch_equals_one_by_one(tmp_path):
    """shape --batch gives, line by line, the documents of one-by-one shape --json, errors included in order."""
    lines = [json.dumps(q) for q in QUERIES] + ["{broken", json.dumps({"input": [5], "kernel_size": 0})]
    path = _write(tmp_path, "\n".join(lines) + "\n", "q.jsonl")
    result = invoke(["shape", "--batch", path])
    assert result.exit_code == 1  # two lines were refused; every line still got its answer
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == len(lines)
    for args, answer in zip(EQUIVALENT_ARGS, answers):
        single = invoke(["shape", *args, "--json"])
        assert single.exit_code == 0, single.stderr
        assert json.loads(single.stdout) == answer
    assert answers[-2]["exit_code"] == 2 and answers[-2]["line"] == 7
    assert answers[-1]["exit_code"] == 1 and "kernel_size=0" in answers[-1]["error"]


def test_batch_from_stdin_and_parallel_path(tmp_path, monkeypatch):
    """stdin streams; a file above the parallel threshold is answered by worker processes, in order."""
    result = invoke(["shape", "--batch", "-"], input=json.dumps(QUERIES[0]) + "\n")
    assert json.loads(result.stdout)["output_shape"] == [1, 3, 32, 32]
    monkeypatch.setattr(batch, "PARALLEL_FROM", 10)
    monkeypatch.setattr(batch, "CHUNK_LINES", 3)
    lines = [json.dumps({"input": [n], "dims": 1, "kernel_size": 2, "stride": 2}) for n in range(1, 41)]
    path = _write(tmp_path, "\n".join(lines) + "\n", "many.jsonl")
    out = tmp_path / "out.txt"
    with out.open("w") as handle:
        assert batch.batch_file(path, handle, 2) == 0
    assert [json.loads(line)["output_shape"] for line in out.read_text().splitlines()] == [
        [2 * n] for n in range(1, 41)
    ]


def test_compare_table_and_json(monkeypatch):
    """--compare shows ConvTranspose, MaxUnpool and interpolate on the same input."""
    monkeypatch.setenv("COLUMNS", "200")
    result = invoke(["shape", "1x16x32x32", "-k", "2", "-s", "2", "--compare", "--json"])
    docs = json.loads(result.stdout)
    assert [d["operation"] for d in docs] == ["conv_transpose", "maxunpool", "upsample"]
    assert all(d["output_shape"] == [1, 16, 64, 64] for d in docs)
    table = invoke(["shape", "1x16x32x32", "-k", "2", "-s", "2", "--compare"]).stdout
    assert "MaxUnpool2d(k=2, s=2)" in table and "Upsample(scale=2.0, mode=bilinear)" in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["7", "--layer", "maxpool", "-k", "2", "-p", "2"], "padding=2 must be at most half of kernel_size=2"),
        (["7", "--layer", "upsample", "--scale-factor", "0.1"], "input and output sizes must be positive"),
        (["7", "--layer", "upsample", "--mode", "linear", "--scale-factor", "2"], "mode='linear' needs 1 spatial"),
        (["3", "--layer", "maxunpool", "-k", "2", "-s", "2", "--output-size", "8"], "invalid output_size (8, 8)"),
    ],
)
def test_other_layer_refusals(args, message):
    """Pool, unpool and upsample refusals are one line with exit 1."""
    result = invoke(["shape", *args])
    assert result.exit_code == 1, result.output
    assert message in result.stderr


def test_graph_examples_pass() -> None:
    """The U-Net with concat skips and the Linear/Unflatten DCGAN pass; their totals are torch's."""
    unet = json.loads(invoke(["check", str(EXAMPLES / "unet.toml"), "--json"]).stdout)
    assert unet["ok"] and unet["total_parameters"] == 57_041
    skip = next(s for s in unet["layers"] if s["name"] == "skip2")
    assert skip["inputs"] == ["up2", "enc2_act"] and skip["output_shape"] == [1, 64, 32, 32]
    dcgan = json.loads(invoke(["check", str(EXAMPLES / "dcgan-linear.toml"), "--json"]).stdout)
    assert dcgan["ok"] and dcgan["layers"][0]["parameters"] == 100 * 8192
    assert dcgan["layers"][-1]["output_shape"] == [8, 3, 64, 64]


def _graph(tmp_path, layers: str) -> str:
    return _write(tmp_path, "input = [1, 4, 16, 16]\n" + layers)


def test_concat_mismatch_names_both_shapes(tmp_path) -> None:
    """A skip whose sizes differ fails at the concat with torch's message and both shapes (exit 1)."""
    path = _graph(
        tmp_path,
        '[[layer]]\nname = "down"\ntype = "conv"\nkernel_size = 3\nstride = 2\npadding = 1\n'
        '[[layer]]\nname = "up"\ntype = "tconv"\nkernel_size = 3\nstride = 2\npadding = 1\n'
        '[[layer]]\nname = "skip"\ntype = "concat"\nfrom = ["up", "input"]\n',
    )
    result = invoke(["check", path, "--json"])
    assert result.exit_code == 1
    skip = json.loads(result.stdout)["layers"][2]
    assert skip["status"] == "invalid"
    assert "Expected size 15 but got size 16" in skip["message"] and "[1, 4, 15, 15]" in skip["message"]


def test_independent_branches_are_checked_after_a_refusal(tmp_path) -> None:
    """A refused layer leaves what reads it not reached; a branch that does not read it is still checked."""
    path = _graph(
        tmp_path,
        '[[layer]]\nname = "bad"\ntype = "conv"\nkernel_size = 99\n'
        '[[layer]]\nname = "after_bad"\ntype = "relu"\n'
        '[[layer]]\nname = "other"\ntype = "maxpool"\nkernel_size = 2\nfrom = "input"\n'
        '[[layer]]\nname = "other_act"\ntype = "relu"\nexpect = [1, 4, 9, 9]\n',
    )
    doc = json.loads(invoke(["check", path, "--json"]).stdout)
    assert [s["status"] for s in doc["layers"]] == ["invalid", "not reached", "ok", "expect failed"]
    assert doc["layers"][3]["message"] == "expected [1, 4, 9, 9], got [1, 4, 8, 8]"


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ('[[layer]]\nname = "a"\ntype = "relu"\nfrom = "later"\n', "from='later' names no earlier layer"),
        ('[[layer]]\nname = "a"\ntype = "concat"\nfrom = "input"\n', "a join needs `from` with two or more"),
        ('[[layer]]\nname = "a"\ntype = "relu"\nfrom = ["input", "input"]\n', "only a join reads several"),
        ('[[layer]]\nname = "a"\ntype = "relu"\nfrom = 3\n', "from must be a layer name or a list"),
        ('[[layer]]\nname = "a"\ntype = "groupnorm"\n', "missing 'num_groups'"),
        ('[[layer]]\nname = "a"\ntype = "leakyrelu"\nslope = 0.2\n', "unknown key 'slope' for type 'leakyrelu'"),
    ],
)
def test_graph_usage_errors_name_the_line(tmp_path, layers: str, message: str) -> None:
    """A malformed graph is a usage error (exit 2) naming the problem and, in TOML, the key's line."""
    result = invoke(["check", _graph(tmp_path, layers)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "(line " in result.stderr


def test_several_files_exit_with_the_worst(tmp_path) -> None:
    """check A B: every file is checked; the exit code is the worst (2 > 1 > 0); --json is one document per file."""
    broken = str(EXAMPLES / "decoder-one-short.toml")
    good = str(EXAMPLES / "unet.toml")
    malformed = _write(tmp_path, "input = [1, 3, 8, 8]\n[[layer]]\ntype = 'deconv'\n")
    assert invoke(["check", good, broken]).exit_code == 1
    assert invoke(["check", good, malformed, broken]).exit_code == 2
    lines = invoke(["check", good, broken, "--json"]).stdout.splitlines()
    docs = [json.loads(line) for line in lines]
    assert [(d["file"], d["ok"]) for d in docs] == [(good, True), (broken, False)]


def test_github_annotations_point_at_the_failing_layer() -> None:
    """--format github prints one ::error workflow command per failing layer, with the file and its line."""
    import re

    path = str(EXAMPLES / "decoder-one-short.toml")
    result = invoke(["check", path, str(EXAMPLES / "unet.toml"), "--format", "github"])
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    match = re.fullmatch(r"::error file=([^,]+),line=(\d+),title=tconvcalc check::(.*)", line)
    assert match and match.group(1) == path
    assert (EXAMPLES / "decoder-one-short.toml").read_text().splitlines()[int(match.group(2)) - 1] == 'name = "dec1"'
    assert "fix: output_padding=1" in match.group(3)


def test_junit_is_valid_xml_with_a_testcase_per_layer(tmp_path) -> None:
    """--format junit: a testsuite per file, a testcase per layer, failures and skipped counted."""
    import xml.etree.ElementTree as ET

    path = _write(
        tmp_path,
        'input = [1, 4, 16, 16]\n[[layer]]\nname = "bad"\ntype = "conv"\nkernel_size = 99\n'
        '[[layer]]\nname = "after"\ntype = "relu"\n',
    )
    root = ET.fromstring(invoke(["check", path, str(EXAMPLES / "unet.toml"), "--format", "junit"]).stdout)
    first, second = root.findall("testsuite")
    assert (first.get("tests"), first.get("failures"), first.get("skipped")) == ("2", "1", "1")
    assert first.find("testcase[@name='bad']/failure").get("type") == "invalid"
    assert first.find("testcase[@name='after']/skipped") is not None
    assert second.get("failures") == "0" and len(second.findall("testcase")) == 18


def test_fix_rewrites_the_toml_keeping_comments(tmp_path) -> None:
    """--fix writes the suggested output_padding into the file, keeps its comments, and then it passes."""
    original = (EXAMPLES / "decoder-one-short.toml").read_text()
    path = tmp_path / "net.toml"
    path.write_text(original)
    result = invoke(["check", str(path), "--fix"])
    assert result.exit_code == 0, result.output
    assert "fixed layer 'dec1': output_padding=1" in result.stdout
    fixed = path.read_text()
    assert [line for line in original.splitlines() if line.startswith("#")] == [
        line for line in fixed.splitlines() if line.startswith("#")
    ]
    assert "output_padding = 1" in fixed
    assert invoke(["check", str(path)]).exit_code == 0
    json_path = tmp_path / "net.json"
    json_path.write_text("{}")
    assert invoke(["check", str(json_path), "--fix"]).exit_code == 2


def test_check_help_shows_a_config_that_passes(tmp_path) -> None:
    """check --help shows a minimal config; that config, as printed, passes check."""
    from tconvcalc.cli.check import EPILOG

    text = EPILOG.split("\n\n", 1)[1].split("\n\nExamples:")[0]
    config = "\n".join(line[2:] for line in text.splitlines())
    assert invoke(["check", _write(tmp_path, config)]).exit_code == 0
    assert "input = [1, 3, 64, 64]" in invoke(["check", "--help"]).stdout
