"""cnnlib.numpy_nn.linear against PyTorch and against finite differences."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from parity import assert_matches_finite_differences, assert_matches_torch
from strategies import linear_configs, make_array, seeds

from cnnlib.numpy_nn.linear import Linear, linear, linear_backward, linear_forward
from cnnlib.testing import rel_error


def _arrays(cfg, seed, dtype=np.float64):
    x = make_array(cfg["input_shape"], seed, dtype)
    w = make_array(cfg["weight_shape"], seed + 1, dtype)
    b = make_array((cfg["out_features"],), seed + 2, dtype) if cfg["bias"] else None
    return x, w, b


def _numpy_side(x, w, b, g):
    out, cache = linear_forward(x, w, b)
    return out, linear_backward(g, cache)


@given(cfg=linear_configs(), seed=seeds)
def test_linear_matches_torch(cfg, seed):
    x, w, b = _arrays(cfg, seed)
    g = make_array((cfg["batch"], cfg["out_features"]), seed + 3)
    assert_matches_torch(_numpy_side, F.linear, [x, w, b], g, names=["input", "weight", "bias"])


def test_linear_accepts_leading_dimensions_like_torch():
    x, w, b = make_array((2, 3, 4), 0), make_array((5, 4), 1), make_array((5,), 2)
    g = make_array((2, 3, 5), 3)
    assert_matches_torch(_numpy_side, F.linear, [x, w, b], g)
    assert_matches_torch(_numpy_side, F.linear, [x[0, 0], w, b], g[0, 0])  # a single sample (in_features,)


@given(cfg=linear_configs(), seed=seeds)
def test_linear_backward_matches_finite_differences(cfg, seed):
    x, w, b = _arrays(cfg, seed)
    out, cache = linear_forward(x, w, b)
    g = make_array(out.shape, seed + 3)
    grad_x, grad_w, grad_b = linear_backward(g, cache)
    f = lambda: linear(x, w, b)  # noqa: E731
    checks = [("input", x, grad_x), ("weight", w, grad_w)] + ([("bias", b, grad_b)] if b is not None else [])
    assert_matches_finite_differences(f, checks, g)
    assert (grad_b is None) == (b is None)


def test_linear_known_values():
    x = np.array([[1.0, 2.0, 3.0]])
    w = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]])  # (out_features, in_features)
    np.testing.assert_array_equal(linear(x, w, np.array([10.0, 0.0])), [[8.0, 3.0]])
    out, cache = linear_forward(x, w)
    grad_x, grad_w, grad_b = linear_backward(np.array([[1.0, 2.0]]), cache)
    np.testing.assert_array_equal(grad_x, [[2.0, 1.0, 0.0]])
    np.testing.assert_array_equal(grad_w, [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
    assert grad_b is None


def test_float32_stays_float32():
    x, w, b = (make_array(s, i, np.float32) for i, s in enumerate([(3, 4), (2, 4), (2,)]))
    out, cache = linear_forward(x, w, b)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in linear_backward(np.ones_like(out), cache))


@pytest.mark.parametrize("x_shape, w_shape, b_shape, match", [
    ((2, 5), (3, 4), None, r"input has 5 features in its last dimension, but weight \(3, 4\) expects in_features=4"),
    ((2, 4), (3, 4), (4,), r"bias must have shape \(3,\) = \(out_features,\)"),
    ((2, 4), (3, 4, 1), None, r"weight must have 2 dimensions \(out_features, in_features\)"),
])
def test_bad_arguments_raise_value_error_naming_them(x_shape, w_shape, b_shape, match):
    with pytest.raises(ValueError, match=match):
        linear(np.zeros(x_shape), np.zeros(w_shape), None if b_shape is None else np.zeros(b_shape))


def test_wrong_grad_output_and_mixed_dtypes_are_refused():
    _, cache = linear_forward(np.zeros((2, 4)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(2, 3\)"):
        linear_backward(np.zeros((2, 4)), cache)
    with pytest.raises(ValueError, match="input has dtype float32 but weight has dtype float64"):
        linear(np.zeros((2, 4), np.float32), np.zeros((3, 4)))


def test_module_init_matches_torch_distribution():
    layer = Linear(400, 120, rng=0)
    bound = 1 / np.sqrt(400)
    assert torch.nn.Linear(400, 120).weight.detach().abs().max().item() <= bound
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.99 * bound
    assert abs(layer.weight.data.mean()) < 0.05 * bound
    assert layer.weight.shape == (120, 400) and layer.bias.shape == (120,)
    assert Linear(3, 2, dtype=np.float32).weight.data.dtype == np.float32
    assert Linear(3, 2, bias=False).bias is None


def test_module_load_state_dict_from_torch_and_accumulate_grads():
    torch.manual_seed(0)
    ref = torch.nn.Linear(6, 4).double()
    layer = Linear(6, 4)
    layer.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    assert list(layer.state_dict()) == ["weight", "bias"]
    g = make_array((3, 4), 1)
    for seed in (2, 3):
        x = make_array((3, 6), seed)
        xt = torch.from_numpy(x).requires_grad_()
        out_t = ref(xt)
        out_t.backward(torch.from_numpy(g))
        assert rel_error(layer(x), out_t.detach().numpy()) < 1e-12
        assert rel_error(layer.backward(g), xt.grad.numpy()) < 1e-12
    assert rel_error(layer.weight.grad, ref.weight.grad.numpy()) < 1e-12  # summed over both calls
    assert rel_error(layer.bias.grad, ref.bias.grad.numpy()) < 1e-12
    assert rel_error(layer.bias.grad, 2 * g.sum(axis=0)) < 1e-12


def test_module_errors_and_repr():
    with pytest.raises(ValueError, match="in_features must be non-negative"):
        Linear(-1, 3)
    with pytest.raises(TypeError, match="positional"):  # dtype and rng are keyword-only (torch's 4th is device)
        Linear(3, 2, True, np.float32)
    with pytest.raises(ValueError, match="expects in_features=3"):
        Linear(3, 2)(np.zeros((1, 4)))
    with pytest.raises(RuntimeError, match="Linear.backward called before forward"):
        Linear(3, 2).backward(np.zeros((1, 2)))
    assert repr(Linear(3, 2)) == "Linear(in_features=3, out_features=2, bias=True)"


zero_or_small = st.integers(0, 3)


@given(batch=zero_or_small, in_features=zero_or_small, out_features=zero_or_small, bias=st.booleans(), seed=seeds)
def test_zero_features_and_empty_batches_match_torch(batch, in_features, out_features, bias, seed):
    x = make_array((batch, in_features), seed)
    w = make_array((out_features, in_features), seed + 1)
    b = make_array((out_features,), seed + 2) if bias else None
    g = make_array((batch, out_features), seed + 3)
    assert_matches_torch(_numpy_side, F.linear, [x, w, b], g, names=["input", "weight", "bias"])


def test_linear_with_no_input_features_outputs_its_bias_as_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: "Initializing zero-element tensors is a no-op"
        ref = torch.nn.Linear(0, 3).double()
    layer = Linear(0, 3, rng=0)
    assert layer.weight.data.shape == (3, 0) and np.array_equal(layer.bias.data, ref.bias.detach().numpy())
    layer.bias.data[:] = [1.0, 2.0, 3.0]
    out = layer(np.zeros((2, 0)))
    np.testing.assert_array_equal(out, [[1.0, 2.0, 3.0]] * 2)
    assert layer.backward(np.ones((2, 3))).shape == (2, 0)
    np.testing.assert_array_equal(layer.bias.grad, [2.0, 2.0, 2.0])
    assert Linear(3, 0)(np.zeros((4, 3))).shape == (4, 0)
