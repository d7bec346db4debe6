"""Winograd's convolution of inputs holding inf or NaN gives torch.nn's answer (both libraries).

Winograd's transforms subtract inputs from one another, so a single +inf used to turn its whole
tile into NaN (inf - inf) where torch.nn gives inf, or finite values for outputs whose window
misses it. Such calls now take im2col; forward and gradients are compared with torch's autograd.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.numpy_nn.conv import conv2d_backward, conv2d_forward
from cnnlib.torch_nn import functional as T

CASES = {
    "+inf in the input": lambda x, w: x.__setitem__((0, 0, 2, 3), np.inf),
    "-inf and +inf in the input": lambda x, w: (x.__setitem__((1, 1, 0, 0), -np.inf),
                                                x.__setitem__((0, 1, 4, 4), np.inf)),
    "nan in the input": lambda x, w: x.__setitem__((0, 0, 5, 1), np.nan),
    "+inf in the weight": lambda x, w: w.__setitem__((1, 0, 1, 1), np.inf),
}


def _data(case):
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 2, 6, 7)), np.abs(rng.normal(size=(3, 2, 3, 3))), rng.normal(size=3)
    CASES[case](x, w)
    return x, w, b


def _torch_reference(x, w, b, g):
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(xt, wt, bt, padding=1)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


@pytest.mark.parametrize("case", CASES)
def test_numpy_nn_winograd_with_inf_or_nan_matches_torch(case):
    x, w, b = _data(case)
    g = np.random.default_rng(1).normal(size=(2, 3, 6, 7))
    expected = _torch_reference(x, w, b, g)
    with np.errstate(invalid="ignore"):  # NumPy warns where it makes a NaN (inf - inf); torch does not
        out, cache = conv2d_forward(x, w, b, padding=1, algorithm="winograd")
        grads = conv2d_backward(g, cache)
    assert np.isfinite(expected[0]).sum() > 0  # torch keeps finite outputs away from the inf
    for name, ours, ref in zip(("output", "grad_input", "grad_weight", "grad_bias"), (out, *grads), expected):
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12, equal_nan=True, err_msg=name)


@pytest.mark.parametrize("case", CASES)
def test_torch_nn_winograd_with_inf_or_nan_matches_torch(case):
    x, w, b = _data(case)
    g = np.random.default_rng(1).normal(size=(2, 3, 6, 7))
    expected = _torch_reference(x, w, b, g)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = T.conv2d(xt, wt, bt, padding=1, algorithm="winograd")
    out.backward(torch.tensor(g))
    for name, ours, ref in zip(("output", "grad_input", "grad_weight", "grad_bias"),
                               (out.detach(), xt.grad, wt.grad, bt.grad), expected):
        np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-10, atol=1e-12, equal_nan=True, err_msg=name)


def test_finite_inputs_still_take_winograd():
    x, w, b = np.random.default_rng(2).normal(size=(1, 2, 4, 4)), np.ones((1, 2, 3, 3)), None
    assert conv2d_forward(x, w, b, padding=1, algorithm="winograd")[1][0] == "winograd"
    assert conv2d_forward(np.full((1, 2, 4, 4), np.inf), w, b, padding=1, algorithm="winograd")[1][0] == "im2col"
