"""One transposed convolution in six conventions: PyTorch, ONNX, Keras, TensorFlow, JAX and MATLAB.

Every convention reduces, per spatial dimension, to a *placement*: the crop ``(begin, end)`` of the full output
``F = (i-1)*s + d*(k-1) + 1``; a negative crop appends that many zeros (positions no kernel window reaches).
The output size is ``F - begin - end``. PyTorch's ``(padding p, output_padding op)`` is the crop ``(p, p - op)``;
it can crop more at the start than at the end, never the reverse. Rules: ``../shared/semantics.md`` sections 1-4.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from tconvcalc.core import sizes
from tconvcalc.core.errors import LayerError, UsageError
from tconvcalc.core.specs import MAX_DIMS

CONVENTIONS = ("torch", "onnx", "keras", "tf", "jax", "matlab")
Crops = tuple[tuple[int, int], ...]
LAYOUTS = ("channels_first", "channels_last")
# The layout each framework reads shapes and tensors in by default (Keras' image_data_format default, TF's NHWC,
# MATLAB's h x w x c x n); PyTorch, ONNX and JAX's lax default (NCHW) are channels-first.
DEFAULT_CHANNEL_LAYOUT = {
    "torch": "channels_first",
    "onnx": "channels_first",
    "jax": "channels_first",
    "keras": "channels_last",
    "tf": "channels_last",
    "matlab": "channels_last",
}


def to_channels_first(values: Sequence[int], dims: int, layout: str) -> tuple[int, ...]:
    """A shape of ``dims`` spatial sizes in ``layout`` as ``(N, C, *spatial)`` order (the channels moved to
    just before the spatial sizes); a shape without channels is unchanged.

    >>> to_channels_first((2, 8, 8, 4), 2, "channels_last"), to_channels_first((8, 8, 4), 2, "channels_last")
    ((2, 4, 8, 8), (4, 8, 8))
    """
    values = tuple(values)
    if layout == "channels_first" or len(values) <= dims:
        return values
    return (*values[: len(values) - dims - 1], values[-1], *values[len(values) - dims - 1 : -1])


def from_channels_first(values: Sequence[int], dims: int, layout: str) -> tuple[int, ...]:
    """The inverse of :func:`to_channels_first`.

    >>> from_channels_first((2, 4, 8, 8), 2, "channels_last")
    (2, 8, 8, 4)
    """
    values = tuple(values)
    if layout == "channels_first" or len(values) <= dims:
        return values
    return (*values[: len(values) - dims - 1], *values[len(values) - dims :], values[len(values) - dims - 1])


@dataclass(frozen=True)
class Placement:
    """A layer's placement in every dimension; the fields are JSON keys of ``shape --convention``."""

    convention: str
    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    crops: Crops
    notes: tuple[str, ...] = ()

    @property
    def full_size(self) -> tuple[int, ...]:
        return tuple(
            sizes.full_size(i, k, s, d)
            for i, k, s, d in zip(self.input_size, self.kernel_size, self.stride, self.dilation)
        )

    @property
    def output_size(self) -> tuple[int, ...]:
        return tuple(f - b - e for f, (b, e) in zip(self.full_size, self.crops))


def _common(
    input_size: Sequence[int], kernel_size: sizes.IntArg, stride: sizes.IntArg, dilation: sizes.IntArg
) -> tuple[tuple[int, ...], ...]:
    n = len(input_size)
    if not 1 <= n <= MAX_DIMS:  # the conventions describe ConvTranspose1d/2d/3d, as the layer spec does
        raise UsageError(f"{n} spatial dimensions; a transposed convolution has 1 to {MAX_DIMS}", param="dims")
    k, s, d = (
        sizes.per_dim(kernel_size, n, "kernel_size"),
        sizes.per_dim(stride, n, "stride"),
        sizes.per_dim(dilation, n, "dilation"),
    )
    sizes.check_hyperparameters(k, s, ((0, 0),) * n, d)
    sizes.check_input_size(input_size)
    return tuple(input_size), k, s, d


