"""2-D convolution in NumPy, forward and backward (taught in 02_convolution).

Each output pixel is a dot product between one filter and the patch of the input under it:

    out[n, co, i, j] = bias[co] + sum_{c, a, b} weight[co, c, a, b] * x_pad[n, g*C_g + c, i*sH + a*dH, j*sW + b*dW]

(like PyTorch, this is cross-correlation: the filter is not flipped). ``d`` is the dilation (the
taps' spacing, 1 in the lecture) and ``g = co // (C_out / groups)`` the group of filter co, which
reads only its own C_g = C_in / groups input channels (groups=1 in the lecture: every filter sees
every channel). The arguments follow ``torch.nn.functional.conv2d`` (`cnnlib.conv_args`). Two
versions live here:

- `conv2d_naive` / `conv2d_backward_naive` (in `cnnlib.numpy_nn.conv_naive`, re-exported here): the
  formula above as nested loops, for reading;
- `conv2d_forward` / `conv2d_backward`: the same numbers with "im2col" (image to columns).
  Every patch is unrolled into one column of a matrix, so the convolution becomes ONE matrix
  multiply per group, a linear layer applied to every patch at once:
  ``weight (C_out, C_in*kH*kW) @ columns (C_in*kH*kW, N*H_out*W_out)``, which BLAS does fast.
  The patches are read through a strided *view* of the padded input (no Python loop over
  pixels). The backward pass is the linear layer's backward, and the column gradients are folded
  back onto the input by looping only over the kH*kW kernel offsets.

A third way, for 3x3 filters at stride 1 (no dilation, one group) only, lives in
`cnnlib.numpy_nn.winograd`: Winograd's F(2x2, 3x3), the same convolution with 2.25x fewer multiplies.
``algorithm="auto"`` (the default) uses it where it applies, as cuDNN and oneDNN pick an algorithm
per layer; ``algorithm="im2col"`` always takes the path above.

`Conv2d` is the module that holds ``weight`` (C_out, C_in / groups, kH, kW) and ``bias`` (C_out,) as
PyTorch's ``torch.nn.Conv2d`` does, initialised the same way.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnlib.checks import check_int, check_same_dtype, pair
from cnnlib.conv_args import (batched_shape, check_groups, check_padding, check_padding_mode, conv2d_arguments)
from cnnlib.numpy_nn import winograd
from cnnlib.numpy_nn.module import Module, Parameter

ALGORITHMS = ("auto", "im2col", "winograd")
KEEP_COLUMNS_BYTES = 16 * 2**20  # a column matrix up to this size is kept for backward instead of unfolded again


# -- helpers shared by the vectorized pair --------------------------------------------------------
def as_float_array(x, name: str, dtype=None) -> np.ndarray:
    """``x`` as a floating-point array: floats keep their dtype, integers become ``dtype`` (default float64)."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        if not (np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_):
            raise ValueError(f"{name} must hold numbers, got dtype {x.dtype}")
        x = x.astype(dtype or np.float64)
    return x


def _sides(padding):
    """(pH, pW) or ((top, bottom), (left, right)) as the second form."""
    return tuple(p if isinstance(p, tuple) else (p, p) for p in padding)


def pad2d(x: np.ndarray, padding, value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of an (N, C, H, W) array: (pH, pW) on each side, or ((top, bottom), (left, right))."""
    (top, bottom), (left, right) = _sides(padding)
    if top == bottom == left == right == 0:
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + top + bottom, w + left + right), value, dtype=x.dtype)
    out[:, :, top:top + h, left:left + w] = x
    return out


def unpad2d(x_pad: np.ndarray, padding, hw) -> np.ndarray:
    """The image's own pixels of a padded (N, C, Hp, Wp) array, as a contiguous (N, C, H, W) copy."""
    (top, _), (left, _) = _sides(padding)
    return np.ascontiguousarray(x_pad[:, :, top:top + hw[0], left:left + hw[1]])


def windows(x_pad: np.ndarray, kernel_hw: tuple[int, int], stride: tuple[int, int],
            out_hw: tuple[int, int], dilation=(1, 1)) -> np.ndarray:
    """A read-only strided view of every window: (N, C, H_out, W_out, kH, kW), no copy.

    ``windows(...)[n, c, i, j, a, b]`` is ``x_pad[n, c, i*sH + a*dH, j*sW + b*dW]`` (d: the dilation).
    """
    (sh, sw), (h_out, w_out), (dh, dw) = stride, out_hw, dilation
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel_hw, dilation))
    view = sliding_window_view(x_pad, span, axis=(2, 3))[..., ::dh, ::dw]  # (N, C, Hp-span+1, ..., kH, kW)
    return view[:, :, :(h_out - 1) * sh + 1:sh, :(w_out - 1) * sw + 1:sw]  # (N, C, H_out, W_out, kH, kW)


