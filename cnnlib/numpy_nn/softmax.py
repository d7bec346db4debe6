"""Softmax and log-softmax in NumPy, forward and backward (taught in 04_losses).

softmax turns a row of scores (logits) into probabilities, softmax(x)_i = exp(x_i) / sum_j exp(x_j);
log_softmax is its logarithm, the quantity cross-entropy needs. Both subtract the row's
maximum first: that changes nothing mathematically, but keeps every exp in [0, 1], so logits of
±1e4 neither overflow nor produce nan. `cnnlib.numpy_nn.loss` builds cross-entropy on them.
"""
from __future__ import annotations

import numpy as np

from cnnlib.checks import check_int
from cnnlib.numpy_nn.conv import as_float_array


def _check_dim(dim, ndim):
    dim = check_int(dim, "dim")
    if not -ndim <= dim < ndim:
        raise ValueError(f"dim must be in [{-ndim}, {ndim - 1}] for an input with {ndim} dimensions, got {dim}")
    return dim


def log_softmax_forward(input, dim=-1):
    """log_softmax(x)_i = x_i - max(x) - log(sum_j exp(x_j - max(x))); the cache is (output, dim).

    Subtracting the maximum changes nothing mathematically but keeps exp in [0, 1]: no overflow.
    Shape: any -> the same.
    """
    x = as_float_array(input, "input")
    dim = _check_dim(dim, max(x.ndim, 1))
    if x.size == 0:  # nothing to normalize (max would refuse an empty axis), as in PyTorch
        out = x.copy()
        return out, (out, dim)
    shifted = x - x.max(axis=dim, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    return out, (out, dim)


def log_softmax_backward(grad_output, cache):
    """d/dx_i of sum_k g_k log_softmax_k = g_i - softmax_i * sum_k g_k."""
    out, dim = cache
    return grad_output - np.exp(out) * grad_output.sum(axis=dim, keepdims=True)


def log_softmax(input, dim=-1):
    """log_softmax(x)_i = x_i - log(sum_j exp(x_j)) along ``dim``, computed stably."""
    return log_softmax_forward(input, dim)[0]


def softmax_forward(input, dim=-1):
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j) = exp(log_softmax(x)_i); the cache is (output, dim)."""
    log_p, (_, dim) = log_softmax_forward(input, dim)
    out = np.exp(log_p)
    return out, (out, dim)


def softmax_backward(grad_output, cache):
    """d/dx_i of sum_k g_k softmax_k = softmax_i * (g_i - sum_k g_k softmax_k)."""
    out, dim = cache
    return out * (grad_output - (grad_output * out).sum(axis=dim, keepdims=True))


def softmax(input, dim=-1):
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j) along ``dim``: probabilities that sum to 1."""
    return softmax_forward(input, dim)[0]
