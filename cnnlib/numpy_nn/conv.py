"""2-D convolution in NumPy, forward and backward (taught in 02_convolution).

Each output pixel is a dot product between one filter and the patch of the input under it:

    out[n, co, i, j] = bias[co] + sum_{c, a, b} weight[co, c, a, b] * x_pad[n, c, i*sH + a, j*sW + b]

(like PyTorch, this is cross-correlation: the filter is not flipped). Two versions live here:

- `conv2d_naive` / `conv2d_backward_naive`: the formula above as nested loops, for reading;
- `conv2d_forward` / `conv2d_backward`: the same numbers with "im2col" (image to columns).
  Every patch is unrolled into one column of a matrix, so the convolution becomes ONE matrix
  multiply, a linear layer applied to every patch at once:
  ``weight (C_out, C_in*kH*kW) @ columns (C_in*kH*kW, N*H_out*W_out)``, which BLAS does fast.
  The patches are read through a strided *view* of the padded input (no Python loop over
  pixels). The backward pass is the linear layer's backward, and the column gradients are folded
  back onto the input by looping only over the kH*kW kernel offsets.

A third way, for 3x3 filters at stride 1 only, lives in `cnnlib.numpy_nn.winograd`: Winograd's
F(2x2, 3x3), the same convolution with 2.25x fewer multiplies. ``algorithm="auto"`` (the
default) uses it where it applies, as cuDNN and oneDNN pick an algorithm per layer;
``algorithm="im2col"`` always takes the path above.

`Conv2d` is the module that holds ``weight`` (C_out, C_in, kH, kW) and ``bias`` (C_out,) as
PyTorch's ``torch.nn.Conv2d`` does, initialised the same way.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnlib.checks import check_conv2d, check_int, check_same_dtype, pair
from cnnlib.numpy_nn import winograd
from cnnlib.numpy_nn.module import Module, Parameter

ALGORITHMS = ("auto", "im2col", "winograd")


# -- helpers shared by the vectorized pair --------------------------------------------------------
def as_float_array(x, name: str, dtype=None) -> np.ndarray:
    """``x`` as a floating-point array: floats keep their dtype, integers become ``dtype`` (default float64)."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        if not (np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_):
            raise ValueError(f"{name} must hold numbers, got dtype {x.dtype}")
        x = x.astype(dtype or np.float64)
    return x


def pad2d(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of an (N, C, H, W) array by (pH, pW) on each side."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def windows(x_pad: np.ndarray, kernel_hw: tuple[int, int], stride: tuple[int, int],
            out_hw: tuple[int, int]) -> np.ndarray:
    """A read-only strided view of every window: (N, C, H_out, W_out, kH, kW), no copy.

    ``windows(...)[n, c, i, j]`` is the patch ``x_pad[n, c, i*sH : i*sH+kH, j*sW : j*sW+kW]``.
    """
    (sh, sw), (h_out, w_out) = stride, out_hw
    view = sliding_window_view(x_pad, kernel_hw, axis=(2, 3))  # (N, C, Hp-kH+1, Wp-kW+1, kH, kW)
    return view[:, :, :(h_out - 1) * sh + 1:sh, :(w_out - 1) * sw + 1:sw]  # (N, C, H_out, W_out, kH, kW)


def im2col(x_pad: np.ndarray, kernel_hw, stride, out_hw) -> np.ndarray:
    """The column matrix: one column per output pixel (n, i, j), one row per filter entry (c, a, b).

    Shape: (C*kH*kW, N*H_out*W_out), C-contiguous: column (n, i, j) is the patch under output
    pixel (i, j) of image n, unrolled. This is the one unfolded copy of the input. Its rows run
    along the output pixels, so the strided copy reads and writes long runs of pixels (and
    `col2im` adds long runs back).
    """
    n, c = x_pad.shape[:2]
    kh, kw = kernel_hw
    h_out, w_out = out_hw
    view = windows(x_pad, kernel_hw, stride, out_hw).transpose(1, 4, 5, 0, 2, 3)  # (C, kH, kW, N, H_out, W_out)
    return view.copy().reshape(c * kh * kw, n * h_out * w_out)  # a fresh, writable copy