def im2col(x_pad: np.ndarray, kernel_hw, stride, out_hw, dilation=(1, 1)) -> np.ndarray:
    """The column matrix: one column per output pixel (n, i, j), one row per filter entry (c, a, b).

    Shape: (C*kH*kW, N*H_out*W_out), C-contiguous: column (n, i, j) is the patch under output
    pixel (i, j) of image n, unrolled. This is the one unfolded copy of the input. Its rows run
    along the output pixels, so the strided copy reads and writes long runs of pixels (and
    `col2im` adds long runs back). The rows of channel group g are the g-th block of rows.
    """
    n, c = x_pad.shape[:2]
    kh, kw = kernel_hw
    h_out, w_out = out_hw
    view = windows(x_pad, kernel_hw, stride, out_hw, dilation).transpose(1, 4, 5, 0, 2, 3)  # (C, kH, kW, N, Ho, Wo)
    return view.copy().reshape(c * kh * kw, n * h_out * w_out)  # a fresh, writable copy


def col2im(grad_columns: np.ndarray, x_pad_shape, kernel_hw, stride, out_hw, dilation=(1, 1)) -> np.ndarray:
    """The adjoint of `im2col`: add every patch entry back onto the pixel it was read from.

    Overlapping windows read a pixel several times, so its gradient is the sum. The loop runs
    over the kH*kW kernel offsets only; each step adds a whole (C, N, H_out, W_out) block (or, where there
    are fewer windows than offsets, over the H_out*W_out windows, each adding a (C, N, kH, kW) block).
    ``grad_columns`` has `im2col`'s shape (C*kH*kW, N*H_out*W_out). Returns the (N, C, Hp, Wp)
    gradient of the padded input.
    """
    n, c, hp, wp = x_pad_shape
    (kh, kw), (sh, sw), (h_out, w_out), (dh, dw) = kernel_hw, stride, out_hw, dilation
    cols = grad_columns.reshape(c, kh, kw, n, h_out, w_out)   # a view
    grad = np.zeros((c, n, hp, wp), dtype=cols.dtype)          # channel-first, like cols: long contiguous adds
    if h_out * w_out < kh * kw:  # fewer windows than offsets (LeNet's C5: one): loop over the windows instead
        for i in range(h_out):
            for j in range(w_out):
                grad[:, :, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw] += \
                    cols[..., i, j].transpose(0, 3, 1, 2)  # (C, N, kH, kW)
        return grad.transpose(1, 0, 2, 3)
    for a in range(kh):
        for b in range(kw):
            grad[:, :, a * dh:a * dh + (h_out - 1) * sh + 1:sh, b * dw:b * dw + (w_out - 1) * sw + 1:sw] += cols[:, a, b]
    return grad.transpose(1, 0, 2, 3)  # (N, C, Hp, Wp)


