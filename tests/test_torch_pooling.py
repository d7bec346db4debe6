"""cnnlib.torch_nn.pooling against torch.nn and cnnlib.numpy_nn, gradcheck, float32, devices and bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given
from strategies import make_array, pool2d_configs, seeds
from torch_support import DEVICES, DTYPES, F32, assert_runs_close, assert_three_way, needs_cuda, run, \
    skip_unsupported, tensor

import cnnlib.numpy_nn.pooling as np_pool
import cnnlib.torch_nn.pooling as P

OVERLAPPING = dict(batch=1, channels=1, height=7, width=7, kernel_size=3, stride=2, padding=1,
                   input_shape=(1, 1, 7, 7))
NON_SQUARE = dict(batch=2, channels=3, height=5, width=8, kernel_size=(2, 3), stride=(1, 2), padding=(1, 0),
                  input_shape=(2, 3, 5, 8))

# kind -> (ours, its pair, its naive pair, torch.nn.functional's, the NumPy pair, our module, torch.nn's)
KINDS = {
    "max": (P.max_pool2d, P.max_pool2d_forward, P.max_pool2d_backward, P.max_pool2d_naive,
            P.max_pool2d_backward_naive, F.max_pool2d, np_pool.max_pool2d_forward, np_pool.max_pool2d_backward,
            P.MaxPool2d, torch.nn.MaxPool2d),
    "avg": (P.avg_pool2d, P.avg_pool2d_forward, P.avg_pool2d_backward, P.avg_pool2d_naive,
            P.avg_pool2d_backward_naive, F.avg_pool2d, np_pool.avg_pool2d_forward, np_pool.avg_pool2d_backward,
            P.AvgPool2d, torch.nn.AvgPool2d),
}


def _args(cfg):
    return cfg["kernel_size"], cfg["stride"], cfg["padding"]


def _x_and_grad(cfg, seed):
    x = make_array(cfg["input_shape"], seed)
    return x, make_array(np_pool.max_pool2d(x, *_args(cfg)).shape, seed + 1)


# -- three-way parity ------------------------------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", KINDS)
@given(cfg=pool2d_configs(), seed=seeds)
@example(cfg=OVERLAPPING, seed=0)
@example(cfg=NON_SQUARE, seed=0)
def test_pooling_three_way_parity(device, kind, cfg, seed):
    ours, *_, torch_pool, np_forward, np_backward, _, _ = KINDS[kind]
    x, g = _x_and_grad(cfg, seed)

    def numpy_side(x, g):
        out, cache = np_forward(x, *_args(cfg))
        return out, [np_backward(g, cache)]

    assert_three_way(lambda x: ours(x, *_args(cfg)), lambda x: torch_pool(x, *_args(cfg)), numpy_side,
                     [x], g, names=["input"], device=device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", KINDS)
@given(cfg=pool2d_configs(), seed=seeds)
@example(cfg=OVERLAPPING, seed=1)
def test_pooling_gradcheck(device, kind, cfg, seed):
    """Full Jacobian for the overlapping case, random projections of it (fast_mode) for the rest."""
    skip_unsupported(device, torch.float64)
    ours = KINDS[kind][0]
    x = tensor(make_array(cfg["input_shape"], seed), device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: ours(x, *_args(cfg)), (x,), fast_mode=cfg != OVERLAPPING)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", KINDS)
@given(cfg=pool2d_configs(), seed=seeds)
def test_naive_loops_equal_vectorized(device, kind, cfg, seed):
    skip_unsupported(device, torch.float64)
    _, forward, backward, naive, backward_naive, *_ = KINDS[kind]
    x, g = (tensor(a, device) for a in _x_and_grad(cfg, seed))
    out, cache = forward(x, *_args(cfg))
    torch.testing.assert_close(naive(x, *_args(cfg)), out, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(backward_naive(g, x, *_args(cfg)), backward(g, cache), rtol=1e-12, atol=1e-12)


# -- float32, devices -----------------------------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", KINDS)
@given(cfg=pool2d_configs(), seed=seeds)
def test_float32_stays_float32_and_matches_torch(device, kind, cfg, seed):
    ours, *_, torch_pool, _, _, _, _ = KINDS[kind]
    x, g = _x_and_grad(cfg, seed)
    result = run(lambda x: ours(x, *_args(cfg)), [x], g, device, torch.float32)
    assert result[0].dtype == torch.float32 and result[1][0].dtype == torch.float32
    assert_runs_close(result, run(lambda x: torch_pool(x, *_args(cfg)), [x], g, device, torch.float32), **F32)


@needs_cuda
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
@given(cfg=pool2d_configs(), seed=seeds)
def test_cuda_matches_cpu(dtype, kind, cfg, seed):
    ours = KINDS[kind][0]
    x, g = _x_and_grad(cfg, seed)
    fn = lambda x: ours(x, *_args(cfg))  # noqa: E731
    assert_runs_close(run(fn, [x], g, "cuda", dtype), run(fn, [x], g, "cpu", dtype), **F32)


def test_autograd_runs_our_backward_and_not_torch_pooling(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("cnnlib.torch_nn must not call PyTorch's pooling")

    for name in ("max_pool2d", "avg_pool2d", "max_pool2d_with_indices"):
        monkeypatch.setattr(F, name, forbidden)
    x = torch.randn(2, 3, 7, 7, dtype=torch.float64, requires_grad=True)
    for pool, node in ((P.max_pool2d, "MaxPool2dFunctionBackward"), (P.avg_pool2d, "AvgPool2dFunctionBackward")):
        out = pool(x, 3, 2, 1)
        assert type(out.grad_fn).__name__ == node
        out.sum().backward()


# -- specific values ------------------------------------------------------------------------------------
def test_max_pool_routing_with_a_tie_and_overlapping_windows():
    x = torch.tensor([[1.0, 2.0, 5.0, 6.0],
                      [3.0, 4.0, 7.0, 8.0],
                      [0.0, -1.0, 9.0, 9.0],     # a tie: the first maximum (row-major) wins
                      [-2.0, -3.0, 9.0, 1.0]]).reshape(1, 1, 4, 4).requires_grad_()
    out = P.max_pool2d(x, 2)  # stride defaults to kernel_size
    assert out[0, 0].tolist() == [[4.0, 8.0], [0.0, 9.0]]
    out.backward(torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]))
    assert x.grad[0, 0].tolist() == [[0, 0, 0, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 0, 0, 0]]
    centre = torch.zeros(1, 1, 5, 5)
    centre[0, 0, 2, 2] = 1.0  # the centre belongs to all four 3x3 windows of stride 2
    centre.requires_grad_()
    P.max_pool2d(centre, 3, 2).sum().backward()
    assert centre.grad[0, 0, 2, 2].item() == 4.0
    ones = torch.ones(1, 1, 5, 5, requires_grad=True)
    P.avg_pool2d(ones, 3, 2).sum().mul(9).backward()
    assert ones.grad[0, 0, 2, 2].item() == 4.0 and ones.grad[0, 0, 0, 0].item() == 1.0


def test_padding_rules_and_lecture_sizes():
    x = -torch.ones(1, 1, 2, 2)
    assert P.max_pool2d(x, 2, stride=1, padding=1)[0, 0].tolist() == [[-1.0] * 3] * 3  # -inf padding never wins
    assert P.avg_pool2d(x, 2, stride=1, padding=1)[0, 0].tolist() == [[-0.25, -0.5, -0.25], [-0.5, -1.0, -0.5],
                                                                     [-0.25, -0.5, -0.25]]
    assert P.max_pool2d(torch.zeros(1, 96, 55, 55), 3, stride=2).shape == (1, 96, 27, 27)  # AlexNet POOL1
    assert P.avg_pool2d(torch.zeros(1, 1, 7, 7), 7).shape == (1, 1, 1, 1)  # global average pool


# -- bad input: the same messages as cnnlib.numpy_nn -----------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("x_shape, args", [
    ((1, 1, 4, 4), (2, 0)),
    ((1, 1, 4, 4), (2, 2, -1)),
    ((1, 1, 4, 4), (3, 1, 2)),
    ((1, 1, 2, 2), (5, 1, 1)),
    ((1, 1, 4, 4), (0,)),
])
def test_bad_arguments_give_the_numpy_message(kind, x_shape, args):
    numpy_pool = getattr(np_pool, f"{kind}_pool2d")
    with pytest.raises(ValueError) as numpy_error:
        numpy_pool(np.zeros(x_shape), *args)
    with pytest.raises(ValueError) as torch_error:
        KINDS[kind][0](torch.zeros(x_shape), *args)
    assert str(torch_error.value) == str(numpy_error.value)


def test_wrong_grad_output_is_refused():
    _, cache = P.max_pool2d_forward(torch.zeros(1, 1, 4, 4), 2)
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape \(1, 1, 2, 2\)"):
        P.max_pool2d_backward(torch.zeros(1, 1, 4, 4), cache)


# -- the modules ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", KINDS)
def test_modules_match_torch_modules(device, kind):
    *_, module, torch_module = KINDS[kind]
    ours, ref = module(3, stride=2, padding=1), torch_module(3, stride=2, padding=1)
    assert list(ours.parameters()) == [] and dict(ours.state_dict()) == {}
    assert module(2).stride == 2 == torch_module(2).stride  # stride=None means stride=kernel_size
    assert repr(module(3, 2)) == repr(torch_module(3, 2))  # the same repr as torch.nn's
    x = torch.randn(2, 3, 7, 6, device=device)
    torch.testing.assert_close(ours(x), ref(x))
    with pytest.raises(ValueError, match="must be at most half of kernel_size"):
        module(2, padding=2)
    with pytest.raises(ValueError, match="stride must be positive"):
        module(2, stride=0)
