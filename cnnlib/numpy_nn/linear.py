"""The fully connected (linear) layer in NumPy, forward and backward (taught in 01_neural_nets_activations).

Every output is a weighted sum of every input plus a bias:

    out[n, o] = sum_i x[n, i] * weight[o, i] + bias[o],   i.e.   out = x @ weight.T + bias

``weight`` is stored as PyTorch stores it, (out_features, in_features), so weights copy
between `Linear` and ``torch.nn.Linear`` by key. Like PyTorch, any leading dimensions are
allowed: the map acts on the last axis.
"""
from __future__ import annotations

import math

import numpy as np

from cnnlib.checks import check_int, check_linear, check_same_dtype
from cnnlib.numpy_nn.conv import as_float_array
from cnnlib.numpy_nn.module import Module, Parameter


def _prepare(x, weight, bias):
    weight = as_float_array(weight, "weight")
    x = as_float_array(x, "input", dtype=weight.dtype)
    bias = None if bias is None else as_float_array(bias, "bias")
    check_linear(x.shape, weight.shape, None if bias is None else bias.shape)
    check_same_dtype(x.dtype, weight.dtype, None if bias is None else bias.dtype)
    return x, weight, bias


def linear_forward(x, weight, bias=None):
    """``out = x @ weight.T + bias``; returns ``(out, cache)`` for `linear_backward`.

    Math: out[..., o] = sum_i x[..., i] * weight[o, i] + bias[o].

    Shape:
        x: (*, in_features); weight: (out_features, in_features); bias: (out_features,) or None;
        out: (*, out_features).

    Taught in 01_neural_nets_activations.
    """
    x, weight, bias = _prepare(x, weight, bias)
    out = x @ weight.T                    # (*, out_features)
    if bias is not None:
        out += bias
    return out, (x, weight, bias is not None)


def linear_backward(grad_output, cache):
    """Gradients of `linear_forward`: ``(grad_input, grad_weight, grad_bias_or_None)``.

    Math: grad_input = G @ W,  grad_weight = G^T @ X,  grad_bias = sum of G over rows
    (G and X flattened to 2-D: one row per sample).

    Shape:
        grad_output: (*, out_features); grad_input: (*, in_features);
        grad_weight: (out_features, in_features); grad_bias: (out_features,).

    Taught in 01_neural_nets_activations.
    """
    x, weight, has_bias = cache
    expected = (*x.shape[:-1], weight.shape[0])
    grad_output = np.asarray(grad_output)
    if grad_output.shape != expected:
        raise ValueError(f"grad_output must have the output's shape {expected}, got {grad_output.shape}")
    rows = math.prod(x.shape[:-1])  # explicit: reshape(-1, 0) is ambiguous when a size is 0
    g = grad_output.astype(weight.dtype, copy=False).reshape(rows, weight.shape[0])  # (rows, out_features)
    x2 = x.reshape(rows, weight.shape[1])                                             # (rows, in_features)
    grad_input = (g @ weight).reshape(x.shape)                                      # (*, in_features)
    grad_weight = g.T @ x2                                                          # (out_features, in_features)
    grad_bias = g.sum(axis=0) if has_bias else None                                 # (out_features,)
    return grad_input, grad_weight, grad_bias


def linear(x, weight, bias=None) -> np.ndarray:
    """``torch.nn.functional.linear`` in NumPy (forward only); see `linear_forward`."""
    return linear_forward(x, weight, bias)[0]


class Linear(Module):
    """A fully connected layer with PyTorch's arguments, parameter shapes and initialisation.

    Math: out = x @ weight.T + bias.

    Shape:
        input (*, in_features) -> output (*, out_features);
        weight: (out_features, in_features); bias: (out_features,).

    Initialisation as ``torch.nn.Linear``: weight and bias uniform in ±1/sqrt(in_features); with
    ``in_features=0`` the weight is empty, the bias 0 and the output the bias alone, as in PyTorch.
    ``dtype`` and ``rng`` (a seed or ``np.random.Generator``) are keyword-only: cnnlib's own extras,
    so no positional argument of ``torch.nn.Linear`` lands on them.
    ``backward(grad_output)`` returns the gradient with respect to the input and *adds* the
    parameter gradients into ``weight.grad`` and ``bias.grad``. Taught in 01_neural_nets_activations.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 dtype=np.float64, rng=None):
        self.in_features = check_int(in_features, "in_features", minimum=0)
        self.out_features = check_int(out_features, "out_features", minimum=0)
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise ValueError(f"dtype must be a floating-point type such as np.float32, got {dtype}")
        rng = np.random.default_rng(rng)
        bound = 1.0 / math.sqrt(self.in_features) if self.in_features else 0.0  # torch's rule: bias 0
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(rng.uniform(-bound, bound, size=shape).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, size=self.out_features).astype(dtype)) if bias else None
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        bias = None if self.bias is None else self.bias.data
        out, self._cache = linear_forward(x, self.weight.data, bias)
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad_input, grad_weight, grad_bias = linear_backward(grad_output, self._saved(self._cache))
        self.weight.grad += grad_weight
        if self.bias is not None:
            self.bias.grad += grad_bias
        return grad_input

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