def col2im(grad_columns: np.ndarray, x_pad_shape, kernel_hw, stride, out_hw) -> np.ndarray:
    """The adjoint of `im2col`: add every patch entry back onto the pixel it was read from.

    Overlapping windows read a pixel several times, so its gradient is the sum. The loop runs
    over the kH*kW kernel offsets only; each step adds a whole (C, N, H_out, W_out) block.
    ``grad_columns`` has `im2col`'s shape (C*kH*kW, N*H_out*W_out). Returns the (N, C, Hp, Wp)
    gradient of the padded input.
    """
    n, c, hp, wp = x_pad_shape
    (kh, kw), (sh, sw), (h_out, w_out) = kernel_hw, stride, out_hw
    cols = grad_columns.reshape(c, kh, kw, n, h_out, w_out)   # a view
    grad = np.zeros((c, n, hp, wp), dtype=cols.dtype)          # channel-first, like cols: long contiguous adds
    for a in range(kh):
        for b in range(kw):
            grad[:, :, a:a + (h_out - 1) * sh + 1:sh, b:b + (w_out - 1) * sw + 1:sw] += cols[:, a, b]
    return grad.transpose(1, 0, 2, 3)  # (N, C, Hp, Wp)


def _prepare(x, weight, bias, stride, padding):
    weight = as_float_array(weight, "weight")
    x = as_float_array(x, "input", dtype=weight.dtype)  # integer images take the weight's dtype
    bias = None if bias is None else as_float_array(bias, "bias")
    (sh, sw), (ph, pw), out_hw = check_conv2d(x.shape, weight.shape, None if bias is None else bias.shape,
                                              stride, padding)
    check_same_dtype(x.dtype, weight.dtype, None if bias is None else bias.dtype)
    return x, weight, bias, (sh, sw), (ph, pw), out_hw


