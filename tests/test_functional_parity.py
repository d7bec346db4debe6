"""Both `functional` modules have torch.nn.functional's dropout, batch_norm, local_response_norm and
adaptive_avg_pool2d: the same arguments and defaults, and the same answers (float64)."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib import numpy_nn as N
from cnnlib import torch_nn as T

NAMES = ["dropout", "batch_norm", "local_response_norm", "adaptive_avg_pool2d"]
LIBRARIES = [N.functional, T.functional]
IDS = ["numpy_nn", "torch_nn"]


def _arguments(function):
    """(name, default) after the input, less NumPy's own ``rng`` (torch draws from its global generator)."""
    parameters = list(inspect.signature(function).parameters.values())[1:]
    return [(p.name, p.default) for p in parameters if p.name != "rng"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("functional", LIBRARIES, ids=IDS)
def test_arguments_and_defaults_are_torchs(functional, name):
    assert _arguments(getattr(functional, name)) == _arguments(getattr(F, name))


def _call(functional, name, x, *args, **kwargs):
    """Call ``functional.name`` on float64 data, tensors for torch, arrays for NumPy; return an array."""
    if functional is N.functional:
        args = [a.numpy().copy() if isinstance(a, torch.Tensor) else a for a in args]
        return np.asarray(getattr(functional, name)(x.numpy().copy(), *args, **kwargs)), args
    args = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
    return getattr(functional, name)(x, *args, **kwargs).detach().numpy(), args


@pytest.mark.parametrize("functional", LIBRARIES + [F], ids=IDS + ["torch"])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch_and_updates_the_running_statistics(functional, training):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 5, 2, generator=g, dtype=torch.float64)
    mean, var = torch.randn(4, generator=g, dtype=torch.float64), torch.rand(4, generator=g, dtype=torch.float64) + 0.5
    weight, bias = torch.randn(4, generator=g, dtype=torch.float64), torch.randn(4, generator=g, dtype=torch.float64)
    expected_mean, expected_var = mean.clone(), var.clone()
    expected = F.batch_norm(x, expected_mean, expected_var, weight, bias, training, 0.3, 1e-3)
    out, (m, v, *_) = _call(functional, "batch_norm", x, mean, var, weight, bias, training, 0.3, 1e-3)
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(m), expected_mean.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.asarray(v), expected_var.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("functional", LIBRARIES, ids=IDS)
@pytest.mark.parametrize("size, alpha, beta, k", [(2, 1e-4, 0.75, 1.0), (5, 0.5, 0.3, 2.0), (3, 1.0, 1.5, 0.5)])
def test_local_response_norm_matches_torch(functional, size, alpha, beta, k):
    x = torch.randn(2, 6, 3, 4, generator=torch.Generator().manual_seed(size), dtype=torch.float64)
    out, _ = _call(functional, "local_response_norm", x, size, alpha, beta, k)
    np.testing.assert_allclose(out, F.local_response_norm(x, size, alpha, beta, k).numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("functional", LIBRARIES, ids=IDS)
@pytest.mark.parametrize("output_size", [1, (3, 2), (None, 4), (7, 5)])
def test_adaptive_avg_pool2d_matches_torch(functional, output_size):
    x = torch.randn(2, 3, 7, 9, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out, _ = _call(functional, "adaptive_avg_pool2d", x, output_size)
    np.testing.assert_allclose(out, F.adaptive_avg_pool2d(x, output_size).numpy(), rtol=1e-12, atol=1e-14)


def test_torch_nn_dropout_draws_torchs_units_and_numpy_nn_keeps_its_expectation():
    x = torch.randn(40, 50, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    torch.manual_seed(9)
    expected = F.dropout(x, 0.3)
    torch.manual_seed(9)
    np.testing.assert_array_equal(T.functional.dropout(x, 0.3).numpy(), expected.numpy())
    assert F.dropout(x, 0.3, training=False) is x and T.functional.dropout(x, 0.3, training=False) is x
    out = N.functional.dropout(x.numpy(), 0.3, rng=0)  # NumPy's own generator: other units, the same rule
    kept = out != 0
    np.testing.assert_allclose(out[kept], x.numpy()[kept] / 0.7, rtol=1e-15)
    assert abs(1 - kept.mean() - 0.3) < 0.05


@pytest.mark.parametrize("name, args", [("batch_norm", (None, None, None, None, True)), ("local_response_norm", (3,)),
                                        ("adaptive_avg_pool2d", ((2, 3),))])
def test_torch_nn_gradients_match_torch(name, args):
    x = torch.randn(2, 4, 5, 6, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    g = torch.randn_like(getattr(F, name)(x, *args))
    grads = []
    for functional in (F, T.functional):
        xt = x.clone().requires_grad_()
        getattr(functional, name)(xt, *args).backward(g)
        grads.append(xt.grad)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-10, atol=1e-12)
