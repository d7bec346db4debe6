"""The layer exercises of 09_case_studies_googlenet_resnet (cnnlib.exercises.nb09_layers): batch norm forward and
backward, and a residual block with a projection shortcut. Each checker rejects every plausible mistake for its
reason, accepts right answers written in different styles, and keeps a passing function in the learner's library."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlib.exercises import core, my_layers, nb09_layers
from cnnlib.exercises.selfcheck import gradient_check_yours
from exercise_notebooks import rejected_for


# -- batch norm forward: right answers in three styles ---------------------------------------------------

def bn_forward_vectorized(x, gamma, beta, eps):
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def bn_forward_loops(x, gamma, beta, eps):
    n, d = x.shape
    if n < 2:
        raise ValueError("batch norm needs at least two samples")
    out = np.zeros((n, d))
    for j in range(d):
        mean = sum(x[i, j] for i in range(n)) / n
        var = sum((x[i, j] - mean) ** 2 for i in range(n)) / n
        for i in range(n):
            out[i, j] = gamma[j] * (x[i, j] - mean) / (var + eps) ** 0.5 + beta[j]
    return out


def bn_forward_float32(x, gamma, beta, eps):
    if len(x) == 1:
        raise ValueError("one sample")
    x32, gamma, beta = (np.asarray(a, dtype=np.float32) for a in (x, gamma, beta))
    mean, var = x32.mean(axis=0), x32.var(axis=0)
    return gamma * ((x32 - mean) / np.sqrt(var + np.float32(eps))) + beta          # float32 throughout


# A float32 answer is right at float32 precision (issue 25). A float32 backward still fails on a batch of two,
# where every grad_x is 0 up to cancellation and float32's round-off (about 1e-6 there) exceeds the tolerance,
# with core's dtype-following tolerance merged too. strict=True: the mark goes when the checker accepts it.
FLOAT32_PENDING = pytest.mark.xfail(strict=True, reason="float32 round-off on a batch of two's cancelling grad_x")


def _raising(fn):
    def checked(x, gamma, beta, eps):
        if x.shape[0] == 1:
            raise ValueError("a batch of one")
        return fn(x, gamma, beta, eps)
    return checked


@pytest.mark.parametrize("right", [_raising(bn_forward_vectorized), bn_forward_loops, bn_forward_float32],
                         ids=["vectorized", "loops", "float32"])
def test_batch_norm_forward_accepts_right_answers(right, capsys):
    assert nb09_layers.check_batch_norm_forward(right) is True
    assert "Exercise 6: correct on all 21 cases!" in capsys.readouterr().out


def test_batch_norm_forward_matches_torch_on_the_later_batch():
    rng = np.random.default_rng(0)
    x, gamma, beta = rng.normal(size=nb09_layers.LATER_BATCH), rng.normal(size=6), rng.normal(size=6)
    bn = torch.nn.BatchNorm1d(6, dtype=torch.float64)
    bn.weight.data, bn.bias.data = torch.from_numpy(gamma), torch.from_numpy(beta)
    np.testing.assert_allclose(bn_forward_vectorized(x, gamma, beta, 1e-5),
                               bn(torch.from_numpy(x)).detach().numpy(), rtol=1e-12, atol=1e-12)


def _mistake(**kwargs):
    def wrong(x, gamma, beta, eps):
        if x.shape[0] == 1:
            raise ValueError("a batch of one")
        axis, ddof = kwargs.get("axis", 0), kwargs.get("ddof", 0)
        mean, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, ddof=ddof, keepdims=True)
        x_hat = (x - mean) / (np.sqrt(var) + eps if kwargs.get("eps_outside") else np.sqrt(var + kwargs.get("eps", eps)))
        return {"gb": gamma * x_hat + beta, "none": x_hat, "bg": beta * x_hat + gamma}[kwargs.get("affine", "gb")]
    return wrong


def bn_forward_in_place(x, gamma, beta, eps):
    if x.shape[0] == 1:
        raise ValueError("a batch of one")
    x -= x.mean(axis=0)
    x /= np.sqrt(x.var(axis=0) + eps)
    return gamma * x + beta


BN_FORWARD_MUTATIONS = [
    (_mistake(ddof=1), "divide by N, not N - 1"),
    (_mistake(eps_outside=True), "eps goes inside the square root"),
    (_mistake(axis=1), "it would be layer norm"),
    (_mistake(axis=None), "not over the whole array"),
    (_mistake(affine="none"), "scale by gamma and shift by beta"),
    (_mistake(affine="bg"), "not beta * x_hat + gamma"),
    (_mistake(eps=0.0), "add eps to the variance before the square root"),
]


@pytest.mark.parametrize("wrong, hint", BN_FORWARD_MUTATIONS, ids=[h for _, h in BN_FORWARD_MUTATIONS])
def test_batch_norm_forward_rejects_each_mistake_for_its_reason(wrong, hint, capsys):
    with np.errstate(all="ignore"):
        rejected_for(nb09_layers.check_batch_norm_forward, wrong, hint, BN_FORWARD_MUTATIONS, capsys)
    assert core.latest("batch_norm_forward").status == "fail"


def test_batch_norm_forward_must_refuse_a_batch_of_one_and_must_not_change_x(capsys):
    assert nb09_layers.check_batch_norm_forward(bn_forward_vectorized) is False
    out = capsys.readouterr().out
    assert "should raise ValueError here" in out and "a batch of one" in out
    assert not any(h in out for _, h in BN_FORWARD_MUTATIONS)          # no hint claims this mistake
    assert nb09_layers.check_batch_norm_forward(bn_forward_in_place) is False
    assert "changed its input x in place" in capsys.readouterr().out


def test_batch_norm_forward_stub_is_not_attempted(capsys):
    def batch_norm_forward(x, gamma, beta, eps):
        raise NotImplementedError
    assert nb09_layers.check_batch_norm_forward(batch_norm_forward) is False
    assert "not attempted" in capsys.readouterr().out


# -- batch norm backward -----------------------------------------------------------------------------------

def bn_backward_vectorized(grad_output, x, gamma, eps):
    if len(x) < 2:
        raise ValueError("a batch of one")
    n = len(x)
    mean, var = x.mean(axis=0), x.var(axis=0)
    x_hat = (x - mean) / np.sqrt(var + eps)
    d = grad_output * gamma
    grad_x = (n * d - d.sum(axis=0) - x_hat * (d * x_hat).sum(axis=0)) / (n * np.sqrt(var + eps))
    return grad_x, (grad_output * x_hat).sum(axis=0), grad_output.sum(axis=0)


def bn_backward_chain_rule(grad_output, x, gamma, eps):
    """Step by step through the graph, as CS231n writes it: mean, centred, variance, inverse std."""
    if x.shape[0] < 2:
        raise ValueError("a batch of one")
    n = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc ** 2).mean(axis=0)
    istd = 1.0 / np.sqrt(var + eps)
    x_hat = xc * istd
    dx_hat = grad_output * gamma
    dvar = (dx_hat * xc).sum(axis=0) * -0.5 * istd ** 3
    dxc = dx_hat * istd + dvar * 2 * xc / n
    dmu = -dxc.sum(axis=0)
    return dxc + dmu / n, (grad_output * x_hat).sum(axis=0), grad_output.sum(axis=0)


def bn_backward_loops(grad_output, x, gamma, eps):
    """Feature by feature and sample by sample, with plain Python sums: a third style."""
    n, d = x.shape
    if n < 2:
        raise ValueError("a batch of one")
    grad_x, grad_gamma, grad_beta = np.zeros((n, d)), np.zeros(d), np.zeros(d)
    for j in range(d):
        mu = sum(x[i, j] for i in range(n)) / n
        var = sum((x[i, j] - mu) ** 2 for i in range(n)) / n
        std = (var + eps) ** 0.5
        x_hat = [(x[i, j] - mu) / std for i in range(n)]
        dx_hat = [grad_output[i, j] * gamma[j] for i in range(n)]
        mean_d = sum(dx_hat) / n
        mean_dx = sum(dx_hat[i] * x_hat[i] for i in range(n)) / n
        for i in range(n):
            grad_x[i, j] = (dx_hat[i] - mean_d - x_hat[i] * mean_dx) / std
        grad_gamma[j] = sum(grad_output[i, j] * x_hat[i] for i in range(n))
        grad_beta[j] = sum(grad_output[i, j] for i in range(n))
    return grad_x, grad_gamma, grad_beta


def bn_backward_float32(grad_output, x, gamma, eps):
    g, x32, gamma = (np.asarray(a, np.float32) for a in (grad_output, x, gamma))
    return bn_backward_vectorized(g, x32, gamma, np.float32(eps))                  # float32 throughout


@pytest.mark.parametrize("right", [bn_backward_vectorized, bn_backward_chain_rule, bn_backward_loops,
                                   pytest.param(bn_backward_float32, marks=FLOAT32_PENDING)],
                         ids=["vectorized", "chain rule", "loops", "float32"])
def test_batch_norm_backward_accepts_right_answers(right, capsys):
    assert nb09_layers.check_batch_norm_backward(right) is True
    assert "Exercise 7: correct on all 21 cases!" in capsys.readouterr().out


def test_the_chain_rule_answer_passes_its_own_gradient_check(capsys):
    rng = np.random.default_rng(3)
    x, gamma, beta, g = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=3), rng.normal(size=(5, 3))
    for k, wrt in enumerate((x, gamma)):
        gradient_check_yours(lambda: bn_backward_chain_rule(g, x, gamma, 1e-5)[k],
                             lambda: bn_forward_vectorized(x, gamma, beta, 1e-5), wrt, grad_output=g,
                             good_below=1e-6, name=f"grad {k}")
    assert capsys.readouterr().out.count("your gradient matches finite differences") == 2


def _backward_mistake(**kwargs):
    def wrong(grad_output, x, gamma, eps):
        return nb09_layers._backward_variant({"grad_output": grad_output, "x": x, "gamma": gamma, "eps": eps},
                                             **kwargs) if len(x) > 1 else 1 / 0
    return wrong


def bn_backward_swapped(grad_output, x, gamma, eps):
    grad_x, grad_gamma, grad_beta = bn_backward_vectorized(grad_output, x, gamma, eps)
    return grad_x, grad_beta, grad_gamma


BN_BACKWARD_MUTATIONS = [
    (_backward_mistake(stats_constant=True), "the batch's mean and variance depend on x too"),
    (_backward_mistake(no_var_term=True), "the variance depends on x as well"),
    (_backward_mistake(no_gamma=True), "multiply by gamma before the rest"),
    (_backward_mistake(gamma_from_x=True), "grad_gamma sums grad_output times x_hat"),
    (_backward_mistake(beta_mean=True), "not its mean"),
    (_backward_mistake(ddof=1), "so must the backward pass"),
    (_backward_mistake(eps_inside=False), "1 / sqrt(var + eps)"),
    (bn_backward_swapped, "grad_gamma and grad_beta are swapped"),
]


@pytest.mark.parametrize("wrong, hint", BN_BACKWARD_MUTATIONS, ids=[h for _, h in BN_BACKWARD_MUTATIONS])
def test_batch_norm_backward_rejects_each_mistake_for_its_reason(wrong, hint, capsys):
    wrapped = (lambda g, x, gamma, eps: wrong(g, x, gamma, eps) if len(x) > 1 else bn_backward_vectorized(g, x, gamma, eps))
    rejected_for(nb09_layers.check_batch_norm_backward, wrapped, hint, BN_BACKWARD_MUTATIONS, capsys)


def test_batch_norm_backward_stub_and_a_missing_refusal(capsys):
    def batch_norm_backward(grad_output, x, gamma, eps):
        raise NotImplementedError
    assert nb09_layers.check_batch_norm_backward(batch_norm_backward) is False
    assert "not attempted" in capsys.readouterr().out
    def never_refuses(grad_output, x, gamma, eps):
        x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
        d = grad_output * gamma
        grad_x = (d - d.mean(axis=0) - x_hat * (d * x_hat).mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
        return grad_x, (grad_output * x_hat).sum(axis=0), grad_output.sum(axis=0)
    assert nb09_layers.check_batch_norm_backward(never_refuses) is False
    assert "should raise ValueError here" in capsys.readouterr().out


# -- residual block with a projection shortcut -------------------------------------------------------------

def projection_vectorized(x, w1, w2, w_proj):
    return np.maximum(np.maximum(x @ w1, 0) @ w2 + x @ w_proj, 0)


def projection_loops(x, w1, w2, w_proj):
    n, d_in = x.shape
    d_out = w1.shape[1]
    out = np.zeros((n, d_out))
    for i in range(n):
        h = [max(0.0, sum(x[i, k] * w1[k, j] for k in range(d_in))) for j in range(d_out)]
        for j in range(d_out):
            f = sum(h[k] * w2[k, j] for k in range(d_out))
            shortcut = sum(x[i, k] * w_proj[k, j] for k in range(d_in))
            out[i, j] = max(0.0, f + shortcut)
    return out


def projection_float32(x, w1, w2, w_proj):
    x, w1, w2, w_proj = (np.asarray(a, dtype=np.float32) for a in (x, w1, w2, w_proj))
    h = np.clip(x @ w1, 0, None)
    return np.clip(h @ w2 + x @ w_proj, 0, None)                                  # float32 throughout


@pytest.mark.parametrize("right", [projection_vectorized, projection_loops, projection_float32],
                         ids=["vectorized", "loops", "float32"])
def test_residual_block_projection_accepts_right_answers(right, capsys):
    assert nb09_layers.check_residual_block_projection(right) is True
    assert "Exercise 8: correct on all 20 cases!" in capsys.readouterr().out


PROJECTION_MUTATIONS = [
    (lambda x, w1, w2, wp: np.maximum(np.maximum(x @ w1, 0) @ w2 + x, 0), "not x itself"),
    (lambda x, w1, w2, wp: np.maximum(np.maximum(x @ w1, 0) @ w2 + np.maximum(x @ wp, 0), 0), "the shortcut is linear"),
    (lambda x, w1, w2, wp: np.maximum(np.maximum(x @ w1, 0) @ w2, 0) + x @ wp, "the ReLU comes after the addition"),
    (lambda x, w1, w2, wp: np.maximum(x @ w1, 0) @ w2 + x @ wp, "the block ends with a ReLU"),
    (lambda x, w1, w2, wp: np.maximum(x @ w1 @ w2 + x @ wp, 0), "F has a ReLU between its two layers"),
    (lambda x, w1, w2, wp: np.maximum(np.maximum(x @ w1, 0) @ w2, 0), "the shortcut is missing"),
]


@pytest.mark.parametrize("wrong, hint", PROJECTION_MUTATIONS, ids=[h for _, h in PROJECTION_MUTATIONS])
def test_residual_block_projection_rejects_each_mistake_for_its_reason(wrong, hint, capsys):
    rejected_for(nb09_layers.check_residual_block_projection, wrong, hint, PROJECTION_MUTATIONS, capsys)


def test_a_passing_layer_joins_the_learners_library(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNNLIB_MY_LAYERS", str(tmp_path))
    assert nb09_layers.check_residual_block_projection(projection_vectorized) is True
    assert "Kept in my_layers/residual_block_projection.py" in capsys.readouterr().out
    lib = my_layers.my_layers("residual_block_projection", "batch_norm_forward")
    assert lib.whose == {"residual_block_projection": "yours", "batch_norm_forward": "cnnlib's"}
    x, w1, w2, wp = (np.ones(s) for s in ((2, 3), (3, 2), (2, 2), (3, 2)))
    np.testing.assert_array_equal(lib.residual_block_projection(x, w1, w2, wp), projection_vectorized(x, w1, w2, wp))
