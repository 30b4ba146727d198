"""A validated conv or conv_transpose call (:class:`Problem`), and the forward convolution's im2col + GEMM.

Every NumPy computation starts from a :class:`Problem`: the arrays checked against the layer, batched, in the
computing dtype.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tconvcalc.core import layer as layers
from tconvcalc.core import sizes
from tconvcalc.core.errors import LayerError, UsageError
from tconvcalc.core.tensor import TensorShape


@dataclass(frozen=True)
class Problem:
    """A validated conv or conv_transpose call, normalised to batched arrays of the computing dtype."""

    x: np.ndarray  # (N, C_in, *spatial)
    w: np.ndarray  # ConvT (C_in, C_out/g, *k); conv (C_out, C_in/g, *k)
    bias: np.ndarray | None
    layer: layers.LayerShape
    batched: bool

    @property
    def dims(self) -> int:
        return self.layer.dims

    @property
    def out_shape(self) -> tuple[int, ...]:
        """(N, C_out, *spatial out), always batched."""
        lay = self.layer
        return (self.x.shape[0], lay.out_channels or 0, *lay.output_spatial)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The computing dtype: float32 when every operand is float32, float64 otherwise."""
        return compute_dtype(self.x, self.w, self.bias)

    @property
    def out_size(self) -> int:
        """Elements of the output, ``prod(out_shape)``."""
        return math.prod(self.out_shape)

    def conversion_bytes(self) -> int:
        """Bytes that converting the operands to the computing dtype allocates (0 once converted)."""
        dtype = self.dtype
        return sum(a.size * dtype.itemsize for a in (self.x, self.w, self.bias) if a is not None and a.dtype != dtype)

    def converted(self) -> Problem:
        """The same problem with every operand in the computing dtype (no copy where it already is)."""
        dtype = self.dtype
        return Problem(
            self.x.astype(dtype, copy=False),
            self.w.astype(dtype, copy=False),
            None if self.bias is None else self.bias.astype(dtype, copy=False),
            self.layer,
            self.batched,
        )

    def finish_bytes(self, result_itemsize: int, same_dtype: bool = True) -> int:
        """Bytes :meth:`finish` allocates on top of a method's result (held): the bias sum, and a copy in the
        computing dtype unless the result is known to be in it (bincount's may be float64 or, empty, int64)."""
        size, item = self.out_size, self.dtype.itemsize
        extra = size * max(result_itemsize, item) if self.bias is not None else 0
        return extra + (0 if same_dtype else size * item)

    def finish(self, out: np.ndarray) -> np.ndarray:
        """Add the bias, drop the batch axis of unbatched input, make the result contiguous."""
        if self.bias is not None:
            out = out + self.bias.reshape((1, -1) + (1,) * self.dims)
        out = np.ascontiguousarray(out, dtype=self.x.dtype)
        return out if self.batched else out[0]


def compute_dtype(*arrays: np.ndarray | None) -> np.dtype[Any]:
    """float32 when every operand is float32; float64 otherwise."""
    present = [a for a in arrays if a is not None]
    return np.dtype(np.float32) if all(a.dtype == np.float32 for a in present) else np.dtype(np.float64)


