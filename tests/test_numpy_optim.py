"""cnnlib.numpy_nn.optim: step by step against torch.optim (float64), and the lecture's forms."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from parity import scaled_rel_error
from strategies import make_array, seeds

from cnnlib.numpy_nn.activation import Maxout
from cnnlib.numpy_nn.loss import MSELoss
from cnnlib.numpy_nn.module import Parameter
from cnnlib.numpy_nn.optim import SGD, Adam, LectureAdam, LectureMomentum

STEPS = 40
TOL = 1e-10


class Problem:
    """Least squares for a linear model, loss = 0.5 ||X W^T + b - Y||^2 / N, gradient by hand.

    The gradients change as the parameters move, so the optimizers see a realistic sequence.
    """

    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.x = rng.normal(size=(8, 4))
        self.y = rng.normal(size=(8, 3))
        self.start = [rng.normal(size=(3, 4)), rng.normal(size=3)]

    def grads(self, w, b):
        r = (self.x @ w.T + b - self.y) / len(self.x)  # (N, 3)
        return [r.T @ self.x, r.sum(axis=0)]


def run_both(ours_cls, torch_cls, hyper, seed, steps=STEPS):
    """Run our optimizer and PyTorch's side by side; yield (ours, theirs, our params, their params) per step.

    Both receive the same gradients (computed at our parameters): each step then checks the
    update rule itself. (Were each side to compute its own gradients, round-off differences would
    feed back through the dynamics, and Adam's sign-like steps near an optimum amplify them
    chaotically, which says nothing about the update rule.)
    """
    problem = Problem(seed)
    params = [Parameter(a.copy()) for a in problem.start]
    tensors = [torch.tensor(a.copy(), requires_grad=True) for a in problem.start]
    ours, theirs = ours_cls(params, **hyper), torch_cls(tensors, **hyper)
    for _ in range(steps):
        for p, t, g in zip(params, tensors, problem.grads(*(p.data for p in params))):
            p.grad, t.grad = g, torch.tensor(g)
        ours.step()
        theirs.step()
        yield ours, theirs, params, tensors


def assert_same(a, b, what, atol=0.0):
    """Relative error <= TOL, or (for gradient-like state) an absolute error <= atol.

    Gradients, momentum buffers and velocities shrink towards 0 as the problem converges, and
    near the optimum they are small differences of large numbers: there round-off is measured
    against the scale of the problem (atol), not against their own tiny size.
    """
    a, b = np.asarray(a), np.asarray(b)
    err = scaled_rel_error(a, b)
    assert err <= TOL or np.max(np.abs(a - b)) <= atol, f"{what}: relative error {err:.3g}"


STATE_ATOL = 1e-13  # the problem's gradients start at about 1


# -- parity with torch.optim --------------------------------------------------------------------
@given(seed=seeds, lr=st.floats(1e-3, 0.5), momentum=st.sampled_from([0.0, 0.5, 0.9, 0.99]),
       weight_decay=st.sampled_from([0.0, 1e-2, 0.3]))
def test_sgd_matches_torch_step_by_step(seed, lr, momentum, weight_decay):
    hyper = dict(lr=lr, momentum=momentum, weight_decay=weight_decay)
    for step, (ours, theirs, params, tensors) in enumerate(run_both(SGD, torch.optim.SGD, hyper, seed)):
        for i, (p, t) in enumerate(zip(params, tensors)):
            assert_same(p.data, t.detach().numpy(), f"step {step}, param {i}")
            if momentum:
                assert_same(ours.state[p]["momentum_buffer"], theirs.state[t]["momentum_buffer"].numpy(),
                            f"step {step}, momentum buffer {i}", STATE_ATOL)
            else:
                assert ours.state[p] == {}


@given(seed=seeds, lr=st.floats(1e-4, 0.1),
       betas=st.sampled_from([(0.9, 0.999), (0.8, 0.99), (0.5, 0.9), (0.0, 0.99), (0.95, 0.5)]),
       eps=st.sampled_from([1e-8, 1e-3]), weight_decay=st.sampled_from([0.0, 0.05]))
def test_adam_matches_torch_step_by_step(seed, lr, betas, eps, weight_decay):
    hyper = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    for step, (ours, theirs, params, tensors) in enumerate(run_both(Adam, torch.optim.Adam, hyper, seed)):
        for i, (p, t) in enumerate(zip(params, tensors)):
            assert_same(p.data, t.detach().numpy(), f"step {step}, param {i}")
            mine, torch_state = ours.state[p], theirs.state[t]
            assert mine["step"] == int(torch_state["step"]) == step + 1
            assert_same(mine["exp_avg"], torch_state["exp_avg"].numpy(), f"step {step}, exp_avg {i}", STATE_ATOL)
            assert_same(mine["exp_avg_sq"], torch_state["exp_avg_sq"].numpy(), f"step {step}, exp_avg_sq {i}",
                        STATE_ATOL**2)


def test_defaults_match_torch():
    p = [Parameter(np.zeros(2))]
    adam = Adam(p)
    assert (adam.lr, adam.betas, adam.eps, adam.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 0.0)
    sgd = SGD(p, lr=0.1)
    assert (sgd.momentum, sgd.weight_decay) == (0.0, 0.0)


def test_one_sgd_step_by_hand():
    p = Parameter(np.array([1.0, -2.0]))
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.5)
    p.grad = np.array([0.2, 0.4])
    opt.step()  # g = grad + 0.5 p = [0.7, -0.6]; b = g; p -= 0.1 b
    np.testing.assert_allclose(p.data, [0.93, -1.94], rtol=1e-15)
    p.grad = np.array([0.0, 0.0])
    opt.step()  # g = 0.5 p = [0.465, -0.97]; b = 0.9 [0.7, -0.6] + g = [1.095, -1.51]
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [1.095, -1.51], rtol=1e-14)
    np.testing.assert_allclose(p.data, [0.93 - 0.1095, -1.94 + 0.151], rtol=1e-14)


def test_first_adam_step_moves_every_coordinate_by_about_lr():
    # after one step m^ = g and v^ = g^2, so the step is lr * g / (|g| + eps), about lr * sign(g)
    p = Parameter(np.array([0.0, 0.0, 0.0]))
    opt = Adam([p], lr=0.01)
    p.grad = np.array([1e3, -2.0, 1e-3])
    opt.step()
    np.testing.assert_allclose(p.data, -0.01 * p.grad / (np.abs(p.grad) + 1e-8), rtol=1e-12)


def test_zero_grad_and_float32():
    p = Parameter(np.ones(3, dtype=np.float32))
    opt = Adam([p], lr=0.1)
    p.grad = np.ones(3, dtype=np.float32)
    opt.step()
    assert p.data.dtype == np.float32 and opt.state[p]["exp_avg"].dtype == np.float32
    opt.zero_grad()
    assert p.grad.dtype == np.float32 and not p.grad.any()


def test_optimizers_train_a_model_through_its_parameters():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3))
    y = np.abs(x[:, :1]) - x[:, 1:2]  # a maxout of linear pieces can fit |x0| - x1 exactly
    for make in (lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.05)):
        model, criterion = Maxout(3, 1, pieces=2, rng=1), MSELoss()
        opt = make(model.parameters())
        first = criterion(model(x), y)
        for _ in range(200):
            opt.zero_grad()
            loss = criterion(model(x), y)
            model.backward(criterion.backward())
            opt.step()
        assert loss < 0.01 * first


# -- the lecture's forms ------------------------------------------------------------------------
def _lockstep(a_cls, a_hyper, b_cls, b_hyper, grads):
    """Two optimizers on copies of one parameter, fed the same gradient sequence."""
    pa, pb = Parameter(np.zeros_like(grads[0])), Parameter(np.zeros_like(grads[0]))
    a, b = a_cls([pa], **a_hyper), b_cls([pb], **b_hyper)
    for g in grads:
        pa.grad, pb.grad = g.copy(), g.copy()
        a.step()
        b.step()
    return pa, pb, a, b


def run_ours(cls, hyper, seed, steps=STEPS):
    """Our optimizer alone on `Problem(seed)`; return it and its parameters."""
    problem = Problem(seed)
    params = [Parameter(a.copy()) for a in problem.start]
    opt = cls(params, **hyper)
    for _ in range(steps):
        for p, g in zip(params, problem.grads(*(p.data for p in params))):
            p.grad = g
        opt.step()
    return opt, params


@given(seed=seeds, lr=st.floats(1e-3, 0.5), momentum=st.sampled_from([0.0, 0.5, 0.9]))
def test_lecture_momentum_equals_sgd_momentum_for_constant_lr(seed, lr, momentum):
    sgd, params_sgd = run_ours(SGD, dict(lr=lr, momentum=momentum), seed)
    lecture, params_lecture = run_ours(LectureMomentum, dict(lr=lr, momentum=momentum), seed)
    for p_sgd, p_lecture in zip(params_sgd, params_lecture):
        assert_same(p_lecture.data, p_sgd.data, "parameters")
        if momentum:
            assert_same(lecture.state[p_lecture]["velocity"], lr * sgd.state[p_sgd]["momentum_buffer"],
                        "velocity = lr * momentum_buffer", STATE_ATOL)


def test_lecture_momentum_parts_from_sgd_when_lr_changes():
    grads = [make_array(3, s) for s in range(20)]
    pa, pb, sgd, lecture = _lockstep(SGD, dict(lr=0.1, momentum=0.9), LectureMomentum, dict(lr=0.1, momentum=0.9),
                                     grads[:10])
    np.testing.assert_allclose(pa.data, pb.data, rtol=1e-13)
    sgd.lr = lecture.lr = 0.01  # a learning-rate schedule
    for g in grads[10:]:
        pa.grad, pb.grad = g.copy(), g.copy()
        sgd.step()
        lecture.step()
    assert np.max(np.abs(pa.data - pb.data)) > 0.1 * np.max(np.abs(pa.data))


@given(seed=seeds, eps=st.sampled_from([1e-8, 1e-6]), betas=st.sampled_from([(0.9, 0.999), (0.5, 0.9)]))
def test_lecture_adam_step_is_pytorchs_times_a_known_factor(seed, eps, betas):
    """From the same state, the lecture's step / PyTorch's step = (sqrt(v^) + eps) / sqrt(v^ + eps)."""
    grads = [make_array(5, seed + k) for k in range(7)]
    pa, pb, adam, lecture = _lockstep(Adam, dict(lr=0.01, betas=betas, eps=eps),
                                      LectureAdam, dict(lr=0.01, betas=betas, eps=eps), grads)
    pb.data = pa.data.copy()
    lecture.state[pb] = {k: np.copy(v) for k, v in adam.state[pa].items()}
    lecture.state[pb]["step"] = adam.state[pa]["step"]
    before = pa.data.copy()
    pa.grad, pb.grad = grads[0].copy(), grads[0].copy()
    adam.step()
    lecture.step()
    t = adam.state[pa]["step"]
    v_hat = adam.state[pa]["exp_avg_sq"] / (1 - betas[1] ** t)
    np.testing.assert_allclose((pb.data - before) / (pa.data - before),
                               (np.sqrt(v_hat) + eps) / np.sqrt(v_hat + eps), rtol=1e-9)


@given(seed=seeds)
def test_lecture_adam_stays_within_a_predicted_bound_of_pytorchs(seed):
    """Same gradients (|g| in [0.1, 1]), 40 steps: |θ_lecture − θ_adam| <= T η G max(ε, ε / 2a) / a^2.

    a = sqrt(v^) >= 0.1, since v^ is a weighted mean of squared gradients that are all >= 0.01,
    and per step |1/(a + ε) − 1/sqrt(a^2 + ε)| <= max(ε, ε / 2a) / a^2.
    """
    rng = np.random.default_rng(seed)
    grads = [rng.choice([-1, 1], 6) * rng.uniform(0.1, 1.0, 6) for _ in range(STEPS)]
    lr, eps, a, big_g = 0.01, 1e-8, 0.1, 1.0
    pa, pb, _, _ = _lockstep(Adam, dict(lr=lr, eps=eps), LectureAdam, dict(lr=lr, eps=eps), grads)
    diff = np.max(np.abs(pa.data - pb.data))
    bound = STEPS * lr * big_g * max(eps, eps / (2 * a)) / a**2
    assert diff <= bound  # about 2e-8 here, while each parameter moves by about 0.1
    assert np.max(np.abs(pa.data)) > 1e4 * bound


def test_lecture_adam_takes_much_smaller_steps_when_gradients_are_tiny():
    # v^ = 1e-14 << eps: PyTorch steps lr * 1e-7 / (1e-7 + 1e-8) ~ 0.91 lr, the lecture lr * 1e-7 / 1e-4
    grads = [np.full(2, 1e-7)] * 5
    pa, pb, _, _ = _lockstep(Adam, dict(lr=0.01), LectureAdam, dict(lr=0.01), grads)
    np.testing.assert_allclose(pa.data, -5 * 0.01 * 1e-7 / (1e-7 + 1e-8), rtol=1e-9)
    np.testing.assert_allclose(pb.data, -5 * 0.01 * 1e-7 / np.sqrt(1e-14 + 1e-8), rtol=1e-9)
    assert np.all(np.abs(pa.data) > 900 * np.abs(pb.data))


# -- bad input ----------------------------------------------------------------------------------
P = [Parameter(np.zeros(2))]


@pytest.mark.parametrize("make, words", [
    (lambda: SGD(P, lr=-0.1), "lr must be >= 0, got -0.1"),
    (lambda: SGD(P, lr="0.1"), "lr must be a finite real number"),
    (lambda: SGD(P, lr=0.1, momentum=-0.5), "momentum must be >= 0"),
    (lambda: SGD(P, lr=0.1, weight_decay=-1), "weight_decay must be >= 0"),
    (lambda: Adam(P, betas=(1.0, 0.999)), "betas[0] must be in [0, 1), got 1"),
    (lambda: Adam(P, betas=(0.9, -0.1)), "betas[1] must be in [0, 1)"),
    (lambda: Adam(P, betas=0.9), "betas must be a pair (beta1, beta2)"),
    (lambda: Adam(P, eps=0), "eps must be > 0"),
    (lambda: LectureAdam(P, eps=-1e-8), "eps must be > 0"),
    (lambda: LectureMomentum(P, lr=float("inf")), "lr must be a finite real number"),
    (lambda: SGD([], lr=0.1), "params is empty"),
    (lambda: SGD([np.zeros(3)], lr=0.1), "params[0] is a ndarray, not a Parameter"),
    (lambda: SGD(Maxout(2, 2), lr=0.1), "pass Maxout(...).parameters()"),
    (lambda: SGD(P + P, lr=0.1), "the same Parameter more than once"),
])
def test_bad_hyper_parameters_say_what_is_wrong(make, words):
    with pytest.raises(ValueError) as info:
        make()
    assert words in str(info.value)


def test_a_gradient_of_the_wrong_shape_is_reported():
    p = Parameter(np.zeros((2, 3)))
    opt = SGD([p], lr=0.1)
    p.grad = np.zeros(3)
    with pytest.raises(ValueError, match=r"shape \(2, 3\) has a gradient of shape \(3,\)"):
        opt.step()


@pytest.mark.parametrize("cls", [SGD, Adam, LectureMomentum, LectureAdam])
def test_docstrings_name_the_notebook(cls):
    assert "06_optimizers" in cls.__doc__
