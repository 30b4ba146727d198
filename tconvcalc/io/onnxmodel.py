"""Reading an ONNX model (as ``torch.onnx.export`` writes it) as a config for ``check``.

The graph is walked in its (topological) order. Each node that computes on the network's activations becomes a
layer of the config, with its ONNX attributes mapped to PyTorch's constructor arguments and its weights' sizes
read from the initializers (``kernel_shape`` from the weight, ``out_channels`` from its first axis...); the
nodes that compute on constants and shapes (``Shape``, ``Gather``, ``Concat`` of sizes, ``Constant``...) are
evaluated, so that a ``Reshape`` or a ``Resize`` gets its target. Whatever PyTorch cannot express exactly
(asymmetric padding of a Conv, an ONNX Resize mode torch has no mode for) is a usage error naming the node.

The shapes along the way come from the same core as ``check`` (:func:`tconvcalc.core.model.apply_layer`); the
config then goes through ``check`` like any other. The ``onnx`` package is needed (``tconvcalc[onnx]``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tconvcalc.core import conventions
from tconvcalc.core.blocks import AddSpec, ConcatSpec, join
from tconvcalc.core.errors import TConvError, UsageError
from tconvcalc.core.model import apply_layer, parse_layer
from tconvcalc.core.network import COMMON
from tconvcalc.core.tensor import TensorShape

PIP = "pip install 'tconvcalc[onnx]'"
UNARY = {
    "Relu": "relu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Selu": "selu",
    "Softsign": "softsign",
    "Softplus": "softplus",
    "Mish": "mish",
    "HardSwish": "hardswish",
}
SHAPE_PRESERVING = {  # element-wise ops with no PyTorch layer of their own: identity, for shapes
    "Identity", "Cast", "CastLike", "Erf", "Exp", "Log", "Sqrt", "Abs", "Neg", "Reciprocal", "Floor", "Ceil",
    "Round", "Sign", "Sin", "Cos", "Not", "Relu6", "ThresholdedRelu", "Shrink", "HardSigmoid", "IsNaN", "IsInf",
}  # fmt: skip
BINARY = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mean", "Sum", "PRelu"}


@dataclass
class Converted:
    """An ONNX model as a config, with notes for the user and the layers whose outputs are the model's."""

    config: dict[str, Any]
    notes: list[str]
    outputs: list[str]
    producers: dict[str, str]  # each activation tensor -> the layer that writes it ("input": the input)


def convert(data: bytes, path: str, input_shape: tuple[int, ...] | None = None) -> Converted:
    """The config of an ONNX model's bytes. ``input_shape`` (``--input``) gives the dynamic dimensions of the
    model's input (and must agree with its fixed ones)."""
    try:
        import onnx
    except ImportError:
        raise UsageError(f"{path}: reading ONNX models needs the onnx package: {PIP}") from None
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise UsageError(f"{path}: not an ONNX model ({type(exc).__name__}: {str(exc)[:100]})") from None
    try:
        return _Graph(model, path, input_shape).convert()
    except RecursionError:
        raise UsageError(f"{path}: the model's constants are computed through too long a chain of nodes") from None


class _NotExpressible(UsageError):
    pass


