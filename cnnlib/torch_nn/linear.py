"""The fully connected layer in PyTorch tensor operations, backward by hand (taught in 01_neural_nets_activations).

The same algorithm, step for step, as ``cnnlib.numpy_nn.linear``, on tensors of any device and dtype:

    out = x @ weight.T + bias      backward:  dL/dx = G @ W,  dL/dW = G^T @ X,  dL/db = sum of G over rows

`LinearFunction` hands the pair to autograd, so ``loss.backward()`` runs *our* `linear_backward`.
"""
from __future__ import annotations

import math

import torch
from torch.autograd.function import once_differentiable

from cnnlib.checks import check_int, check_linear, check_same_dtype
from cnnlib.torch_nn.autocast import autocast_off, to_low_precision


def require_tensor(value, name: str) -> None:
    """cnnlib.torch_nn works on tensors: anything else is a TypeError that says how to make one."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}; pass torch.as_tensor({name}) "
                        f"(or use cnnlib.numpy_nn for NumPy arrays)")


def _prepare(x, weight, bias):
    check_linear(x.shape, weight.shape, None if bias is None else bias.shape)
    check_same_dtype(x.dtype, weight.dtype, None if bias is None else bias.dtype)


def linear_forward(x, weight, bias=None):
    """``out = x @ weight.T + bias``; returns ``(out, cache)`` for `linear_backward`.

    Math: out[..., o] = sum_i x[..., i] * weight[o, i] + bias[o].

    Shape:
        x: (*, in_features); weight: (out_features, in_features); bias: (out_features,) or None;
        out: (*, out_features).

    Taught in 01_neural_nets_activations.
    """
    _prepare(x, weight, bias)
    out = x @ weight.t()                  # (*, out_features)
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
    if tuple(grad_output.shape) != expected:
        raise ValueError(f"grad_output must have the output's shape {expected}, got {tuple(grad_output.shape)}")
    rows = x.shape[:-1].numel()                                  # explicit: -1 is ambiguous with 0 features
    g = grad_output.reshape(rows, weight.shape[0])               # (rows, out_features)
    x2 = x.reshape(rows, weight.shape[1])                        # (rows, in_features)
    grad_input = (g @ weight).reshape(x.shape)                   # (*, in_features)
    grad_weight = g.t() @ x2                                     # (out_features, in_features)
    grad_bias = g.sum(dim=0) if has_bias else None               # (out_features,)
    return grad_input, grad_weight, grad_bias


class LinearFunction(torch.autograd.Function):
    """linear as an autograd node: backward calls ``linear_backward``.

    ``x`` and ``weight`` go through ``save_for_backward``, so a change in place between forward and
    backward (an optimizer step first) raises, as it does in PyTorch, instead of giving a wrong gradient.
    """

    @staticmethod
    @autocast_off
    def forward(ctx, x, weight, bias):
        out, (_, _, ctx.has_bias) = linear_forward(x, weight, bias)
        ctx.save_for_backward(x, weight)
        return out

    @staticmethod
    @once_differentiable
    @autocast_off
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        return linear_backward(grad_output, (x, weight, ctx.has_bias))


def linear(x, weight, bias=None):
    """``torch.nn.functional.linear``, differentiable through the hand-written `linear_backward`.

    Shape: x (*, in_features), weight (out_features, in_features) -> (*, out_features).
    Under ``torch.autocast`` the three are cast to its dtype first, as for ``torch.nn.functional.linear``.
    """
    require_tensor(x, "input")
    require_tensor(weight, "weight")
    if bias is not None:
        require_tensor(bias, "bias")
    x, weight, bias = to_low_precision(x, weight, bias)
    return LinearFunction.apply(x, weight, bias)


class Linear(torch.nn.Module):
    """y = x W^T + b: every output is a weighted sum of all inputs plus a bias.

    The same arguments, parameter names and default initialisation
    (uniform in ±1/sqrt(in_features)) as ``torch.nn.Linear``; zero features and empty batches work
    as in PyTorch (``Linear(0, 3)`` outputs its bias).

    Shape: input (*, in_features) -> output (*, out_features);
    weight (out_features, in_features), bias (out_features,).

    Autograd runs the hand-written `linear_backward`. Taught in 01_neural_nets_activations.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = check_int(in_features, "in_features", minimum=0)
        self.out_features = check_int(out_features, "out_features", minimum=0)
        add_linear_parameters(self, self.in_features, self.out_features, bias, device, dtype)

    def reset_parameters(self) -> None:
        reset_linear_parameters(self)

    def forward(self, input):  # torch.nn.Linear's name, so forward(input=x) works too
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def add_linear_parameters(module: torch.nn.Module, in_features: int, rows: int, bias: bool,
                          device=None, dtype=None) -> None:
    """Give ``module`` a ``weight`` (rows, in_features) and a ``bias`` (rows,) or None, initialised as Linear's."""
    factory = {"device": device, "dtype": dtype}
    module.weight = torch.nn.Parameter(torch.empty(rows, in_features, **factory))
    if bias:
        module.bias = torch.nn.Parameter(torch.empty(rows, **factory))
    else:
        module.register_parameter("bias", None)
    reset_linear_parameters(module)


def reset_linear_parameters(module: torch.nn.Module) -> None:
    """PyTorch's default for Linear: weight and bias uniform in [-1/sqrt(in_features), 1/sqrt(in_features)].

    With no input features the bound is 0, as in PyTorch: the bias starts at 0.
    """
    fan_in = module.weight.shape[1]
    bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
    with torch.no_grad():
        module.weight.uniform_(-bound, bound)
        if module.bias is not None:
            module.bias.uniform_(-bound, bound)
