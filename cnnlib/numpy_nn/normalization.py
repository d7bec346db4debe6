"""Normalization layers in NumPy, forward and backward: local response norm and batch norm.

Local response normalization (AlexNet's NORM1 and NORM2, taught in 08_case_studies_alexnet_vgg)
divides every activation by a power of the energy in its neighbouring channels, at the same pixel:

    s[n, c] = k + alpha / size * sum_{c' in W(c)} x[n, c']**2        out[n, c] = x[n, c] / s[n, c]**beta

where ``W(c)`` runs from ``c - size // 2`` to ``c + (size - 1) // 2`` (channels outside 0..C-1 count
as zero). That is ``torch.nn.LocalResponseNorm``: note the ``alpha / size``; the AlexNet paper
writes ``alpha`` alone (`cnnlib.models.alexnet` shows how the two relate).

Batch normalization (every ResNet block, taught in 09_case_studies_googlenet_resnet) standardizes
each channel over the batch and the pixels, then scales and shifts it with learned ``weight`` and
``bias``:

    x_hat = (x - mean) / sqrt(var + eps)        out = weight[c] * x_hat + bias[c]

In training ``mean`` and ``var`` (biased) are the batch's, and the running averages are updated
with the *unbiased* variance, as PyTorch does; in evaluation the running averages are used.
"""
from __future__ import annotations

import numpy as np

from cnnlib.checks import check_float, check_int
from cnnlib.numpy_nn.conv import as_float_array
from cnnlib.numpy_nn.module import Module, Parameter


def _check_grad_output(grad_output, shape, dtype) -> np.ndarray:
    grad_output = np.asarray(grad_output)
    if grad_output.shape != tuple(shape):
        raise ValueError(f"grad_output must have the output's shape {tuple(shape)}, got {grad_output.shape}")
    return grad_output.astype(dtype, copy=False)


def check_lrn_arguments(size, alpha, beta, k):
    """The arguments of local response normalization, checked (size a positive int, the rest finite)."""
    return (check_int(size, "size", minimum=1), check_float(alpha, "alpha"), check_float(beta, "beta"),
            check_float(k, "k"))


def _check_lrn_input(x):
    if x.ndim < 3:
        raise ValueError(f"local_response_norm expects (N, C, ...) with at least 3 dimensions, got shape {x.shape}")


# -- local response normalization ---------------------------------------------------------------------
def channel_window_sum(a: np.ndarray, before: int, after: int) -> np.ndarray:
    """``out[:, c] = sum of a[:, c - before : c + after + 1]`` along axis 1, zeros outside the channels.

    One vectorized add per window position (``before + after + 1`` of them), not per channel.
    """
    channels = a.shape[1]
    padded = np.zeros((a.shape[0], channels + before + after, *a.shape[2:]), dtype=a.dtype)
    padded[:, before:before + channels] = a
    out = np.zeros_like(a)
    for offset in range(before + after + 1):
        out += padded[:, offset:offset + channels]
    return out


