"""Random networks with skip connections and every layer family, built in torch and written as a config:
`check --json` gives torch's shape and parameter count for every layer, and refuses exactly where torch does."""

from __future__ import annotations

import json
import warnings
from typing import Any

from helpers import invoke
from hypothesis import given, note, settings
from hypothesis import strategies as st

ELEMENTWISE = ["relu", "leakyrelu", "gelu", "sigmoid", "tanh", "silu", "elu", "dropout", "identity", "prelu"]


@st.composite
def networks(draw: Any) -> dict[str, Any]:
    """A config: a 2-D input and 2 to 8 layers, some of them joins reading an earlier output."""
    channels = draw(st.integers(1, 4))
    size = draw(st.integers(3, 12))
    layers: list[dict[str, Any]] = []
    for index in range(draw(st.integers(2, 8))):
        kind = draw(
            st.sampled_from(
                ["conv", "tconv", "maxpool", "upsample", "batchnorm", "groupnorm", "instancenorm", "concat", "add"]
                + ELEMENTWISE
            )
        )
        layer: dict[str, Any] = {"name": f"l{index}", "type": kind}
        if kind in ("conv", "tconv"):
            layer.update(kernel_size=draw(st.integers(1, 3)), out_channels=draw(st.integers(1, 6)))
            layer.update(stride=draw(st.integers(1, 2)), padding=draw(st.integers(0, 1)))
            if kind == "tconv" and draw(st.booleans()):
                layer["output_padding"] = draw(st.integers(0, 1))
            if draw(st.integers(0, 3)) == 0:
                layer["bias"] = False
        elif kind == "maxpool":
            layer["kernel_size"] = 2
        elif kind == "upsample":
            layer.update(scale_factor=2.0, mode=draw(st.sampled_from(["nearest", "bilinear"])))
        elif kind == "groupnorm":
            layer["num_groups"] = draw(st.integers(1, 3))
        elif kind == "instancenorm" and draw(st.booleans()):
            layer["affine"] = True
        elif kind == "batchnorm" and draw(st.booleans()):
            layer["affine"] = False
        elif kind == "leakyrelu":
            layer["negative_slope"] = 0.2
        elif kind in ("concat", "add"):
            earlier = ["input"] + [f"l{i}" for i in range(index)]
            previous = earlier[-1]
            layer["from"] = [previous, draw(st.sampled_from(earlier))]
        layers.append(layer)
    return {"input": [draw(st.integers(1, 2)), channels, size, size], "dims": 2, "layer": layers}


def _torch_run(torch: Any, config: dict[str, Any]) -> list[tuple[str, list[int] | None, int | None]]:
    """Each layer's (status, output shape, parameters) in torch: 'ok', 'invalid' or 'not reached'."""
    nn = torch.nn
    outputs: dict[str, Any] = {"input": torch.zeros(config["input"], dtype=torch.float64)}
    previous = "input"
    rows: list[tuple[str, list[int] | None, int | None]] = []
    failed = False
    for layer in config["layer"]:
        if failed:
            rows.append(("not reached", None, None))
            continue
        kind, x = layer["type"], outputs[previous]
        args = {k: v for k, v in layer.items() if k not in ("name", "type", "from", "out_channels")}
        module: Any = None
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                if kind == "conv":
                    module = nn.Conv2d(x.shape[1], layer["out_channels"], dtype=torch.float64, **args)
                elif kind == "tconv":
                    module = nn.ConvTranspose2d(x.shape[1], layer["out_channels"], dtype=torch.float64, **args)
                elif kind == "maxpool":
                    module = nn.MaxPool2d(**args)
                elif kind == "upsample":
                    module = nn.Upsample(**args)
                elif kind == "batchnorm":
                    module = nn.BatchNorm2d(x.shape[1], dtype=torch.float64, **args)  # training mode, as built
                elif kind == "instancenorm":
                    module = nn.InstanceNorm2d(x.shape[1], dtype=torch.float64, **args)
                elif kind == "groupnorm":
                    module = nn.GroupNorm(args["num_groups"], x.shape[1], dtype=torch.float64)
                elif kind == "prelu":
                    module = nn.PReLU(dtype=torch.float64)
                elif kind in ("concat", "add"):
                    a, b = (outputs[name] for name in layer["from"])
                    y = torch.cat([a, b], dim=1) if kind == "concat" else a + b
                else:
                    names = {"relu": "ReLU", "leakyrelu": "LeakyReLU", "gelu": "GELU", "silu": "SiLU", "elu": "ELU"}
                    module = getattr(nn, names.get(kind, kind.capitalize()))(**args)
                if module is not None:
                    y = module(x)
        except (RuntimeError, ValueError):
            rows.append(("invalid", None, None))
            failed = True
            continue
        outputs[layer["name"]] = y
        previous = layer["name"]
        params = 0 if module is None else sum(p.numel() for p in module.parameters())
        rows.append(("ok", list(y.shape), params))
    return rows


@settings(max_examples=120, deadline=None)
@given(networks())
def test_check_gives_torchs_shapes_and_parameters(torch: Any, config: dict[str, Any]) -> None:
    """Every layer: torch's output shape and parameter count; the first layer torch refuses is 'invalid'."""
    note(json.dumps(config))
    result = invoke(["check", "-", "--json"], json.dumps(config))
    assert result.exit_code in (0, 1), result.output
    ours = [(s["status"], s["output_shape"], s["parameters"]) for s in json.loads(result.stdout)["layers"]]
    expected = _torch_run(torch, config)
    for mine, theirs in zip(ours, expected):
        if theirs[0] == "ok":
            assert mine == theirs, (ours, expected)
        else:
            assert mine[0] == theirs[0], (ours, expected)
    assert (result.exit_code == 0) == all(row[0] == "ok" for row in expected)
