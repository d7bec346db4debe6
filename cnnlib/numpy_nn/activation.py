"""Activation functions in NumPy, forward and backward (taught in 01_neural_nets_activations).

An activation is applied element by element, so its backward pass is the upstream gradient
times the local derivative at the same element: ``grad_input = grad_output * f'(x)``.
Each function ``name`` comes with the pure pair ``name_forward(x) -> (out, cache)`` and
``name_backward(grad_output, cache) -> grad_input``; the modules (``ReLU``, ``Sigmoid``, ...)
keep the cache between their ``forward`` and ``backward``.

Maxout is the exception: it has weights. It computes ``pieces`` linear maps of the input and
keeps, per output feature, the largest of them.

Conventions at the kinks follow PyTorch, so the gradients agree exactly: ReLU's derivative
at 0 is 0, leaky ReLU's is ``negative_slope``, ELU's is ``alpha``.
"""
from __future__ import annotations

import math

import numpy as np

from cnnlib.checks import check_float, check_int, check_maxout, check_same_dtype
from cnnlib.numpy_nn.conv import as_float_array
from cnnlib.numpy_nn.module import Module, Parameter


def _check_grad_output(grad_output, shape) -> np.ndarray:
    grad_output = np.asarray(grad_output)
    if grad_output.shape != tuple(shape):
        raise ValueError(f"grad_output must have the output's shape {tuple(shape)}, got {grad_output.shape}")
    return grad_output


# -- ReLU --------------------------------------------------------------------------------------
def relu_forward(x):
    """relu(x) = max(0, x); the cache is the input. Shape: any -> the same."""
    x = as_float_array(x, "input")
    return np.asarray(np.maximum(x, 0)), x  # asarray: a 0-d input gives a 0-d array, not a NumPy scalar


def relu_backward(grad_output, cache):
    """d relu / dx = 0 where x <= 0, else 1 (0 at x = 0; a NaN passes the gradient through, as in PyTorch)."""
    x = cache
    grad_output = _check_grad_output(grad_output, x.shape)
    return np.where(x <= 0, 0, grad_output).astype(x.dtype, copy=False)


def relu(x):
    """relu(x) = max(0, x), elementwise."""
    return relu_forward(x)[0]


# -- Sigmoid -----------------------------------------------------------------------------------
def sigmoid_forward(x):
    """sigmoid(x) = 1 / (1 + exp(-x)); the cache is the output. Shape: any -> the same.

    Written so that exp never overflows: with e = exp(-|x|) (always in (0, 1]),
    sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0. Both are the same formula.
    """
    x = as_float_array(x, "input")
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return out, out


def sigmoid_backward(grad_output, cache):
    """d sigmoid / dx = sigmoid(x) * (1 - sigmoid(x)), from the saved output."""
    out = cache
    grad_output = _check_grad_output(grad_output, out.shape)
    return np.asarray(grad_output * (1 - out) * out)  # 0-d stays an array


def sigmoid(x):
    """sigmoid(x) = 1 / (1 + exp(-x)), elementwise, stable for any x."""
    return sigmoid_forward(x)[0]


# -- Tanh --------------------------------------------------------------------------------------
def tanh_forward(x):
    """tanh(x) = (e^{2x} - 1) / (e^{2x} + 1) (np.tanh, stable); the cache is the output."""
    x = as_float_array(x, "input")
    out = np.asarray(np.tanh(x))  # a 0-d input gives a 0-d array, which backward can write into
    return out, out


def tanh_backward(grad_output, cache):
    """d tanh / dx = 1 - tanh(x)^2, from the saved output."""
    out = cache
    grad_output = _check_grad_output(grad_output, out.shape)
    if np.result_type(grad_output, out) != out.dtype:  # e.g. a float64 gradient for a float32 output
        return np.asarray(grad_output * (1 - out * out))
    slope = np.multiply(out, out, out=np.empty_like(out))  # the same numbers as grad_output * (1 - out * out),
    np.subtract(1, slope, out=slope)        # in one array instead of three (an array even for a 0-d input)
    slope *= grad_output
    return slope


def tanh(x):
    """tanh(x), elementwise."""
    return tanh_forward(x)[0]


# -- Leaky ReLU --------------------------------------------------------------------------------
def leaky_relu_forward(x, negative_slope=0.01):
    """leaky_relu(x) = x if x > 0 else negative_slope * x; the cache is (x, negative_slope)."""
    negative_slope = check_float(negative_slope, "negative_slope")
    x = as_float_array(x, "input")
    return np.where(x > 0, x, x * negative_slope), (x, negative_slope)


