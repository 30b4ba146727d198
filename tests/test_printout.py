"""`check PRINTOUT --input SIZE`: what print(model) prints for random (nested) torch Sequentials, checked with
torch's shape and parameter count at every module, and the refusal at the module where torch refuses; and
`--emit toml`, whose config checks to the same shapes."""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections import OrderedDict
from typing import Any

import pytest
from helpers import invoke
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from tconvcalc.io import printout

ACTIVATIONS = ["ReLU", "LeakyReLU", "Tanh", "GELU", "SiLU", "Sigmoid", "Hardtanh", "Softplus", "Softshrink", "ELU"]


@st.composite
def sequentials(draw: Any) -> tuple[list[Any], list[int]]:
    """A recipe for an nn.Sequential: (class name, args, kwargs) or ("Sequential", [children], named), and its
    input; channel counts usually follow the data (and sometimes do not, where torch refuses)."""
    dims = draw(st.sampled_from([1, 2, 2, 3]))
    channels = draw(st.integers(1, 4))
    size = draw(st.integers(2, {1: 24, 2: 12, 3: 6}[dims]))
    shape = [draw(st.integers(1, 2)), channels] + [size] * dims
    nd = f"{dims}d"

    def layer(c: int) -> tuple[tuple[str, list[Any], dict[str, Any]], int]:
        kind = draw(
            st.sampled_from(
                ["Conv", "Conv", "ConvTranspose", "ConvTranspose", "MaxPool", "AvgPool", "Upsample", "BatchNorm"]
                + ["InstanceNorm", "GroupNorm", "PReLU", "Dropout", "Identity", "Flat"]
                + ACTIVATIONS
            )
        )
        if kind in ("Conv", "ConvTranspose"):
            cin = c if draw(st.integers(0, 9)) else c + 1  # sometimes the wrong in_channels
            groups = draw(st.sampled_from([1, 1, 1, 2]))
            cout = draw(st.integers(1, 3)) * groups
            if cin % groups:
                groups = 1
            kw: dict[str, Any] = {"kernel_size": draw(st.integers(1, 4)), "stride": draw(st.integers(1, 3))}
            kw.update(padding=draw(st.integers(0, 2)), dilation=draw(st.integers(1, 2)), groups=groups)
            kw["bias"] = draw(st.booleans())
            if kind == "ConvTranspose" and draw(st.booleans()):
                kw["output_padding"] = draw(st.integers(0, 1))
            if kind == "Conv" and draw(st.integers(0, 4)) == 0:
                kw["padding_mode"] = draw(st.sampled_from(["reflect", "replicate", "circular"]))
            return (f"{kind}{nd}", [cin, cout], kw), cout
        if kind == "MaxPool":
            kw = {"kernel_size": draw(st.integers(1, 3)), "stride": draw(st.integers(1, 2))}
            kw.update(padding=draw(st.integers(0, 1)), ceil_mode=draw(st.booleans()))
            return (f"MaxPool{nd}", [], kw), c
        if kind == "AvgPool":  # its printout hides ceil_mode: the default is what is read
            kw = {"kernel_size": draw(st.integers(1, 3)), "stride": draw(st.integers(1, 2))}
            return (f"AvgPool{nd}", [], {**kw, "padding": draw(st.integers(0, 1))}), c
        if kind == "Upsample":
            mode = draw(st.sampled_from(["nearest", {1: "linear", 2: "bilinear", 3: "trilinear"}[dims]]))
            return ("Upsample", [], {"scale_factor": draw(st.sampled_from([2.0, 1.5, 0.5])), "mode": mode}), c
        if kind in ("BatchNorm", "InstanceNorm"):
            features = c if draw(st.integers(0, 9)) else c + 1
            kw = {"affine": draw(st.booleans())} if kind == "InstanceNorm" else {"bias": draw(st.booleans())}
            return (f"{kind}{nd}", [features], kw), c
        if kind == "GroupNorm":
            return ("GroupNorm", [draw(st.sampled_from([1, 2])), c], {}), c
        if kind == "PReLU":
            return ("PReLU", [], {"num_parameters": draw(st.sampled_from([1, c]))}), c
        if kind == "Dropout":
            return (f"Dropout{draw(st.sampled_from(['', nd]))}", [], {"p": 0.25}), c
        if kind == "Flat":  # Flatten -> Linear -> Unflatten back to the same rank
            return ("Flat", [], {}), c
        args = {"LeakyReLU": [0.2], "Hardtanh": [-2.0, 2.0], "Softplus": [2], "Softshrink": [0.3], "ELU": [0.5]}
        return (kind, args.get(kind, []), {}), c

    def block(c: int, depth: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        for _ in range(draw(st.integers(1, 4))):
            if depth < 2 and draw(st.integers(0, 4)) == 0:
                inner, c = block(c, depth + 1)
                items.append(("Sequential", inner, draw(st.booleans())))
            else:
                item, c = layer(c)
                items.append(item)
        return items, c

    recipe, _ = block(channels, 0)
    return recipe, shape


def _build(nn: Any, recipe: list[Any], shape: list[int], named: bool = False) -> Any:
    modules: list[Any] = []
    for name, args, kw in recipe:
        if name == "Sequential":
            modules.append(_build(nn, args, shape, kw))
        elif name == "Flat":
            features = 1
            for v in shape[1:]:
                features *= v
            modules.append(("Flat", features))
        else:
            modules.append(getattr(nn, name)(*args, **kw))
    return _sequential(nn, modules, named)


def _sequential(nn: Any, modules: list[Any], named: bool) -> Any:
    out: list[Any] = []
    for m in modules:
        if isinstance(m, tuple):  # Flatten, Linear to a smaller width, Unflatten to whatever it was
            out.append(nn.Sequential(nn.Flatten(), nn.Linear(m[1], m[1], bias=False), nn.Identity()))
        else:
            out.append(m)
    if named:
        return nn.Sequential(OrderedDict((f"block{i}", m) for i, m in enumerate(out)))
    return nn.Sequential(*out)


def _torch_run(torch: Any, model: Any, shape: list[int]) -> list[tuple[str, list[int] | None, int | None]]:
    """Each leaf's (status, output shape, parameters) in printed order, running the model as torch does."""
    leaves = [m for m in model.modules() if not list(m.children())]
    seen: list[Any] = []
    hooks = [leaf.register_forward_hook(lambda m, i, o: seen.append(o.shape)) for leaf in leaves]
    failed = False
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            model.train()
            model.double()  # torch decides validity in float64 (float32 through oneDNN skips checks: README)
            model(torch.zeros(shape, dtype=torch.float64))
    except (RuntimeError, ValueError, IndexError):
        failed = True
    for hook in hooks:
        hook.remove()
    rows: list[tuple[str, list[int] | None, int | None]] = []
    for index, leaf in enumerate(leaves):
        if index < len(seen):
            rows.append(("ok", list(seen[index]), sum(p.numel() for p in leaf.parameters())))
        elif index == len(seen) and failed:
            rows.append(("invalid", None, None))
        else:
            rows.append(("not reached", None, None))
    return rows


def _fix_flat(model: Any, torch: Any, shape: list[int]) -> Any:
    """Make each Flatten -> Linear -> Identity triple end with the Unflatten that restores the shape it got, one
    at a time in forward order (each fix changes what the next one sees)."""
    nn = torch.nn
    triples = [
        m for m in model.modules() if isinstance(m, nn.Sequential) and len(m) == 3 and isinstance(m[0], nn.Flatten)
    ]
    for triple in triples:
        seen: list[Any] = []
        hook = triple[0].register_forward_pre_hook(lambda module, inputs, seen=seen: seen.append(inputs[0].shape))
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                model.double()(torch.zeros(shape, dtype=torch.float64))
        except (RuntimeError, ValueError, IndexError):
            pass
        hook.remove()
        if not seen:
            break  # torch refuses before it: the rest is not reached anyway
        before = seen[0]
        features = 1
        for v in before[1:]:
            features *= v
        triple[1] = nn.Linear(features, features, bias=False)
        triple[2] = nn.Unflatten(1, tuple(before[1:]))
    return model


@settings(max_examples=int(os.environ.get("TCONVCALC_EXAMPLES", "60")), deadline=None)
@given(sequentials())
def test_printout_checks_to_torchs_shapes_and_parameters(torch: Any, recipe: Any) -> None:
    """Every printed leaf module: torch's output shape and parameter count; where torch refuses, 'invalid'."""
    layers, shape = recipe
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = _fix_flat(_build(torch.nn, layers, shape), torch, shape)
        except (ValueError, RuntimeError):  # torch refuses to build it (e.g. groups): nothing to print
            return
    text = str(model)
    note(text)
    result = invoke(["check", "-", "--json", "--input", "x".join(map(str, shape))], text)
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    assert doc["format"] == "printout" and any("not the forward" in n for n in doc["notes"])
    ours = [(s["status"], s["output_shape"], s["parameters"]) for s in doc["layers"]]
    expected = _torch_run(torch, model, shape)
    event(f"{sum(row[0] == 'ok' for row in expected)} of {len(expected)} modules ran; exit {result.exit_code}")
    assert len(ours) == len(expected)
    for mine, theirs in zip(ours, expected):
        if theirs[0] == "ok":
            assert mine == theirs, (ours, expected)
        else:
            assert mine[0] == theirs[0], (ours, expected)
    emitted = invoke(["check", "-", "--emit", "toml", "--input", "x".join(map(str, shape))], text)
    assert emitted.exit_code == result.exit_code
    config = tomllib.loads(emitted.stdout)
    again = json.loads(invoke(["check", "-", "--json"], json.dumps(config)).stdout)
    assert [s["output_shape"] for s in again["layers"]] == [s["output_shape"] for s in doc["layers"]]
    assert [s["parameters"] for s in again["layers"]] == [s["parameters"] for s in doc["layers"]]


DCGAN = """Generator(
  (main): Sequential(
    (0): Linear(in_features=100, out_features=8192, bias=False)
    (1): Unflatten(dim=1, unflattened_size=(512, 4, 4))
    (2): BatchNorm2d(512, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (3): ReLU(inplace=True)
    (4): ConvTranspose2d(512, 256, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)
    (5): BatchNorm2d(256, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (6): ReLU(inplace=True)
    (7): Upsample(scale_factor=2.0, mode='nearest')
    (8): ConvTranspose2d(256, 3, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
    (9): Tanh()
  )
)
"""


def test_a_custom_module_is_read_in_printed_order_with_a_note(tmp_path: Any) -> None:
    """A printout in a file named anything: recognised by its content, named children, a note that a custom
    module's forward is not shown, and the GitHub annotation on the printed line."""
    path = tmp_path / "generator.toml"  # the suffix does not matter
    path.write_text(DCGAN)
    result = invoke(["check", str(path), "--input", "8x100", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [s["name"] for s in doc["layers"]][:3] == ["main.0", "main.1", "main.2"]
    assert doc["layers"][-1]["output_shape"] == [8, 3, 16, 16]
    assert any("Generator is not an nn.Sequential" in n for n in doc["notes"])
    text = invoke(["check", str(path), "--input", "8x100"]).stdout
    assert text.startswith("note: a printout shows the modules, not the forward")
    bad = DCGAN.replace("ConvTranspose2d(256, 3", "ConvTranspose2d(128, 3")
    path.write_text(bad)
    github = invoke(["check", str(path), "--input", "8x100", "--format", "github"])
    assert github.exit_code == 1
    assert f"file={path},line=11," in github.stdout and "in_channels=128" in github.stdout


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        (DCGAN, [], "a printout does not show the input shape: give --input"),
        (
            "Sequential(\n  (0): ZeroPad2d((1, 1, 1, 1))\n)\n",
            ["--input", "1x1x4x4"],
            "line 2: ZeroPad2d is not a layer",
        ),
        ("Sequential(\n  (0): ReLU()\n", ["--input", "1x1x4x4"], "a ')' is missing"),
        (
            "Sequential(\n  (0): Conv2d(1, 1, kernel_size=(3, 3), stride=(1, 1)\n)\n",
            ["--input", "1x1x4x4"],
            "ends inside",
        ),
        ("Conv2d(1, 1, kernel_size=__import__('os'))\n", ["--input", "1x1x4x4"], "cannot read the value"),
    ],
)
def test_malformed_printouts_exit_2_naming_the_line(text: str, args: list[str], message: str) -> None:
    result = invoke(["check", "-", *args], text)
    assert result.exit_code == 2
    assert message in result.output


def test_values_are_read_without_eval() -> None:
    """Only literals: a call in an argument is not a value, bare words are strings."""
    module = printout.parse("Conv2d(3, 8, kernel_size=(3, 3), padding=same, padding_mode=reflect)")
    assert module.args == [3, 8] and module.kwargs == {
        "kernel_size": [3, 3],
        "padding": "same",
        "padding_mode": "reflect",
    }
    with pytest.raises(Exception, match="cannot read the value"):
        printout.parse("Conv2d(3, 8, kernel_size=open('x'))")


def test_module_list_repeats_and_upsampling_bilinear(torch: Any) -> None:
    """ModuleList's "(0-2): 3 x Module(...)" and UpsamplingBilinear2d (align_corners=True, not printed)."""
    nn = torch.nn
    model = nn.Sequential(
        nn.ModuleList([nn.Conv2d(2, 2, 3, padding=1) for _ in range(3)]), nn.UpsamplingBilinear2d(scale_factor=2)
    )
    doc = json.loads(invoke(["check", "-", "--json", "--input", "1x2x5x5"], str(model)).stdout)
    assert [s["name"] for s in doc["layers"]] == ["0.0", "0.1", "0.2", "1"]
    assert doc["layers"][-1]["output_shape"] == [1, 2, 10, 10] and doc["total_parameters"] == 3 * 38
    assert any("ModuleList (0) is not an nn.Sequential" in n for n in doc["notes"])
    config = tomllib.loads(invoke(["check", "-", "--emit", "toml", "--input", "1x2x5x5"], str(model)).stdout)
    assert config["layer"][-1] == {
        "name": "1",
        "type": "upsample",
        "scale_factor": 2.0,
        "mode": "bilinear",
        "align_corners": True,
        "expect": [1, 2, 10, 10],
    }


def test_in_channels_and_norm_bias_are_checked_as_torch_builds_them(torch: Any) -> None:
    """A config (or printout) may give a Conv's in_channels, which must be the input's channel count; a norm's
    bias=False halves its parameters (PyTorch 2.x)."""
    config = {
        "input": [1, 3, 8, 8],
        "layer": [
            {"type": "conv", "in_channels": 4, "out_channels": 2, "kernel_size": 3},
            {"type": "batchnorm", "bias": False, "from": "input"},
        ],
    }
    doc = json.loads(invoke(["check", "-", "--json"], json.dumps(config)).stdout)
    assert doc["layers"][0]["status"] == "invalid" and "in_channels=4 but the input" in doc["layers"][0]["message"]
    with pytest.raises(RuntimeError, match="expected input.*to have 4 channels"):
        torch.nn.Conv2d(4, 2, 3)(torch.zeros(1, 3, 8, 8))
    assert doc["layers"][1]["parameters"] == sum(p.numel() for p in torch.nn.BatchNorm2d(3, bias=False).parameters())
