"""2-D convolution in PyTorch tensor operations, backward written by hand (taught in 02_convolution).

The same algorithm, step for step and name for name, as ``cnnlib.numpy_nn.conv``, on tensors
of any device (CPU, CUDA, MPS) and dtype, with ``torch.nn.functional.conv2d``'s arguments
(stride, padding including "same" and "valid", dilation, groups; see `cnnlib.conv_args`):

    out[n, co, i, j] = bias[co] + sum_{c, a, b} weight[co, c, a, b] * x_pad[n, g*C_g + c, i*sH + a*dH, j*sW + b*dW]

`im2col` reads every window of the padded input through a strided view (``Tensor.unfold``) and
unrolls it into one column of a matrix, so the convolution is ONE matrix multiply per group, a linear
layer applied to every patch at once: ``weight (C_out, C_in*kH*kW) @ columns (C_in*kH*kW, N*H_out*W_out)``.
The backward pass is the linear layer's backward; `col2im`, the adjoint of `im2col`, folds the
column gradients back onto the input (both in `cnnlib.torch_nn.im2col`); on large images the multiply
runs once per image (`cnnlib.numpy_nn.conv.per_image_gemms`), as in the reference. For 3x3 filters at stride 1 on the CPU, ``algorithm="auto"`` takes
Winograd's F(2x2, 3x3) instead (`cnnlib.torch_nn.winograd`), as the NumPy reference does.
``torch.nn.functional.conv2d`` is never called. `Conv2dFunction` hands the pair to autograd, so
``loss.backward()`` runs *our* `conv2d_backward`; it keeps the input and weight with
``ctx.save_for_backward``, so a tensor changed in place before backward raises as in PyTorch.
The naive loops live in `cnnlib.torch_nn.conv_naive` (re-exported here).
"""
from __future__ import annotations

import math

import torch
from torch.autograd.function import once_differentiable

from cnnlib.checks import check_int, check_same_dtype, pair
from cnnlib.conv_args import batched_shape, check_groups, check_padding, check_padding_mode, conv2d_arguments
from cnnlib.numpy_nn.conv import (ALGORITHMS, KEEP_COLUMNS_BYTES, choose_algorithm,  # the same rules on both sides
                                  per_image_gemms)
from cnnlib.torch_nn import winograd
from cnnlib.torch_nn.autocast import autocast_off, to_low_precision
from cnnlib.torch_nn.im2col import col2im, col2im_batch_last, im2col, pad2d, unpad2d, windows  # noqa: F401

__all__ = ["ALGORITHMS", "choose_algorithm", "pad2d", "unpad2d", "windows", "im2col", "col2im", "col2im_batch_last",
           "conv2d_forward",
           "conv2d_backward", "Conv2dFunction", "conv2d", "conv2d_naive", "conv2d_backward_naive", "Conv2d",
           "check_tensors"]


def _shape(t):
    return None if t is None else tuple(t.shape)


def check_tensors(**tensors) -> None:
    """A TypeError that says to pass a tensor when an argument is a NumPy array, a list or anything else."""
    for name, value in tensors.items():
        if value is not None and not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__module__}.{type(value).__name__}; "
                            f"convert it with torch.as_tensor({name}) (cnnlib.numpy_nn takes NumPy arrays)")


def _prepare(x, weight, bias, stride, padding, dilation=1, groups=1):
    """(x as (N, C_in, H, W), ConvArgs, whether x was batched), or a clear error."""
    check_tensors(input=x, weight=weight, bias=bias)
    shape, batched = batched_shape(x.shape)
    args = conv2d_arguments(shape, weight.shape, _shape(bias), stride, padding, dilation, groups)
    check_same_dtype(x.dtype, weight.dtype, None if bias is None else bias.dtype)
    return x.reshape(shape), args, batched


