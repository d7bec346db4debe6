"""cnnlib.torch_nn.linear against torch.nn and cnnlib.numpy_nn, gradcheck, float32, devices and bad input."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from strategies import linear_configs, make_array, seeds
from torch_support import DEVICES, DTYPES, F32, assert_runs_close, assert_three_way, needs_cuda, run, \
    skip_unsupported, tensor
from torch_support import full_float32_precision  # noqa: F401  (a fixture, used by pytestmark)

import cnnlib.numpy_nn.linear as np_linear
from cnnlib.torch_nn.linear import Linear, linear, linear_backward, linear_forward

pytestmark = pytest.mark.usefixtures("full_float32_precision")  # compare with exact float32, not TF32


def _arrays(cfg, seed):
    x = make_array(cfg["input_shape"], seed)
    w = make_array(cfg["weight_shape"], seed + 1)
    b = make_array((cfg["out_features"],), seed + 2) if cfg["bias"] else None
    g = make_array((cfg["batch"], cfg["out_features"]), seed + 3)
    return x, w, b, g


def _numpy_side(x, w, b, g):
    out, cache = np_linear.linear_forward(x, w, b)
    return out, np_linear.linear_backward(g, cache)


@pytest.mark.parametrize("device", DEVICES)
@given(cfg=linear_configs(), seed=seeds)
def test_linear_three_way_parity(device, cfg, seed):
    x, w, b, g = _arrays(cfg, seed)
    assert_three_way(linear, F.linear, _numpy_side, [x, w, b], g, names=["input", "weight", "bias"], device=device)


@pytest.mark.parametrize("device", DEVICES)
def test_leading_dimensions_and_a_single_vector(device):
    x, w, b = make_array((2, 3, 4), 0), make_array((5, 4), 1), make_array((5,), 2)
    assert_three_way(linear, F.linear, _numpy_side, [x, w, b], make_array((2, 3, 5), 3), device=device)
    assert_three_way(linear, F.linear, _numpy_side, [x[0, 0], w, b], make_array((5,), 4), device=device)


@pytest.mark.parametrize("device", DEVICES)
@given(cfg=linear_configs(), seed=seeds)
def test_linear_gradcheck(device, cfg, seed):
    skip_unsupported(device, torch.float64)
    x, w, b, _ = (tensor(a, device, requires_grad=True) for a in _arrays(cfg, seed))
    assert torch.autograd.gradcheck(linear, (x, w, b))


@pytest.mark.parametrize("device", DEVICES)
@given(cfg=linear_configs(), seed=seeds)
def test_float32_stays_float32_and_matches_torch(device, cfg, seed):
    x, w, b, g = _arrays(cfg, seed)
    result = run(linear, [x, w, b], g, device, torch.float32)
    assert result[0].dtype == torch.float32 and all(t is None or t.dtype == torch.float32 for t in result[1])
    assert_runs_close(result, run(F.linear, [x, w, b], g, device, torch.float32), **F32)


@needs_cuda
@pytest.mark.parametrize("dtype", DTYPES)
@given(cfg=linear_configs(), seed=seeds)
def test_cuda_matches_cpu(dtype, cfg, seed):
    x, w, b, g = _arrays(cfg, seed)
    assert_runs_close(run(linear, [x, w, b], g, "cuda", dtype), run(linear, [x, w, b], g, "cpu", dtype), **F32)


def test_known_values_and_our_backward_is_used():
    x = torch.tensor([[1.0, 2.0]], requires_grad=True)
    w = torch.tensor([[3.0, 4.0], [5.0, 6.0], [0.0, -1.0]], requires_grad=True)
    b = torch.tensor([0.5, 0.0, 1.0], requires_grad=True)
    out = linear(x, w, b)
    assert out.tolist() == [[11.5, 17.0, -1.0]]
    assert type(out.grad_fn).__name__ == "LinearFunctionBackward"
    out.backward(torch.tensor([[1.0, 0.0, 2.0]]))
    assert x.grad.tolist() == [[3.0, 2.0]]                                # G @ W
    assert w.grad.tolist() == [[1.0, 2.0], [0.0, 0.0], [2.0, 4.0]]        # G^T @ X
    assert b.grad.tolist() == [1.0, 0.0, 2.0]


@pytest.mark.parametrize("x_shape, w_shape, b_shape", [((2, 5), (3, 4), None), ((2, 4), (3, 4), (4,)),
                                                       ((2, 4), (3, 4, 1), None)])
def test_bad_arguments_give_the_numpy_message(x_shape, w_shape, b_shape):
    b = None if b_shape is None else np.zeros(b_shape)
    with pytest.raises(ValueError) as numpy_error:
        np_linear.linear(np.zeros(x_shape), np.zeros(w_shape), b)
    with pytest.raises(ValueError) as torch_error:
        linear(torch.zeros(x_shape), torch.zeros(w_shape), tensor(b, dtype=torch.float32))
    assert str(torch_error.value) == str(numpy_error.value)
    _, cache = linear_forward(torch.zeros(2, 4), torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(2, 3\)"):
        linear_backward(torch.zeros(2, 4), cache)


def test_module_has_torch_init_names_and_repr():
    torch.manual_seed(0)
    ref = torch.nn.Linear(7, 3)
    torch.manual_seed(0)
    layer = Linear(7, 3)
    assert torch.equal(layer.weight, ref.weight) and torch.equal(layer.bias, ref.bias)
    assert list(layer.state_dict()) == list(ref.state_dict()) == ["weight", "bias"]
    assert list(Linear(7, 3, bias=False).state_dict()) == ["weight"]
    assert repr(Linear(7, 3)) == "Linear(in_features=7, out_features=3, bias=True)"
    with pytest.raises(ValueError, match="out_features must be non-negative"):
        Linear(3, -2)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_module_loads_torch_weights_and_matches_it(device, dtype):
    skip_unsupported(device, dtype)
    ref = torch.nn.Linear(6, 4, device=device, dtype=dtype)
    layer = Linear(6, 4, device=device, dtype=dtype)
    assert layer.weight.device.type == device and layer.bias.dtype == dtype
    layer.load_state_dict(ref.state_dict())
    x = torch.randn(5, 6, device=device, dtype=dtype)
    out, expected = layer(x), ref(x)
    out.square().sum().backward()
    expected.square().sum().backward()
    tol = F32 if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-12)
    for a, e in ((out, expected), (layer.weight.grad, ref.weight.grad), (layer.bias.grad, ref.bias.grad)):
        torch.testing.assert_close(a, e, **tol)


@pytest.mark.parametrize("device", DEVICES)
@given(batch=st.integers(0, 3), in_features=st.integers(0, 3), out_features=st.integers(0, 3), bias=st.booleans(),
       seed=seeds)
def test_zero_features_and_empty_batches_three_way(device, batch, in_features, out_features, bias, seed):
    x = make_array((batch, in_features), seed)
    w = make_array((out_features, in_features), seed + 1)
    b = make_array((out_features,), seed + 2) if bias else None
    g = make_array((batch, out_features), seed + 3)
    assert_three_way(linear, F.linear, _numpy_side, [x, w, b], g, names=["input", "weight", "bias"], device=device)


@pytest.mark.parametrize("in_features, out_features", [(0, 3), (3, 0), (0, 0)])
def test_module_with_zero_features_is_initialised_and_runs_as_torch(in_features, out_features):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: "Initializing zero-element tensors is a no-op"
        torch.manual_seed(0)
        ref = torch.nn.Linear(in_features, out_features)
    torch.manual_seed(0)
    layer = Linear(in_features, out_features)
    assert torch.equal(layer.weight, ref.weight) and torch.equal(layer.bias, ref.bias)  # bias 0 when in_features=0
    for batch in (0, 2):
        x, x_ref = (torch.randn(batch, in_features).requires_grad_() for _ in range(2))
        x_ref.data.copy_(x.data)
        out, out_ref = layer(x), ref(x_ref)
        torch.testing.assert_close(out, out_ref)
        out.sum().backward(), out_ref.sum().backward()
        torch.testing.assert_close(x.grad, x_ref.grad)
    torch.testing.assert_close(layer.bias.grad, ref.bias.grad)
    torch.testing.assert_close(layer.weight.grad, ref.weight.grad)
