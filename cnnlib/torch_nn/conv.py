"""2-D convolution in PyTorch tensor operations, backward written by hand (taught in 02_convolution).

The same algorithm, step for step and name for name, as ``cnnlib.numpy_nn.conv``, on tensors
of any device (CPU, CUDA, MPS) and dtype:

    out[n, co, i, j] = bias[co] + sum_{c, a, b} weight[co, c, a, b] * x_pad[n, c, i*sH + a, j*sW + b]

`im2col` reads every window of the padded input through a strided view (``Tensor.unfold``) and
unrolls it into one column of a matrix, so the convolution is ONE matrix multiply, a linear layer
applied to every patch at once: ``weight (C_out, C_in*kH*kW) @ columns (C_in*kH*kW, N*H_out*W_out)``.
The backward pass is the linear layer's backward; `col2im`, the adjoint of `im2col`, folds the
column gradients back onto the input. For 3x3 filters at stride 1 on the CPU, ``algorithm="auto"`` takes
Winograd's F(2x2, 3x3) instead (`cnnlib.torch_nn.winograd`), as the NumPy reference does.
``torch.nn.functional.conv2d`` is never called. `Conv2dFunction` hands the
pair to autograd, so ``loss.backward()`` runs *our* `conv2d_backward`.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from cnnlib.checks import check_conv2d, check_int, check_same_dtype, pair
from cnnlib.numpy_nn.conv import ALGORITHMS, choose_algorithm  # the same rule on both sides
from cnnlib.torch_nn import winograd

__all__ = ["ALGORITHMS", "choose_algorithm", "pad2d", "windows", "im2col", "col2im", "conv2d_forward",
           "conv2d_backward", "Conv2dFunction", "conv2d", "conv2d_naive", "conv2d_backward_naive", "Conv2d"]


def _shape(t):
    return None if t is None else tuple(t.shape)


# -- helpers shared by the vectorized pair (the same names and layouts as cnnlib.numpy_nn.conv) ----------
def pad2d(x, padding, value: float = 0.0):
    """Pad the last two axes of an (N, C, H, W) tensor by (pH, pW) on each side."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return F.pad(x, (pw, pw, ph, ph), value=value)  # (N, C, H+2pH, W+2pW)


def windows(x_pad, kernel_hw, stride, out_hw):
    """A strided view of every window: (N, C, H_out, W_out, kH, kW), no copy.

    ``windows(...)[n, c, i, j]`` is the patch ``x_pad[n, c, i*sH : i*sH+kH, j*sW : j*sW+kW]``.
    """
    (kh, kw), (sh, sw), (h_out, w_out) = kernel_hw, stride, out_hw
    view = x_pad.unfold(2, kh, sh).unfold(3, kw, sw)  # (N, C, floor((Hp-kH)/sH)+1, ..., kH, kW)
    return view[:, :, :h_out, :w_out]                 # (N, C, H_out, W_out, kH, kW)


def im2col(x_pad, kernel_hw, stride, out_hw):
    """The column matrix: one column per output pixel (n, i, j), one row per filter entry (c, a, b).

    Shape: (C*kH*kW, N*H_out*W_out), contiguous, as in the NumPy reference. This is the one unfolded
    copy of the input; its rows run along the output pixels, so the strided copy reads and writes
    long runs of pixels, and so does `col2im`.
    """
    n, c = x_pad.shape[:2]
    (kh, kw), (h_out, w_out) = kernel_hw, out_hw
    view = windows(x_pad, kernel_hw, stride, out_hw).permute(1, 4, 5, 0, 2, 3)  # (C, kH, kW, N, H_out, W_out)
    return view.reshape(c * kh * kw, n * h_out * w_out)  # the copy (a view only when no copy is needed)


def col2im(grad_columns, x_pad_shape, kernel_hw, stride, out_hw):
    """The adjoint of `im2col`: add every patch entry back onto the pixel it was read from.

    Overlapping windows read a pixel several times, so its gradient is the sum. The loop runs
    over the kH*kW kernel offsets only; each step adds a whole (C, N, H_out, W_out) block.
    ``grad_columns`` has `im2col`'s shape (C*kH*kW, N*H_out*W_out). Returns the (N, C, Hp, Wp)
    gradient of the padded input.
    """
    n, c, hp, wp = x_pad_shape
    (kh, kw), (sh, sw), (h_out, w_out) = kernel_hw, stride, out_hw
    cols = grad_columns.reshape(c, kh, kw, n, h_out, w_out)  # a view when contiguous
    grad = cols.new_zeros(c, n, hp, wp)  # channel-first, like cols: long contiguous adds; cols' device and dtype
    for a in range(kh):
        for b in range(kw):
            grad[:, :, a:a + (h_out - 1) * sh + 1:sh, b:b + (w_out - 1) * sw + 1:sw] += cols[:, a, b]
    return grad.permute(1, 0, 2, 3)  # (N, C, Hp, Wp)


