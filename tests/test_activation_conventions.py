"""Gradients at the kinks and at NaN, against torch's autograd; in-place changes before backward; tensors only."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.numpy_nn import activation as NA
from cnnlib.torch_nn import activation as TA
from cnnlib.torch_nn import linear as TL

POINTS = np.array([-np.inf, -1.0, -0.0, 0.0, 1e-300, 2.0, np.inf, np.nan])

CASES = {  # name -> (numpy pair, torch_nn function, torch's function)
    "relu": ((NA.relu_forward, NA.relu_backward), TA.relu, F.relu),
    "leaky_relu": ((lambda x: NA.leaky_relu_forward(x, 0.1), NA.leaky_relu_backward),
                   lambda x: TA.leaky_relu(x, 0.1), lambda x: F.leaky_relu(x, 0.1)),
    "elu": ((lambda x: NA.elu_forward(x, 0.7), NA.elu_backward), lambda x: TA.elu(x, 0.7), lambda x: F.elu(x, 0.7)),
    "sigmoid": ((NA.sigmoid_forward, NA.sigmoid_backward), TA.sigmoid, torch.sigmoid),
    "tanh": ((NA.tanh_forward, NA.tanh_backward), TA.tanh, torch.tanh),
}


@pytest.mark.parametrize("name", CASES)
def test_gradients_at_kinks_and_nan_follow_torch(name):
    (forward, backward), ours, reference = CASES[name]
    g = np.linspace(0.5, 4.0, POINTS.size)
    xt = torch.tensor(POINTS, requires_grad=True)
    reference(xt).backward(torch.tensor(g))
    expected = xt.grad.numpy()
    out, cache = forward(POINTS.copy())
    np.testing.assert_array_equal(backward(g, cache), expected)  # NaN where torch has NaN, nowhere else
    xo = torch.tensor(POINTS, requires_grad=True)
    ours(xo).backward(torch.tensor(g))
    np.testing.assert_array_equal(xo.grad.numpy(), expected)


def test_relu_output_changed_in_place_raises_as_in_torch():
    for relu in (TA.relu, F.relu):
        x = torch.randn(4, requires_grad=True)
        out = relu(x)
        out.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


@pytest.mark.parametrize("fn", [lambda x: TA.sigmoid(x), lambda x: TA.tanh(x)])
def test_saved_outputs_changed_in_place_raise(fn):
    x = torch.randn(4, requires_grad=True)
    out = fn(x)
    out.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@pytest.mark.parametrize("fn", [lambda x: TA.leaky_relu(x), lambda x: TA.elu(x)])
def test_saved_inputs_changed_in_place_raise(fn):
    leaf = torch.randn(4, requires_grad=True)
    x = leaf * 1.0
    out = fn(x)
    x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_linear_weight_changed_before_backward_raises_as_in_torch():
    layer = TL.Linear(3, 2)
    out = layer(torch.randn(4, 3))
    with torch.no_grad():
        layer.weight.add_(1.0)  # an optimizer step before backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@pytest.mark.parametrize("call", [lambda a: TA.relu(a), lambda a: TA.sigmoid(a), lambda a: TA.tanh(a),
                                  lambda a: TA.leaky_relu(a), lambda a: TA.elu(a),
                                  lambda a: TL.linear(a, torch.zeros(2, 3))])
@pytest.mark.parametrize("value", [np.zeros((2, 3)), [[0.0, 1.0, 2.0]]])
def test_numpy_arrays_and_lists_are_a_type_error_saying_to_pass_a_tensor(call, value):
    with pytest.raises(TypeError, match=r"input must be a torch.Tensor, got (ndarray|list); pass torch.as_tensor"):
        call(value)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_0d_input_gives_0d_arrays_forward_and_backward_as_torch(name, dtype):
    (forward, backward), ours, reference = CASES[name]
    xt = torch.tensor(-0.3 if name != "sigmoid" else 0.4, dtype=getattr(torch, np.dtype(dtype).name),
                      requires_grad=True)
    expected = reference(xt)
    expected.backward(torch.tensor(1.5, dtype=xt.dtype))
    out, cache = forward(np.array(xt.item(), dtype=dtype))
    grad = backward(np.array(1.5, dtype=dtype), cache)
    for value, ref in ((out, expected), (grad, xt.grad)):
        assert isinstance(value, np.ndarray) and value.shape == () and value.dtype == dtype
        np.testing.assert_allclose(value, ref.detach().numpy(), rtol=1e-6)
