"""Local response norm and batch norm in PyTorch tensor operations, backward by hand.

The same formulas, step for step, as ``cnnlib.numpy_nn.normalization``, on tensors of any device
and dtype (see that module for the math):

    local response norm:  s = k + alpha/size * (sum of x**2 over neighbouring channels),  out = x / s**beta
    batch norm:           out = weight * (x - mean) / sqrt(var + eps) + bias, per channel

`LocalResponseNormFunction` and `BatchNormFunction` hand the pairs to autograd. They keep the
tensors that backward needs with ``ctx.save_for_backward`` only, so autograd's version counter
notices an input or weight changed in place before ``backward`` and raises, as PyTorch does.
Taught in 08_case_studies_alexnet_vgg (NORM1/NORM2) and 09_case_studies_googlenet_resnet.
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from cnnlib.checks import check_float, check_int
from cnnlib.numpy_nn.normalization import check_lrn_arguments
from cnnlib.torch_nn.autocast import to_float32

# torch.nn's batch norm takes an input in these dtypes with float32 parameters and statistics (mixed precision)
LOW_PRECISION = (torch.bfloat16, torch.float16)


def _check_grad_output(grad_output, shape):
    if tuple(grad_output.shape) != tuple(shape):
        raise ValueError(f"grad_output must have the output's shape {tuple(shape)}, got {tuple(grad_output.shape)}")
    return grad_output


def _check_tensor(x, name="input"):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}; convert it with torch.as_tensor")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")


# -- local response normalization ---------------------------------------------------------------------
def channel_window_sum(a, before: int, after: int):
    """``out[:, c] = sum of a[:, c - before : c + after + 1]`` along dim 1, zeros outside the channels."""
    channels = a.shape[1]
    padded = a.new_zeros((a.shape[0], channels + before + after, *a.shape[2:]))
    padded[:, before:before + channels] = a
    out = torch.zeros_like(a)
    for offset in range(before + after + 1):
        out += padded[:, offset:offset + channels]
    return out


def local_response_norm_forward(x, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalization across channels; returns ``(out, cache)``.

    Math: s = k + alpha/size * sum_{c' = c - size//2}^{c + (size-1)//2} x[:, c']**2, out = x / s**beta.

    Shape: x (N, C, *) with at least 3 dimensions -> out, the same shape.
    """
    size, alpha, beta, k = check_lrn_arguments(size, alpha, beta, k)
    _check_tensor(x)
    if x.dim() < 3:
        raise ValueError(f"local_response_norm expects (N, C, ...) with at least 3 dimensions, "
                         f"got shape {tuple(x.shape)}")
    s = k + alpha / size * channel_window_sum(x * x, size // 2, (size - 1) // 2)  # (N, C, *)
    return x / s**beta, (x, s, size, alpha, beta)


def local_response_norm_backward(grad_output, cache):
    """dL/dx[j] = G[j] / s[j]**beta - 2*beta*alpha/size * x[j] * sum over the windows c that hold j of G[c] * out[c] / s[c]."""
    x, s, size, alpha, beta = cache
    g = _check_grad_output(grad_output, x.shape)
    scale = s**-beta                                          # (N, C, *)
    mirrored = channel_window_sum(g * x * scale / s, (size - 1) // 2, size // 2)
    return g * scale - 2.0 * beta * alpha / size * x * mirrored


class LocalResponseNormFunction(torch.autograd.Function):
    """local response norm as an autograd node: backward calls ``local_response_norm_backward``."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        out, (x, s, *ctx.constants) = local_response_norm_forward(x, size, alpha, beta, k)
        ctx.save_for_backward(x, s)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        x, s = ctx.saved_tensors
        return local_response_norm_backward(grad_output, (x, s, *ctx.constants)), None, None, None, None


def local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0):
    """``torch.nn.functional.local_response_norm``, differentiable through the hand-written backward.

    Under ``torch.autocast`` the input is cast to float32 first, as torch.nn's (built on a float32 pooling) is.
    """
    _check_tensor(x)
    (x,) = to_float32(x)
    return LocalResponseNormFunction.apply(x, size, alpha, beta, k)


class LocalResponseNorm(torch.nn.Module):
    """out = x / (k + alpha/size * sum of x**2 over ``size`` neighbouring channels)**beta.

    ``torch.nn.LocalResponseNorm``'s arguments and formula (alpha is divided by ``size``); no
    parameters. Taught in 08_case_studies_alexnet_vgg.

    Shape: input (N, C, *) -> output, the same shape.
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = check_lrn_arguments(size, alpha, beta, k)

    def forward(self, x):
        return local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


# -- batch normalization ------------------------------------------------------------------------------
def _check_batch_norm(x, running_mean, running_var, weight, bias, training):
    _check_tensor(x)
    if x.dim() != 4:
        raise ValueError(f"batch_norm expects input (N, C, H, W), got shape {tuple(x.shape)}")
    channels = x.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        if value is None:
            continue
        _check_tensor(value, name)
        if tuple(value.shape) != (channels,):
            raise ValueError(f"input has {channels} channels, but {name} has shape {tuple(value.shape)}; it needs "
                             f"one value per channel (BatchNorm2d(num_features) takes num_features channels)")
        mixed = x.dtype in LOW_PRECISION and value.dtype == torch.float32  # as torch.nn: float32 statistics
        if value.dtype != x.dtype and not mixed:
            raise ValueError(f"input has dtype {x.dtype} but {name} has dtype {value.dtype}; convert the input, "
                             f"or build the layer with dtype={x.dtype} (mixing them is refused, except a "
                             f"bfloat16 or float16 input with float32 {name}, as in torch.nn)")
    if training and x.shape[0] * x.shape[2] * x.shape[3] < 2:
        raise ValueError(f"batch norm in training needs more than 1 value per channel, "
                         f"got input shape {tuple(x.shape)}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm with training=False needs running_mean and running_var")


def batch_norm_forward(x, running_mean, running_var, weight=None, bias=None, training=False,
                       momentum=0.1, eps=1e-5):
    """Batch normalization over (N, H, W) per channel; returns ``(out, cache)``.

    Math: x_hat = (x - mean) / sqrt(var + eps), out = weight * x_hat + bias. Training: the batch's
    mean and biased variance, and the running values (if given) updated in place with the unbiased
    variance, r = (1 - momentum) * r + momentum * batch value. Evaluation: the running values.

    A bfloat16 or float16 input (autocast's) may come with float32 parameters and statistics, as in
    torch.nn: it is normalized in float32 and the output has the input's dtype. ``momentum`` may be a
    0-d tensor (`BatchNorm2d` with ``momentum=None`` passes 1 / batches seen, never read on the host).

    Shape: x (N, C, H, W) -> out, the same; running_mean, running_var, weight, bias (C,) or None.
    """
    momentum = momentum if isinstance(momentum, torch.Tensor) else check_float(momentum, "momentum")
    eps = check_float(eps, "eps", minimum=0)
    if training and eps == 0:  # the batch's variance can be 0: x_hat would be 0/0 (torch.nn refuses it too)
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    _check_batch_norm(x, running_mean, running_var, weight, bias, training)
    out_dtype, x = x.dtype, (x.float() if x.dtype in LOW_PRECISION else x)  # low precision: normalized in float32
    dims = (0, 2, 3)
    if training:
        count = x.shape[0] * x.shape[2] * x.shape[3]                         # M values per channel
        mean = x.mean(dim=dims)                                              # (C,)
        var = x.var(dim=dims, unbiased=False)                                # (C,), biased
        with torch.no_grad():
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(momentum * mean)
            if running_var is not None:
                running_var.mul_(1 - momentum).add_(momentum * var * count / (count - 1))
    else:
        mean, var = running_mean.to(x.dtype), running_var.to(x.dtype)       # float32 statistics stay so
    inv_std = 1.0 / torch.sqrt(var + eps)                                    # (C,)
    x_hat = (x - mean[None, :, None, None]) * inv_std[None, :, None, None]   # (N, C, H, W)
    out = x_hat if weight is None else x_hat * weight[None, :, None, None]
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out.to(out_dtype), (x_hat, inv_std, weight, None if bias is None else bias.dtype, bool(training))


def batch_norm_backward(grad_output, cache):
    """Gradients ``(grad_input, grad_weight_or_None, grad_bias_or_None)`` of `batch_norm_forward`.

    Math (sums over N, H, W; D = grad_output * weight): grad_weight = sum(G * x_hat), grad_bias = sum(G);
    training: grad_input = inv_std * (D - mean(D) - x_hat * mean(D * x_hat)); evaluation: inv_std * D.
    Each gradient has the dtype of its tensor (a bfloat16 input's in bfloat16, float32 parameters' in float32).
    """
    x_hat, inv_std, weight, bias_dtype, training = cache
    g = _check_grad_output(grad_output, x_hat.shape)
    out_dtype, g = g.dtype, g.to(x_hat.dtype)                                 # float32 for a low-precision input
    dims = (0, 2, 3)
    grad_weight = (g * x_hat).sum(dim=dims).to(weight.dtype) if weight is not None else None  # (C,)
    grad_bias = g.sum(dim=dims).to(bias_dtype) if bias_dtype is not None else None            # (C,)
    d = g if weight is None else g * weight[None, :, None, None]             # dL/dx_hat
    if training:
        d = d - d.mean(dim=dims, keepdim=True) - x_hat * (d * x_hat).mean(dim=dims, keepdim=True)
    return (d * inv_std[None, :, None, None]).to(out_dtype), grad_weight, grad_bias


class BatchNormFunction(torch.autograd.Function):
    """batch norm as an autograd node: backward calls ``batch_norm_backward``."""

    @staticmethod
    def forward(ctx, x, running_mean, running_var, weight, bias, training, momentum, eps):
        out, (x_hat, inv_std, weight, bias_dtype, training) = batch_norm_forward(
            x, running_mean, running_var, weight, bias, training, momentum, eps)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.flags = (bias_dtype, training)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        x_hat, inv_std, weight = ctx.saved_tensors
        grad_input, grad_weight, grad_bias = batch_norm_backward(grad_output, (x_hat, inv_std, weight, *ctx.flags))
        return grad_input, None, None, grad_weight, grad_bias, None, None, None


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """``torch.nn.functional.batch_norm``, differentiable through the hand-written `batch_norm_backward`."""
    return BatchNormFunction.apply(x, running_mean, running_var, weight, bias, training, momentum, eps)


class BatchNorm2d(torch.nn.Module):
    """out = weight * (x - mean) / sqrt(var + eps) + bias, per channel, over the batch and the pixels.

    ``torch.nn.BatchNorm2d``'s arguments, parameters (``weight`` ones, ``bias`` zeros) and buffers
    (``running_mean``, ``running_var``, ``num_batches_tracked``), so its state_dict has the same keys
    and copies by key from and to ``torch.nn`` and ``cnnlib.numpy_nn``. ``momentum=None`` averages
    all batches equally; ``bias=False`` (keyword only, as in torch.nn) keeps the scale and drops the shift.
    Taught in 09_case_studies_googlenet_resnet.

    Shape: input (N, C, H, W) -> output, the same shape.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = check_int(num_features, "num_features", minimum=1)
        self.eps = check_float(eps, "eps", minimum=0)
        self.momentum = None if momentum is None else check_float(momentum, "momentum")
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        factory = {"device": device, "dtype": dtype}
        self.weight = torch.nn.Parameter(torch.ones(num_features, **factory)) if self.affine else None
        self.bias = torch.nn.Parameter(torch.zeros(num_features, **factory)) if self.affine and bias else None
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            with torch.no_grad():
                self.weight.fill_(1)
                if self.bias is not None:
                    self.bias.zero_()

    def forward(self, x):
        counting = self.training and self.track_running_stats
        factor = 0.0 if self.momentum is None else self.momentum
        if counting and self.momentum is None:  # this batch will be number n + 1; a tensor, not read on the host
            factor = 1.0 / (self.num_batches_tracked + 1).to(self.running_mean.dtype)
        use_batch = self.training or self.running_mean is None
        keep_running = not self.training or self.track_running_stats
        out = batch_norm(x, self.running_mean if keep_running else None, self.running_var if keep_running else None,
                         self.weight, self.bias, use_batch, factor, self.eps)
        if counting:  # only after a successful forward (torch.nn counts refused inputs too)
            self.num_batches_tracked.add_(1)
        return out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")