def _checked(p: Placement) -> Placement:
    for dim, o in enumerate(p.output_size):
        if o < 1:
            raise LayerError(
                f"output size {o} is not positive (dim {dim}): full size {p.full_size[dim]} cropped by {p.crops[dim]}"
            )
    return p


def torch_placement(
    input_size: Sequence[int],
    kernel_size: sizes.IntArg,
    stride: sizes.IntArg = 1,
    padding: sizes.IntArg = 0,
    output_padding: sizes.IntArg = 0,
    dilation: sizes.IntArg = 1,
) -> Placement:
    """PyTorch: crop ``(p, p - op)``."""
    i, k, s, d = _common(input_size, kernel_size, stride, dilation)
    n = len(i)
    p, op = sizes.per_dim(padding, n, "padding"), sizes.per_dim(output_padding, n, "output_padding")
    sizes.check_hyperparameters(k, s, tuple((q, q) for q in p), d, op)
    return _checked(Placement("torch", i, k, s, d, tuple((q, q - o) for q, o in zip(p, op))))


def onnx_placement(
    input_size: Sequence[int],
    kernel_size: sizes.IntArg,
    stride: sizes.IntArg = 1,
    pads: Sequence[int] | None = None,
    output_padding: sizes.IntArg = 0,
    output_shape: Sequence[int] | None = None,
    auto_pad: str = "NOTSET",
    dilation: sizes.IntArg = 1,
) -> Placement:
    """ONNX ConvTranspose (opset 11/22 operator text).

    ``pads = [begin..., end...]`` with ``output_padding`` at the end; with ``output_shape`` (or ``auto_pad=SAME_*``,
    where the output is ``input * stride``) the total padding ``s(i-1) + op + k_eff - out`` is split: SAME_UPPER puts
    the smaller half at the start, every other mode the larger half. A negative total (an ``output_shape`` beyond
    the full output) appends its zeros at the end, as ONNX Runtime and ``onnx.reference`` do: the operator text's
    ``total/2`` leaves the side open. ``output_shape`` may be full-rank ``(N, C, ...)``, its spatial part read.
    Where ONNX Runtime 1.32 (measured) departs from the text, the placement's notes say how.
    """
    i, k, s, d = _common(input_size, kernel_size, stride, dilation)
    n = len(i)
    op = sizes.per_dim(output_padding, n, "output_padding")
    mode = auto_pad.upper()
    if mode not in ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"):
        raise UsageError(f"auto_pad={auto_pad!r}: use NOTSET, SAME_UPPER, SAME_LOWER or VALID", param="auto_pad")
    if pads is not None and mode != "NOTSET":
        raise LayerError("The pads attribute cannot be used simultaneously with auto_pad attribute", param="pads")
    notes: list[str] = []
    for dim, (o, ss, dd) in enumerate(zip(op, s, d)):
        if o < 0 or o >= sizes.output_padding_limit(ss, dd):
            raise LayerError(
                f"output_padding={o} must be less than stride={ss} or dilation={dd} (dim {dim})",
                param="output_padding",
            )
        if o >= ss:
            notes.append(
                f"ONNX Runtime 1.32 refuses output_padding={o} >= stride={ss} (dim {dim}): it needs output_padding "
                "below the stride, where the operator text allows it below the dilation"
            )
    full = [sizes.full_size(ii, kk, ss, dd) for ii, kk, ss, dd in zip(i, k, s, d)]
    if output_shape is not None and len(output_shape) == n + 2:
        output_shape = output_shape[2:]
        notes.append(
            "ONNX Runtime 1.32 refuses a full-rank output_shape (N, C, ...) when it loads the model: give the spatial sizes"
        )
    if output_shape is not None or mode in ("SAME_UPPER", "SAME_LOWER"):
        out = list(output_shape) if output_shape is not None else [ii * ss for ii, ss in zip(i, s)]
        if len(out) != n:
            raise UsageError(
                f"output_shape has {len(out)} values but the layer has {n} spatial dimensions", param="output_shape"
            )
        crops = []
        for dim, (ss, o, f, want) in enumerate(zip(s, op, full, out)):
            total = f + o - want
            if output_shape is not None and want > f + ss - 1:
                notes.append(
                    f"ONNX Runtime 1.32 refuses an output_shape above full size + stride - 1 = {f + ss - 1} "
                    f"(dim {dim}), and so does onnx.reference for NOTSET/VALID"
                )
            if total < 0 and output_shape is not None:
                crops.append((0, total - o))  # every extra zero at the end
                notes.append(
                    "output_shape exceeds the full output: its zeros are appended at the end, as ONNX Runtime and "
                    "onnx.reference (NOTSET/VALID) do; the operator text's total/2 does not say which side"
                    + ("; onnx.reference splits them around the output for SAME_*" if mode.startswith("SAME") else "")
                )
                continue
            small, large = total // 2, total - total // 2
            begin, end = (small, large) if mode == "SAME_UPPER" else (large, small)
            crops.append((begin, end - o))
            if output_shape is not None and mode in ("NOTSET", "VALID") and total > 0:
                notes.append(
                    "onnx.reference (the Python evaluator) ignores this split for NOTSET/VALID with "
                    "output_shape: it keeps pads at 0 and crops only at the end"
                )
            if output_shape is None and total < 0:
                notes.append(
                    f"ONNX Runtime 1.32 does not pad SAME_* with zeros: it gives min(input*stride, full size + "
                    f"output_padding) = {f + o} here (dim {dim}), where the operator text and onnx.reference give "
                    f"input*stride = {want}"
                )
        if mode in ("SAME_UPPER", "SAME_LOWER") and output_shape is None:
            if any(op):
                notes.append(
                    "ONNX shape inference leaves output_padding out of the SAME total padding and infers "
                    "input*stride + output_padding, while the reference evaluator gives input*stride (onnx#4299)"
                )
            if any(sizes.effective_kernel(kk, dd) < ss for kk, dd, ss in zip(k, d, s)):
                notes.append(
                    "shape inference clamps the SAME total padding at 0 when the kernel is smaller than the "
                    "stride and infers (i-1)*s + k_eff; the reference evaluator gives input*stride"
                )
        return _checked(Placement("onnx", i, k, s, d, tuple(crops), tuple(dict.fromkeys(notes))))
    if mode == "VALID" or pads is None:
        pads = [0] * (2 * n)
    if len(pads) != 2 * n or any(p < 0 for p in pads):
        raise UsageError(f"pads must be {2 * n} non-negative values [begin..., end...], got {list(pads)}", param="pads")
    placement = Placement("onnx", i, k, s, d, tuple((pads[dim], pads[n + dim] - op[dim]) for dim in range(n)))
    return _checked(replace(placement, notes=tuple(dict.fromkeys(notes))))