def _as_array(value: Any, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise UsageError(f"{name} must be real numbers, got dtype {arr.dtype}")
    return arr


def check_bias(shape: tuple[int, ...], out_channels: int) -> None:
    """A bias holds one value per output channel, as in PyTorch."""
    if tuple(shape) != (out_channels,):
        raise LayerError(
            f"bias must have shape ({out_channels},) for {out_channels} output channels, got {tuple(shape)}"
        )


def prepare(
    operation: str,
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: sizes.IntArg = 1,
    padding: sizes.PaddingArg = 0,
    output_padding: sizes.IntArg = 0,
    dilation: sizes.IntArg = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
) -> Problem:
    """Validate a call exactly as :func:`tconvcalc.layer.conv_transpose_layer` / ``conv_layer`` do, with the
    operands converted to the computing dtype."""
    return plan(
        operation, input, weight, bias, stride, padding, output_padding, dilation, groups, padding_mode
    ).converted()


def plan(
    operation: str,
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: sizes.IntArg = 1,
    padding: sizes.PaddingArg = 0,
    output_padding: sizes.IntArg = 0,
    dilation: sizes.IntArg = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
) -> Problem:
    """Validate a call (as :func:`prepare`) without converting anything yet: the memory budget is checked
    between the two, since converting int or float32 operands to float64 allocates."""
    x, w = _as_array(input, "input"), _as_array(weight, "weight")
    b = None if bias is None else _as_array(bias, "bias")
    dims = w.ndim - 2
    if not 1 <= dims <= 3:
        layout = "(C_in, C_out/groups, *k)" if operation == "conv_transpose" else "(C_out, C_in/groups, *k)"
        raise LayerError(f"weight must have 3 to 5 axes {layout}, got shape {w.shape}")
    name = f"{'conv_transpose' if operation == 'conv_transpose' else 'conv'}{dims}d"
    if x.ndim not in (dims + 1, dims + 2):
        raise LayerError(
            f"expected a {dims + 1}-axis (unbatched) or {dims + 2}-axis (batched) input to {name}, got shape {x.shape}"
        )
    batched = x.ndim == dims + 2
    if not batched:
        x = x[None]
    if groups < 1:
        raise LayerError(f"groups={groups} must be a positive integer")
    kernel = w.shape[2:]
    if operation == "conv_transpose":
        if w.shape[0] % groups:
            raise LayerError(
                f"weight of shape {w.shape}: its {w.shape[0]} input channels are not divisible by groups={groups}"
            )
        expected_cin, cout = w.shape[0], w.shape[1] * groups
    else:
        if w.shape[0] % groups:
            raise LayerError(
                f"weight of shape {w.shape}: its {w.shape[0]} output channels are not divisible by groups={groups}"
            )
        expected_cin, cout = w.shape[1] * groups, w.shape[0]
    if x.shape[1] != expected_cin:
        raise LayerError(
            f"input of shape {tuple(x.shape[1:] if not batched else x.shape)} has {x.shape[1]} channels, "
            f"but the weight {w.shape} with groups={groups} expects {expected_cin}"
        )
    if b is not None:
        check_bias(b.shape, cout)
    source = TensorShape(tuple(x.shape[2:]), channels=x.shape[1], batch=x.shape[0])
    if operation == "conv_transpose":
        lay = layers.conv_transpose_layer(
            source, kernel, stride, padding, output_padding, dilation, groups, cout, padding_mode=padding_mode
        )
    else:
        lay = layers.conv_layer(source, kernel, stride, padding, dilation, groups, cout, padding_mode=padding_mode)
    return Problem(x, w, b, lay, batched)


# torch's padding_mode (F.pad's modes, validated by core.layer.conv_layer) as numpy.pad's: reflect mirrors
# without repeating the edge, replicate repeats the edge, circular wraps around (at most once).
_NUMPY_PAD: dict[str, Any] = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def conv_forward(p: Problem) -> np.ndarray:
    """im2col + GEMM: gather every window of the padded input, then one GEMM per (batch, group)."""
    lay, x, w = p.layer, p.x, p.w
    n, groups, dims = x.shape[0], lay.groups, lay.dims
    cout_g, cin_g, kernel = w.shape[0] // groups, w.shape[1], w.shape[2:]
    pad = [(0, 0), (0, 0), *lay.padding]
    mode = _NUMPY_PAD[lay.padding_mode]
    xp = np.pad(x, pad, mode=mode) if any(pb or pe for pb, pe in lay.padding) else x
    k_eff = tuple(sizes.effective_kernel(k, d) for k, d in zip(kernel, lay.dilation))
    windows = np.lib.stride_tricks.sliding_window_view(xp, k_eff, axis=tuple(range(2, 2 + dims)))
    pick: tuple[slice, ...] = (slice(None), slice(None))
    pick += tuple(slice(0, o * s, s) for o, s in zip(lay.output_spatial, lay.stride))
    pick += tuple(slice(None, None, d) for d in lay.dilation)
    windows = windows[pick]  # (N, C_in, *out, *k)
    out_sp = lay.output_spatial
    # (N, G, C_in/g, *out, *k) -> (N, G, C_in/g, *k, *out) -> (N, G, C_in/g*taps, P_out)
    windows = windows.reshape(n, groups, cin_g, *out_sp, *kernel)
    order = (0, 1, 2, *range(3 + dims, 3 + 2 * dims), *range(3, 3 + dims))
    patches = np.ascontiguousarray(windows.transpose(order)).reshape(n, groups, cin_g * math.prod(kernel), -1)
    wg = w.reshape(groups, cout_g, cin_g * math.prod(kernel))
    out: np.ndarray = np.matmul(wg, patches).reshape(p.out_shape)
    return out


def conv_memory(p: Problem) -> int:
    """Peak bytes of :func:`conv_forward` and :meth:`Problem.finish`: the padded input (``np.pad`` copies it,
    however large the padding), the im2col patches and the output."""
    lay, item = p.layer, p.dtype.itemsize
    n, cin = p.x.shape[0], p.x.shape[1]
    padded = n * cin * math.prod(lay.full_size) if any(pb or pe for pb, pe in lay.padding) else 0
    patches = n * cin * math.prod(lay.kernel_size) * math.prod(lay.output_spatial)
    return int((padded + patches + p.out_size) * item + p.finish_bytes(item))