class _Graph:
    def __init__(self, model: Any, path: str, input_shape: tuple[int, ...] | None) -> None:
        self.model, self.graph, self.path = model, model.graph, path
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
        self.initializers = {t.name: t for t in self.graph.initializer}
        self.constants: dict[str, Any] = {}  # name -> TensorProto (initializers, Constant nodes)
        self.makers: dict[str, Any] = {}  # name -> the node computing this constant or shape value
        self.values: dict[str, Any] = {}  # evaluated constants (numpy arrays)
        self.producer: dict[str, str] = {}  # activation tensor -> the layer that writes it
        self.shapes: dict[str, TensorShape | None] = {}  # layer -> output shape (None: it fails)
        self.layers: list[dict[str, Any]] = []
        self.names: set[str] = {"input"}
        self.notes: list[str] = []
        self.indices: set[str] = set()  # MaxPool indices, read by MaxUnpool
        self.linear_from_matmul: dict[str, dict[str, Any]] = {}
        self.input_shape = input_shape

    # -- the input -----------------------------------------------------------------------------------------

    def _input(self) -> tuple[str, list[int]]:
        inputs = [i for i in self.graph.input if i.name not in self.initializers]
        if len(inputs) != 1:
            names = ", ".join(repr(i.name) for i in inputs)
            raise UsageError(f"{self.path}: the model has {len(inputs)} inputs ({names}); tconvcalc checks one")
        value = inputs[0]
        tensor = value.type.tensor_type
        if not value.type.HasField("tensor_type") or not tensor.HasField("shape"):
            raise UsageError(f"{self.path}: the input {value.name!r} has no tensor shape; give it one in the model")
        dims: list[int | str] = []
        for d in tensor.shape.dim:
            dims.append(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else (d.dim_param or "?"))
        given = self.input_shape
        if given is not None:
            if len(given) != len(dims):
                raise UsageError(
                    f"{self.path}: --input has {len(given)} values but the input {value.name!r} has {len(dims)} "
                    f"dimensions {dims}"
                )
            for axis, (fixed, want) in enumerate(zip(dims, given)):
                if isinstance(fixed, int) and fixed != want:
                    raise UsageError(
                        f"{self.path}: --input gives {want} for dimension {axis} of {value.name!r}, which the model "
                        f"fixes at {fixed} (its input shape is {dims})"
                    )
            return value.name, list(given)
        dynamic = [(axis, d) for axis, d in enumerate(dims) if isinstance(d, str)]
        if dynamic:
            axis, d = dynamic[0]
            example = "x".join(str(v) if isinstance(v, int) else "1" if i == 0 else "64" for i, v in enumerate(dims))
            raise UsageError(
                f"{self.path}: the input {value.name!r} has a dynamic dimension {d!r} (dimension {axis} of {dims}): "
                f"give the whole shape with --input, e.g. --input {example}"
            )
        return value.name, [int(d) for d in dims]

    # -- constants ----------------------------------------------------------------------------------------

    def value(self, name: str, node: Any) -> Any:
        """A constant's or a shape computation's value (a numpy array)."""
        if name in self.values:
            return self.values[name]
        import numpy as np
        from onnx import numpy_helper

        if name in self.constants:
            try:
                array = numpy_helper.to_array(self.constants[name])
            except Exception as exc:
                raise self._refuse(node, f"cannot read the constant {name!r} ({exc})") from None
        elif name in self.makers:
            maker = self.makers[name]
            results = self._evaluate(maker)
            for out, result in zip(maker.output, results):
                self.values[out] = np.asarray(result)
            array = self.values[name]
        elif name in self.producer:
            raise self._refuse(node, f"{name!r} is computed from the network's activations, not a constant")
        else:
            raise self._refuse(node, f"its input {name!r} is neither a constant nor produced by an earlier node")
        self.values[name] = np.asarray(array)
        return self.values[name]

    def dims_of(self, name: str, node: Any) -> list[int]:
        """A constant's shape (an initializer's without reading its data)."""
        if name in self.initializers:
            return list(self.initializers[name].dims)
        return list(self.value(name, node).shape)

    def _evaluate(self, node: Any) -> list[Any]:
        """One node on constants and shapes, with numpy (the ops torch.onnx.export uses for sizes)."""
        import numpy as np
        from onnx import helper

        op = node.op_type
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if op == "Shape":
            shape = self._full_shape(node.input[0], node)
            start, end = attrs.get("start", 0), attrs.get("end", len(shape))
            return [np.array(shape[start:end], dtype=np.int64)]
        if op == "Size":
            return [np.array(math.prod(self._full_shape(node.input[0], node)), dtype=np.int64)]
        ins: list[Any] = [None if not name else self.value(name, node) for name in node.input]
        if op == "Constant":
            from onnx import numpy_helper

            for key in ("value_int", "value_float"):
                if key in attrs:
                    return [np.array(attrs[key])]
            for key in ("value_ints", "value_floats"):
                if key in attrs:
                    return [np.array(list(attrs[key]))]
            if "value" in attrs:
                return [numpy_helper.to_array(attrs["value"])]
            raise self._refuse(node, "a Constant of a kind tconvcalc does not read")
        if op in ("Identity", "Cast", "CastLike"):
            if op == "Cast":
                return [ins[0].astype(helper.tensor_dtype_to_np_dtype(attrs["to"]))]
            return [ins[0]]
        if op == "Gather":
            return [np.take(ins[0], ins[1], axis=attrs.get("axis", 0))]
        if op == "Unsqueeze":
            axes: list[Any] = list(attrs.get("axes", [] if len(ins) < 2 else list(ins[1])))
            out = ins[0]
            for axis in sorted(int(a) % (out.ndim + len(axes)) for a in axes):
                out = np.expand_dims(out, axis)
            return [out]
        if op == "Squeeze":
            dropped = attrs.get("axes", None if len(ins) < 2 or ins[1] is None else list(ins[1]))
            return [np.squeeze(ins[0], axis=None if dropped is None else tuple(int(a) for a in dropped))]
        if op == "Concat":
            return [np.concatenate([np.atleast_1d(v) for v in ins if v is not None], axis=attrs.get("axis", 0))]
        if op == "Slice":
            data = ins[0]
            if len(ins) > 1:
                starts, ends = ins[1], ins[2]
                axes = list(ins[3]) if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
                steps = list(ins[4]) if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
            else:
                starts, ends = attrs["starts"], attrs["ends"]
                axes, steps = list(attrs.get("axes", range(len(starts)))), [1] * len(starts)
            index = [slice(None)] * data.ndim
            for s, e, a, st in zip(starts, ends, axes, steps):
                index[int(a)] = slice(int(s), int(e), int(st))
            return [data[tuple(index)]]
        if op == "Reshape":
            target = [int(v) for v in ins[1]]
            target = [ins[0].shape[i] if v == 0 else v for i, v in enumerate(target)]
            return [ins[0].reshape(target)]
        if op == "ConstantOfShape":
            fill = numpy_value(attrs["value"]) if "value" in attrs else np.zeros(1, dtype=np.float32)
            return [np.full([int(v) for v in ins[0]], fill.reshape(-1)[0], dtype=fill.dtype)]
        if op == "Range":
            return [np.arange(ins[0], ins[1], ins[2])]
        if op == "Expand":
            return [ins[0] * np.ones([int(v) for v in ins[1]], dtype=ins[0].dtype)]
        if op == "Transpose":
            return [np.transpose(ins[0], attrs.get("perm"))]
        binary = {
            "Add": np.add,
            "Sub": np.subtract,
            "Mul": np.multiply,
            "Mod": np.mod,
            "Equal": np.equal,
            "Max": np.maximum,
            "Min": np.minimum,
            "Pow": np.power,
        }
        if op in binary:
            return [binary[op](ins[0], ins[1])]
        if op == "Div":
            a, b = ins[0], ins[1]
            if np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer):
                return [np.trunc(a / b).astype(a.dtype)]
            return [a / b]
        unary = {
            "Floor": np.floor,
            "Ceil": np.ceil,
            "Neg": np.negative,
            "Abs": np.abs,
            "Sqrt": np.sqrt,
            "Not": np.logical_not,
        }
        if op in unary:
            return [unary[op](ins[0])]
        if op == "Where":
            return [np.where(ins[0], ins[1], ins[2])]
        raise self._refuse(node, f"{op} on constants is not evaluated by tconvcalc")

    def _full_shape(self, name: str, node: Any) -> list[int]:
        layer = self.producer.get(name)
        if layer is None:
            if name in self.constants or name in self.makers:
                return list(self.value(name, node).shape)
            raise self._refuse(node, f"{name!r} is not produced by an earlier node")
        shape = self.shapes[layer]
        if shape is None:
            raise _Unreached(layer)
        return list(shape.as_tuple())

    # -- layers -------------------------------------------------------------------------------------------

    def _refuse(self, node: Any, why: str) -> _NotExpressible:
        return _NotExpressible(
            f"{self.path}: node {node.name or node.op_type!r} ({node.op_type}): {why}; PyTorch (and so tconvcalc's "
            "config) cannot express it"
        )

    def _name(self, node: Any, index: int, suffix: str = "") -> str:
        base = (node.name or f"{node.op_type}_{index}") + suffix
        name, n = base, 1
        while name in self.names:
            n += 1
            name = f"{base}_{n}"
        self.names.add(name)
        return name

    def add(self, node: Any, index: int, table: dict[str, Any], sources: Sequence[str], suffix: str = "") -> str:
        """Append a layer reading the layers ``sources``; its shape comes from the core, as check computes it."""
        name = self._name(node, index, suffix)
        layer = {"name": name, **table}
        if list(sources) != [self.layers[-1]["name"] if self.layers else "input"]:
            layer["from"] = sources[0] if len(sources) == 1 else list(sources)
        try:
            spec = parse_layer(layer, ignore=COMMON)
        except UsageError as exc:
            raise self._refuse(node, f"its attributes do not make a PyTorch layer ({exc})") from None
        inputs = [self.shapes[s] for s in sources]
        out: TensorShape | None = None
        if all(shape is not None for shape in inputs):
            given = [shape for shape in inputs if shape is not None]
            try:
                if isinstance(spec, (ConcatSpec, AddSpec)):
                    out = join(spec, given).output
                else:
                    out = apply_layer(spec, given[0]).output
            except TConvError:
                out = None  # check reports it
        self.shapes[name] = out
        self.layers.append(layer)
        return name

    def convert(self) -> Converted:
        input_name, shape = self._input()
        if len(shape) < 2 or len(shape) > 5:
            raise UsageError(f"{self.path}: the input has shape {shape}; tconvcalc reads (N, C, *spatial) or (N, F)")
        dims = len(shape) - 2
        self.producer[input_name] = "input"
        self.shapes["input"] = TensorShape.from_tuple(shape, dims)
        for tensor in self.graph.initializer:
            self.constants[tensor.name] = tensor
        for index, node in enumerate(self.graph.node):
            activations = [name for name in node.input if name in self.producer]
            if node.op_type in ("Shape", "Size") or not activations:
                for out in node.output:
                    self.makers[out] = node
                if node.op_type == "Constant" and node.output:
                    self.makers[node.output[0]] = node
                continue
            try:
                self._node(node, index, activations)
            except _Unreached as unreached:  # a size taken from a layer that fails: this node is not reached
                self.producer[node.output[0]] = self.add(node, index, {"type": "identity"}, [unreached.layer])
        if not self.layers:
            raise UsageError(f"{self.path}: the model has no node that computes on its input")
        outputs = list(dict.fromkeys(self.producer[o.name] for o in self.graph.output if o.name in self.producer))
        config = {"input": shape, "dims": dims, "layer": self.layers}
        notes = list(dict.fromkeys(self.notes))
        return Converted(config, notes, [o for o in outputs if o != "input"], dict(self.producer))

    def _attrs(self, node: Any) -> dict[str, Any]:
        from onnx import helper

        out = {}
        for a in node.attribute:
            value = helper.get_attribute_value(a)
            out[a.name] = value.decode() if isinstance(value, bytes) else value
        return out

    def _node(self, node: Any, index: int, activations: list[str]) -> None:
        op, attrs = node.op_type, self._attrs(node)
        first = self.producer[activations[0]]
        out = node.output[0]
        table: dict[str, Any]
        if op in ("Conv", "ConvTranspose"):
            table = self._conv(node, attrs, first)
        elif op in ("MaxPool", "AveragePool"):
            table = self._pool(node, attrs, first)
            if op == "MaxPool" and len(node.output) > 1 and node.output[1]:
                table["return_indices"] = True
                self.indices.add(node.output[1])
        elif op in ("GlobalAveragePool", "GlobalMaxPool"):
            spatial = self._shape(first).spatial
            table = {"type": "avgpool" if op == "GlobalAveragePool" else "maxpool", "kernel_size": list(spatial)}
        elif op == "MaxUnpool":
            table = self._unpool(node, attrs)
        elif op in ("Resize", "Upsample"):
            table = self._resize(node, attrs, first)
        elif op == "Concat":
            sources = [self.producer[n] for n in node.input if n]
            if len(sources) != len([n for n in node.input if n]):
                raise self._refuse(node, "it concatenates a constant with activations")
            self.producer[out] = self.add(node, index, {"type": "concat", "dim": attrs.get("axis", 1)}, sources)
            return
        elif op in BINARY and op != "PRelu":
            self._binary(node, index, activations, first)
            return
        elif op == "PRelu":
            count = math.prod(self.dims_of(node.input[1], node))
            table = {"type": "prelu", "num_parameters": count}
        elif op in UNARY:
            table = {"type": UNARY[op]}
        elif op == "LeakyRelu":
            table = {"type": "leakyrelu", "negative_slope": _f32(attrs.get("alpha", 0.01))}
        elif op in ("Elu", "Celu"):
            table = {"type": op.lower(), "alpha": _f32(attrs.get("alpha", 1.0))}
        elif op == "Gelu":
            table = {"type": "gelu", "approximate": attrs.get("approximate", "none")}
        elif op in ("Softmax", "LogSoftmax"):
            axis = attrs.get("axis", -1 if self.opset >= 13 else 1)
            if self.opset < 13:
                self.notes.append(
                    f"{op} before opset 13 normalises over every axis from `axis` on; read as torch's over axis {axis}"
                )
            table = {"type": op.lower(), "dim": axis}
        elif op == "Clip":
            table = self._clip(node, attrs)
        elif op == "Dropout":
            table = {"type": "dropout"}
        elif op in SHAPE_PRESERVING:
            table = {"type": "identity"}
        elif op == "BatchNormalization":
            channels = self.dims_of(node.input[1], node)[0]
            table = {"type": "batchnorm", "num_features": channels, "eps": _f32(attrs.get("epsilon", 1e-5))}
            table["momentum"] = round(1 - _f32(attrs.get("momentum", 0.9)), 6)
        elif op == "InstanceNormalization":
            channels = self.dims_of(node.input[1], node)[0]
            table = {"type": "instancenorm", "num_features": channels, "affine": True}
            table["eps"] = _f32(attrs.get("epsilon", 1e-5))
        elif op == "GroupNormalization":
            table = {"type": "groupnorm", "num_groups": attrs["num_groups"], "eps": _f32(attrs.get("epsilon", 1e-5))}
        elif op == "Gemm":
            table = self._gemm(node, attrs)
        elif op == "MatMul":
            dims = self.dims_of(node.input[1], node) if node.input[1] not in self.producer else []
            if len(dims) != 2 or node.input[0] not in self.producer:
                raise self._refuse(node, "a MatMul that is not activations times a weight matrix")
            table = {"type": "linear", "in_features": dims[0], "out_features": dims[1], "bias": False}
            name = self.add(node, index, table, [first])
            self.linear_from_matmul[name] = self.layers[-1]
            self.producer[out] = name
            return
        elif op in ("Reshape", "Flatten", "Squeeze", "Unsqueeze"):
            self._reshape(node, index, attrs, first)
            return
        elif op == "Transpose" and list(attrs.get("perm", [])) == sorted(attrs.get("perm", [-1])):
            table = {"type": "identity"}
        else:
            raise self._refuse(node, f"{op} has no PyTorch layer in tconvcalc's configs")
        self.producer[out] = self.add(node, index, table, [first])

    def _shape(self, layer: str) -> TensorShape:
        shape = self.shapes[layer]
        if shape is None:
            raise _Unreached(layer)
        return shape

    def _pads(self, node: Any, attrs: dict[str, Any], n: int) -> list[int] | str:
        """Symmetric ONNX pads as PyTorch's padding (or 'same'); asymmetric or SAME_* ones are refused."""
        mode = attrs.get("auto_pad", "NOTSET")
        if mode == "VALID":
            return [0] * n
        if mode in ("SAME_UPPER", "SAME_LOWER"):
            return "same"
        pads = list(attrs.get("pads", [0] * (2 * n)))
        begin, end = pads[:n], pads[n:]
        if begin != end:
            raise self._refuse(node, f"pads {pads} are not the same at both ends")
        return begin

    def _conv(self, node: Any, attrs: dict[str, Any], first: str) -> dict[str, Any]:
        weight = self.dims_of(node.input[1], node)
        n = len(weight) - 2
        group = attrs.get("group", 1)
        kernel = list(attrs.get("kernel_shape", weight[2:]))
        stride, dilation = list(attrs.get("strides", [1] * n)), list(attrs.get("dilations", [1] * n))
        bias = len(node.input) > 2 and bool(node.input[2])
        table: dict[str, Any] = {"kernel_size": _one(kernel), "stride": _one(stride), "dilation": _one(dilation)}
        if group != 1:
            table["groups"] = group
        if not bias:
            table["bias"] = False
        mode = attrs.get("auto_pad", "NOTSET")
        if node.op_type == "Conv":
            table = {"type": "conv", "in_channels": weight[1] * group, "out_channels": weight[0], **table}
            pads = list(attrs.get("pads", [0] * (2 * n)))
            if mode in ("SAME_UPPER", "SAME_LOWER") or (mode == "NOTSET" and pads[:n] != pads[n:]):
                table["padding"] = self._same(node, attrs, kernel, stride, dilation, first)
            else:
                table["padding"] = _one(self._pads(node, attrs, n))
            return table
        table = {"type": "tconv", "in_channels": weight[0], "out_channels": weight[1] * group, **table}
        given: list[int] | None = attrs.get("pads")
        op = list(attrs.get("output_padding", [0] * n))
        for o, st in zip(op, stride):
            if o >= st:
                self.notes.append(
                    f"node {node.name or node.op_type!r}: ONNX Runtime 1.32 refuses output_padding={o} >= stride={st} "
                    "(the operator text and PyTorch allow it below the dilation)"
                )
        if "output_shape" not in attrs and mode in ("NOTSET", "VALID") and (given is None or given[:n] == given[n:]):
            table["padding"] = _one([0] * n if given is None or mode == "VALID" else list(given[:n]))
            table["output_padding"] = _one(op)
            return table
        spatial = self._shape(first).spatial
        try:
            placement = conventions.onnx_placement(
                spatial, kernel, stride, given, op, attrs.get("output_shape"), mode, dilation
            )
        except TConvError as exc:
            raise self._refuse(node, f"its placement is invalid ({exc})") from None
        exact = conventions.torch_equivalent(placement)
        if exact is None:
            raise self._refuse(
                node,
                f"it crops the full output by {list(placement.crops)} (begin, end), more at the end than at the "
                "start; `tconvcalc translate --from onnx` gives an exact recipe",
            )
        self.notes += placement.notes
        table["padding"], table["output_padding"] = _one(list(exact[:n])), _one(list(exact[n:]))
        return table

    def _same(
        self, node: Any, attrs: dict[str, Any], kernel: list[int], stride: list[int], dilation: list[int], first: str
    ) -> Any:
        """A Conv's SAME or asymmetric pads: PyTorch's padding='same' where it is that (stride 1, the extra
        element at the end), symmetric padding where the pads are symmetric for this input; else refused."""
        n = len(kernel)
        mode = attrs.get("auto_pad", "NOTSET")
        if mode == "NOTSET":
            pads = list(attrs["pads"])
        else:
            spatial = self._shape(first).spatial
            pads_begin, pads_end = [], []
            for i, k, s, d in zip(spatial, kernel, stride, dilation):
                total = max(0, (-(-i // s) - 1) * s + d * (k - 1) + 1 - i)
                small, large = total // 2, total - total // 2
                pads_begin.append(small if mode == "SAME_UPPER" else large)
                pads_end.append(large if mode == "SAME_UPPER" else small)
            pads = pads_begin + pads_end
        if pads[:n] == pads[n:]:
            return _one(pads[:n])
        torch_same = [d * (k - 1) // 2 for k, d in zip(kernel, dilation)]
        if all(s == 1 for s in stride) and pads[:n] == torch_same:
            return "same"
        raise self._refuse(node, f"pads {pads} put more at the start than PyTorch's padding='same' can")

    def _pool(self, node: Any, attrs: dict[str, Any], first: str) -> dict[str, Any]:
        kernel = list(attrs["kernel_shape"])
        n = len(kernel)
        if attrs.get("auto_pad", "NOTSET") in ("SAME_UPPER", "SAME_LOWER"):
            raise self._refuse(node, f"auto_pad={attrs['auto_pad']} pooling has no PyTorch padding")
        table: dict[str, Any] = {
            "type": "maxpool" if node.op_type == "MaxPool" else "avgpool",
            "kernel_size": _one(kernel),
            "stride": _one(list(attrs.get("strides", [1] * n))),  # ONNX's default stride is 1, PyTorch's the kernel
            "padding": _one(self._pads(node, attrs, n)),
        }
        if attrs.get("ceil_mode", 0):
            table["ceil_mode"] = True
        if node.op_type == "MaxPool" and any(d != 1 for d in attrs.get("dilations", [1] * n)):
            table["dilation"] = _one(list(attrs["dilations"]))
        if node.op_type == "AveragePool":
            table["count_include_pad"] = bool(attrs.get("count_include_pad", 0))
            if any(d != 1 for d in attrs.get("dilations", [1] * n)):
                raise self._refuse(node, "AveragePool with dilations has no PyTorch layer")
        return table

    def _unpool(self, node: Any, attrs: dict[str, Any]) -> dict[str, Any]:
        kernel = list(attrs["kernel_shape"])
        n = len(kernel)
        table = {
            "type": "maxunpool",
            "kernel_size": _one(kernel),
            "stride": _one(list(attrs.get("strides", [1] * n))),
            "padding": _one(self._pads(node, attrs, n)),
        }
        if len(node.input) > 2 and node.input[2]:
            table["output_size"] = [int(v) for v in self.value(node.input[2], node)][-n:]
        return table

    def _resize(self, node: Any, attrs: dict[str, Any], first: str) -> dict[str, Any]:
        """Resize (and the old Upsample) as PyTorch's Upsample: the ONNX modes torch exports, and no other."""
        mode = attrs.get("mode", "nearest")
        names = list(node.input) + [""] * 4
        if node.op_type == "Upsample":
            scales = attrs.get("scales") or list(self.value(names[1], node))
            transform, nearest, sizes = "asymmetric", "floor", None
        else:
            scales = list(self.value(names[2], node)) if names[2] else []
            sizes = [int(v) for v in self.value(names[3], node)] if names[3] else None
            transform = attrs.get("coordinate_transformation_mode", "half_pixel")
            nearest = attrs.get("nearest_mode", "round_prefer_floor")
            if attrs.get("antialias", 0):
                raise self._refuse(node, "antialias=1: nn.Upsample has no antialias")
            if "axes" in attrs:
                raise self._refuse(node, "Resize with axes")
        table: dict[str, Any] = {"type": "upsample"}
        if sizes is not None and not scales:
            full = list(self._shape(first).as_tuple())
            if len(sizes) != len(full) or sizes[:2] != full[:2]:
                raise self._refuse(node, f"sizes {sizes} resize the batch or the channels of {full}")
            table["size"] = _one(sizes[2:])
        else:
            if len(scales) < 3 or [float(v) for v in scales[:2]] != [1.0, 1.0]:
                raise self._refuse(node, f"scales {[float(v) for v in scales]} resize the batch or the channels")
            table["scale_factor"] = _one([_f32(v) for v in scales[2:]])
        n = len(self._shape(first).spatial)
        if mode == "nearest":
            if transform == "asymmetric" and nearest == "floor":
                table["mode"] = "nearest"
            elif transform in ("half_pixel", "pytorch_half_pixel") and nearest == "round_prefer_ceil":
                table["mode"] = "nearest-exact"
            else:
                raise self._refuse(node, f"nearest with {transform} and nearest_mode={nearest}")
        elif mode in ("linear", "cubic"):
            if mode == "cubic" and _f32(attrs.get("cubic_coeff_a", -0.75)) != -0.75:
                raise self._refuse(node, "cubic_coeff_a is not PyTorch's -0.75")
            if mode == "cubic" and attrs.get("exclude_outside", 0):
                raise self._refuse(node, "exclude_outside=1")
            table["mode"] = (
                "bicubic" if mode == "cubic" else {1: "linear", 2: "bilinear", 3: "trilinear"}.get(n, "linear")
            )
            if transform == "align_corners":
                table["align_corners"] = True
            elif transform not in ("half_pixel", "pytorch_half_pixel"):
                raise self._refuse(node, f"{mode} interpolation with {transform} coordinates")
        else:
            raise self._refuse(node, f"mode={mode!r}")
        return table

    def _binary(self, node: Any, index: int, activations: list[str], first: str) -> None:
        import numpy as np

        out = node.output[0]
        operands = [name for name in node.input if name]
        constants = [name for name in operands if name not in self.producer]
        if not constants:
            sources = [self.producer[name] for name in operands]
            self.producer[out] = self.add(node, index, {"type": "add"}, sources)
            return
        if len(operands) != 2:
            raise self._refuse(node, "a variadic op mixing constants and activations")
        shape = self.shapes[first]
        linear = self.linear_from_matmul.get(first)
        if node.op_type == "Add" and linear is not None and shape is not None:
            dims = self.dims_of(constants[0], node)
            if math.prod(dims) == linear["out_features"] and (not dims or dims[-1] == linear["out_features"]):
                linear["bias"] = True  # torch exports a Linear on a 3-D input as MatMul + Add
                del self.linear_from_matmul[first]
                self.producer[out] = first
                return
        if shape is not None:
            full = tuple(shape.as_tuple())
            try:
                grown = np.broadcast_shapes(full, tuple(self.dims_of(constants[0], node))) != full
            except ValueError:
                grown = True
            if grown:
                raise self._refuse(
                    node, f"a constant of shape {self.dims_of(constants[0], node)} broadcasts {list(full)}"
                )
        self.producer[out] = self.add(node, index, {"type": "identity"}, [first])

    def _clip(self, node: Any, attrs: dict[str, Any]) -> dict[str, Any]:
        low = attrs.get("min")
        high = attrs.get("max")
        if len(node.input) > 1 and node.input[1]:
            low = float(self.value(node.input[1], node))
        if len(node.input) > 2 and node.input[2]:
            high = float(self.value(node.input[2], node))
        if low is None or high is None or math.isinf(low) or math.isinf(high):
            return {"type": "identity"}
        if (low, high) == (0.0, 6.0):
            return {"type": "relu6"}
        return {"type": "hardtanh", "min_val": _f32(low), "max_val": _f32(high)}

    def _gemm(self, node: Any, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("transA", 0) or node.input[1] in self.producer:
            raise self._refuse(node, "a Gemm that is not activations times a weight matrix")
        weight = self.dims_of(node.input[1], node)
        out_features, in_features = weight if attrs.get("transB", 0) else weight[::-1]
        bias = len(node.input) > 2 and bool(node.input[2])
        return {"type": "linear", "in_features": in_features, "out_features": out_features, "bias": bias}

    def _reshape(self, node: Any, index: int, attrs: dict[str, Any], first: str) -> None:
        """Reshape, Flatten, Squeeze, Unsqueeze as a Flatten and/or an Unflatten: the leading dimensions they
        keep, then the rest merged and split."""
        full = list(self._shape(first).as_tuple())
        op = node.op_type
        if op == "Flatten":
            axis = attrs.get("axis", 1) % (len(full) + 1) if full else 0
            target = [math.prod(full[:axis]), math.prod(full[axis:])]
        elif op == "Reshape":
            raw = [int(v) for v in self.value(node.input[1], node)]
            target = [full[i] if v == 0 and not attrs.get("allowzero", 0) else v for i, v in enumerate(raw)]
            if target.count(-1) == 1:
                known = math.prod(v for v in target if v != -1)
                target[target.index(-1)] = math.prod(full) // known if known else 0
        else:
            axes = attrs.get("axes")
            if axes is None and len(node.input) > 1 and node.input[1]:
                axes = [int(v) for v in self.value(node.input[1], node)]
            if op == "Squeeze":
                drop = {a % len(full) for a in axes} if axes else {i for i, v in enumerate(full) if v == 1}
                target = [v for i, v in enumerate(full) if i not in drop]
            else:
                target = list(full)
                for axis in sorted(a % (len(full) + len(axes or [])) for a in axes or []):
                    target.insert(axis, 1)
        keep = 0
        while keep < min(len(full), len(target)) - 1 and full[keep] == target[keep]:
            keep += 1
        out = node.output[0]
        if full == target:
            self.producer[out] = self.add(node, index, {"type": "identity"}, [first])
            return
        source = first
        if len(full) - keep > 1 or math.prod(full) != math.prod(target):
            start = keep if math.prod(full) == math.prod(target) else 0
            source = self.add(node, index, {"type": "flatten", "start_dim": start}, [source])
            keep = start
        if len(target) - keep > 1 or math.prod(full) != math.prod(target):
            table = {"type": "unflatten", "dim": keep, "unflattened_size": target[keep:]}
            source = self.add(node, index, table, [source], "/unflatten" if source != first else "")
        self.producer[out] = source


class _Unreached(Exception):
    """A size needed from a layer that fails: the node reading it is not reached."""

    def __init__(self, layer: str) -> None:
        super().__init__(layer)
        self.layer = layer


def _one(values: Any) -> Any:
    """One value for every dimension where they are all equal (a string, 'same', is left alone)."""
    if isinstance(values, (list, tuple)):
        values = [v.item() if hasattr(v, "item") else v for v in values]
        return values[0] if values and all(v == values[0] for v in values) else values
    return values


def _f32(value: Any) -> float:
    """An ONNX float (float32) as the shortest decimal that reads back as it: 0.2, not 0.20000000298023224."""
    import numpy as np

    return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))


def numpy_value(tensor: Any) -> Any:
    from onnx import numpy_helper

    return numpy_helper.to_array(tensor)