def local_response_norm_forward(x, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalization across channels; returns ``(out, cache)``.

    Math: s[n, c] = k + alpha/size * sum_{c' = c - size//2}^{c + (size-1)//2} x[n, c']**2,
    out = x / s**beta.

    Shape:
        x: (N, C, *) with at least one trailing dimension -> out: the same shape.

    Taught in 08_case_studies_alexnet_vgg.
    """
    size, alpha, beta, k = check_lrn_arguments(size, alpha, beta, k)
    x = as_float_array(x, "input")
    _check_lrn_input(x)
    s = k + alpha / size * channel_window_sum(x * x, size // 2, (size - 1) // 2)  # (N, C, *)
    with np.errstate(divide="ignore", invalid="ignore"):  # k = 0 and a zero window: 0/0 = nan, as in PyTorch
        out = x / s**beta
    return out, (x, s, size, alpha, beta)


def local_response_norm_backward(grad_output, cache):
    """The gradient of `local_response_norm_forward` with respect to its input.

    Math: with G = grad_output and y = out,
    dL/dx[j] = G[j] / s[j]**beta - 2*beta*alpha/size * x[j] * sum_{c : j in W(c)} G[c] * y[c] / s[c].
    Channel j lies in the windows of c = j - (size-1)//2 ... j + size//2: the window mirrored.

    Shape: grad_output (N, C, *) -> grad_input (N, C, *).
    """
    x, s, size, alpha, beta = cache
    g = _check_grad_output(grad_output, x.shape, x.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = s**-beta                                   # (N, C, *)
        through_s = g * x * scale / s                      # dL/ds[c] = -beta * this
    mirrored = channel_window_sum(through_s, (size - 1) // 2, size // 2)
    return g * scale - 2.0 * beta * alpha / size * x * mirrored


def local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0) -> np.ndarray:
    """``torch.nn.functional.local_response_norm`` in NumPy (forward only)."""
    return local_response_norm_forward(x, size, alpha, beta, k)[0]


def local_response_norm_naive(x, size, alpha=1e-4, beta=0.75, k=1.0) -> np.ndarray:
    """The forward pass as loops over channels and their windows, for reading."""
    size, alpha, beta, k = check_lrn_arguments(size, alpha, beta, k)
    x = as_float_array(x, "input")
    _check_lrn_input(x)
    channels = x.shape[1]
    out = np.empty_like(x)
    for c in range(channels):
        energy = np.zeros_like(x[:, c])
        for c2 in range(c - size // 2, c + (size - 1) // 2 + 1):
            if 0 <= c2 < channels:
                energy += x[:, c2] ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            out[:, c] = x[:, c] / (k + alpha / size * energy) ** beta
    return out


def local_response_norm_backward_naive(grad_output, x, size, alpha=1e-4, beta=0.75, k=1.0) -> np.ndarray:
    """The backward pass as loops: every output channel c sends gradient to each x[c2] of its window."""
    size, alpha, beta, k = check_lrn_arguments(size, alpha, beta, k)
    x = as_float_array(x, "input")
    _check_lrn_input(x)
    g = _check_grad_output(grad_output, x.shape, x.dtype)
    channels = x.shape[1]
    window = [[c2 for c2 in range(c - size // 2, c + (size - 1) // 2 + 1) if 0 <= c2 < channels]
              for c in range(channels)]
    grad = np.zeros_like(x)
    for c in range(channels):
        s = k + alpha / size * sum(x[:, c2] ** 2 for c2 in window[c]) + np.zeros_like(x[:, c])
        grad[:, c] += g[:, c] * s**-beta                    # out[c] depends on x[c] directly
        ds = -beta * g[:, c] * x[:, c] * s ** (-beta - 1)   # ... and on every x[c2] through s[c]
        for c2 in window[c]:
            grad[:, c2] += ds * alpha / size * 2 * x[:, c2]
    return grad


class LocalResponseNorm(Module):
    """out = x / (k + alpha/size * sum of x**2 over ``size`` neighbouring channels)**beta.

    ``torch.nn.LocalResponseNorm``'s arguments and formula (alpha is divided by ``size``).
    No parameters. Taught in 08_case_studies_alexnet_vgg.

    Shape: input (N, C, *) -> output, the same shape.
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        self.size, self.alpha, self.beta, self.k = check_lrn_arguments(size, alpha, beta, k)
        self._cache = None

    def forward(self, x):
        out, self._cache = local_response_norm_forward(x, self.size, self.alpha, self.beta, self.k)
        return out

    def backward(self, grad_output):
        return local_response_norm_backward(grad_output, self._saved(self._cache))

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


# -- batch normalization ------------------------------------------------------------------------------
def _check_batch_norm(x, running_mean, running_var, weight, bias, training):
    for name, value in (("running_mean", running_mean), ("running_var", running_var)):
        if value is not None and not isinstance(value, np.ndarray):
            raise ValueError(f"{name} must be a NumPy array (it is updated in place) or None, "
                             f"got {type(value).__name__}")
    if x.ndim != 4:
        raise ValueError(f"batch_norm expects input (N, C, H, W), got shape {x.shape}")
    channels = x.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        if value is not None and value.shape != (channels,):
            raise ValueError(f"input has {channels} channels, but {name} has shape {value.shape}; it needs "
                             f"one value per channel (BatchNorm2d(num_features) takes num_features channels)")
    if training and x.shape[0] * x.shape[2] * x.shape[3] < 2:
        raise ValueError(f"batch norm in training needs more than 1 value per channel, got input shape {x.shape}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm with training=False needs running_mean and running_var")
    for name, value in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                        ("bias", bias)):
        if value is not None and value.dtype != x.dtype:
            raise ValueError(f"input has dtype {x.dtype} but {name} has dtype {value.dtype}; convert the input, "
                             f"or build the layer with dtype={x.dtype} (mixing them is refused, as in PyTorch)")


def batch_norm_forward(x, running_mean, running_var, weight=None, bias=None, training=False,
                       momentum=0.1, eps=1e-5):
    """Batch normalization over (N, H, W) per channel; returns ``(out, cache)``.

    Math: x_hat = (x - mean) / sqrt(var + eps), out = weight * x_hat + bias. With ``training`` the
    batch's mean and biased variance are used and, if given, ``running_mean`` and ``running_var``
    are updated *in place*: r = (1 - momentum) * r + momentum * batch value, with the unbiased
    variance (times M / (M - 1), M = N*H*W). Without ``training`` the running values are used.

    Shape:
        x: (N, C, H, W) -> out: the same; running_mean, running_var, weight, bias: (C,) or None.

    Taught in 09_case_studies_googlenet_resnet.
    """
    weight = None if weight is None else as_float_array(weight, "weight")
    bias = None if bias is None else as_float_array(bias, "bias")
    x = as_float_array(x, "input", dtype=None if weight is None else weight.dtype)
    momentum, eps = check_float(momentum, "momentum"), check_float(eps, "eps", minimum=0)
    if training and eps == 0:  # the batch's variance can be 0: x_hat would be 0/0 (torch.nn refuses it too)
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    _check_batch_norm(x, running_mean, running_var, weight, bias, training)
    axes = (0, 2, 3)
    if training:
        count = x.shape[0] * x.shape[2] * x.shape[3]                    # M values per channel
        mean = x.mean(axis=axes)                                        # (C,)
        var = x.var(axis=axes)                                          # (C,), biased
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += momentum * var * count / (count - 1)
    else:
        mean, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)                                  # (C,)
    x_hat = (x - mean[None, :, None, None]) * inv_std[None, :, None, None]  # (N, C, H, W)
    out = x_hat if weight is None else x_hat * weight[None, :, None, None]
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out, (x_hat, inv_std, weight, bias is not None, bool(training))


