"""Activation functions in PyTorch tensor operations, backward by hand (taught in 01_neural_nets_activations).

The same formulas, step for step, as ``cnnlib.numpy_nn.activation``, on tensors of any device
and dtype. An activation acts element by element, so its backward is the upstream gradient times
the local derivative: ``grad_input = grad_output * f'(x)``. Each ``name`` has the pure pair
``name_forward(x) -> (out, cache)`` / ``name_backward(grad_output, cache)``, a
``torch.autograd.Function`` that hands the pair to autograd (so ``loss.backward()`` runs *our*
backward), the function ``name(x)`` and a module.

Maxout has weights: ``pieces`` linear maps of the input, and per output feature the largest.
Conventions at the kinks follow PyTorch: ReLU's derivative at 0 is 0, leaky ReLU's is
``negative_slope``, ELU's is ``alpha``.
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from cnnlib.checks import check_float, check_int, check_maxout, check_same_dtype
from cnnlib.torch_nn.autocast import autocast_off, to_low_precision
from cnnlib.torch_nn.linear import add_linear_parameters, require_tensor, reset_linear_parameters


def _check_grad_output(grad_output, shape):
    if tuple(grad_output.shape) != tuple(shape):
        raise ValueError(f"grad_output must have the output's shape {tuple(shape)}, got {tuple(grad_output.shape)}")
    return grad_output


# -- the pure pairs ------------------------------------------------------------------------------------
def relu_forward(x):
    """relu(x) = max(0, x); the cache is the input. Shape: any -> the same."""
    return torch.clamp_min(x, 0), x


def relu_backward(grad_output, cache):
    """d relu / dx = 0 where x <= 0, else 1 (0 at x = 0; a NaN passes the gradient through, as in PyTorch).

    ``cache`` may be the input or the output: both are <= 0 at the same places.
    """
    x = cache
    grad_output = _check_grad_output(grad_output, x.shape)
    return torch.where(x <= 0, 0, grad_output)


def sigmoid_forward(x):
    """sigmoid(x) = 1 / (1 + exp(-x)); the cache is the output. Shape: any -> the same.

    With e = exp(-|x|), always in (0, 1], sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e)
    for x < 0: the same formula, and exp never overflows.
    """
    e = torch.exp(-x.abs())
    out = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return out, out


def sigmoid_backward(grad_output, cache):
    """d sigmoid / dx = sigmoid(x) * (1 - sigmoid(x)), from the saved output."""
    out = cache
    grad_output = _check_grad_output(grad_output, out.shape)
    return grad_output * (1 - out) * out


def tanh_forward(x):
    """tanh(x) = (e^{2x} - 1) / (e^{2x} + 1) (torch.tanh, stable); the cache is the output."""
    out = torch.tanh(x)
    return out, out


def tanh_backward(grad_output, cache):
    """d tanh / dx = 1 - tanh(x)^2, from the saved output."""
    out = cache
    grad_output = _check_grad_output(grad_output, out.shape)
    if grad_output.dtype != out.dtype:  # type promotion: out of place, as before
        return grad_output * (1 - out * out)
    return (out * out).neg_().add_(1).mul_(grad_output)  # 1 - out^2 exactly as above, in one tensor instead of three


def leaky_relu_forward(x, negative_slope=0.01):
    """leaky_relu(x) = x if x > 0 else negative_slope * x; the cache is (x, negative_slope)."""
    negative_slope = check_float(negative_slope, "negative_slope")
    return torch.where(x > 0, x, x * negative_slope), (x, negative_slope)


def leaky_relu_backward(grad_output, cache):
    """d leaky_relu / dx = 1 where x > 0, else negative_slope."""
    x, negative_slope = cache
    grad_output = _check_grad_output(grad_output, x.shape)
    return torch.where(x > 0, grad_output, grad_output * negative_slope)


def elu_forward(x, alpha=1.0):
    """elu(x) = x if x > 0 else alpha * (exp(x) - 1); the cache is (x, alpha).

    exp only sees min(x, 0), so it cannot overflow; ``expm1`` keeps exp(x) - 1 accurate near 0.
    """
    alpha = check_float(alpha, "alpha")
    return torch.where(x > 0, x, alpha * torch.expm1(torch.clamp_max(x, 0))), (x, alpha)


def elu_backward(grad_output, cache):
    """d elu / dx = alpha * exp(x) where x <= 0, else 1 (a NaN passes the gradient through, as in PyTorch)."""
    x, alpha = cache
    grad_output = _check_grad_output(grad_output, x.shape)
    return torch.where(x <= 0, grad_output * alpha * torch.exp(torch.clamp_max(x, 0)), grad_output)


def maxout_forward(x, weight, bias=None, pieces=2):
    """maxout(x)_o = max_k (w_{o,k} . x + b_{o,k}), k = 0 .. pieces-1; the lecture's max(w1.x + b1, w2.x + b2).

    Row ``o*pieces + k`` of ``weight`` is piece k of output feature o.

    Shape:
        x (N, in_features), weight (out_features*pieces, in_features), bias (out_features*pieces,)
        -> out (N, out_features). Leading dimensions other than N are allowed, as in Linear.
    """
    out_features = check_maxout(x.shape, weight.shape, None if bias is None else bias.shape, pieces)
    check_same_dtype(x.dtype, weight.dtype, None if bias is None else bias.dtype)
    z = x @ weight.t()                                             # (..., out_features*pieces)
    if bias is not None:
        z = z + bias
    z = z.reshape(*x.shape[:-1], out_features, pieces)             # (..., out_features, pieces)
    winner = z.argmax(dim=-1)                                      # (..., out_features): which piece won
    out = z.gather(-1, winner.unsqueeze(-1)).squeeze(-1)           # (..., out_features)
    return out, (x, weight, bias is not None, pieces, winner)


def maxout_backward(grad_output, cache):
    """Only the winning piece of each output receives the gradient; then it is a linear layer's backward.

    Returns ``(grad_input, grad_weight, grad_bias_or_None)``.
    """
    x, weight, has_bias, pieces, winner = cache
    grad_output = _check_grad_output(grad_output, winner.shape)
    grad_z = grad_output.new_zeros(*winner.shape, pieces)          # (..., out_features, pieces)
    grad_z.scatter_(-1, winner.unsqueeze(-1), grad_output.unsqueeze(-1))
    grad_z = grad_z.reshape(-1, weight.shape[0])                   # (M, out_features*pieces)
    grad_input = (grad_z @ weight).reshape(x.shape)                # (..., in_features)
    grad_weight = grad_z.t() @ x.reshape(-1, x.shape[-1])          # (out_features*pieces, in_features)
    grad_bias = grad_z.sum(dim=0) if has_bias else None            # (out_features*pieces,)
    return grad_input, grad_weight, grad_bias


# -- autograd nodes: forward keeps the cache, backward calls the hand-written backward -------------------
class ReLUFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out, _ = relu_forward(x)
        ctx.save_for_backward(out)  # the output, as torch's ReLU: changing it in place then raises at backward
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        out, = ctx.saved_tensors
        return relu_backward(grad_output, out)


class SigmoidFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out, _ = sigmoid_forward(x)
        ctx.save_for_backward(out)  # autograd checks it was not changed in place before backward
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        out, = ctx.saved_tensors
        return sigmoid_backward(grad_output, out)


class TanhFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out, _ = tanh_forward(x)
        ctx.save_for_backward(out)  # autograd checks it was not changed in place before backward
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        out, = ctx.saved_tensors
        return tanh_backward(grad_output, out)


class LeakyReLUFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        out, (_, ctx.negative_slope) = leaky_relu_forward(x, negative_slope)
        ctx.save_for_backward(x)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return leaky_relu_backward(grad_output, (x, ctx.negative_slope)), None


class ELUFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, alpha):
        out, (_, ctx.alpha) = elu_forward(x, alpha)
        ctx.save_for_backward(x)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return elu_backward(grad_output, (x, ctx.alpha)), None


class MaxoutFunction(torch.autograd.Function):
    @staticmethod
    @autocast_off
    def forward(ctx, x, weight, bias, pieces):
        out, (_, _, ctx.has_bias, ctx.pieces, winner) = maxout_forward(x, weight, bias, pieces)
        ctx.save_for_backward(x, weight, winner)
        return out

    @staticmethod
    @once_differentiable
    @autocast_off
    def backward(ctx, grad_output):
        x, weight, winner = ctx.saved_tensors
        return (*maxout_backward(grad_output, (x, weight, ctx.has_bias, ctx.pieces, winner)), None)


# -- functions (torch.nn.functional's names) -------------------------------------------------------------
def relu(x):
    """relu(x) = max(0, x), elementwise."""
    require_tensor(x, "input")
    return ReLUFunction.apply(x)


def sigmoid(x):
    """sigmoid(x) = 1 / (1 + exp(-x)), elementwise, stable for any x."""
    require_tensor(x, "input")
    return SigmoidFunction.apply(x)


def tanh(x):
    """tanh(x), elementwise."""
    require_tensor(x, "input")
    return TanhFunction.apply(x)


def leaky_relu(x, negative_slope=0.01):
    """leaky_relu(x) = max(negative_slope * x, x) for 0 <= negative_slope <= 1."""
    require_tensor(x, "input")
    return LeakyReLUFunction.apply(x, negative_slope)


def elu(x, alpha=1.0):
    """elu(x) = x if x > 0 else alpha * (exp(x) - 1), elementwise."""
    require_tensor(x, "input")
    return ELUFunction.apply(x, alpha)


def maxout(x, weight, bias=None, pieces=2):
    """Maxout: the largest of ``pieces`` linear maps, per output feature (see `maxout_forward`).

    Under ``torch.autocast`` x, weight and bias are cast to its dtype first, as for a linear layer.
    """
    require_tensor(x, "input")
    x, weight, bias = to_low_precision(x, weight, bias)
    return MaxoutFunction.apply(x, weight, bias, pieces)


# -- modules ---------------------------------------------------------------------------------------------
class ReLU(torch.nn.Module):
    """ReLU(x) = max(0, x) (01_neural_nets_activations).

    Shape: input (*), any shape -> output (*), the same shape.
    """

    def forward(self, x):
        return relu(x)


class Sigmoid(torch.nn.Module):
    """Sigmoid(x) = 1 / (1 + exp(-x)) (01_neural_nets_activations).

    Shape: input (*) -> output (*), the same shape.
    """

    def forward(self, x):
        return sigmoid(x)


class Tanh(torch.nn.Module):
    """Tanh(x) = (e^{2x} - 1) / (e^{2x} + 1) (01_neural_nets_activations).

    Shape: input (*) -> output (*), the same shape.
    """

    def forward(self, x):
        return tanh(x)


class LeakyReLU(torch.nn.Module):
    """LeakyReLU(x) = max(negative_slope * x, x) (01_neural_nets_activations).

    The lecture writes max(0.1x, x), i.e. ``LeakyReLU(0.1)``; PyTorch's default, used here, is 0.01.

    Shape: input (*) -> output (*), the same shape.
    """

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = check_float(negative_slope, "negative_slope")

    def forward(self, x):
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(torch.nn.Module):
    """ELU(x) = x if x > 0 else alpha * (exp(x) - 1) (01_neural_nets_activations).

    Shape: input (*) -> output (*), the same shape.
    """

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = check_float(alpha, "alpha")

    def forward(self, x):
        return elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Maxout(torch.nn.Module):
    """Maxout(x)_o = max_k (w_{o,k} . x + b_{o,k}) over ``pieces`` linear maps (01_neural_nets_activations).

    ``weight`` is (out_features*pieces, in_features) and ``bias`` (out_features*pieces,), row
    ``o*pieces + k`` being piece k of output o, initialised as ``torch.nn.Linear(in_features,
    out_features*pieces)`` is: uniform in ±1/sqrt(in_features). In plain PyTorch it is that Linear
    followed by ``.view(N, out_features, pieces).max(dim=2).values``.

    Shape: input (N, in_features) -> output (N, out_features).
    """

    def __init__(self, in_features, out_features, pieces=2, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = check_int(in_features, "in_features", minimum=1)
        self.out_features = check_int(out_features, "out_features", minimum=1)
        self.pieces = check_int(pieces, "pieces", minimum=1)
        add_linear_parameters(self, self.in_features, self.out_features * self.pieces, bias, device, dtype)

    def reset_parameters(self) -> None:
        reset_linear_parameters(self)

    def forward(self, x):
        return maxout(x, self.weight, self.bias, self.pieces)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"pieces={self.pieces}, bias={self.bias is not None}")