def leaky_relu_backward(grad_output, cache):
    """d leaky_relu / dx = 1 where x > 0, else negative_slope."""
    x, negative_slope = cache
    grad_output = _check_grad_output(grad_output, x.shape)
    return np.where(x > 0, grad_output, grad_output * negative_slope).astype(x.dtype, copy=False)


def leaky_relu(x, negative_slope=0.01):
    """leaky_relu(x) = max(negative_slope * x, x) for 0 <= negative_slope <= 1."""
    return leaky_relu_forward(x, negative_slope)[0]


# -- ELU ---------------------------------------------------------------------------------------
def elu_forward(x, alpha=1.0):
    """elu(x) = x if x > 0 else alpha * (exp(x) - 1); the cache is (x, alpha).

    exp is only evaluated on min(x, 0), so it cannot overflow, and ``expm1`` keeps
    exp(x) - 1 accurate for x near 0.
    """
    alpha = check_float(alpha, "alpha")
    x = as_float_array(x, "input")
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))), (x, alpha)


def elu_backward(grad_output, cache):
    """d elu / dx = alpha * exp(x) where x <= 0, else 1 (a NaN passes the gradient through, as in PyTorch)."""
    x, alpha = cache
    grad_output = _check_grad_output(grad_output, x.shape)
    return np.where(x <= 0, grad_output * alpha * np.exp(np.minimum(x, 0)), grad_output)


def elu(x, alpha=1.0):
    """elu(x) = x if x > 0 else alpha * (exp(x) - 1), elementwise."""
    return elu_forward(x, alpha)[0]


# -- Maxout ------------------------------------------------------------------------------------
def maxout_forward(x, weight, bias=None, pieces=2):
    """maxout(x)_o = max_k (w_{o,k} . x + b_{o,k}), k = 0 .. pieces-1; the lecture's max(w1.x + b1, w2.x + b2).

    Row ``o*pieces + k`` of ``weight`` is piece k of output feature o, which is exactly
    ``Linear(in, out*pieces)`` followed by ``.view(N, out, pieces).max(dim=-1)`` in PyTorch.

    Shape:
        x (N, in_features), weight (out_features*pieces, in_features), bias (out_features*pieces,)
        -> out (N, out_features). Leading dimensions other than N are allowed, as in Linear.
    """
    weight = as_float_array(weight, "weight")
    x = as_float_array(x, "input", dtype=weight.dtype)  # integer inputs take the weight's dtype
    bias = None if bias is None else as_float_array(bias, "bias")
    out_features = check_maxout(x.shape, weight.shape, None if bias is None else bias.shape, pieces)
    check_same_dtype(x.dtype, weight.dtype, None if bias is None else bias.dtype)
    z = x @ weight.T  # (..., out_features*pieces)
    if bias is not None:
        z = z + bias
    z = z.reshape(*x.shape[:-1], out_features, pieces)  # (..., out_features, pieces)
    winner = np.argmax(z, axis=-1)  # (..., out_features): which piece won
    out = np.take_along_axis(z, winner[..., None], axis=-1)[..., 0]  # (..., out_features)
    return out, (x, weight, bias is not None, pieces, winner)


def maxout_backward(grad_output, cache):
    """Only the winning piece of each output receives the gradient; then it is a linear layer's backward.

    Returns (grad_input, grad_weight, grad_bias_or_None).
    """
    x, weight, has_bias, pieces, winner = cache
    grad_output = _check_grad_output(grad_output, winner.shape)
    grad_z = np.zeros((*winner.shape, pieces), dtype=x.dtype)  # (..., out_features, pieces)
    np.put_along_axis(grad_z, winner[..., None], grad_output[..., None], axis=-1)
    grad_z = grad_z.reshape(-1, weight.shape[0])  # (M, out_features*pieces), M = all leading dims
    grad_input = (grad_z @ weight).reshape(x.shape)  # (..., in_features)
    grad_weight = grad_z.T @ x.reshape(-1, x.shape[-1])  # (out_features*pieces, in_features)
    grad_bias = grad_z.sum(axis=0) if has_bias else None  # (out_features*pieces,)
    return grad_input, grad_weight, grad_bias


