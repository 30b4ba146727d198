"""The model-file examples (scripts/gen_model_examples.py): the printout is what torch prints for the DCGAN it
builds, and checks to torch's shapes and parameters; the ONNX U-Net checks to ONNX Runtime's shapes."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import invoke

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _script(torch: Any) -> Any:
    spec = importlib.util.spec_from_file_location("gen_model_examples", ROOT / "scripts" / "gen_model_examples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("name", "builder", "size"),
    [("dcgan-printout.txt", "dcgan", "8x100"), ("vae-decoder-printout.txt", "vae_decoder", "4x16")],
)
def test_the_printout_examples_are_torchs_and_check_to_its_shapes(
    torch: Any, name: str, builder: str, size: str
) -> None:
    script = _script(torch)
    assert (EXAMPLES / "decoder-printout.txt").read_text() == str(script.decoder()) + "\n"
    model = getattr(script, builder)()
    assert (EXAMPLES / name).read_text() == str(model) + "\n"
    doc = json.loads(invoke(["check", str(EXAMPLES / name), "--input", size, "--json"]).stdout)
    assert doc["ok"] is True
    leaves = [m for m in model.modules() if not list(m.children())]
    shapes: list[list[int]] = []
    hooks = [leaf.register_forward_hook(lambda m, i, o: shapes.append(list(o.shape))) for leaf in leaves]
    with torch.no_grad():
        model(torch.zeros(*map(int, size.split("x"))))
    for hook in hooks:
        hook.remove()
    assert [s["output_shape"] for s in doc["layers"]] == shapes
    assert [s["parameters"] for s in doc["layers"]] == [sum(p.numel() for p in m.parameters()) for m in leaves]


@pytest.mark.parametrize("shape", [[1, 3, 64, 64], [2, 3, 48, 80]])
def test_the_onnx_example_checks_to_onnx_runtimes_shapes(shape: list[int]) -> None:
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    path = EXAMPLES / "unet-tiny.onnx"
    doc = json.loads(invoke(["check", str(path), "--input", "x".join(map(str, shape)), "--json"]).stdout)
    model = onnx.load(str(path))
    tensors = [n.output[0] for n in model.graph.node]
    for name in tensors:
        if name not in {o.name for o in model.graph.output}:
            model.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    values = session.run(names, {"image": np.zeros(shape, dtype=np.float32)})
    real = dict(zip(names, (list(v.shape) for v in values)))
    by_node = {n.name: real[n.output[0]] for n in model.graph.node}
    assert doc["ok"] and all(s["output_shape"] == by_node[s["name"]] for s in doc["layers"])
    assert sys.modules.get("onnx") is not None