def _prepare(x, weight, bias, stride, padding):
    stride, padding, out_hw = check_conv2d(x.shape, weight.shape, _shape(bias), stride, padding)
    check_same_dtype(x.dtype, weight.dtype, None if bias is None else bias.dtype)
    return stride, padding, out_hw


# -- the vectorized pair ----------------------------------------------------------------------------------
def conv2d_forward(x, weight, bias=None, stride=1, padding=0, algorithm="auto"):
    """Convolution by im2col and one matrix multiply; returns ``(out, cache)`` for `conv2d_backward`.

    Math: out[n, co, i, j] = bias[co] + sum_{c,a,b} weight[co, c, a, b] * x_pad[n, c, i*sH+a, j*sW+b].

    Shape:
        x: (N, C_in, H, W); weight: (C_out, C_in, kH, kW); bias: (C_out,) or None;
        out: (N, C_out, H_out, W_out) with H_out = floor((H + 2*pH - kH) / sH) + 1 (likewise W_out).

    ``algorithm``: "im2col", "winograd" (3x3, stride 1) or "auto": Winograd where it applies on the
    CPU, im2col on a GPU (not measured yet on one: no GPU was at hand when this was written).
    Like the NumPy reference, the cache keeps the padded input, not the column matrix: backward
    unfolds it again. Taught in 02_convolution.
    """
    stride, padding, out_hw = _prepare(x, weight, bias, stride, padding)
    c_out, c_in, kh, kw = weight.shape
    if choose_algorithm(algorithm, (kh, kw), stride, on_cpu=x.device.type == "cpu") == "winograd":
        out, cache = winograd.winograd_forward(x, weight, bias, padding, out_hw)
        return out, ("winograd", cache)
    n = x.shape[0]
    x_pad = pad2d(x, padding)                              # (N, C_in, Hp, Wp)
    columns = im2col(x_pad, (kh, kw), stride, out_hw)      # (C_in*kH*kW, N*H_out*W_out)
    out = weight.reshape(c_out, -1) @ columns              # (C_out, N*H_out*W_out): one GEMM
    del columns
    if bias is not None:
        out += bias[:, None]
    out = out.reshape(c_out, n, *out_hw).permute(1, 0, 2, 3)  # (N, C_out, H_out, W_out)
    cache = (x_pad, x.shape, weight, bias is not None, stride, padding, out_hw)
    return out.contiguous(), ("im2col", cache)


def conv2d_backward(grad_output, cache):
    """Gradients of the convolution from `conv2d_forward`'s cache: ``(grad_input, grad_weight, grad_bias)``.

    Math: with G = grad_output as (C_out, N*H_out*W_out), X = im2col(x) and W = weight as (C_out, C_in*kH*kW),
    grad_weight = G @ X^T, grad_columns = W^T @ G (folded back onto the input), grad_bias = G's row sums.

    Shape:
        grad_output: (N, C_out, H_out, W_out); grad_input: (N, C_in, H, W);
        grad_weight: (C_out, C_in, kH, kW); grad_bias: (C_out,), or None if the forward had no bias.

    Taught in 02_convolution.
    """
    algorithm, saved = cache
    if algorithm == "winograd":
        x, weight, out_hw = saved[0], saved[1], saved[-1]
        _check_grad(grad_output, (len(x), len(weight), *out_hw))
        return winograd.winograd_backward(grad_output, saved)
    x_pad, x_shape, weight, has_bias, stride, padding, out_hw = saved
    c_out, c_in, kh, kw = weight.shape
    _check_grad(grad_output, (x_shape[0], c_out, *out_hw))
    g = grad_output.permute(1, 0, 2, 3).reshape(c_out, -1)     # (C_out, N*H_out*W_out)
    grad_bias = g.sum(dim=1) if has_bias else None              # (C_out,)

    columns = im2col(x_pad, (kh, kw), stride, out_hw)           # (C_in*kH*kW, N*H_out*W_out), unfolded again
    grad_weight = (g @ columns.t()).reshape(weight.shape)       # (C_out, C_in, kH, kW): one GEMM
    del columns                                                 # free it before the next unfolded tensor
    grad_columns = weight.reshape(c_out, -1).t() @ g            # (C_in*kH*kW, N*H_out*W_out): one GEMM
    grad_pad = col2im(grad_columns, x_pad.shape, (kh, kw), stride, out_hw)  # (N, C_in, Hp, Wp)
    del grad_columns
    ph, pw = padding
    h, w = x_shape[2:]
    grad_input = grad_pad[:, :, ph:ph + h, pw:pw + w].contiguous()  # (N, C_in, H, W)
    return grad_input, grad_weight, grad_bias


def _check_grad(grad_output, expected):
    if tuple(grad_output.shape) != expected:
        raise ValueError(f"grad_output must have the output's shape {expected}, got {tuple(grad_output.shape)}")