# -- the vectorized pair ----------------------------------------------------------------------------------
def conv2d_forward(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, algorithm="auto"):
    """Convolution by im2col and one matrix multiply per group; returns ``(out, cache)`` for `conv2d_backward`.

    Math: out[n, co, i, j] = bias[co] + sum_{c,a,b} weight[co, c, a, b] * x_pad[n, g*C_g+c, i*sH+a*dH, j*sW+b*dW].

    Shape:
        x: (N, C_in, H, W), or (C_in, H, W) for one image; weight: (C_out, C_in / groups, kH, kW);
        bias: (C_out,) or None; out: (N, C_out, H_out, W_out) (or (C_out, H_out, W_out)) with
        H_out = floor((H + pad_top + pad_bottom - dH*(kH-1) - 1) / sH) + 1 (likewise W_out).

    ``algorithm``: "im2col", "winograd" (3x3, stride 1) or "auto": Winograd where it applies on the
    CPU, im2col on a GPU (not measured yet on one: no GPU was at hand when this was written).
    An input with no channels (C_in=0) gives PyTorch's answer, an empty (N, 0, H_out, W_out) output.
    The cache is ``(algorithm, (x, weight), other arguments)``: the two tensors are what
    `Conv2dFunction` saves for backward; the other arguments end with the im2col column matrix when
    it takes at most `KEEP_COLUMNS_BYTES` (16 MiB), else with None: then only the input is what
    `Conv2dFunction` saves for backward, which pads and unfolds the input again. Taught in 02_convolution.
    """
    x4, args, batched = _prepare(x, weight, bias, stride, padding, dilation, groups)
    c_out, _, kh, kw = weight.shape
    n, groups, out_hw = x4.shape[0], args.groups, args.out_hw
    on_cpu, kept = x.device.type == "cpu", None
    if x4.shape[1] == 0:  # PyTorch's answer without input channels: an empty output (N, 0, H_out, W_out)
        algorithm = "no channels"
        out = x4.new_zeros(n, 0, *out_hw)
    elif (choose_algorithm(algorithm, (kh, kw), args.stride, on_cpu, args.dilation, groups, args.padding)
          == "winograd" and (not on_cpu or winograd.all_finite(x4, weight))):  # inf - inf = NaN in Winograd
        # (checked on the CPU only, where the host read costs no sync; elsewhere Winograd runs only by name)
        algorithm = "winograd"
        out = winograd.winograd_forward(x4, weight, bias, (args.padding[0][0], args.padding[1][0]), out_hw)[0]
    else:
        algorithm = "im2col"
        x_pad = pad2d(x4, args.padding)                                         # (N, C_in, Hp, Wp)
        per_image = per_image_gemms(out_hw, c_out // groups)
        columns = im2col(x_pad, (kh, kw), args.stride, out_hw, args.dilation, image_last=not per_image)
        rows, pixels = columns.shape[0] // groups, columns.shape[1]            # (C_in*kH*kW, N*H_out*W_out)
        w = weight.reshape(groups, c_out // groups, rows)
        if per_image:  # one GEMM per image and group: (N, groups, C_out/groups, H_out*W_out), the output's layout
            out = w @ columns.reshape(groups, rows, n, -1).permute(2, 0, 1, 3)
        else:          # one GEMM per group over every pixel, ordered (i, j, n)
            out = w @ columns.reshape(groups, rows, pixels)
        kept = columns if columns.numel() * columns.element_size() <= KEEP_COLUMNS_BYTES else None
        del columns
        out = out.reshape((n, c_out, *out_hw) if per_image else (c_out, *out_hw, n))
        if bias is not None:
            out += bias[:, None, None] if per_image else bias[:, None, None, None]
        if not per_image:
            out = out.permute(3, 0, 1, 2).contiguous()                         # (N, C_out, H_out, W_out)
    return (out if batched else out[0]), (algorithm, (x, weight), (bias is not None, args, kept))


def conv2d_backward(grad_output, cache, need_input_grad: bool = True):
    """Gradients of the convolution from `conv2d_forward`'s cache: ``(grad_input, grad_weight, grad_bias)``.

    Math: per group, with G = grad_output as (C_out/groups, N*H_out*W_out), X = im2col(x) and
    W = weight as (C_out/groups, C_in/groups*kH*kW): grad_weight = G @ X^T, grad_columns = W^T @ G
    (folded back onto the input), grad_bias = G's row sums.

    Shape:
        grad_output: the output's shape; grad_input: the input's; grad_weight: (C_out, C_in / groups, kH, kW);
        grad_bias: (C_out,), or None if the forward had no bias.

    ``need_input_grad=False`` skips the input gradient and returns None in its place (autograd asks
    for it only when the input requires grad). Taught in 02_convolution.
    """
    algorithm, (x, weight), (has_bias, args, kept) = cache
    check_tensors(grad_output=grad_output)
    x4 = x if x.dim() == 4 else x[None]
    c_out = weight.shape[0]
    expected = (x4.shape[0], 0 if algorithm == "no channels" else c_out, *args.out_hw)
    _check_grad(grad_output, expected if x.dim() == 4 else expected[1:])
    g4 = grad_output.reshape(expected)
    if algorithm == "no channels":  # PyTorch's empty output: zero gradients
        grads = (torch.zeros_like(x4), torch.zeros_like(weight), weight.new_zeros(c_out) if has_bias else None)
    elif algorithm == "winograd":
        saved = (x4, weight, has_bias, (args.padding[0][0], args.padding[1][0]), args.out_hw)
        grads = winograd.winograd_backward(g4, saved, need_input_grad)
    else:
        grads = _im2col_backward(g4, x4, weight, has_bias, args, need_input_grad, kept)
    grad_input = grads[0] if grads[0] is None or x.dim() == 4 else grads[0][0]
    return (grad_input if need_input_grad else None), grads[1], grads[2]


def _im2col_backward(grad_output, x, weight, has_bias, args, need_input_grad, kept=None):
    c_out, _, kh, kw = weight.shape
    (n, h_out, w_out), groups = (x.shape[0], *args.out_hw), args.groups
    pixels, cg = n * h_out * w_out, c_out // groups
    per_image = per_image_gemms(args.out_hw, cg)
    x_pad = pad2d(x, args.padding)                                                # padded again (a small copy)
    columns = kept if kept is not None else im2col(x_pad, (kh, kw), args.stride, args.out_hw, args.dilation,
                                                   image_last=not per_image)
    rows = columns.shape[0] // groups
    if per_image:  # one GEMM per image and group, summed over the images; pixels ordered (n, i, j)
        g = grad_output.reshape(n, groups, cg, h_out * w_out)
        cols = columns.reshape(groups, rows, n, -1).permute(2, 0, 1, 3)          # (N, groups, rows, H_out*W_out)
        grad_weight = (g @ cols.transpose(2, 3)).sum(dim=0).reshape(weight.shape)
        grad_bias = g.sum(dim=(0, 3)).reshape(c_out) if has_bias else None
        # the column gradients' pixel order, as numpy_nn's: (n, i, j) for a large layer unfolded again, else (i, j, n)
        order = (1, 0, 2, 3) if kept is None else (1, 2, 3, 0)
    else:          # one GEMM per group, pixels ordered (i, j, n)
        order = (1, 2, 3, 0)
        g = grad_output.permute(order).reshape(groups, cg, pixels)
        grad_weight = (g @ columns.reshape(groups, rows, pixels).transpose(1, 2)).reshape(weight.shape)
        grad_bias = g.sum(dim=2).reshape(c_out) if has_bias else None            # (C_out,)
    del columns                                                                   # free it before the next one
    if not need_input_grad:
        return None, grad_weight, grad_bias
    if per_image:
        g = grad_output.permute(order).reshape(groups, cg, pixels)
    grad_columns = (weight.reshape(groups, cg, rows).transpose(1, 2) @ g).reshape(groups * rows, pixels)
    fold = col2im_batch_last if order == (1, 2, 3, 0) else col2im                  # pixels (i, j, n) or (n, i, j)
    grad_pad = fold(grad_columns, x_pad.shape, (kh, kw), args.stride, args.out_hw, args.dilation)
    del grad_columns
    return unpad2d(grad_pad, args.padding, x.shape[2:]), grad_weight, grad_bias  # (N, C_in, H, W)


def _check_grad(grad_output, expected):
    if tuple(grad_output.shape) != tuple(expected):
        raise ValueError(f"grad_output must have the output's shape {tuple(expected)}, got {tuple(grad_output.shape)}")


class Conv2dFunction(torch.autograd.Function):
    """conv2d as an autograd node: forward saves input and weight, backward calls ``conv2d_backward``.

    Both tensors go through ``ctx.save_for_backward``, whose version counters make backward raise if
    either was changed in place after forward (as PyTorch's own convolution does); only Python values
    are kept on ``ctx`` itself. ``ctx.needs_input_grad`` says which gradients autograd wants.
    """

    @staticmethod
    @autocast_off
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups, algorithm="auto"):
        out, (ctx.algorithm, tensors, ctx.arguments) = conv2d_forward(x, weight, bias, stride, padding, dilation,
                                                                      groups, algorithm=algorithm)
        ctx.save_for_backward(*tensors)
        return out

    @staticmethod
    @once_differentiable
    @autocast_off
    def backward(ctx, grad_output):
        cache = (ctx.algorithm, ctx.saved_tensors, ctx.arguments)
        grad_input, grad_weight, grad_bias = conv2d_backward(grad_output, cache, ctx.needs_input_grad[0])
        return (grad_input, grad_weight if ctx.needs_input_grad[1] else None,
                grad_bias if ctx.needs_input_grad[2] else None, None, None, None, None, None)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, algorithm="auto"):
    """``torch.nn.functional.conv2d`` by im2col or Winograd, differentiable through our `conv2d_backward`.

    Shape: x (N, C_in, H, W) or (C_in, H, W), weight (C_out, C_in / groups, kH, kW), bias (C_out,)
    -> (N, C_out, H_out, W_out) or (C_out, H_out, W_out). Taught in 02_convolution.

    Under ``torch.autocast`` the input, weight and bias are cast to its dtype first, as for
    ``torch.nn.functional.conv2d`` (see `cnnlib.torch_nn.autocast`): a bfloat16 output, float32 weight gradients.
    """
    check_tensors(input=x, weight=weight, bias=bias)
    x, weight, bias = to_low_precision(x, weight, bias)
    return Conv2dFunction.apply(x, weight, bias, stride, padding, dilation, groups, algorithm)