def maxout(x, weight, bias=None, pieces=2):
    """Maxout: the largest of ``pieces`` linear maps, per output feature (see maxout_forward)."""
    return maxout_forward(x, weight, bias, pieces)[0]


# -- modules -----------------------------------------------------------------------------------
class ReLU(Module):
    """ReLU(x) = max(0, x) (01_neural_nets_activations).

    Shape: input (*), any shape -> output (*), the same shape.
    """

    def __init__(self):
        self._cache = None

    def forward(self, x):
        out, self._cache = relu_forward(x)
        return out

    def backward(self, grad_output):
        return relu_backward(grad_output, self._saved(self._cache))


class Sigmoid(Module):
    """Sigmoid(x) = 1 / (1 + exp(-x)) (01_neural_nets_activations).

    Shape: input (*) -> output (*), the same shape.
    """

    def __init__(self):
        self._cache = None

    def forward(self, x):
        out, self._cache = sigmoid_forward(x)
        return out

    def backward(self, grad_output):
        return sigmoid_backward(grad_output, self._saved(self._cache))


class Tanh(Module):
    """Tanh(x) = (e^{2x} - 1) / (e^{2x} + 1) (01_neural_nets_activations).

    Shape: input (*) -> output (*), the same shape.
    """

    def __init__(self):
        self._cache = None

    def forward(self, x):
        out, self._cache = tanh_forward(x)
        return out

    def backward(self, grad_output):
        return tanh_backward(grad_output, self._saved(self._cache))


class LeakyReLU(Module):
    """LeakyReLU(x) = max(negative_slope * x, x) (01_neural_nets_activations).

    The lecture writes max(0.1x, x), i.e. negative_slope=0.1; PyTorch's default, used here,
    is 0.01. Pass ``LeakyReLU(0.1)`` for the lecture's version.

    Shape: input (*) -> output (*), the same shape.
    """

    def __init__(self, negative_slope=0.01):
        self.negative_slope = check_float(negative_slope, "negative_slope")
        self._cache = None

    def forward(self, x):
        out, self._cache = leaky_relu_forward(x, self.negative_slope)
        return out

    def backward(self, grad_output):
        return leaky_relu_backward(grad_output, self._saved(self._cache))

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """ELU(x) = x if x > 0 else alpha * (exp(x) - 1) (01_neural_nets_activations).

    Shape: input (*) -> output (*), the same shape.
    """

    def __init__(self, alpha=1.0):
        self.alpha = check_float(alpha, "alpha")
        self._cache = None

    def forward(self, x):
        out, self._cache = elu_forward(x, self.alpha)
        return out

    def backward(self, grad_output):
        return elu_backward(grad_output, self._saved(self._cache))

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Maxout(Module):
    """Maxout(x)_o = max_k (w_{o,k} . x + b_{o,k}) over ``pieces`` linear maps (01_neural_nets_activations).

    ``weight`` is (out_features*pieces, in_features) and ``bias`` (out_features*pieces,), row
    ``o*pieces + k`` being piece k of output o; both are initialised as PyTorch initialises a
    ``Linear(in_features, out_features*pieces)``: uniform in ±1/sqrt(in_features). So the
    PyTorch equivalent is that Linear followed by ``.view(N, out_features, pieces).max(dim=2)``.

    Shape: input (N, in_features) -> output (N, out_features).
    """

    def __init__(self, in_features, out_features, pieces=2, bias=True, dtype=np.float64, rng=None):
        self.in_features = check_int(in_features, "in_features", minimum=1)
        self.out_features = check_int(out_features, "out_features", minimum=1)
        self.pieces = check_int(pieces, "pieces", minimum=1)
        rng = np.random.default_rng(rng)
        bound = 1 / math.sqrt(self.in_features)
        rows = self.out_features * self.pieces
        self.weight = Parameter(rng.uniform(-bound, bound, (rows, self.in_features)).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, rows).astype(dtype)) if bias else None
        self._cache = None

    def forward(self, x):
        bias = None if self.bias is None else self.bias.data
        out, self._cache = maxout_forward(x, self.weight.data, bias, self.pieces)
        return out

    def backward(self, grad_output):
        grad_input, grad_weight, grad_bias = maxout_backward(grad_output, self._saved(self._cache))
        self.weight.grad += grad_weight
        if self.bias is not None:
            self.bias.grad += grad_bias
        return grad_input

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"pieces={self.pieces}, bias={self.bias is not None}")
