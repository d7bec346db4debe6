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
  back onto the input by looping only over the kH*kW kernel offsets. The unfolding (`im2col`,
  `col2im`, `pad2d`, `windows`) lives in `cnnlib.numpy_nn.im2col`. Where every image has many
  output pixels (`per_image_gemms`), the multiply runs once per image instead, which gives the
  output's (N, C_out, H_out*W_out) layout with no transpose; the sums are the same.

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

from cnnlib.checks import check_int, check_same_dtype, pair
from cnnlib.conv_args import (batched_shape, check_groups, check_padding, check_padding_mode, conv2d_arguments)
from cnnlib.numpy_nn import winograd
from cnnlib.numpy_nn.im2col import _sides, col2im, col2im_batch_last, im2col, pad2d, unpad2d, windows  # noqa: F401
from cnnlib.numpy_nn.module import Module, Parameter

ALGORITHMS = ("auto", "im2col", "winograd")
KEEP_COLUMNS_BYTES = 16 * 2**20  # a column matrix up to this size is kept for backward instead of unfolded again
PER_IMAGE_PIXELS = 256  # from this many output pixels per image (and channels per group), one GEMM per image


# -- helpers shared by the vectorized pair --------------------------------------------------------
def as_float_array(x, name: str, dtype=None) -> np.ndarray:
    """``x`` as a floating-point array: floats keep their dtype, integers become ``dtype`` (default float64)."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        if not (np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_):
            raise ValueError(f"{name} must hold numbers, got dtype {x.dtype}")
        x = x.astype(dtype or np.float64)
    return x


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
    if (choose_algorithm(algorithm, (kh, kw), args.stride, True, args.dilation, groups, args.padding) == "winograd"
            and winograd.all_finite(x, weight)):  # an inf would give NaN in Winograd's transforms
        padding = (args.padding[0][0], args.padding[1][0])
        out, saved = winograd.winograd_forward(x, weight, bias, padding, out_hw)
        return (out if batched else out[0]), ("winograd", saved, batched)
    x_pad = pad2d(x, args.padding)                                         # (N, C_in, Hp, Wp)
    per_image = per_image_gemms(out_hw, c_out // groups)
    columns = im2col(x_pad, (kh, kw), args.stride, out_hw, args.dilation, image_last=not per_image)
    rows, pixels = columns.shape[0] // groups, columns.shape[1]            # (C_in*kH*kW, N*H_out*W_out)
    w = weight.reshape(groups, c_out // groups, rows)
    if per_image:  # one GEMM per image and group: (N, groups, C_out/groups, H_out*W_out), the output's own layout
        out = w @ columns.reshape(groups, rows, n, -1).transpose(2, 0, 1, 3)
    else:          # one GEMM per group over every pixel, ordered (i, j, n)
        out = w @ columns.reshape(groups, rows, pixels)
    kept = columns if columns.nbytes <= KEEP_COLUMNS_BYTES else None  # small: backward need not unfold again
    del columns                                                            # a large one is freed here
    out = out.reshape((n, c_out, *out_hw) if per_image else (c_out, *out_hw, n))
    if bias is not None:
        out += bias[:, None, None] if per_image else bias[:, None, None, None]
    if not per_image:
        out = np.ascontiguousarray(out.transpose(3, 0, 1, 2))              # (N, C_out, H_out, W_out)
    cache = (x_pad, x.shape, weight, bias is not None, args, per_image, kept)
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


def per_image_gemms(out_hw, channels_per_group: int) -> bool:
    """Whether the GEMMs run one per image: from `PER_IMAGE_PIXELS` output pixels per image, and at least as
    many pixels as output channels per group (so the per-image weight gradients, summed, take no more memory
    than the columns). LeNet's C1 (784 pixels): forward 0.52 -> 0.23 ms, weight gradient 0.63 -> 0.24 ms; its
    C3 (100 pixels) is faster as one GEMM over all images (0.22 vs 0.33 ms; 2 threads, the bench machine)."""
    pixels = out_hw[0] * out_hw[1]
    return pixels >= max(PER_IMAGE_PIXELS, channels_per_group)


def _im2col_backward(grad_output, saved, batched, need_input_grad):
    x_pad, x_shape, weight, has_bias, args, per_image, kept = saved
    c_out, _, kh, kw = weight.shape
    (n, _, h_out, w_out), groups = (x_shape[0], c_out, *args.out_hw), args.groups
    expected = (n, c_out, h_out, w_out)
    grad_output = _checked_grad(grad_output, expected if batched else expected[1:], weight.dtype).reshape(expected)
    pixels, cg = n * h_out * w_out, c_out // groups
    columns = kept if kept is not None else im2col(x_pad, (kh, kw), args.stride, args.out_hw, args.dilation,
                                                   image_last=not per_image)
    rows = columns.shape[0] // groups
    # G @ X^T computed as (X @ G^T)^T: the same GEMM, in the orientation OpenBLAS splits between threads
    # without stalling (python -m cnnlib.bench: VGG conv3-64 backward 3x faster at 2 threads, same at 1)
    if per_image:  # one GEMM per image and group, summed over the images; pixels ordered (n, i, j)
        g = grad_output.reshape(n, groups, cg, h_out * w_out)
        cols = columns.reshape(groups, rows, n, -1).transpose(2, 0, 1, 3)  # (N, groups, rows, H_out*W_out)
        grad_weight = (cols @ g.transpose(0, 1, 3, 2)).sum(axis=0).transpose(0, 2, 1).reshape(weight.shape)
        grad_bias = g.sum(axis=(0, 3)).reshape(c_out) if has_bias else None
        # the column gradients' pixel order: over the unfolded-again columns (n, i, j); a new array (i, j, n)
        order = (1, 0, 2, 3) if kept is None else (1, 2, 3, 0)
    else:          # one GEMM per group, pixels ordered (i, j, n)
        order = (1, 2, 3, 0)
        g = np.ascontiguousarray(grad_output.transpose(order)).reshape(groups, cg, pixels)
        grad_weight = (columns.reshape(groups, rows, pixels) @ g.transpose(0, 2, 1)).transpose(0, 2, 1)
        grad_weight = grad_weight.reshape(weight.shape)
        grad_bias = g.sum(axis=2).reshape(c_out) if has_bias else None    # (C_out,)
    if not need_input_grad:
        return None, grad_weight, grad_bias
    if per_image:
        g = np.ascontiguousarray(grad_output.transpose(order)).reshape(groups, cg, pixels)
    w = weight.reshape(groups, cg, rows).transpose(0, 2, 1)
    if kept is None:  # a large layer, unfolded again: the column gradients overwrite the columns (one GEMM per
        # group), so only one unfolded copy is ever alive and no new large array is allocated
        grad_columns = np.matmul(w, g, out=columns.reshape(groups, rows, pixels)).reshape(groups * rows, pixels)
        del columns
    else:             # a small one: the kept columns stay intact (backward may run twice)
        grad_columns = (w @ g).reshape(groups * rows, pixels)
    fold = col2im_batch_last if order == (1, 2, 3, 0) else col2im                # pixels (i, j, n) or (n, i, j)
    grad_pad = fold(grad_columns, x_pad.shape, (kh, kw), args.stride, args.out_hw, args.dilation)
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
