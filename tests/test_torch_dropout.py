"""cnnlib.torch_nn.dropout against torch.nn.Dropout: the same mask from the same seed, backward, train vs eval."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_support import DEVICES

from cnnlib import torch_nn as T
from cnnlib.torch_nn.dropout import dropout


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9, 1.0])
def test_same_seed_same_output_and_gradient_as_torch_nn_on_the_cpu(p):
    x = torch.randn(6, 7, 5, dtype=torch.float64)
    g = torch.randn_like(x)
    results = []
    for layer in (torch.nn.Dropout(p), T.Dropout(p)):
        torch.manual_seed(123)
        xt = x.clone().requires_grad_()
        out = layer(xt)
        out.backward(g)
        results.append((out.detach(), xt.grad))
    (out_ref, grad_ref), (out, grad) = results
    torch.testing.assert_close(out, out_ref, rtol=0, atol=0)
    torch.testing.assert_close(grad, grad_ref, rtol=0, atol=0)


@pytest.mark.parametrize("device", DEVICES)
def test_statistics_mask_and_backward_on_every_device(device):
    torch.manual_seed(0)
    p = 0.4
    x = torch.full((400, 250), 2.0, device=device, requires_grad=True)
    out = T.Dropout(p)(x)
    out.backward(torch.ones_like(out))
    n = x.numel()
    dropped = (out == 0).double().mean().item()
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / n)
    torch.testing.assert_close(out[out != 0], torch.full_like(out[out != 0], 2.0 / (1 - p)))
    assert torch.equal(x.grad, out.detach() / 2.0)  # the gradient is the mask itself: 0 or 1/(1-p)


def test_p_zero_draws_no_random_numbers_so_a_later_dropout_drops_torchs_units():
    x = torch.randn(6, 7, dtype=torch.float64)
    outputs = []
    for nn in (torch.nn, T):
        torch.manual_seed(11)
        model = torch.nn.Sequential(nn.Dropout(0.0), nn.Dropout(0.5))
        outputs.append(model(x))
    torch.testing.assert_close(outputs[1], outputs[0], rtol=0, atol=0)
    assert T.Dropout(0.0)(x) is x  # the input itself, as torch.nn returns it


@pytest.mark.parametrize("make", [lambda: torch.ones(4, 5, requires_grad=True),
                                  lambda: torch.ones(4, 5, requires_grad=True)[:2]], ids=["leaf", "view_of_leaf"])
def test_inplace_that_raises_leaves_the_input_as_torch_nn_does(make):
    messages = []
    for layer in (torch.nn.Dropout(0.5, inplace=True), T.Dropout(0.5, inplace=True)):
        x = make()
        with pytest.raises(RuntimeError, match="in-place operation") as info:
            layer(x)
        assert torch.equal(x.detach(), torch.ones_like(x)), type(layer).__module__
        messages.append(str(info.value))
    assert messages[1] == messages[0]


def test_eval_is_the_identity_and_inplace_as_torch():
    x = torch.randn(3, 4)
    layer = T.Dropout(0.5).eval()
    assert layer(x) is x
    assert dropout(x, 0.5, training=False) is x
    y = torch.randn(3, 4, requires_grad=True)
    z = y * 1.0  # not a leaf, so it may change in place
    torch.manual_seed(5)
    out = T.Dropout(0.5, inplace=True)(z)
    assert out.data_ptr() == z.data_ptr()
    out.sum().backward()
    torch.testing.assert_close(y.grad, (out != 0).float() * 2.0)
    leaf = torch.randn(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        T.Dropout(0.5, inplace=True)(leaf)


def test_gradcheck_with_a_fixed_seed_and_bad_p():
    x = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)

    def seeded(t):
        torch.manual_seed(0)  # the same mask on every evaluation, so the function is linear in t
        return dropout(t, 0.3)

    assert torch.autograd.gradcheck(seeded, (x,))
    with pytest.raises(ValueError, match=r"dropout probability p must be in \[0, 1\], got 1.5"):
        T.Dropout(1.5)
    with pytest.raises(TypeError, match="input must be a torch.Tensor, got list"):
        T.Dropout(0.5)([1.0, 2.0])
    assert repr(T.Dropout(0.25)) == repr(torch.nn.Dropout(0.25))
