"""`check MODEL.onnx`: random networks with skips, exported by torch.onnx.export into tmp_path, must check to
ONNX Runtime's real output shape at every node, with the parameters of the initializers; a node torch and ONNX
Runtime refuse for another input size is 'invalid' (exit 1); what PyTorch cannot express is exit 2 naming the
node; and `--emit toml` pins the model as a config that checks to the same shapes."""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from helpers import invoke
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@st.composite
def graphs(draw: Any) -> dict[str, Any]:
    """A small 2-D network as a list of ops, some reading an earlier output (concat, add skips)."""
    channels = draw(st.integers(1, 3))
    size = draw(st.integers(6, 16))
    ops: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 7))):
        kind = draw(
            st.sampled_from(
                ["conv", "conv", "tconv", "tconv", "maxpool", "avgpool", "upsample", "bn", "act", "join", "join"]
            )
        )
        op: dict[str, Any] = {"kind": kind}
        if kind in ("conv", "tconv"):
            op.update(out=draw(st.integers(1, 4)), k=draw(st.integers(1, 4)), s=draw(st.integers(1, 2)))
            op.update(p=draw(st.integers(0, 1)), d=draw(st.integers(1, 2)), bias=draw(st.booleans()))
            if kind == "tconv":
                op["op"] = draw(st.integers(0, 1))
        elif kind in ("maxpool", "avgpool"):
            op.update(k=draw(st.integers(1, 3)), s=draw(st.integers(1, 2)), ceil=draw(st.booleans()))
            op["p"] = draw(st.integers(0, op["k"] // 2))
        elif kind == "upsample":
            op.update(
                mode=draw(st.sampled_from(["nearest", "bilinear", "bilinear-ac"])),
                scale=draw(st.sampled_from([2.0, 1.5, 0.5])),
            )
        elif kind == "act":
            op["fn"] = draw(st.sampled_from(["relu", "leaky", "sigmoid", "tanh", "silu", "gelu", "relu6", "elu"]))
        elif kind == "join":
            op.update(how=draw(st.sampled_from(["cat", "add"])), other=draw(st.integers(-1, index - 1)))
        ops.append(op)
    return {"input": [1, channels, size, size], "ops": ops}


def _module(torch: Any, spec: dict[str, Any]) -> Any:
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mods = nn.ModuleList()
            self.plan: list[tuple[str, Any]] = []
            x = torch.zeros(spec["input"])
            outs = [x]
            for op in spec["ops"]:
                c = x.shape[1]
                kind = op["kind"]
                if kind == "conv":
                    m = nn.Conv2d(c, op["out"], op["k"], op["s"], op["p"], op["d"], bias=op["bias"])
                elif kind == "tconv":
                    m = nn.ConvTranspose2d(
                        c, op["out"], op["k"], op["s"], op["p"], op["op"], dilation=op["d"], bias=op["bias"]
                    )
                elif kind == "maxpool":
                    m = nn.MaxPool2d(op["k"], op["s"], op["p"], ceil_mode=op["ceil"])
                elif kind == "avgpool":
                    m = nn.AvgPool2d(op["k"], op["s"], op["p"], ceil_mode=op["ceil"])
                elif kind == "upsample":
                    mode = op["mode"].replace("-ac", "")
                    m = nn.Upsample(
                        scale_factor=op["scale"], mode=mode, align_corners=True if "-ac" in op["mode"] else None
                    )
                elif kind == "bn":
                    m = nn.BatchNorm2d(c)
                elif kind == "act":
                    m = {
                        "relu": nn.ReLU(), "leaky": nn.LeakyReLU(0.2), "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(),
                        "silu": nn.SiLU(), "gelu": nn.GELU(), "relu6": nn.ReLU6(), "elu": nn.ELU(0.5),
                    }[op["fn"]]  # fmt: skip
                else:
                    m = None
                with torch.no_grad():
                    if m is not None:
                        self.mods.append(m)
                        y = m(x)
                        self.plan.append(("mod", len(self.mods) - 1))
                    else:
                        other = outs[op["other"] + 1]
                        y = torch.cat([x, other], 1) if op["how"] == "cat" else x + other
                        self.plan.append((op["how"], op["other"] + 1))
                outs.append(y)
                x = y

        def forward(self, x: Any) -> Any:
            outs = [x]
            for what, arg in self.plan:
                if what == "mod":
                    x = self.mods[arg](x)
                elif what == "cat":
                    x = torch.cat([x, outs[arg]], 1)
                else:
                    x = x + outs[arg]
                outs.append(x)
            return x

    return Net().eval()


def _export(torch: Any, model: Any, shape: list[int], path: Path, dynamic: bool = False) -> None:
    kw: dict[str, Any] = {"input_names": ["x"]}
    if dynamic:
        kw["dynamic_axes"] = {"x": {0: "N", 2: "H", 3: "W"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(shape),), str(path), dynamo=False, **kw)


def _ort_shapes(path: Path, shape: list[int]) -> dict[str, list[int]]:
    """ONNX Runtime's shape of every node's first output, for a real input of ``shape``."""
    import numpy as np

    model = onnx.load(str(path))
    names = [n.output[0] for n in model.graph.node if n.output and n.op_type != "Constant"]
    known = {o.name for o in model.graph.output}
    for name in names:
        if name not in known:
            model.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    values = session.run(outputs, {"x": np.random.default_rng(0).random(shape, dtype=np.float32)})
    return {name: list(v.shape) for name, v in zip(outputs, values)}


def _parameters(path: Path) -> int:
    """The learned numbers each node reads from the initializers (the exporter shares equal initializers through
    Identity nodes, so they are counted per node): weights and biases, and BatchNormalization's scale and shift,
    not its running statistics."""
    model = onnx.load(str(path))
    sizes = {t.name: int(onnx.numpy_helper.to_array(t).size) for t in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Identity" and n.input[0] in sizes:
            sizes[n.output[0]] = sizes[n.input[0]]
    reads = {"Conv": (1, 2), "ConvTranspose": (1, 2), "Gemm": (1, 2), "BatchNormalization": (1, 2), "PRelu": (1,)}
    return sum(sizes.get(n.input[i], 0) for n in model.graph.node for i in reads.get(n.op_type, ()) if i < len(n.input))


@settings(
    max_examples=int(os.environ.get("TCONVCALC_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(graphs())
def test_every_node_has_onnx_runtimes_shape(torch: Any, tmp_path_factory: Any, spec: dict[str, Any]) -> None:
    """Every node of a random exported network: tconvcalc's shape is ONNX Runtime's; the parameters are the
    initializers'; and the emitted TOML checks to the same shapes."""
    note(json.dumps(spec))
    try:
        model = _module(torch, spec)
    except (RuntimeError, ValueError):
        return  # torch refuses it: nothing to export
    path = tmp_path_factory.mktemp("onnx") / "net.onnx"
    _export(torch, model, spec["input"], path)
    result = invoke(["check", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    if any(op["kind"] == "tconv" and op["op"] >= op["s"] for op in spec["ops"]):  # ONNX Runtime refuses these
        assert any("ONNX Runtime 1.32 refuses output_padding" in n for n in doc["notes"])
        return
    expected = _ort_shapes(path, spec["input"])
    from tconvcalc.io import onnxmodel

    producers = onnxmodel.convert(path.read_bytes(), str(path)).producers
    ours = {s["name"]: s["output_shape"] for s in doc["layers"]}
    for tensor, shape in expected.items():
        if tensor in producers:
            assert ours[producers[tensor]] == shape, (tensor, producers[tensor])
    assert doc["total_parameters"] == _parameters(path)
    config = tomllib.loads(invoke(["check", str(path), "--emit", "toml"]).stdout)
    again = json.loads(invoke(["check", "-", "--json"], json.dumps(config)).stdout)
    assert again["ok"] and [s["output_shape"] for s in again["layers"]] == [s["output_shape"] for s in doc["layers"]]


class _UNet:
    """A small U-Net with a concat skip, exported with a dynamic batch and spatial size."""

    @staticmethod
    def build(torch: Any) -> Any:
        nn = torch.nn

        class UNet(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.enc1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
                self.enc2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
                self.up = nn.ConvTranspose2d(16, 8, 2, 2)
                self.dec = nn.Sequential(nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 1))

            def forward(self, x: Any) -> Any:
                a = self.enc1(x)
                return self.dec(torch.cat([self.up(self.enc2(a)), a], 1))

        return UNet().eval()


@pytest.fixture(scope="module")
def unet(torch: Any, tmp_path_factory: Any) -> Path:
    path = tmp_path_factory.mktemp("unet") / "unet.onnx"
    _export(torch, _UNet.build(torch), [1, 3, 32, 32], path, dynamic=True)
    return path


def test_dynamic_dimensions_need_input_and_an_odd_size_fails_where_onnx_runtime_does(unet: Path) -> None:
    """--input gives the dynamic sizes; an odd size fails at the concat in tconvcalc and in ONNX Runtime."""
    missing = invoke(["check", str(unet)])
    assert (
        missing.exit_code == 2 and "dynamic dimension 'N'" in missing.output and "--input 1x3x64x64" in missing.output
    )
    assert invoke(["check", str(unet), "--input", "2x3x64x48"]).exit_code == 0
    odd = invoke(["check", str(unet), "--input", "1x3x33x32", "--json"])
    assert odd.exit_code == 1
    doc = json.loads(odd.stdout)
    assert doc["first_failure"] == "/Concat" and doc["ok"] is False
    with pytest.raises(Exception, match="Concat"):
        _ort_shapes(unet, [1, 3, 33, 32])
    fixed = invoke(["check", str(unet), "--input", "1x4x32x32"])
    assert fixed.exit_code == 2 and "fixes at 3" in fixed.output


def test_onnx_is_recognised_from_its_content_on_stdin_and_as_txt(unet: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "model.txt"
    renamed.write_bytes(unet.read_bytes())
    from_file = invoke(["check", str(renamed), "--input", "1x3x16x16", "--json"])
    from_stdin = invoke(["check", "-", "--input", "1x3x16x16", "--json"], unet.read_bytes())
    assert json.loads(from_file.stdout)["format"] == "onnx"
    assert json.loads(from_file.stdout)["layers"] == json.loads(from_stdin.stdout)["layers"]


def test_without_the_onnx_package_exit_2_with_the_pip_command(unet: Path, monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    result = invoke(["check", str(unet), "--input", "1x3x16x16"])
    assert result.exit_code == 2
    assert "pip install 'tconvcalc[onnx]'" in result.output


def _node_model(tmp_path: Path, node: Any, weight: list[int], out: list[int]) -> Path:
    helper = onnx.helper
    import numpy as np

    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 2, 8, 8])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, out)],
        [onnx.numpy_helper.from_array(np.ones(weight, dtype=np.float32), "w")],
    )
    path = tmp_path / "m.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


def test_what_pytorch_cannot_express_is_exit_2_naming_the_node(tmp_path: Path) -> None:
    """A Conv padded more at the start than PyTorch's padding='same' can: exit 2, the node named; a ConvTranspose
    whose asymmetric pads PyTorch can express (padding plus output_padding) is checked like ONNX Runtime."""
    conv = onnx.helper.make_node("Conv", ["x", "w"], ["y"], name="left_heavy", kernel_shape=[2, 2], pads=[1, 1, 0, 0])
    result = invoke(["check", str(_node_model(tmp_path, conv, [3, 2, 2, 2], [1, 3, 9, 9]))])
    assert result.exit_code == 2 and "node 'left_heavy' (Conv)" in result.output
    same = onnx.helper.make_node("Conv", ["x", "w"], ["y"], name="same", kernel_shape=[2, 2], pads=[0, 0, 1, 1])
    assert json.loads(invoke(["check", str(_node_model(tmp_path, same, [3, 2, 2, 2], [1, 3, 8, 8])), "--json"]).stdout)[
        "layers"
    ][0]["output_shape"] == [1, 3, 8, 8]
    tconv = onnx.helper.make_node(
        "ConvTranspose", ["x", "w"], ["y"], name="up", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 0, 0]
    )
    path = _node_model(tmp_path, tconv, [2, 3, 3, 3], [1, 3, 16, 16])
    doc = json.loads(invoke(["check", str(path), "--json"]).stdout)
    assert doc["layers"][0]["output_shape"] == [1, 3, 16, 16]
    assert doc["layers"][0]["summary"] == "ConvTranspose2d(k=3, s=2, p=1, op=1, bias=False)"
    session = ort.InferenceSession(path.read_bytes(), providers=["CPUExecutionProvider"])
    import numpy as np

    assert list(session.run(None, {"x": np.zeros([1, 2, 8, 8], dtype=np.float32)})[0].shape) == [1, 3, 16, 16]
    pad = onnx.helper.make_node("Pad", ["x", "w"], ["y"], name="pad")
    result = invoke(["check", str(_node_model(tmp_path, pad, [8], [1, 2, 10, 10]))])
    assert result.exit_code == 2 and "node 'pad' (Pad)" in result.output


def test_a_file_too_large_is_refused(unet: Path, monkeypatch: Any) -> None:
    """A model over the read limit is refused before it is parsed, as every bound: exit 1, naming the limit."""
    from tconvcalc.io import sources

    monkeypatch.setattr(sources, "MODEL_LIMIT", 100)
    result = invoke(["check", str(unet)])
    assert result.exit_code == 1 and "100 B" in result.output, result.output