def batch_norm_backward(grad_output, cache):
    """Gradients of `batch_norm_forward`: ``(grad_input, grad_weight_or_None, grad_bias_or_None)``.

    Math: with G = grad_output and D = G * weight (the gradient reaching x_hat), sums over (N, H, W):
    grad_weight = sum(G * x_hat), grad_bias = sum(G);
    training:   grad_input = inv_std * (D - mean(D) - x_hat * mean(D * x_hat)), because the batch's
                mean and variance depend on x too;
    evaluation: grad_input = inv_std * D (the running statistics are constants).

    Shape: grad_output (N, C, H, W) -> grad_input (N, C, H, W); grad_weight, grad_bias (C,).
    """
    x_hat, inv_std, weight, has_bias, training = cache
    g = _check_grad_output(grad_output, x_hat.shape, x_hat.dtype)
    axes = (0, 2, 3)
    grad_weight = (g * x_hat).sum(axis=axes) if weight is not None else None  # (C,)
    grad_bias = g.sum(axis=axes) if has_bias else None                         # (C,)
    d = g if weight is None else g * weight[None, :, None, None]              # dL/dx_hat, (N, C, H, W)
    if training:
        d = d - d.mean(axis=axes, keepdims=True) - x_hat * (d * x_hat).mean(axis=axes, keepdims=True)
    return d * inv_std[None, :, None, None], grad_weight, grad_bias


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5) -> np.ndarray:
    """``torch.nn.functional.batch_norm`` in NumPy (forward only); see `batch_norm_forward`."""
    return batch_norm_forward(x, running_mean, running_var, weight, bias, training, momentum, eps)[0]


class BatchNorm2d(Module):
    """out = weight * (x - mean) / sqrt(var + eps) + bias, per channel, over the batch and the pixels.

    ``torch.nn.BatchNorm2d``'s arguments, parameters (``weight`` ones, ``bias`` zeros) and buffers
    (``running_mean`` zeros, ``running_var`` ones, ``num_batches_tracked``), with the same state_dict
    keys, so weights and running statistics copy by key. ``momentum=None`` averages all batches so
    far equally (momentum 1 / num_batches_tracked), as in PyTorch. With ``track_running_stats=False``
    there are no buffers and the batch's statistics are used in evaluation too; ``bias=False`` drops
    the shift and keeps the scale (torch.nn's keyword-only ``bias``). ``dtype`` is keyword only.

    Shape: input (N, C, H, W) -> output, the same shape. Taught in 09_case_studies_googlenet_resnet.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *,
                 bias=True, dtype=np.float64):
        self.num_features = check_int(num_features, "num_features", minimum=1)
        self.eps = check_float(eps, "eps", minimum=0)
        self.momentum = None if momentum is None else check_float(momentum, "momentum")
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise ValueError(f"dtype must be a floating-point type such as np.float32, got {dtype}")
        self.weight = Parameter(np.ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype=dtype)) if affine and bias else None
        tracked = self.track_running_stats
        self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype) if tracked else None)
        self.register_buffer("running_var", np.ones(num_features, dtype=dtype) if tracked else None)
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64) if tracked else None)
        self._cache = None

    def forward(self, x):
        counting = self.training and self.track_running_stats
        factor = 0.0 if self.momentum is None else self.momentum
        if counting and self.momentum is None:
            factor = 1.0 / float(self.num_batches_tracked + 1)  # this batch will be number n + 1
        use_batch = self.training or self.running_mean is None
        weight = None if self.weight is None else self.weight.data
        bias = None if self.bias is None else self.bias.data
        out, self._cache = batch_norm_forward(x, self.running_mean, self.running_var, weight, bias,
                                              use_batch, factor, self.eps)
        if counting:  # only after a successful forward: a refused input changes nothing
            self.num_batches_tracked += 1  # a 0-d int64 array, changed in place
        return out

    def backward(self, grad_output):
        grad_input, grad_weight, grad_bias = batch_norm_backward(grad_output, self._saved(self._cache))
        if self.weight is not None:
            self.weight.grad += grad_weight
        if self.bias is not None:
            self.bias.grad += grad_bias
        return grad_input

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")