def keras_output_length(i: int, k: int, s: int, padding: str, output_padding: int | None, d: int = 1) -> int:
    """tf_keras' ``conv_utils.deconv_output_length``, including ``'full'`` (Keras 3 agrees on valid/same).

    >>> [keras_output_length(4, 3, 2, p, op) for p in ("valid", "same", "full") for op in (None, 0)]
    [9, 9, 8, 7, 5, 5]
    """
    k_eff = sizes.effective_kernel(k, d)
    if output_padding is None:
        if padding == "valid":
            return i * s + max(k_eff - s, 0)
        if padding == "full":
            return i * s - (s + k_eff - 2)
        return i * s
    pad = {"same": k_eff // 2, "valid": 0, "full": k_eff - 1}[padding]
    return (i - 1) * s + k_eff - 2 * pad + output_padding


def keras_placement(
    input_size: Sequence[int],
    kernel_size: sizes.IntArg,
    stride: sizes.IntArg = 1,
    padding: str = "valid",
    output_padding: sizes.IntArg | None = None,
    dilation: sizes.IntArg = 1,
) -> Placement:
    """Keras ``Conv{n}DTranspose`` (Keras 3's placement, the JAX convention for the zero-inserted input)."""
    i, k, s, d = _common(input_size, kernel_size, stride, dilation)
    n = len(i)
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise LayerError(
            f"The `padding` argument must be one of 'valid', 'same'. Received: padding={padding} "
            "('full' exists only in tf_keras' deconv_output_length helper)"
        )
    if any(ss > 1 for ss in s) and any(dd > 1 for dd in d):
        raise LayerError(
            f"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
            f"strides={list(s)} and dilation_rate={list(d)}"
        )
    op = None if output_padding is None else sizes.per_dim(output_padding, n, "output_padding")
    notes = []
    if op is not None:
        for dim, (o, ss) in enumerate(zip(op, s)):
            if not 0 <= o < ss:
                raise LayerError(
                    f"`output_padding` must be strictly less than `strides` for all dimensions. At "
                    f"dimension {dim}, `output_padding` is {o} but `strides` is {ss}."
                )
        notes.append("output_padding=None and output_padding=0 give different shapes in Keras (tensorflow#50168)")
    crops = []
    for dim, (kk, ss, dd) in enumerate(zip(k, s, d)):
        ke = sizes.effective_kernel(kk, dd)
        extra: int | None = None if op is None else op[dim]
        if padding == "valid":
            left, right = ke - 1, ke - 1 + (max(ke, ss) - ke if extra is None else extra)
        else:
            pad_len = ss + ke - 2 if extra is None else ke + ke % 2 - 2 + extra
            left = min(pad_len // 2 + pad_len % 2, ke - 1)
            right = pad_len - left
        crops.append((ke - 1 - left, ke - 1 - right))
    return _checked(Placement("keras", i, k, s, d, tuple(crops), tuple(notes)))


def tf_placement(
    input_size: Sequence[int],
    kernel_size: sizes.IntArg,
    stride: sizes.IntArg,
    padding: str | Sequence[Sequence[int]],
    output_shape: Sequence[int],
    dilation: sizes.IntArg = 1,
) -> Placement:
    """``tf.nn.conv{n}d_transpose``: the gradient of a SAME/VALID conv from ``output_shape`` back to the input.

    ``padding`` may also be explicit ``(before, after)`` pairs per spatial dimension (TF's
    ``[[0, 0], [1, 1], [1, 1], [0, 0]]`` with the batch and channel pairs removed): the forward convolution's
    padding, so the crop starts at ``before`` and the output must be one the padded conv maps to the input.
    """
    i, k, s, d = _common(input_size, kernel_size, stride, dilation)
    if not isinstance(padding, str):
        pairs = [tuple(p) for p in padding]
        if len(pairs) != len(i) or any(len(p) != 2 or min(p) < 0 for p in pairs):
            raise UsageError(f"explicit padding needs {len(i)} non-negative (before, after) pairs, got {pairs}")
        if len(output_shape) != len(i):
            raise UsageError(
                f"output_shape has {len(output_shape)} values but the layer has {len(i)} spatial dimensions"
            )
        crops = []
        for dim, (ii, kk, ss, dd, o, (pb, pe)) in enumerate(zip(i, k, s, d, output_shape, pairs)):
            ke = sizes.effective_kernel(kk, dd)
            computed = (o + pb + pe - ke) // ss + 1 if o + pb + pe >= ke else 0
            if computed != ii:
                raise LayerError(
                    f"Conv2DBackpropInput: Size of out_backprop doesn't match computed: actual = {ii}, "
                    f"computed = {computed} (dim {dim}; output_shape {o} with explicit padding ({pb}, {pe}))"
                )
            crops.append((pb, sizes.full_size(ii, kk, ss, dd) - o - pb))
        return _checked(Placement("tf", i, k, s, d, tuple(crops)))
    mode = padding
    if mode not in ("SAME", "VALID"):  # TF's attr is an enum: 'same' is refused, as by TF
        raise UsageError(
            f"padding={padding!r}: tf.nn.conv2d_transpose takes SAME or VALID, upper-case (or explicit pairs); "
            f"TF: Value for attr 'padding' of \"{padding}\" is not in the list of allowed values",
            param="padding",
        )
    if len(output_shape) != len(i):
        raise UsageError(f"output_shape has {len(output_shape)} values but the layer has {len(i)} spatial dimensions")
    crops = []
    for dim, (ii, kk, ss, dd, o) in enumerate(zip(i, k, s, d, output_shape)):
        ke = sizes.effective_kernel(kk, dd)
        if mode == "SAME":
            low, high, computed = (ii - 1) * ss + 1, ii * ss, -(-o // ss)
            before = max(0, (computed - 1) * ss + ke - o) // 2
        else:
            low, high = sizes.full_size(ii, kk, ss, dd), sizes.full_size(ii, kk, ss, dd) + ss - 1
            computed, before = (o - ke) // ss + 1 if o >= ke else 0, 0
        if not low <= o <= high:
            raise LayerError(
                f"Conv2DBackpropInput: Size of out_backprop doesn't match computed: actual = {ii}, "
                f"computed = {computed} (dim {dim}; with {mode} padding output_shape must be in "
                f"[{low}, {high}])"
            )
        full = sizes.full_size(ii, kk, ss, dd)
        crops.append((before, full - o - before))
    return _checked(Placement("tf", i, k, s, d, tuple(crops)))


def jax_placement(
    input_size: Sequence[int],
    kernel_size: sizes.IntArg,
    stride: sizes.IntArg = 1,
    padding: str | Sequence[Sequence[int]] = "VALID",
    dilation: sizes.IntArg = 1,
    consistent: bool = False,
) -> Placement:
    """``jax.lax.conv_transpose``: 'SAME', 'VALID', or ``(lo, hi)`` pairs (padding of the zero-inserted input, or
    with ``use_consistent_padding=True`` the forward conv's padding, i.e. the crop itself)."""
    i, k, s, d = _common(input_size, kernel_size, stride, dilation)
    n = len(i)
    crops = []
    if isinstance(padding, str):
        mode = padding
        if mode not in ("SAME", "VALID"):
            # conv_transpose reads only these two; any other string goes on to conv_general_dilated, which
            # refuses string padding with lhs dilation (stride > 1) and at stride 1 reads it as the forward
            # conv's padding: not conv_transpose's 'SAME'. So 'same' is refused here.
            raise UsageError(
                f"padding={padding!r}: jax.lax.conv_transpose takes 'SAME' or 'VALID', upper-case, or (lo, hi) "
                "pairs (another string is not its SAME/VALID rule)",
                param="padding",
            )
        for kk, ss, dd in zip(k, s, d):
            ke = sizes.effective_kernel(kk, dd)
            if mode == "SAME":
                pad_len = ke + ss - 2
                pad_a = ke - 1 if ss > ke - 1 else -(-pad_len // 2)
            else:
                pad_len = ke + ss - 2 + max(ke - ss, 0)
                pad_a = ke - 1
            crops.append((ke - 1 - pad_a, ke - 1 - (pad_len - pad_a)))
    else:
        pairs = [tuple(p) for p in padding]
        if len(pairs) != n or any(len(p) != 2 for p in pairs):
            raise UsageError(f"padding needs {n} (lo, hi) pairs, got {padding!r}")
        for (lo, hi), kk, dd in zip(pairs, k, d):
            ke = sizes.effective_kernel(kk, dd)
            crops.append((lo, hi) if consistent else (ke - 1 - lo, ke - 1 - hi))
    return _checked(Placement("jax", i, k, s, d, tuple(crops)))


MATLAB_SAME_NOTE = (
    "an odd 'same' cropping total crops the extra row/column at the end (bottom/right/back): this follows "
    "MathWorks' documentation (as for convolution2dLayer's 'same' padding), unverified against MATLAB itself"
)


def matlab_placement(
    input_size: Sequence[int],
    kernel_size: sizes.IntArg,
    stride: sizes.IntArg = 1,
    cropping: str | int | Sequence[int] = 0,
    dilation: sizes.IntArg = 1,
) -> Placement:
    """MATLAB ``transposedConv1d/2d/3dLayer(filterSize, numFilters, 'Stride', s, 'Cropping', c)``.

    ``out = s*(in-1) + filterSize - (crop_begin + crop_end)``. ``cropping`` is one int (every side), one per
    dimension (``[a b]``: top/bottom = a, left/right = b), two per dimension (``[t b l r]``), or ``'same'``
    (``out = in*s``; see :data:`MATLAB_SAME_NOTE` for an odd total). The layers have no dilation.

    >>> matlab_placement((8, 8), 4, 2, 1).output_size, matlab_placement((5,), 4, 3, "same").crops
    ((16, 16), ((0, 1),))
    """
    i, k, s, d = _common(input_size, kernel_size, stride, dilation)
    n = len(i)
    if any(v != 1 for v in d):
        raise UsageError(
            f"transposedConv{n}dLayer has no dilation (DilationFactor is convolution{n}dLayer's)", param="dilation"
        )
    notes: list[str] = []
    if isinstance(cropping, str):
        if cropping.lower() != "same":
            raise UsageError(f"Cropping={cropping!r}: use 'same', an int, [a b] or [t b l r]", param="cropping")
        crops = []
        for ii, kk, ss in zip(i, k, s):
            total = sizes.full_size(ii, kk, ss, 1) - ii * ss  # k - s
            if total < 0:
                raise LayerError(
                    f"Cropping='same' needs filterSize >= Stride to give inputSize*Stride (filter {kk}, stride {ss})",
                    param="cropping",
                )
            crops.append((total // 2, total - total // 2))
            if total % 2:
                notes.append(MATLAB_SAME_NOTE)
        return _checked(Placement("matlab", i, k, s, d, tuple(crops), tuple(dict.fromkeys(notes))))
    values = [cropping] if isinstance(cropping, int) else list(cropping)
    if any(v < 0 for v in values):
        raise LayerError(f"Cropping must be nonnegative, got {values}", param="cropping")
    if len(values) == 1:
        pairs = [(values[0], values[0])] * n
    elif len(values) == n:
        pairs = [(v, v) for v in values]
    elif len(values) == 2 * n:
        pairs = [(values[2 * dim], values[2 * dim + 1]) for dim in range(n)]
    else:
        raise UsageError(
            f"Cropping has {len(values)} values: give 1, {n} (one per dimension) or {2 * n} (begin and end per "
            "dimension, e.g. [t b l r])",
            param="cropping",
        )
    return _checked(Placement("matlab", i, k, s, d, tuple(pairs)))


def matlab_cropping(p: Placement) -> str | None:
    """The ``'Cropping'`` value giving placement ``p`` exactly, or None (negative crops, dilation)."""
    if any(v != 1 for v in p.dilation) or any(b < 0 or e < 0 for b, e in p.crops):
        return None
    if all(b == e for b, e in p.crops):
        values = [b for b, _ in p.crops]
        return str(values[0]) if len(set(values)) == 1 else "[" + " ".join(map(str, values)) + "]"
    return "[" + " ".join(f"{b} {e}" for b, e in p.crops) + "]"


def torch_equivalent(p: Placement) -> tuple[int, ...] | None:
    """PyTorch's (padding..., output_padding...) realising the placement exactly, or None."""
    pad, op = [], []
    for (b, e), s, d in zip(p.crops, p.stride, p.dilation):
        if b < 0 or not 0 <= b - e < sizes.output_padding_limit(s, d):
            return None
        pad.append(b)
        op.append(b - e)
    return (*pad, *op)


def torch_same_shape(p: Placement) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The PyTorch (padding, output_padding) giving the same SHAPE when no exact equivalent exists (values shift)."""
    pad, op = [], []
    for (b, e), s, d in zip(p.crops, p.stride, p.dilation):
        total = b + e
        q, o = -(-total // 2), (-total) % 2
        if q < 0 or o >= sizes.output_padding_limit(s, d):
            return None
        pad.append(q)
        op.append(o)
    return tuple(pad), tuple(op)


SPATIAL_LETTERS = {1: "W", 2: "HW", 3: "DHW"}
DEFAULT_LAYOUT = {"torch": "IO*", "onnx": "IO*", "keras": "*OI", "tf": "*OI", "jax": "*IO", "matlab": "*OI"}


def default_layout(convention: str, dims: int) -> str:
    """The kernel layout each framework uses: ``IOHW`` (PyTorch, ONNX), ``HWOI`` (Keras, TF, MATLAB's
    ``FilterSize x NumFilters x NumChannels``), ``HWIO`` (JAX)."""
    return DEFAULT_LAYOUT[convention].replace("*", SPATIAL_LETTERS[dims])


TConvErrorTypes = (LayerError, UsageError)
