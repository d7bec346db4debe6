"""2-D convolution in NumPy, forward and backward (taught in 02_convolution).

Each output pixel is a dot product between one filter and the patch of the input under it:

    out[n, co, i, j] = bias[co] + sum_{c, a, b} weight[co, c, a, b] * x_pad[n, c, i*sH + a, j*sW + b]

(like PyTorch, this is cross-correlation: the filter is not flipped). Two versions live here:

- `conv2d_naive` / `conv2d_backward_naive`: the formula above as nested loops, for reading;
- `conv2d_forward` / `conv2d_backward`: the same numbers with "im2col". Every patch is
  unrolled into one row of a matrix, so the convolution becomes ONE matrix multiply, a linear
  layer applied to every patch at once:
  ``patches (N*H_out*W_out, C_in*kH*kW) @ weight.T (C_in*kH*kW, C_out)``, which BLAS does fast.
  The patches are read through a strided *view* of the padded input (no Python loop over
  pixels). The backward pass is the linear layer's backward, and the patch gradients are folded
  back onto the input by looping only over the kH*kW kernel offsets.
- `shifted_conv2d_forward` / `shifted_conv2d_backward` (stride 1 only): a convolution is a sum
  of kH*kW 1x1 convolutions of shifted images. With the padded image stored as rows of channels,
  each shift is a contiguous range of rows, so no unfolded copy is made at all. `conv2d_forward`
  takes this road when it is the faster one (`use_shifted`).

`Conv2d` is the module that holds ``weight`` (C_out, C_in, kH, kW) and ``bias`` (C_out,) as
PyTorch's ``torch.nn.Conv2d`` does, initialised the same way.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnlib.checks import check_conv2d, check_int, check_same_dtype, pair
from cnnlib.numpy_nn.module import Module, Parameter


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
    """The patch matrix: one row per output pixel (n, i, j), one column per filter entry (c, a, b).

    Shape: (N*H_out*W_out, C*kH*kW). This is the one unfolded copy of the input; it is stored
    column by column (the transpose of a C-contiguous (C*kH*kW, N*H_out*W_out) array), because
    that order makes the strided copy read and write long runs of pixels, and `col2im` too.
    """
    n, c = x_pad.shape[:2]
    kh, kw = kernel_hw
    h_out, w_out = out_hw
    view = windows(x_pad, kernel_hw, stride, out_hw).transpose(1, 4, 5, 0, 2, 3)  # (C, kH, kW, N, H_out, W_out)
    cols = view.copy().reshape(c * kh * kw, n * h_out * w_out)  # a fresh, writable copy
    return cols.T                                               # (N*H_out*W_out, C*kH*kW)


def col2im(grad_patches: np.ndarray, x_pad_shape, kernel_hw, stride, out_hw) -> np.ndarray:
    """The adjoint of `im2col`: add every patch entry back onto the pixel it was read from.

    Overlapping windows read a pixel several times, so its gradient is the sum. The loop runs
    over the kH*kW kernel offsets only; each step adds a whole (C, N, H_out, W_out) block.
    ``grad_patches`` is laid out like `im2col`'s result. Returns the (N, C, Hp, Wp) gradient
    of the padded input.
    """
    n, c, hp, wp = x_pad_shape
    (kh, kw), (sh, sw), (h_out, w_out) = kernel_hw, stride, out_hw
    cols = grad_patches.T.reshape(c, kh, kw, n, h_out, w_out)  # a view when laid out like im2col's result
    grad = np.zeros((c, n, hp, wp), dtype=cols.dtype)          # channel-first, like cols: long contiguous adds
    for a in range(kh):
        for b in range(kw):
            grad[:, :, a:a + (h_out - 1) * sh + 1:sh, b:b + (w_out - 1) * sw + 1:sw] += cols[:, a, b]
    return grad.transpose(1, 0, 2, 3)  # (N, C, Hp, Wp)


def _grad_output_as(grad_output, expected_shape, dtype) -> np.ndarray:
    grad_output = np.asarray(grad_output)
    if grad_output.shape != expected_shape:
        raise ValueError(f"grad_output must have the output's shape {expected_shape}, got {grad_output.shape}")
    return grad_output.astype(dtype, copy=False)


def _prepare(x, weight, bias, stride, padding):
    weight = as_float_array(weight, "weight")
    x = as_float_array(x, "input", dtype=weight.dtype)  # integer images take the weight's dtype
    bias = None if bias is None else as_float_array(bias, "bias")
    (sh, sw), (ph, pw), out_hw = check_conv2d(x.shape, weight.shape, None if bias is None else bias.shape,
                                              stride, padding)
    check_same_dtype(x.dtype, weight.dtype, None if bias is None else bias.dtype)
    return x, weight, bias, (sh, sw), (ph, pw), out_hw


# -- stride 1: a sum of shifted 1x1 convolutions ------------------------------------------------
def use_shifted(in_channels: int, stride, padded_hw, out_hw) -> bool:
    """Whether `conv2d_forward` uses the shifted matrix multiplies instead of im2col.

    They need stride 1; they compute outputs on the whole padded Hp x Wp grid, so that grid must be
    barely larger than the output (at most 15% wasted); and each of the kH*kW products has only
    C_in as its inner dimension, which BLAS runs fast only when it is long (C_in >= 32). Measured
    with ``python -m cnnlib.bench``: VGG conv3-64 takes this road, ResNet's 14x14 maps do not.
    """
    (hp, wp), (h_out, w_out) = padded_hw, out_hw
    return tuple(stride) == (1, 1) and in_channels >= 32 and hp * wp <= 1.15 * h_out * w_out


def shifted_conv2d_forward(x, weight, bias, padding):
    """Stride-1 convolution as kH*kW matrix multiplies of shifted images; returns ``(out, cache)``.

    Math: with the padded input stored as rows of channels, rows[(n*Hp + i)*Wp + j] = x_pad[n, :, i, j],
    out_rows[r] = bias + sum_{a,b} rows[r + a*Wp + b] @ weight[:, :, a, b].T, since moving the filter
    entry by (a, b) moves the pixel by a*Wp + b rows. For a fixed (a, b) this is a 1x1 convolution
    (a linear layer on every pixel) of the image shifted by (a, b), and the shifted image is the
    CONTIGUOUS row range starting at a*Wp + b: no copy. Outputs are computed for every (i, j) of
    the padded grid; those whose window would run off the bottom or right edge are thrown away.

    Shape:
        x: (N, C_in, H, W); weight: (C_out, C_in, kH, kW); out: (N, C_out, Hp-kH+1, Wp-kW+1).
    """
    c_out, c_in, kh, kw = weight.shape
    n, _, h, w = x.shape
    (ph, pw), hp, wp = padding, h + 2 * padding[0], w + 2 * padding[1]
    x_pad = np.zeros((n, hp, wp, c_in), dtype=x.dtype)       # (N, Hp, Wp, C_in): channels last
    x_pad[:, ph:ph + h, pw:pw + w] = x.transpose(0, 2, 3, 1)
    rows = x_pad.reshape(-1, c_in)                            # (N*Hp*Wp, C_in)
    used = len(rows) - (kh - 1) * wp - (kw - 1)               # rows whose every shift stays inside
    out = np.zeros((len(rows), c_out), dtype=x.dtype)         # (N*Hp*Wp, C_out)
    product = np.empty((used, c_out), dtype=x.dtype)
    for a in range(kh):
        for b in range(kw):
            shift = a * wp + b
            np.matmul(rows[shift:shift + used], weight[:, :, a, b].T, out=product)  # a 1x1 convolution
            out[:used] += product
    h_out, w_out = hp - kh + 1, wp - kw + 1
    out = out.reshape(n, hp, wp, c_out)[:, :h_out, :w_out]   # (N, H_out, W_out, C_out): drop the edges
    if bias is not None:
        out += bias
    cache = ("shifted", rows, x.shape, weight, bias is not None, padding)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2)), cache  # (N, C_out, H_out, W_out)


def shifted_conv2d_backward(grad_output, cache):
    """The backward pass of `shifted_conv2d_forward`: ``(grad_input, grad_weight, grad_bias)``.

    Math: with G the output gradient on the padded grid as rows (zero on the thrown-away edges) and
    S = the rows shifted by a*Wp + b: grad_weight[:, :, a, b] = G^T @ S and grad_S += G @ weight[:, :, a, b],
    the backward of each 1x1 convolution, added up over the kH*kW shifts.

    Shape: as `conv2d_backward`.
    """
    _, rows, x_shape, weight, has_bias, (ph, pw) = cache
    c_out, c_in, kh, kw = weight.shape
    n, _, h, w = x_shape
    hp, wp = h + 2 * ph, w + 2 * pw
    h_out, w_out = hp - kh + 1, wp - kw + 1
    grad_output = _grad_output_as(grad_output, (n, c_out, h_out, w_out), weight.dtype)
    grad_grid = np.zeros((n, hp, wp, c_out), dtype=weight.dtype)  # (N, Hp, Wp, C_out)
    grad_grid[:, :h_out, :w_out] = grad_output.transpose(0, 2, 3, 1)
    used = len(rows) - (kh - 1) * wp - (kw - 1)
    g = grad_grid.reshape(-1, c_out)[:used]                        # (used rows, C_out)
    grad_weight = np.empty_like(weight)                            # (C_out, C_in, kH, kW)
    grad_rows = np.zeros_like(rows)                                # (N*Hp*Wp, C_in)
    product = np.empty((used, c_in), dtype=weight.dtype)
    for a in range(kh):
        for b in range(kw):
            shifted = rows[a * wp + b:a * wp + b + used]           # (used rows, C_in), a view
            grad_weight[:, :, a, b] = (shifted.T @ g).T            # orientation: see conv2d_backward
            np.matmul(g, weight[:, :, a, b], out=product)
            grad_rows[a * wp + b:a * wp + b + used] += product
    grad_bias = grad_output.sum(axis=(0, 2, 3)) if has_bias else None
    grad_input = grad_rows.reshape(n, hp, wp, c_in)[:, ph:ph + h, pw:pw + w].transpose(0, 3, 1, 2)
    return np.ascontiguousarray(grad_input), grad_weight, grad_bias  # (N, C_in, H, W), ...


# -- the vectorized pair --------------------------------------------------------------------------
def conv2d_forward(x, weight, bias=None, stride=1, padding=0):
    """Convolution by im2col and one matrix multiply; returns ``(out, cache)`` for `conv2d_backward`.

    Math: out[n, co, i, j] = bias[co] + sum_{c,a,b} weight[co, c, a, b] * x_pad[n, c, i*sH+a, j*sW+b].

    Shape:
        x: (N, C_in, H, W); weight: (C_out, C_in, kH, kW); bias: (C_out,) or None;
        out: (N, C_out, H_out, W_out) with H_out = floor((H + 2*pH - kH) / sH) + 1 (likewise W_out).

    ``stride`` and ``padding`` are an int or a pair (h, w), as in ``torch.nn.functional.conv2d``.
    The cache keeps the padded input, not the patch matrix: backward unfolds it again, so at
    most one unfolded copy of the input is alive at a time. Wide stride-1 layers go the
    shifted road instead (`use_shifted`), with the same results. Taught in 02_convolution.
    """
    x, weight, bias, stride, padding, out_hw = _prepare(x, weight, bias, stride, padding)
    c_out, c_in, kh, kw = weight.shape
    n, _, h, w = x.shape
    if use_shifted(c_in, stride, (h + 2 * padding[0], w + 2 * padding[1]), out_hw):
        return shifted_conv2d_forward(x, weight, bias, padding)
    x_pad = pad2d(x, padding)                              # (N, C_in, Hp, Wp)
    patches = im2col(x_pad, (kh, kw), stride, out_hw)      # (N*H_out*W_out, C_in*kH*kW)
    out = patches @ weight.reshape(c_out, -1).T            # (N*H_out*W_out, C_out): one GEMM
    del patches
    if bias is not None:
        out += bias
    out = out.reshape(n, *out_hw, c_out).transpose(0, 3, 1, 2)  # (N, C_out, H_out, W_out)
    cache = (x_pad, x.shape, weight, bias is not None, stride, padding, out_hw)
    return np.ascontiguousarray(out), cache


def conv2d_backward(grad_output, cache):
    """Gradients of the convolution from `conv2d_forward`'s cache: ``(grad_input, grad_weight, grad_bias)``.

    Math: with G = grad_output as (N*H_out*W_out, C_out), P = im2col(x) and W = weight as (C_out, C_in*kH*kW),
    grad_weight = G^T @ P, grad_patches = G @ W (folded back onto the input), grad_bias = sum of G's rows.

    Shape:
        grad_output: (N, C_out, H_out, W_out); grad_input: (N, C_in, H, W);
        grad_weight: (C_out, C_in, kH, kW); grad_bias: (C_out,), or None if the forward had no bias.

    Taught in 02_convolution (and checked numerically in 05_backprop_optimizers).
    """
    if isinstance(cache[0], str):  # ("shifted", ...) from shifted_conv2d_forward
        return shifted_conv2d_backward(grad_output, cache)
    x_pad, x_shape, weight, has_bias, stride, padding, out_hw = cache
    c_out, c_in, kh, kw = weight.shape
    n = x_shape[0]
    grad_output = _grad_output_as(grad_output, (n, c_out, *out_hw), weight.dtype)
    g = np.ascontiguousarray(grad_output.transpose(0, 2, 3, 1)).reshape(-1, c_out)  # (N*H_out*W_out, C_out)
    grad_bias = g.sum(axis=0) if has_bias else None                                 # (C_out,)

    patches = im2col(x_pad, (kh, kw), stride, out_hw)          # (N*H_out*W_out, C_in*kH*kW), unfolded again
    # G^T @ P computed as (P^T @ G)^T: the same GEMM, in the orientation OpenBLAS splits between threads
    # without stalling (python -m cnnlib.bench: VGG conv3-64 backward 3x faster at 2 threads, same at 1)
    grad_weight = (patches.T @ g).T.reshape(weight.shape)      # (C_out, C_in, kH, kW): one GEMM
    # the patches are no longer needed: their memory receives the patch gradients (one GEMM),
    # so only one unfolded copy is ever alive and no new large array is allocated
    grad_patches = np.matmul(g, weight.reshape(c_out, -1), out=patches)  # (N*H_out*W_out, C_in*kH*kW)
    del patches
    grad_pad = col2im(grad_patches, x_pad.shape, (kh, kw), stride, out_hw)  # (N, C_in, Hp, Wp)
    del grad_patches
    ph, pw = padding
    h, w = x_shape[2:]
    grad_input = np.ascontiguousarray(grad_pad[:, :, ph:ph + h, pw:pw + w])  # (N, C_in, H, W)
    return grad_input, grad_weight, grad_bias


def conv2d(x, weight, bias=None, stride=1, padding=0) -> np.ndarray:
    """``torch.nn.functional.conv2d`` in NumPy (forward only); see `conv2d_forward`. Taught in 02_convolution."""
    return conv2d_forward(x, weight, bias, stride, padding)[0]


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
                 bias: bool = True, dtype=np.float64, rng=None):
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.out_channels = check_int(out_channels, "out_channels", minimum=1)
        self.kernel_size = pair(kernel_size, "kernel_size", minimum=1)
        self.stride = pair(stride, "stride", minimum=1)
        self.padding = pair(padding, "padding", minimum=0)
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
        out, self._cache = conv2d_forward(x, self.weight.data, bias, self.stride, self.padding)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad_input, grad_weight, grad_bias = conv2d_backward(grad_output, self._saved(self._cache))
        self.weight.grad += grad_weight
        if self.bias is not None:
            self.bias.grad += grad_bias
        return grad_input

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}")