def col2im_batch_last(grad_columns, x_pad_shape, kernel_hw, stride, out_hw, dilation=(1, 1)) -> np.ndarray:
    """`col2im` for column gradients whose pixels run (i, j, n), the image index last: the same sums, faster.

    ``grad_columns``: (C*kH*kW, H_out*W_out*N). The gradient is built as (C, Hp, Wp, N), so each
    of the kH*kW slice additions runs over W_out*N contiguous numbers (640 for LeNet's C3) instead
    of W_out (10): NumPy's per-run overhead, not memory, was what `col2im` spent its time on
    (LeNet's C3, GEMM and fold together: 1.2 ms with `col2im`, 0.64 ms with this; measured on the
    bench machine).
    Returns the (N, C, Hp, Wp) gradient of the padded input, a transposed view. Used for the small
    layers whose columns are kept (`KEEP_COLUMNS_BYTES`): on the bench's large ones, with few images,
    the transposes to and from the image-last order cost more than the longer runs save.
    """
    n, c, hp, wp = x_pad_shape
    (kh, kw), (sh, sw), (h_out, w_out), (dh, dw) = kernel_hw, stride, out_hw, dilation
    cols = grad_columns.reshape(c, kh, kw, h_out, w_out, n)  # a view
    grad = np.zeros((c, hp, wp, n), dtype=cols.dtype)
    if h_out * w_out < kh * kw:  # fewer windows than offsets: loop over the windows
        for i in range(h_out):
            for j in range(w_out):
                grad[:, i * sh:i * sh + dh * (kh - 1) + 1:dh, j * sw:j * sw + dw * (kw - 1) + 1:dw] += \
                    cols[:, :, :, i, j]  # (C, kH, kW, N)
        return grad.transpose(3, 0, 1, 2)
    for a in range(kh):
        for b in range(kw):
            grad[:, a * dh:a * dh + (h_out - 1) * sh + 1:sh, b * dw:b * dw + (w_out - 1) * sw + 1:sw] += cols[:, a, b]
    return grad.transpose(3, 0, 1, 2)  # (N, C, Hp, Wp)


def _prepare(x, weight, bias, stride, padding, dilation=1, groups=1):
    """Arrays and checked arguments: (x as (N, C_in, H, W), weight, bias, ConvArgs, whether x was batched)."""
    weight = as_float_array(weight, "weight")
    x = as_float_array(x, "input", dtype=weight.dtype)  # integer images take the weight's dtype
    bias = None if bias is None else as_float_array(bias, "bias")
    shape, batched = batched_shape(x.shape)
    x = x.reshape(shape)                                # (N, C_in, H, W): a view
    args = conv2d_arguments(x.shape, weight.shape, None if bias is None else bias.shape, stride, padding,
                            dilation, groups)
    check_same_dtype(x.dtype, weight.dtype, None if bias is None else bias.dtype)
    return x, weight, bias, args, batched


