"""Checkers for the exercises of 06_optimizers.

- Exercise 1, ``sgd_momentum_step(theta, grad, buffer, lr, momentum) -> (theta, buffer)``: one step of
  ``torch.optim.SGD`` with momentum, compared with ``cnnlib.numpy_nn.optim.SGD``;
- Exercise 2, ``adam_step(theta, grad, m, v, step, lr, betas, eps) -> (theta, m, v)``: one step of
  Adam with bias correction, compared with ``cnnlib.numpy_nn.optim.Adam``;
- Exercises 3 and 4 (numeric): three steps of the lecture's momentum by hand, and Adam's
  bias-corrected moments by hand; their data are constants here, so the notebook, the checker
  and its test read the same numbers.
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import as_numbers, expect_by_hand, is_close
from cnnlib.exercises.core import exercise, verdict
from cnnlib.exercises.functions import Case, Hint, check_function
from cnnlib.numpy_nn.module import Parameter
from cnnlib.numpy_nn.optim import SGD, Adam


def _vector(rng, size, scale=1.0):
    return np.round(rng.normal(0.0, scale, size=size), 2)


# Exercise 1: one step of SGD with momentum, PyTorch's form: b <- mu b + g, theta <- theta - lr b.
def _reference_sgd_momentum(theta, grad, buffer, lr, momentum):
    p = Parameter(theta.copy())
    opt = SGD([p], lr=lr, momentum=momentum)
    opt.state[p]["momentum_buffer"] = buffer.copy()  # the buffer of the earlier steps (zeros: the first)
    p.grad = grad.copy()
    opt.step()
    return p.data, opt.state[p]["momentum_buffer"]


def _sgd_cases() -> list[Case]:
    rng = np.random.default_rng(1601)
    cases = [Case({"theta": np.array([1.0]), "grad": np.array([2.0]), "buffer": np.array([0.0]),
                   "lr": 0.1, "momentum": 0.9}, "the first step: the buffer is still 0"),
             Case({"theta": np.array([1.0, -1.0]), "grad": np.array([0.5, 0.5]), "buffer": np.array([1.0, -2.0]),
                   "lr": 0.1, "momentum": 0.9}, "a later step: the buffer holds the earlier gradients")]
    for _ in range(10):
        n = int(rng.integers(1, 6))
        cases.append(Case({"theta": _vector(rng, n), "grad": _vector(rng, n), "buffer": _vector(rng, n),
                           "lr": float(rng.choice([0.01, 0.1, 0.5])), "momentum": float(rng.choice([0.5, 0.9, 0.99]))},
                          "random"))
    return cases


def _sgd_variant(update):
    """A hint's predicate: the learner's (theta, buffer) match ``update(inputs) -> theta`` (or its pair)."""
    def applies(i, e, a):
        wrong = update(i)
        return is_close(a[0], wrong) and not is_close(a[0], e[0])
    return applies


def _velocity(i):
    return i["momentum"] * i["buffer"] + i["lr"] * i["grad"]


def _lecture_velocity(i, buffer) -> bool:
    """The returned buffer is the lecture's velocity (lr inside), not PyTorch's buffer."""
    right = i["momentum"] * i["buffer"] + i["grad"]
    return is_close(buffer, _velocity(i)) and not is_close(buffer, right)


SGD_MOMENTUM_HINTS = (
    Hint("that is the lecture's form, v = momentum v + lr grad and theta - v, with lr inside the velocity: "
         "PyTorch's buffer holds the gradients without lr, b = momentum b + grad, and steps theta - lr b",
         lambda i, e, a: _lecture_velocity(i, a[1]) or _sgd_variant(lambda i: i["theta"] - _velocity(i))(i, e, a)),
    Hint("the momentum multiplies the old buffer, not the new gradient: b = momentum b + grad",
         _sgd_variant(lambda i: i["theta"] - i["lr"] * (i["buffer"] + i["momentum"] * i["grad"]))),
    Hint("wrong sign: step against the gradient, theta - lr b",
         _sgd_variant(lambda i: i["theta"] + i["lr"] * (i["momentum"] * i["buffer"] + i["grad"]))),
    Hint("return the new buffer too: the next step needs b = momentum b + grad",
         lambda i, e, a: is_close(a[0], e[0]) and is_close(a[1], i["buffer"])),
)


@exercise
def check_sgd_momentum_step(sgd_momentum_step) -> bool:
    """``sgd_momentum_step(theta, grad, buffer, lr, momentum) -> (theta, buffer)``, as torch.optim.SGD."""
    return check_function(sgd_momentum_step, _reference_sgd_momentum, _sgd_cases(), "Exercise 1",
                          hints=SGD_MOMENTUM_HINTS, output_names=("theta", "buffer"),
                          success="That is torch.optim.SGD(momentum=...)'s update.")


# Exercise 2: one Adam step with bias correction; ``step`` counts the steps taken before this one.
def _reference_adam(theta, grad, m, v, step, lr, betas, eps):
    p = Parameter(theta.copy())
    opt = Adam([p], lr=lr, betas=betas, eps=eps)
    opt.state[p].update(step=step, exp_avg=m.copy(), exp_avg_sq=v.copy())
    p.grad = grad.copy()
    opt.step()
    return p.data, opt.state[p]["exp_avg"], opt.state[p]["exp_avg_sq"]


def _adam_cases() -> list[Case]:
    rng = np.random.default_rng(1602)
    cases = [Case({"theta": np.array([1.0]), "grad": np.array([0.5]), "m": np.array([0.1]), "v": np.array([0.01]),
                   "step": 2, "lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8}, "the third step"),
             Case({"theta": np.array([1.0, 2.0]), "grad": np.array([0.5, -1.0]), "m": np.zeros(2), "v": np.zeros(2),
                   "step": 0, "lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8}, "the first step: m and v are still 0")]
    for _ in range(10):
        n = int(rng.integers(1, 6))
        m = _vector(rng, n, 0.1)
        cases.append(Case({"theta": _vector(rng, n), "grad": _vector(rng, n, 0.1), "m": m,
                           "v": np.round(m ** 2 + rng.random(n) * 0.01, 4), "step": int(rng.integers(1, 30)),
                           "lr": float(rng.choice([0.001, 0.01, 0.1])), "betas": (0.9, 0.999),
                           "eps": float(rng.choice([1e-8, 1e-3, 0.1]))}, "random"))
    return cases


def _adam_variant(t_of, corrected=True, eps_inside=False):
    def update(i):
        b1, b2 = i["betas"]
        m = b1 * i["m"] + (1 - b1) * i["grad"]
        v = b2 * i["v"] + (1 - b2) * i["grad"] ** 2
        t = t_of(i["step"])
        m_hat, v_hat = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if corrected else (m, v)
        denom = np.sqrt(v_hat + i["eps"]) if eps_inside else np.sqrt(v_hat) + i["eps"]
        return i["theta"] - i["lr"] * m_hat / denom

    def applies(i, e, a):
        return is_close(a[0], update(i)) and not is_close(a[0], e[0])
    return applies


ADAM_HINTS = (
    Hint("no bias correction: divide m by 1 - beta1^t and v by 1 - beta2^t before the update",
         _adam_variant(lambda s: s + 1, corrected=False)),
    Hint("epsilon goes outside the root, sqrt(v_hat) + eps, as in PyTorch (the lecture puts it inside)",
         _adam_variant(lambda s: s + 1, eps_inside=True)),
    Hint("t starts at 1: this step's t is step + 1 (step counts the steps taken before it)",
         _adam_variant(lambda s: s)),
)


@exercise
def check_adam_step(adam_step) -> bool:
    """``adam_step(theta, grad, m, v, step, lr, betas, eps) -> (theta, m, v)``, as torch.optim.Adam."""
    return check_function(adam_step, _reference_adam, _adam_cases(), "Exercise 2",
                          hints=ADAM_HINTS, output_names=("theta", "m", "v"),
                          success="That is torch.optim.Adam's update, bias correction included.")


# Exercise 3: three steps of the lecture's momentum on f(theta) = theta^2 (gradient 2 theta).
THETA0_3, LR_3, MOMENTUM_3 = 1.0, 0.1, 0.9
THETAS_3 = np.array([0.8, 0.46, 0.062])   # v: 0.2, 0.34, 0.398
PLAIN_GD_3 = np.array([0.8, 0.64, 0.512])  # without the velocity: theta <- 0.8 theta


def _check_momentum_steps(answer) -> None:
    try:
        a = as_numbers(answer, THETAS_3.shape, "your answer")
    except AssertionError as err:
        raise AssertionError(f"give the three parameters theta_1, theta_2, theta_3: {err}") from None
    if np.allclose(a, PLAIN_GD_3, rtol=1e-2):
        raise AssertionError("that is plain gradient descent: the velocity v = gamma v + eta grad carries "
                             "the earlier steps along")
    expect_by_hand(a, THETAS_3, name="your thetas", decimals=2)  # 0.06 for 0.062 is right by hand


@exercise
def check_momentum_steps(answer) -> bool:
    """Exercise 3: ``answer`` = (θ1, θ2, θ3), three lecture-momentum steps on θ² from ``THETA0_3``."""
    return verdict(answer, _check_momentum_steps, "Exercise 3",
                   "The velocity keeps growing while the gradient points the same way.")


# Exercise 4: Adam's bias-corrected moments after three steps on one scalar parameter.
GRADS_2 = (1.0, -2.0, 0.5)
BETAS_2 = (0.9, 0.999)


def _adam_moments(grads, betas, corrected=True):
    m = v = 0.0
    for g in grads:
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
    t = len(grads)
    if corrected:
        return m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
    return m, v


MOMENTS_2 = _adam_moments(GRADS_2, BETAS_2)          # (m_hat_3, v_hat_3) = (-0.1808..., 1.7498...)
RAW_MOMENTS_2 = _adam_moments(GRADS_2, BETAS_2, corrected=False)


def _check_adam_moments(answer) -> None:
    try:
        a = as_numbers(answer, (2,), "your answer")
    except AssertionError as err:
        raise AssertionError(f"give two numbers: (m_hat, v_hat) after the third step: {err}") from None
    if np.allclose(a, RAW_MOMENTS_2, rtol=1e-2):
        raise AssertionError("those are m_3 and v_3 before the bias correction: divide by 1 - beta1^3 "
                             "and 1 - beta2^3")
    expect_by_hand(a, MOMENTS_2, name="your (m_hat, v_hat)")


@exercise
def check_adam_moments(answer) -> bool:
    """Exercise 4: ``answer`` = (m̂_3, v̂_3) of Adam with ``BETAS_2`` after the gradients ``GRADS_2``."""
    return verdict(answer, _check_adam_moments, "Exercise 4",
                   "Without the correction m_3 and v_3 would be 3.7 and 334 times too small.")