def choose_algorithm(algorithm, kernel_hw, stride, on_cpu: bool = True) -> str:
    """Resolve ``algorithm``: "auto" is "winograd" for 3x3 filters at stride 1 on a CPU, "im2col" otherwise.

    On a GPU (``on_cpu=False``, cnnlib.torch_nn only) "auto" stays with im2col: a few large kernels
    rather than Winograd's many small additions, each a kernel launch (reasoned, not yet measured).
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    fits = tuple(kernel_hw) == (3, 3) and tuple(stride) == (1, 1)
    if algorithm == "winograd" and not fits:
        raise ValueError(f"algorithm='winograd' needs a 3x3 kernel and stride 1, got kernel_size "
                         f"{tuple(kernel_hw)} and stride {tuple(stride)}; use 'im2col' or 'auto'")
    if algorithm == "auto":
        return "winograd" if fits and on_cpu else "im2col"
    return algorithm


def _checked_grad(grad_output, expected, dtype):
    grad_output = np.asarray(grad_output)
    if grad_output.shape != expected:
        raise ValueError(f"grad_output must have the output's shape {expected}, got {grad_output.shape}")
    return grad_output.astype(dtype, copy=False)


# -- the vectorized pair --------------------------------------------------------------------------
def conv2d_forward(x, weight, bias=None, stride=1, padding=0, algorithm="auto"):
    """Convolution by im2col and one matrix multiply; returns ``(out, cache)`` for `conv2d_backward`.

    Math: out[n, co, i, j] = bias[co] + sum_{c,a,b} weight[co, c, a, b] * x_pad[n, c, i*sH+a, j*sW+b].

    Shape:
        x: (N, C_in, H, W); weight: (C_out, C_in, kH, kW); bias: (C_out,) or None;
        out: (N, C_out, H_out, W_out) with H_out = floor((H + 2*pH - kH) / sH) + 1 (likewise W_out).

    ``stride`` and ``padding`` are an int or a pair (h, w), as in ``torch.nn.functional.conv2d``.
    ``algorithm``: "im2col" (below), "winograd" (3x3 filters, stride 1; see `cnnlib.numpy_nn.winograd`)
    or "auto", which takes Winograd where it applies. The cache keeps the padded input, not the
    column matrix: backward unfolds it again, so at most one unfolded copy of the input is alive at
    a time. Taught in 02_convolution.
    """
    x, weight, bias, stride, padding, out_hw = _prepare(x, weight, bias, stride, padding)
    c_out, c_in, kh, kw = weight.shape
    if choose_algorithm(algorithm, (kh, kw), stride) == "winograd":
        out, cache = winograd.winograd_forward(x, weight, bias, padding, out_hw)
        return out, ("winograd", cache)
    n = x.shape[0]
    x_pad = pad2d(x, padding)                              # (N, C_in, Hp, Wp)
    columns = im2col(x_pad, (kh, kw), stride, out_hw)      # (C_in*kH*kW, N*H_out*W_out)
    out = weight.reshape(c_out, -1) @ columns              # (C_out, N*H_out*W_out): one GEMM
    del columns
    if bias is not None:
        out += bias[:, None]
    out = out.reshape(c_out, n, *out_hw).transpose(1, 0, 2, 3)  # (N, C_out, H_out, W_out)
    cache = (x_pad, x.shape, weight, bias is not None, stride, padding, out_hw)
    return np.ascontiguousarray(out), ("im2col", cache)


def conv2d_backward(grad_output, cache):
    """Gradients of the convolution from `conv2d_forward`'s cache: ``(grad_input, grad_weight, grad_bias)``.

    Math: with G = grad_output as (C_out, N*H_out*W_out), X = im2col(x) and W = weight as (C_out, C_in*kH*kW),
    grad_weight = G @ X^T, grad_columns = W^T @ G (folded back onto the input), grad_bias = G's row sums.

    Shape:
        grad_output: (N, C_out, H_out, W_out); grad_input: (N, C_in, H, W);
        grad_weight: (C_out, C_in, kH, kW); grad_bias: (C_out,), or None if the forward had no bias.

    Taught in 02_convolution (and checked numerically in 05_backprop_optimizers).
    """
    algorithm, saved = cache
    if algorithm == "winograd":
        x, weight, out_hw = saved[0], saved[1], saved[-1]
        return winograd.winograd_backward(_checked_grad(grad_output, (len(x), len(weight), *out_hw), weight.dtype),
                                          saved)
    x_pad, x_shape, weight, has_bias, stride, padding, out_hw = saved
    grad_output = _checked_grad(grad_output, (x_shape[0], len(weight), *out_hw), weight.dtype)
    c_out, c_in, kh, kw = weight.shape
    g = np.ascontiguousarray(grad_output.transpose(1, 0, 2, 3)).reshape(c_out, -1)  # (C_out, N*H_out*W_out)
    grad_bias = g.sum(axis=1) if has_bias else None                                 # (C_out,)

    columns = im2col(x_pad, (kh, kw), stride, out_hw)          # (C_in*kH*kW, N*H_out*W_out), unfolded again
    # G @ X^T computed as (X @ G^T)^T: the same GEMM, in the orientation OpenBLAS splits between threads
    # without stalling (python -m cnnlib.bench: VGG conv3-64 backward 3x faster at 2 threads, same at 1)
    grad_weight = (columns @ g.T).T.reshape(weight.shape)      # (C_out, C_in, kH, kW): one GEMM
    # the columns are no longer needed: their memory receives the column gradients (one GEMM),
    # so only one unfolded copy is ever alive and no new large array is allocated
    grad_columns = np.matmul(weight.reshape(c_out, -1).T, g, out=columns)  # (C_in*kH*kW, N*H_out*W_out)
    del columns
    grad_pad = col2im(grad_columns, x_pad.shape, (kh, kw), stride, out_hw)  # (N, C_in, Hp, Wp)
    del grad_columns
    ph, pw = padding
    h, w = x_shape[2:]
    grad_input = np.ascontiguousarray(grad_pad[:, :, ph:ph + h, pw:pw + w])  # (N, C_in, H, W)
    return grad_input, grad_weight, grad_bias


def conv2d(x, weight, bias=None, stride=1, padding=0, algorithm="auto") -> np.ndarray:
    """``torch.nn.functional.conv2d`` in NumPy (forward only); see `conv2d_forward`. Taught in 02_convolution."""
    return conv2d_forward(x, weight, bias, stride, padding, algorithm)[0]


# -- the naive loops, for reading -----------------------------------------------------------------
def conv2d_naive(x, weight, bias=None, stride=1, padding=0) -> np.ndarray:
    """The convolution as four nested loops over (n, c_out, i, j): slow, but reads like the formula.

    Math: out[n, co, i, j] = bias[co] + sum(weight[co] * x_pad[n, :, i*sH : i*sH+kH, j*sW : j*sW+kW]).

    Shape: as `conv2d_forward`. Taught in 02_convolution.
    """
    x, weight, bias, (sh, sw), padding, (h_out, w_out) = _prepare(x, weight, bias, stride, padding)
    c_out, _, kh, kw = weight.shape
    n_batch = x.shape[0]
    x_pad = pad2d(x, padding)
    out = np.zeros((n_batch, c_out, h_out, w_out), dtype=x.dtype)
    for n in range(n_batch):
        for co in range(c_out):
            for i in range(h_out):
                for j in range(w_out):
                    patch = x_pad[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw]  # (C_in, kH, kW)
                    out[n, co, i, j] = np.sum(patch * weight[co])
            if bias is not None:
                out[n, co] += bias[co]
    return out


def conv2d_backward_naive(grad_output, x, weight, bias=None, stride=1, padding=0):
    """The backward pass as loops: each output pixel sends its gradient back to its patch and its filter.

    Math: for every (n, co, i, j) with g = grad_output[n, co, i, j]:
    grad_weight[co] += g * patch,  grad_x_pad[n, :, window] += g * weight[co],  grad_bias[co] += g.

    Shape: as `conv2d_backward`; returns ``(grad_input, grad_weight, grad_bias_or_None)``.
    Taught in 02_convolution.
    """
    x, weight, bias, (sh, sw), (ph, pw), (h_out, w_out) = _prepare(x, weight, bias, stride, padding)
    c_out, _, kh, kw = weight.shape
    n_batch, _, h, w = x.shape
    grad_output = np.asarray(grad_output, dtype=x.dtype)
    x_pad = pad2d(x, (ph, pw))
    grad_pad = np.zeros_like(x_pad)
    grad_weight = np.zeros_like(weight)
    grad_bias = None if bias is None else np.zeros_like(bias)
    for n in range(n_batch):
        for co in range(c_out):
            for i in range(h_out):
                for j in range(w_out):
                    g = grad_output[n, co, i, j]
                    rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
                    grad_weight[co] += g * x_pad[n, :, rows, cols]
                    grad_pad[n, :, rows, cols] += g * weight[co]
                    if grad_bias is not None:
                        grad_bias[co] += g
    return grad_pad[:, :, ph:ph + h, pw:pw + w], grad_weight, grad_bias


# -- the module -----------------------------------------------------------------------------------
class Conv2d(Module):
    """A convolutional layer with PyTorch's arguments, parameter shapes and initialisation.

    Math: out = conv2d(x, weight, bias, stride, padding), i.e.
    out[n, co, i, j] = bias[co] + sum_{c,a,b} weight[co, c, a, b] * x_pad[n, c, i*sH+a, j*sW+b].

    Shape:
        input (N, C_in, H, W) -> output (N, C_out, H_out, W_out),
        H_out = floor((H + 2*pH - kH) / sH) + 1, W_out likewise.
        weight: (C_out, C_in, kH, kW); bias: (C_out,).

    Initialisation as ``torch.nn.Conv2d``: weight and bias uniform in ±1/sqrt(C_in*kH*kW).
    ``backward(grad_output)`` returns the gradient with respect to the input and *adds* the
    parameter gradients into ``weight.grad`` and ``bias.grad``. Taught in 02_convolution.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, dtype=np.float64, rng=None, algorithm="auto"):
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.out_channels = check_int(out_channels, "out_channels", minimum=1)
        self.kernel_size = pair(kernel_size, "kernel_size", minimum=1)
        self.stride = pair(stride, "stride", minimum=1)
        self.padding = pair(padding, "padding", minimum=0)
        self.algorithm = algorithm
        choose_algorithm(algorithm, self.kernel_size, self.stride)  # refuse a bad choice now, not at forward
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise ValueError(f"dtype must be a floating-point type such as np.float32, got {dtype}")
        rng = np.random.default_rng(rng)
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.weight = Parameter(rng.uniform(-bound, bound, size=shape).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, size=self.out_channels).astype(dtype)) if bias else None
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        bias = None if self.bias is None else self.bias.data
        out, self._cache = conv2d_forward(x, self.weight.data, bias, self.stride, self.padding, self.algorithm)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad_input, grad_weight, grad_bias = conv2d_backward(grad_output, self._saved(self._cache))
        self.weight.grad += grad_weight
        if self.bias is not None:
            self.bias.grad += grad_bias
        return grad_input

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}"
                + ("" if self.algorithm == "auto" else f", algorithm={self.algorithm!r}"))