def choose_algorithm(algorithm, kernel_hw, stride, on_cpu: bool = True, dilation=(1, 1), groups: int = 1,
                     padding=((1, 1), (1, 1))) -> str:
    """Resolve ``algorithm``: "auto" is "winograd" where it applies on a CPU, "im2col" otherwise.

    Winograd F(2x2, 3x3) applies to 3x3 filters at stride 1, without dilation, in one group, with
    the same padding on both sides of each axis. On a GPU (``on_cpu=False``, cnnlib.torch_nn only)
    "auto" stays with im2col: a few large kernels rather than Winograd's many small additions, each a
    kernel launch (reasoned, not yet measured).
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    needs = {"kernel_size": (tuple(kernel_hw), (3, 3)), "stride": (tuple(stride), (1, 1)),
             "dilation": (tuple(dilation), (1, 1)), "groups": (groups, 1)}
    misfits = [f"{name}={got}" for name, (got, want) in needs.items() if got != want]
    if any(before != after for before, after in _sides(padding)):
        misfits.append(f"padding={tuple(_sides(padding))} (not the same on both sides)")
    if algorithm == "winograd" and misfits:
        raise ValueError(f"algorithm='winograd' needs a 3x3 kernel, stride 1, dilation 1, groups=1 and symmetric "
                         f"padding, got {', '.join(misfits)}; use 'im2col' or 'auto'")
    if algorithm == "auto":
        return "winograd" if not misfits and on_cpu else "im2col"
    return algorithm


def _checked_grad(grad_output, expected, dtype):
    grad_output = np.asarray(grad_output)
    if grad_output.shape != tuple(expected):
        raise ValueError(f"grad_output must have the output's shape {tuple(expected)}, got {grad_output.shape}")
    return grad_output.astype(dtype, copy=False)


# -- the vectorized pair --------------------------------------------------------------------------
def conv2d_forward(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, algorithm="auto"):
    """Convolution by im2col and one matrix multiply per group; returns ``(out, cache)`` for `conv2d_backward`.

    Math: out[n, co, i, j] = bias[co] + sum_{c,a,b} weight[co, c, a, b] * x_pad[n, g*C_g+c, i*sH+a*dH, j*sW+b*dW].

    Shape:
        x: (N, C_in, H, W), or (C_in, H, W) for one image; weight: (C_out, C_in / groups, kH, kW);
        bias: (C_out,) or None; out: (N, C_out, H_out, W_out) (or (C_out, H_out, W_out)) with
        H_out = floor((H + pad_top + pad_bottom - dH*(kH-1) - 1) / sH) + 1 (likewise W_out).

    ``stride``, ``padding`` (also "valid" or "same"), ``dilation`` and ``groups`` as in
    ``torch.nn.functional.conv2d`` (see `cnnlib.conv_args`). An input with no channels (C_in=0)
    gives PyTorch's answer, an empty (N, 0, H_out, W_out) output. ``algorithm``: "im2col" (below),
    "winograd" (3x3 filters, stride 1; see `cnnlib.numpy_nn.winograd`) or "auto", which takes Winograd
    where it applies. The cache keeps the padded input, and the column matrix if it takes at most
    `KEEP_COLUMNS_BYTES` (16 MiB: LeNet-5's step then skips one unfolding per layer); a larger one
    backward unfolds
    again, so at most one unfolded copy of the input is alive at a time. Taught in 02_convolution.
    """
    x, weight, bias, args, batched = _prepare(x, weight, bias, stride, padding, dilation, groups)
    c_out, _, kh, kw = weight.shape
    n, groups, out_hw = x.shape[0], args.groups, args.out_hw
    if x.shape[1] == 0:  # PyTorch's answer without input channels: an empty output (N, 0, H_out, W_out)
        out = np.zeros((n, 0, *out_hw), x.dtype)
        return (out if batched else out[0]), ("no channels", (x.shape, weight, bias is not None, args), batched)
    if choose_algorithm(algorithm, (kh, kw), args.stride, True, args.dilation, groups, args.padding) == "winograd":
        padding = (args.padding[0][0], args.padding[1][0])
        out, saved = winograd.winograd_forward(x, weight, bias, padding, out_hw)
        return (out if batched else out[0]), ("winograd", saved, batched)
    x_pad = pad2d(x, args.padding)                                         # (N, C_in, Hp, Wp)
    columns = im2col(x_pad, (kh, kw), args.stride, out_hw, args.dilation)  # (C_in*kH*kW, N*H_out*W_out)
    rows, pixels = columns.shape[0] // groups, columns.shape[1]
    out = weight.reshape(groups, c_out // groups, rows) @ columns.reshape(groups, rows, pixels)  # one GEMM per group
    kept = columns if columns.nbytes <= KEEP_COLUMNS_BYTES else None  # small: backward need not unfold again
    del columns                                                            # a large one is freed here
    out = out.reshape(c_out, pixels)                                       # (C_out, N*H_out*W_out)
    if bias is not None:
        out += bias[:, None]
    out = np.ascontiguousarray(out.reshape(c_out, n, *out_hw).transpose(1, 0, 2, 3))  # (N, C_out, H_out, W_out)
    cache = (x_pad, x.shape, weight, bias is not None, args, kept)
    return (out if batched else out[0]), ("im2col", cache, batched)


def conv2d_backward(grad_output, cache, need_input_grad: bool = True):
    """Gradients of the convolution from `conv2d_forward`'s cache: ``(grad_input, grad_weight, grad_bias)``.

    Math: per group, with G = grad_output as (C_out/groups, N*H_out*W_out), X = im2col(x) and
    W = weight as (C_out/groups, C_in/groups*kH*kW): grad_weight = G @ X^T, grad_columns = W^T @ G
    (folded back onto the input), grad_bias = G's row sums.

    Shape:
        grad_output: the output's shape; grad_input: the input's; grad_weight: (C_out, C_in / groups, kH, kW);
        grad_bias: (C_out,), or None if the forward had no bias.

    ``need_input_grad=False`` skips the input gradient (half the work) and returns None in its place,
    as PyTorch does for a first layer, whose input needs no gradient.
    Taught in 02_convolution (and checked numerically in 05_backpropagation).
    """
    algorithm, saved, batched = cache
    if algorithm == "no channels":
        grads = no_channels_backward(grad_output, saved, batched)
    elif algorithm == "winograd":
        x, weight, out_hw = saved[0], saved[1], saved[-1]
        expected = (len(x), len(weight), *out_hw)
        grad_output = _checked_grad(grad_output, expected if batched else expected[1:], weight.dtype)
        grads = winograd.winograd_backward(grad_output.reshape(expected), saved, need_input_grad)
    else:
        grads = _im2col_backward(grad_output, saved, batched, need_input_grad)
    grad_input = grads[0] if grads[0] is None or batched else grads[0][0]
    return grad_input, grads[1], grads[2]


def _im2col_backward(grad_output, saved, batched, need_input_grad):
    x_pad, x_shape, weight, has_bias, args, kept = saved
    c_out, _, kh, kw = weight.shape
    (n, _, h_out, w_out), groups = (x_shape[0], c_out, *args.out_hw), args.groups
    expected = (n, c_out, h_out, w_out)
    grad_output = _checked_grad(grad_output, expected if batched else expected[1:], weight.dtype).reshape(expected)
    pixels = n * h_out * w_out
    g = np.ascontiguousarray(grad_output.transpose(1, 0, 2, 3)).reshape(groups, c_out // groups, pixels)
    grad_bias = g.sum(axis=2).reshape(c_out) if has_bias else None        # (C_out,)

    columns = im2col(x_pad, (kh, kw), args.stride, args.out_hw, args.dilation) if kept is None else kept
    rows = columns.shape[0] // groups
    columns = columns.reshape(groups, rows, pixels)                       # (groups, C_in/groups*kH*kW, pixels)
    # G @ X^T computed as (X @ G^T)^T: the same GEMM, in the orientation OpenBLAS splits between threads
    # without stalling (python -m cnnlib.bench: VGG conv3-64 backward 3x faster at 2 threads, same at 1)
    grad_weight = (columns @ g.transpose(0, 2, 1)).transpose(0, 2, 1).reshape(weight.shape)  # one GEMM per group
    if not need_input_grad:
        return None, grad_weight, grad_bias
    # unfolded again, the columns are no longer needed: their memory receives the column gradients (one GEMM
    # per group), so only one unfolded copy is ever alive and no new large array is allocated
    w = weight.reshape(groups, c_out // groups, rows)
    if kept is None:  # a large layer: the column gradients overwrite the columns, pixels ordered (n, i, j)
        grad_columns = np.matmul(w.transpose(0, 2, 1), g, out=columns).reshape(groups * rows, pixels)
        del columns
        grad_pad = col2im(grad_columns, x_pad.shape, (kh, kw), args.stride, args.out_hw, args.dilation)
    else:             # a small one (kept columns stay intact: backward may run twice), pixels ordered (i, j, n)
        g_last = np.ascontiguousarray(grad_output.transpose(1, 2, 3, 0)).reshape(groups, c_out // groups, pixels)
        grad_columns = (w.transpose(0, 2, 1) @ g_last).reshape(groups * rows, pixels)
        grad_pad = col2im_batch_last(grad_columns, x_pad.shape, (kh, kw), args.stride, args.out_hw, args.dilation)
    del grad_columns
    return unpad2d(grad_pad, args.padding, x_shape[2:]), grad_weight, grad_bias  # (N, C_in, H, W)


def no_channels_backward(grad_output, saved, batched):
    """Gradients of PyTorch's empty output for an input without channels: zeros of each shape."""
    x_shape, weight, has_bias, args = saved
    expected = (x_shape[0], 0, *args.out_hw)
    _checked_grad(grad_output, expected if batched else expected[1:], weight.dtype)
    grad_bias = np.zeros(len(weight), weight.dtype) if has_bias else None
    return np.zeros(x_shape, weight.dtype), np.zeros_like(weight), grad_bias


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, algorithm="auto") -> np.ndarray:
    """``torch.nn.functional.conv2d`` in NumPy (forward only); see `conv2d_forward`. Taught in 02_convolution."""
    return conv2d_forward(x, weight, bias, stride, padding, dilation, groups, algorithm=algorithm)[0]


