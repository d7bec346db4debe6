"""cnnlib.torch_nn.normalization against torch.nn and cnnlib.numpy_nn: forward, backward, running statistics."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from strategies import make_array, seeds
from test_numpy_normalization import batch_norm_configs, lrn_configs
from torch_support import DEVICES, F32, assert_three_way, skip_unsupported

from cnnlib import numpy_nn as N
from cnnlib import torch_nn as T
from cnnlib.numpy_nn import normalization as nn_norm
from cnnlib.torch_nn import normalization as tn_norm


@pytest.mark.parametrize("device", DEVICES)
@given(cfg=lrn_configs(), seed=seeds)
def test_local_response_norm_three_way(device, cfg, seed):
    args = cfg["size"], cfg["alpha"], cfg["beta"], cfg["k"]
    x, g = make_array(cfg["shape"], seed), make_array(cfg["shape"], seed + 1)

    def numpy_side(x, g):
        out, cache = nn_norm.local_response_norm_forward(x, *args)
        return out, [nn_norm.local_response_norm_backward(g, cache)]

    assert_three_way(lambda x: T.LocalResponseNorm(*args)(x), lambda x: torch.nn.LocalResponseNorm(*args)(x),
                     numpy_side, [x], g, names=["input"], device=device)


def test_local_response_norm_gradcheck_and_float32():
    x = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: tn_norm.local_response_norm(t, 4, 0.5, 0.75, 1.0), (x,))
    x32 = torch.randn(2, 6, 4, 4)
    torch.testing.assert_close(T.LocalResponseNorm(5, 5e-4, 0.75, 2.0)(x32),
                               torch.nn.LocalResponseNorm(5, 5e-4, 0.75, 2.0)(x32), **F32)
    with pytest.raises(TypeError, match="input must be a torch.Tensor, got ndarray"):
        T.LocalResponseNorm(3)(np.ones((1, 2, 3)))


@pytest.mark.parametrize("device", DEVICES)
@given(cfg=batch_norm_configs(), seed=seeds, training=st.booleans())
def test_batch_norm_three_way(device, cfg, seed, training):
    skip_unsupported(device, torch.float64)
    channels = cfg["shape"][1]
    x, g = make_array(cfg["shape"], seed, scale=3.0) + 1.0, make_array(cfg["shape"], seed + 1)
    weight, bias = 1.0 + 0.5 * make_array((channels,), seed + 2), make_array((channels,), seed + 3)
    mean0, var0 = make_array((channels,), seed + 4), 1.0 + np.abs(make_array((channels,), seed + 5))
    momentum = 0.1 if cfg["momentum"] is None else cfg["momentum"]
    stats = {}

    def with_stats(fn, key):
        def run(x, w, b):
            mean = torch.tensor(mean0, device=device)
            var = torch.tensor(var0, device=device)
            stats[key] = (mean, var)
            return fn(x, mean, var, w, b, training, momentum, cfg["eps"])
        return run

    def numpy_side(x, w, b, g):
        out, cache = nn_norm.batch_norm_forward(x, mean0.copy(), var0.copy(), w, b, training, momentum, cfg["eps"])
        return out, list(nn_norm.batch_norm_backward(g, cache))

    assert_three_way(with_stats(tn_norm.batch_norm, "ours"), with_stats(F.batch_norm, "torch"), numpy_side,
                     [x, weight, bias], g, names=["input", "weight", "bias"], device=device)
    for ours, theirs in zip(stats["ours"], stats["torch"]):
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("affine, track, bias", [(True, True, True), (False, True, True), (True, False, True),
                                               (False, False, True), (True, True, False)])
def test_batch_norm2d_module_follows_torch_nn_in_train_then_eval(momentum, affine, track, bias):
    torch.manual_seed(0)
    kwargs = dict(momentum=momentum, affine=affine, track_running_stats=track, dtype=torch.float64, bias=bias)
    ref, ours = torch.nn.BatchNorm2d(3, **kwargs), T.BatchNorm2d(3, **kwargs)
    if affine:
        with torch.no_grad():
            ref.weight.uniform_(0.5, 2.0)
            if bias:
                ref.bias.normal_()
    ours.load_state_dict(ref.state_dict())
    for step in range(5):
        if step == 3:
            ref.eval()
            ours.eval()
        x = torch.randn(4, 3, 3, 2, dtype=torch.float64) * (step + 1) + step
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        g = torch.randn_like(x)
        out_ref, out = ref(xa), ours(xb)
        out_ref.backward(g)
        out.backward(g)
        torch.testing.assert_close(out, out_ref, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(xb.grad, xa.grad, rtol=1e-10, atol=1e-12)
        for key, value in ref.state_dict().items():
            torch.testing.assert_close(ours.state_dict()[key], value, rtol=1e-12, atol=1e-14, msg=key)
    for (name, a), b in zip(ours.named_parameters(), ref.parameters()):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-10, atol=1e-12, msg=name)
    assert list(ours.state_dict()) == list(ref.state_dict())


def test_batch_norm2d_state_dict_copies_between_all_three_by_key():
    torch.manual_seed(0)
    ref = torch.nn.BatchNorm2d(4).double()
    ref(torch.randn(5, 4, 3, 3, dtype=torch.float64))  # running statistics that are not the initial ones
    ours = T.BatchNorm2d(4, dtype=torch.float64)
    ours.load_state_dict(ref.state_dict())
    numpy_layer = N.BatchNorm2d(4)
    numpy_layer.load_state_dict(T.convert.to_numpy_state_dict(ours.state_dict()))
    back = torch.nn.BatchNorm2d(4).double()
    back.load_state_dict(T.convert.to_torch_state_dict(numpy_layer.state_dict()))
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(back.state_dict()[key], value, rtol=0, atol=0, msg=key)
    x = torch.randn(2, 4, 3, 3, dtype=torch.float64)
    ref.eval(), numpy_layer.eval()
    np.testing.assert_allclose(numpy_layer(x.numpy()), ref(x).detach().numpy(), rtol=1e-12, atol=1e-14)


def test_batch_norm_saves_the_weight_so_an_in_place_change_before_backward_raises():
    layer = T.BatchNorm2d(2, dtype=torch.float64)
    out = layer(torch.randn(3, 2, 2, 2, dtype=torch.float64, requires_grad=True))
    with torch.no_grad():
        layer.weight.add_(1.0)  # an optimizer step before backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_batch_norm2d_refusals_change_nothing():
    layer = T.BatchNorm2d(2)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        layer(torch.ones(1, 2, 1, 1))
    with pytest.raises(ValueError, match=r"input has 3 channels, but running_mean has shape \(2,\)"):
        layer(torch.ones(2, 3, 2, 2))
    with pytest.raises(ValueError, match="input has dtype torch.float64 but running_mean has dtype torch.float32"):
        layer(torch.ones(2, 2, 2, 2, dtype=torch.float64))
    assert int(layer.num_batches_tracked) == 0 and torch.equal(layer.running_var, torch.ones(2))
    with pytest.raises(ValueError, match="num_features must be positive"):
        T.BatchNorm2d(0)
    for kwargs in ({}, {"bias": False}, {"affine": False, "momentum": None}):
        ours, theirs = T.BatchNorm2d(3, **kwargs), torch.nn.BatchNorm2d(3, **kwargs)
        assert repr(ours) == repr(theirs)
        assert [(k, v.shape) for k, v in ours.state_dict().items()] == \
            [(k, v.shape) for k, v in theirs.state_dict().items()]
        assert [(k, v.shape) for k, v in N.BatchNorm2d(3, **kwargs).state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]


@pytest.mark.parametrize("track", [True, False])
@pytest.mark.parametrize("lib", [torch.nn, T, N], ids=["torch.nn", "torch_nn", "numpy_nn"])
def test_batch_norm2d_refuses_eps_zero_where_it_uses_the_batch_statistics(lib, track):
    """torch 2.14 refuses eps = 0 where the batch's variance (possibly 0) is used; eval with running stats is fine."""
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 4))
    layer = lib.BatchNorm2d(3, eps=0, track_running_stats=track)
    inp = x if lib is N else torch.tensor(x, dtype=torch.float32)
    with pytest.raises(ValueError, match="batch_norm eps must be positive during training, but got 0"):
        layer(inp)
    layer.eval()
    if track:
        assert tuple(layer(inp).shape) == x.shape
    else:  # no running statistics: evaluation uses the batch's too, and is refused likewise
        with pytest.raises(ValueError, match="batch_norm eps must be positive during training"):
            layer(inp)


@pytest.mark.parametrize("batch_norm", [F.batch_norm, tn_norm.batch_norm, nn_norm.batch_norm],
                         ids=["torch.nn.functional", "torch_nn", "numpy_nn"])
def test_functional_batch_norm_refuses_eps_zero_in_training(batch_norm):
    x = np.random.default_rng(1).normal(size=(2, 3, 2, 2))
    inp = x if batch_norm is nn_norm.batch_norm else torch.tensor(x)
    with pytest.raises(ValueError, match=r"batch_norm eps must be positive during training, but got 0(\.0)?$"):
        batch_norm(inp, None, None, training=True, eps=0.0)
