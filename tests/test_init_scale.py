"""cnnlib.init_scale: the three weight scales, the deep stack they build, and the gradient it passes back."""
import math

import numpy as np
import pytest
import torch

from cnnlib.init_scale import SCHEMES, deep_stack, gradient_kept, gradient_sizes, init_std
from cnnlib.models import initialize
from cnnlib.numpy_nn.activation import ReLU, Sigmoid, Tanh
from cnnlib.numpy_nn.linear import Linear


def test_init_std_is_each_papers_formula():
    assert init_std("he", 50, 10) == pytest.approx(math.sqrt(2 / 50))
    assert init_std("xavier", 50, 10) == pytest.approx(math.sqrt(2 / 60))
    assert init_std("torch", 50, 10) == pytest.approx(math.sqrt(1 / 150))
    assert SCHEMES == ("torch", "xavier", "he")


@pytest.mark.parametrize("scheme", ["torch", "xavier", "he"])
def test_init_std_matches_the_variance_torch_draws(scheme):
    torch.manual_seed(0)
    layer = initialize(torch.nn.Linear(400, 300), scheme)
    measured = float(layer.weight.detach().double().std())
    assert measured == pytest.approx(init_std(scheme, 400, 300), rel=0.02)


def test_init_std_refuses_unknown_schemes_and_bad_fans():
    with pytest.raises(ValueError, match="scheme must be one of"):
        init_std("kaiming", 4, 4)
    with pytest.raises(ValueError, match="fan_in must be positive"):
        init_std("he", 0, 4)


def test_deep_stack_shares_draws_across_schemes_and_zeroes_biases():
    he, xavier = deep_stack(Tanh, "he", depth=3, width=8), deep_stack(ReLU, "xavier", depth=3, width=8)
    assert len(he) == 6 and isinstance(he[0], Linear) and isinstance(he[1], Tanh) and isinstance(xavier[1], ReLU)
    ratio = init_std("he", 8, 8) / init_std("xavier", 8, 8)
    for a, b in zip(he.layers[::2], xavier.layers[::2]):
        np.testing.assert_allclose(a.weight.data, b.weight.data * ratio, rtol=1e-12)
        assert not a.bias.data.any()
    assert not np.array_equal(deep_stack(Tanh, "he", 3, 8, seed=2)[0].weight.data, he[0].weight.data)


def test_deep_stack_refuses_an_instance():
    with pytest.raises(ValueError, match="module class such as ReLU"):
        deep_stack(ReLU(), "he")


def test_gradient_sizes_match_torch_autograd():
    stack = deep_stack(Tanh, "xavier", depth=4, width=16, seed=3)
    x = np.random.default_rng(0).normal(size=(5, 16))
    ours = gradient_sizes(stack, x)
    h = torch.tensor(x, requires_grad=True)
    inputs, t = [], h
    for lin in stack.layers[::2]:
        t.retain_grad()
        inputs.append(t)
        t = torch.tanh(t @ torch.from_numpy(lin.weight.data).T)
    t.sum().backward()
    expected = [float(v.grad.abs().mean()) for v in reversed(inputs)]
    np.testing.assert_allclose(ours, expected, rtol=1e-10)


def test_gradient_kept_orders_the_activations_by_scale():
    x = np.random.default_rng(5).normal(size=(32, 64))
    kept = {(s, a.__name__): gradient_kept(a, s, x, seeds=range(1, 4)) for s in SCHEMES for a in (Sigmoid, Tanh, ReLU)}
    assert all(v.shape == (3,) for v in kept.values())
    assert np.all(kept["torch", "Tanh"] > kept["torch", "ReLU"])       # PyTorch's scale favours tanh
    assert np.all(kept["he", "ReLU"] > 0.5) and np.all(kept["he", "Sigmoid"] < 1e-4)
    with pytest.raises(ValueError, match="at least one seed"):
        gradient_kept(ReLU, "he", x, seeds=[])