# -- the module -----------------------------------------------------------------------------------
class Conv2d(Module):
    """A convolutional layer with PyTorch's arguments, parameter shapes and initialisation.

    Math: out = conv2d(x, weight, bias, stride, padding, dilation, groups), i.e.
    out[n, co, i, j] = bias[co] + sum_{c,a,b} weight[co, c, a, b] * x_pad[n, g*C_g+c, i*sH+a*dH, j*sW+b*dW].

    Shape:
        input (N, C_in, H, W) -> output (N, C_out, H_out, W_out), or (C_in, H, W) -> (C_out, H_out, W_out);
        H_out = floor((H + pad_top + pad_bottom - dH*(kH-1) - 1) / sH) + 1, W_out likewise.
        weight: (C_out, C_in / groups, kH, kW); bias: (C_out,).

    The positional arguments are ``torch.nn.Conv2d``'s; cnnlib's own (``dtype``, ``rng``,
    ``algorithm``) are keyword-only. Only ``padding_mode='zeros'`` is supported. Initialisation as
    ``torch.nn.Conv2d``: weight and bias uniform in ±1/sqrt(C_in/groups*kH*kW).
    ``backward(grad_output)`` returns the gradient with respect to the input and *adds* the
    parameter gradients into ``weight.grad`` and ``bias.grad``. Set ``need_input_grad = False`` on a
    network's first layer: its backward then skips the input gradient nobody uses and returns None.
    Taught in 02_convolution.
    """

    need_input_grad: bool = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias: bool = True, padding_mode: str = "zeros", *, dtype=np.float64, rng=None,
                 algorithm="auto"):
        self.in_channels = check_int(in_channels, "in_channels", minimum=0)
        self.out_channels = check_int(out_channels, "out_channels", minimum=1)
        self.kernel_size = pair(kernel_size, "kernel_size", minimum=1)
        self.stride = pair(stride, "stride", minimum=1)
        self.padding = check_padding(padding, self.stride)
        self.dilation = pair(dilation, "dilation", minimum=1)
        self.groups = check_groups(groups, self.in_channels, self.out_channels)
        if check_padding_mode(padding_mode) != "zeros":
            raise ValueError(f"padding_mode={padding_mode!r} is not supported by cnnlib (only 'zeros'); pad the "
                             f"input yourself (np.pad with mode='reflect', 'edge' or 'wrap') and use padding=0")
        self.padding_mode = padding_mode
        self.algorithm = algorithm
        same = self.padding == "same" and self.kernel_size == (3, 3) and self.dilation == (1, 1)
        choose_algorithm(algorithm, self.kernel_size, self.stride, True, self.dilation, self.groups,
                         (1, 1) if same or self.padding == "valid" else self.padding)  # refuse a bad choice now
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise ValueError(f"dtype must be a floating-point type such as np.float32, got {dtype}")
        rng = np.random.default_rng(rng)
        fan_in = self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0  # torch leaves a layer without inputs at zero
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(rng.uniform(-bound, bound, size=shape).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, size=self.out_channels).astype(dtype)) if bias else None
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        bias = None if self.bias is None else self.bias.data
        out, self._cache = conv2d_forward(x, self.weight.data, bias, self.stride, self.padding, self.dilation,
                                          self.groups, algorithm=self.algorithm)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray | None:
        grad_input, grad_weight, grad_bias = conv2d_backward(grad_output, self._saved(self._cache),
                                                             need_input_grad=self.need_input_grad)
        self.weight.grad += grad_weight
        if self.bias is not None:
            self.bias.grad += grad_bias
        return grad_input

    def extra_repr(self) -> str:
        extras = [f"dilation={self.dilation}" if self.dilation != (1, 1) else "",
                  f"groups={self.groups}" if self.groups != 1 else "",
                  f"algorithm={self.algorithm!r}" if self.algorithm != "auto" else ""]
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding!r}, bias={self.bias is not None}"
                + "".join(", " + e for e in extras if e))


# the loops live beside this module, and are part of its interface (they use its helpers, so they come last)
from cnnlib.numpy_nn.conv_naive import conv2d_backward_naive, conv2d_naive  # noqa: E402

__all__ = ["ALGORITHMS", "as_float_array", "pad2d", "unpad2d", "windows", "im2col", "col2im", "choose_algorithm",
           "conv2d_forward", "conv2d_backward", "conv2d", "conv2d_naive", "conv2d_backward_naive", "Conv2d"]