class Conv2dFunction(torch.autograd.Function):
    """conv2d as an autograd node: forward keeps the cache, backward calls ``conv2d_backward``."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, algorithm="auto"):
        out, ctx.cache = conv2d_forward(x, weight, bias, stride, padding, algorithm)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        grad_input, grad_weight, grad_bias = conv2d_backward(grad_output, ctx.cache)
        return grad_input, grad_weight, grad_bias, None, None, None


def conv2d(x, weight, bias=None, stride=1, padding=0, algorithm="auto"):
    """``torch.nn.functional.conv2d`` by im2col or Winograd, differentiable through our `conv2d_backward`.

    Shape: x (N, C_in, H, W), weight (C_out, C_in, kH, kW), bias (C_out,) -> (N, C_out, H_out, W_out).
    Taught in 02_convolution.
    """
    return Conv2dFunction.apply(x, weight, bias, stride, padding, algorithm)


# -- the naive loops, for reading -------------------------------------------------------------------------
def conv2d_naive(x, weight, bias=None, stride=1, padding=0):
    """The convolution as loops over output pixels (vectorized over the batch and filters): slow but plain.

    Math: out[n, co, i, j] = bias[co] + sum(weight[co] * x_pad[n, :, i*sH : i*sH+kH, j*sW : j*sW+kW]).

    Shape: as `conv2d_forward`. Taught in 02_convolution.
    """
    (sh, sw), padding, (h_out, w_out) = _prepare(x, weight, bias, stride, padding)
    kh, kw = weight.shape[2:]
    x_pad = pad2d(x, padding)                                              # (N, C_in, Hp, Wp)
    out = x.new_zeros(x.shape[0], weight.shape[0], h_out, w_out)           # (N, C_out, H_out, W_out)
    for i in range(h_out):
        for j in range(w_out):
            patch = x_pad[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]  # (N, C_in, kH, kW)
            out[:, :, i, j] = torch.einsum("nchw,ochw->no", patch, weight)
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    return out


def conv2d_backward_naive(grad_output, x, weight, bias=None, stride=1, padding=0):
    """The backward pass as loops: each output pixel sends its gradient back to its patch and its filters.

    Math: for every (i, j), with g = grad_output[:, :, i, j] of shape (N, C_out):
    grad_weight += g^T . patch,  grad_x_pad[:, :, window] += g . weight,  grad_bias += sum_n g.

    Shape: as `conv2d_backward`; returns ``(grad_input, grad_weight, grad_bias_or_None)``.
    """
    (sh, sw), (ph, pw), (h_out, w_out) = _prepare(x, weight, bias, stride, padding)
    kh, kw = weight.shape[2:]
    h, w = x.shape[2:]
    x_pad = pad2d(x, (ph, pw))
    grad_pad = torch.zeros_like(x_pad)
    grad_weight = torch.zeros_like(weight)
    grad_bias = None if bias is None else grad_output.sum(dim=(0, 2, 3))
    for i in range(h_out):
        for j in range(w_out):
            g = grad_output[:, :, i, j]                                    # (N, C_out)
            rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
            grad_weight += torch.einsum("no,nchw->ochw", g, x_pad[:, :, rows, cols])
            grad_pad[:, :, rows, cols] += torch.einsum("no,ochw->nchw", g, weight)
    return grad_pad[:, :, ph:ph + h, pw:pw + w], grad_weight, grad_bias


# -- the module -------------------------------------------------------------------------------------------
class Conv2d(torch.nn.Module):
    """out = conv2d(x, weight, bias, stride, padding): ``out_channels`` learned filters over all input channels.

    The same arguments, parameter names and default initialisation (uniform in
    ±1/sqrt(C_in*kH*kW)) as ``torch.nn.Conv2d``, so ``load_state_dict`` works both ways.

    Shape:
        input (N, C_in, H, W) -> output (N, C_out, H_out, W_out);
        weight (C_out, C_in, kH, kW), bias (C_out,).

    ``algorithm`` ("auto", "im2col" or "winograd") is passed to `conv2d`. Autograd runs the
    hand-written `conv2d_backward`. Taught in 02_convolution.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 algorithm="auto", device=None, dtype=None):
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.out_channels = check_int(out_channels, "out_channels", minimum=1)
        self.kernel_size = pair(kernel_size, "kernel_size", minimum=1)
        self.stride = pair(stride, "stride", minimum=1)
        self.padding = pair(padding, "padding", minimum=0)
        self.algorithm = algorithm
        choose_algorithm(algorithm, self.kernel_size, self.stride)  # refuse a bad choice now, not at forward
        factory = {"device": device, "dtype": dtype}
        self.weight = torch.nn.Parameter(torch.empty(out_channels, in_channels, *self.kernel_size, **factory))
        if bias:
            self.bias = torch.nn.Parameter(torch.empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight and bias uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)]."""
        bound = 1.0 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.algorithm)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}"
                + ("" if self.algorithm == "auto" else f", algorithm={self.algorithm!r}"))