# -- the module -------------------------------------------------------------------------------------------
class Conv2d(torch.nn.Module):
    """out = conv2d(x, weight, bias, stride, padding, dilation, groups): ``out_channels`` learned filters.

    The same positional arguments, parameter names and default initialisation (uniform in
    ±1/sqrt(C_in/groups*kH*kW)) as ``torch.nn.Conv2d``, so ``load_state_dict`` works both ways.
    Only ``padding_mode='zeros'`` is supported.

    Shape:
        input (N, C_in, H, W) -> output (N, C_out, H_out, W_out), or (C_in, H, W) -> (C_out, H_out, W_out);
        weight (C_out, C_in / groups, kH, kW), bias (C_out,).

    ``algorithm`` ("auto", "im2col" or "winograd"; keyword-only) is passed to `conv2d`. Autograd runs
    the hand-written `conv2d_backward`. Taught in 02_convolution.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None, *, algorithm="auto"):
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", minimum=0)
        self.out_channels = check_int(out_channels, "out_channels", minimum=1)
        self.kernel_size = pair(kernel_size, "kernel_size", minimum=1)
        self.stride = pair(stride, "stride", minimum=1)
        self.padding = check_padding(padding, self.stride)
        self.dilation = pair(dilation, "dilation", minimum=1)
        self.groups = check_groups(groups, self.in_channels, self.out_channels)
        if check_padding_mode(padding_mode) != "zeros":
            raise ValueError(f"padding_mode={padding_mode!r} is not supported by cnnlib (only 'zeros'); pad the "
                             f"input yourself (torch.nn.functional.pad with mode={padding_mode!r}) and use padding=0")
        self.padding_mode = padding_mode
        self.algorithm = algorithm
        same = self.padding == "same" and self.kernel_size == (3, 3) and self.dilation == (1, 1)
        choose_algorithm(algorithm, self.kernel_size, self.stride, True, self.dilation, self.groups,
                         (1, 1) if same or self.padding == "valid" else self.padding)  # refuse a bad choice now
        factory = {"device": device, "dtype": dtype}
        shape = (out_channels, in_channels // self.groups, *self.kernel_size)
        self.weight = torch.nn.Parameter(torch.empty(shape, **factory))
        if bias:
            self.bias = torch.nn.Parameter(torch.empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight and bias uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)]."""
        fan_in = self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
        if fan_in == 0:
            return  # nothing to draw: torch leaves the weight empty and the bias as allocated
        bound = 1.0 / math.sqrt(fan_in)
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
                      algorithm=self.algorithm)

    def extra_repr(self) -> str:
        extras = [f"dilation={self.dilation}" if self.dilation != (1, 1) else "",
                  f"groups={self.groups}" if self.groups != 1 else "",
                  f"algorithm={self.algorithm!r}" if self.algorithm != "auto" else ""]
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding!r}, bias={self.bias is not None}"
                + "".join(", " + e for e in extras if e))


# the loops live beside this module, and are part of its interface (they use its helpers, so they come last)
from cnnlib.torch_nn.conv_naive import conv2d_backward_naive, conv2d_naive  # noqa: E402
