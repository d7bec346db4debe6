"""cnnlib.numpy_nn.dropout: inverted scaling, train vs eval, edge cases, seeding and the backward pass."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from parity import assert_matches_finite_differences
from strategies import make_array, seeds

from cnnlib.numpy_nn import Dropout, Linear, Sequential
from cnnlib.numpy_nn.dropout import dropout, dropout_backward, dropout_forward, dropout_naive


@pytest.mark.parametrize("p", [0.1, 0.4, 0.5, 0.9])
def test_dropout_keeps_the_mean_and_drops_a_fraction_p(p):
    x = np.full((200, 500), 3.0)
    out = dropout(x, p, rng=0)
    n = x.size
    dropped = np.mean(out == 0)
    # the dropped count is Binomial(n, p): within 5 standard deviations of p
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(out[out != 0], 3.0 / (1 - p), rtol=1e-15)  # kept units scaled by 1/(1-p)
    # the mean of out is 3 * kept / (1 - p): within 5 standard deviations of 3
    assert abs(out.mean() - 3.0) < 5 * 3.0 * np.sqrt(p / ((1 - p) * n))


@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4), p=st.floats(0.0, 1.0), seed=seeds)
def test_dropout_backward_uses_the_forward_mask(shape, p, seed):
    x, g = make_array(shape, seed), make_array(shape, seed + 1)
    out, mask = dropout_forward(x, p, rng=seed)
    grad = dropout_backward(g, mask)
    if p == 0.0:
        assert mask is None and out is x and grad is g              # the identity: no mask drawn at all
        return
    np.testing.assert_array_equal(grad == 0, out == 0)              # dropped units pass no gradient
    np.testing.assert_allclose(grad, g * mask, rtol=0, atol=0)
    # the mask is fixed once drawn, so out is linear in x and centred differences are exact up to round-off
    assert_matches_finite_differences(lambda: x * mask, [("input", x, grad)], g)
    np.testing.assert_array_equal(dropout_naive(x, p, rng=seed), out)  # the loops draw the same units


def test_p_zero_and_one_and_eval_mode_are_torchs():
    x = make_array((4, 5), 0)
    np.testing.assert_array_equal(dropout(x, 0.0, rng=1), x)       # p = 0: nothing dropped, scale 1
    np.testing.assert_array_equal(dropout(x, 1.0, rng=1), np.zeros_like(x))  # p = 1: everything dropped
    assert dropout(x, 0.7, training=False) is x                    # eval: the identity, as torch returns the input
    layer = Dropout(0.5, rng=0).eval()
    assert layer(x) is x
    np.testing.assert_array_equal(layer.backward(x), x)


def test_p_zero_is_the_identity_and_draws_no_random_numbers():
    x = make_array((4, 5), 0)
    rng = np.random.default_rng(3)
    out, cache = dropout_forward(x, 0.0, rng=rng)
    assert out is x and cache is None
    # the generator is untouched: a later p = 0.5 drops the units it would have dropped without the p = 0 call
    np.testing.assert_array_equal(dropout(x, 0.5, rng=rng), dropout(x, 0.5, rng=np.random.default_rng(3)))
    model, alone = Sequential(Dropout(0.0, rng=4), Dropout(0.5, rng=5)), Dropout(0.5, rng=5)
    np.testing.assert_array_equal(model(x), alone(x))
    g = make_array((4, 5), 1)
    np.testing.assert_array_equal(model.backward(g), alone.backward(g))
    naive_rng = np.random.default_rng(3)
    np.testing.assert_array_equal(dropout_naive(x, 0.0, rng=naive_rng), x)
    np.testing.assert_array_equal(dropout_naive(x, 0.5, rng=naive_rng), dropout(x, 0.5, rng=3))


def test_inplace_that_raises_leaves_the_input_untouched():
    x = np.ones((3, 4))
    x.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        dropout(x, 0.5, inplace=True, rng=0)
    np.testing.assert_array_equal(x, np.ones((3, 4)))


def test_module_is_seeded_and_draws_anew_each_call():
    x = np.ones((10, 10))
    a, b = Dropout(0.5, rng=7), Dropout(0.5, rng=7)
    first, second = a(x), a(x)
    np.testing.assert_array_equal(first, b(x))                   # same seed, same units
    assert not np.array_equal(first, second)                     # a new mask for every forward
    g = make_array((10, 10), 3)
    np.testing.assert_array_equal(a.backward(g), g * second)     # backward uses the last mask


def test_inplace_writes_into_the_input():
    x = np.ones((3, 4))
    out = dropout(x, 0.5, inplace=True, rng=0)
    assert out is x and set(np.unique(x)) <= {0.0, 2.0}
    with pytest.raises(ValueError, match="inplace=True needs a floating-point NumPy array"):
        dropout([1.0, 2.0], 0.5, inplace=True)


def test_dropout_inside_a_model_trains_and_evaluates():
    model = Sequential(Linear(6, 4, rng=0), Dropout(0.5, rng=1), Linear(4, 2, rng=2))
    x = make_array((3, 6), 0)
    model.eval()
    np.testing.assert_array_equal(model(x), model(x))            # deterministic in eval
    model.train()
    model(x)
    grad = model.backward(np.ones((3, 2)))
    assert grad.shape == (3, 6) and model.state_dict().keys() == {"0.weight", "0.bias", "2.weight", "2.bias"}


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), "0.5", True])
def test_invalid_p_is_refused_by_name(p):
    with pytest.raises(ValueError, match="dropout probability p must be in"):
        Dropout(p)
    with pytest.raises(ValueError, match="dropout probability p must be in"):
        dropout(np.ones(3), p)


def test_backward_before_forward_and_wrong_gradient_shape():
    with pytest.raises(RuntimeError, match="Dropout.backward called before forward"):
        Dropout().backward(np.ones(3))
    layer = Dropout(0.5, rng=0)
    layer(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(2, 3\), got \(3,\)"):
        layer.backward(np.ones(3))
