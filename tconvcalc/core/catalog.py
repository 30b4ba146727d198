"""The names of every layer type and of every fixed choice, as plain data: the command line lists and completes
them without building the spec classes (which :mod:`tconvcalc.core.specs` and :mod:`tconvcalc.core.blocks`
define, each asserting that its types are these).
"""

from __future__ import annotations

CONVOLUTION_FAMILY_TYPES = ("tconv", "conv", "maxpool", "avgpool", "maxunpool", "upsample")
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
UPSAMPLE_MODES = ("nearest", "nearest-exact", "area", "linear", "bilinear", "bicubic", "trilinear")

# Element-wise layers: type -> (torch class, {argument: kind}); kinds: bool, float, int, or "a|b" choices.
ELEMENTWISE: dict[str, tuple[str, dict[str, str]]] = {
    "relu": ("ReLU", {"inplace": "bool"}),
    "relu6": ("ReLU6", {"inplace": "bool"}),
    "leakyrelu": ("LeakyReLU", {"negative_slope": "float", "inplace": "bool"}),
    "prelu": ("PReLU", {"num_parameters": "int", "init": "float"}),
    "rrelu": ("RReLU", {"lower": "float", "upper": "float", "inplace": "bool"}),
    "elu": ("ELU", {"alpha": "float", "inplace": "bool"}),
    "selu": ("SELU", {"inplace": "bool"}),
    "celu": ("CELU", {"alpha": "float", "inplace": "bool"}),
    "gelu": ("GELU", {"approximate": "none|tanh"}),
    "silu": ("SiLU", {"inplace": "bool"}),
    "mish": ("Mish", {"inplace": "bool"}),
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "hardtanh": ("Hardtanh", {"min_val": "float", "max_val": "float", "inplace": "bool"}),
    "hardsigmoid": ("Hardsigmoid", {"inplace": "bool"}),
    "hardswish": ("Hardswish", {"inplace": "bool"}),
    "softplus": ("Softplus", {"beta": "float", "threshold": "float"}),
    "softsign": ("Softsign", {}),
    "logsigmoid": ("LogSigmoid", {}),
    "tanhshrink": ("Tanhshrink", {}),
    "softshrink": ("Softshrink", {"lambd": "float"}),
    "hardshrink": ("Hardshrink", {"lambd": "float"}),
    "threshold": ("Threshold", {"threshold": "float", "value": "float", "inplace": "bool"}),
    "softmax": ("Softmax", {"dim": "int"}),
    "logsoftmax": ("LogSoftmax", {"dim": "int"}),
    "dropout": ("Dropout", {"p": "float", "inplace": "bool"}),
    "identity": ("Identity", {}),
}
BLOCK_CLASS_TYPES = ("batchnorm", "instancenorm", "groupnorm", "flatten", "unflatten", "linear", "concat", "add")
JOINS = ("concat", "add")
TYPES = (*CONVOLUTION_FAMILY_TYPES, *ELEMENTWISE, *BLOCK_CLASS_TYPES)
