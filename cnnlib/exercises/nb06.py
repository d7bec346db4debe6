"""Checkers for the exercises of 06_optimizers.

- Exercise 1, ``sgd_momentum_step(theta, grad, buffer, lr, momentum) -> (theta, buffer)``: one step of
  ``torch.optim.SGD`` with momentum (dampening 0, no Nesterov);
- Exercise 2, ``adam_step(theta, grad, m, v, step, lr, betas, eps) -> (theta, m, v)``: one step of
  ``torch.optim.Adam`` with bias correction;
- Exercises 3 and 4 (numeric): three steps of the lecture's momentum by hand, and Adam's
  bias-corrected moments by hand; their data are constants here, so the notebook, the checker
  and its test read the same numbers.

The two step functions are layer exercises (kept in my_layers/ when they pass), compared with
:mod:`cnnlib.exercises.references`. The rule both questions state: a step returns new arrays and
leaves its arguments unchanged. ``torch.optim`` updates its parameters and state in place; here a
step is a pure function, like every layer the learner writes, and a step that changes an argument
fails with a verdict that names it. Compared at 1e-6 relative (float32 results at float32 precision,
:mod:`cnnlib.exercises.functions`).
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises import references
from cnnlib.exercises.answers import as_numbers, expect_by_hand, is_close
from cnnlib.exercises.core import exercise, verdict
from cnnlib.exercises.functions import Case, Hint, check_function

# The shapes the notebook's last section steps with the learner's functions: Linear(64, 10)'s weight and bias.
LATER_SHAPES = ((10, 64), (10,))


def _vector(rng, size, scale=1.0):
    return np.round(rng.normal(0.0, scale, size=size), 2)


def _near_all(a, wrong, e) -> bool:
    """Every returned array is the mistake's (at float32 precision), the mistake shows at that precision
    on this case, and the result is not the right one."""
    if isinstance(e, Exception) or not isinstance(a, (tuple, list)) or len(a) != len(wrong):
        return False
    return (all(is_close(x, w, rtol=1e-4, atol=1e-9) for x, w in zip(a, wrong))
            and not all(is_close(w, y, rtol=1e-4, atol=1e-9) for w, y in zip(wrong, e))
            and not all(is_close(x, y) for x, y in zip(a, e)))


# -- Exercise 1: one step of SGD with momentum, PyTorch's form: b <- mu b + g, theta <- theta - lr b ---------
def _sgd_cases() -> list[Case]:
    rng = np.random.default_rng(1601)

    def case(theta, grad, buffer, lr, momentum, label, dtype=np.float64):
        arrays = [np.asarray(a, dtype=np.float64).astype(dtype) for a in (theta, grad, buffer)]
        return Case({"theta": arrays[0], "grad": arrays[1], "buffer": arrays[2], "lr": lr, "momentum": momentum},
                    label)

    # lr is never 1 - momentum: there, applying lr twice and dampening give the same (wrong) numbers
    cases = [case([1.0], [2.0], [0.0], 0.05, 0.9, "the first step: the buffer is still 0"),
             case([1.0, -1.0], [0.5, 0.5], [1.0, -2.0], 0.05, 0.9, "a later step: the buffer holds the earlier gradients"),
             case([1.0, -1.0], [0.0, 0.0], [1.0, -2.0], 0.05, 0.9, "a zero gradient: the buffer still moves theta"),
             case([0.5, -2.0, 3.0], [-0.5, 1.5, 0.25], [0.2, 0.0, -1.0], 0.5, 0.8, "negative gradients and buffer"),
             case([1.0, 2.0], [2e6, -3e6], [1e6, 1e6], 0.01, 0.9, "large gradients"),
             case(_vector(rng, 4), [1e-6, 1e3, -1e-6, -1e3], _vector(rng, 4), 0.1, 0.99,
                  "gradients of very different scale in one array"),
             case(_vector(rng, 5), _vector(rng, 5), _vector(rng, 5), 0.05, 0.9, "float32", dtype=np.float32),
             case(_vector(rng, (3, 4)), _vector(rng, (3, 4)), _vector(rng, (3, 4)), 0.01, 0.9, "a weight matrix"),
             case(_vector(rng, (2, 1, 3, 3)), _vector(rng, (2, 1, 3, 3)), np.zeros((2, 1, 3, 3)), 0.05, 0.9,
                  "a convolution's weight (C_out, C_in, F, F), first step")]
    for shape in LATER_SHAPES:
        cases.append(case(_vector(rng, shape, 0.1), _vector(rng, shape, 0.1), _vector(rng, shape, 0.1), 0.05, 0.9,
                          f"the shape {shape} of this notebook's last section"))
    for _ in range(10):
        n = int(rng.integers(1, 6))
        cases.append(case(_vector(rng, n), _vector(rng, n), _vector(rng, n), float(rng.choice([0.02, 0.05, 0.2])),
                          float(rng.choice([0.5, 0.9, 0.99])), "random"))
    return cases


def _sgd(i, form="torch", sign=-1.0):
    """(theta, buffer) of one step in the right form or in a mistake's."""
    th, g, b, lr, mu = (i[k] for k in ("theta", "grad", "buffer", "lr", "momentum"))
    if form == "lecture":                      # v = mu v + lr g, theta - v
        v = mu * b + lr * g
        return th - v, v
    new = {"torch": mu * b + g, "lr twice": mu * b + lr * g, "on grad": b + mu * g,
           "dampening": mu * b + (1 - mu) * g}.get(form, mu * b + g)
    if form == "nesterov":
        return th - lr * (g + mu * new), new
    return th + sign * lr * new, new


def _sgd_hint(**mistake):
    return lambda i, e, a: _near_all(a, _sgd(i, **mistake), e)


SGD_MOMENTUM_HINTS = (
    Hint("that is the lecture's form, v = momentum v + lr grad and theta - v, with lr inside the velocity: "
         "PyTorch's buffer holds the gradients without lr, b = momentum b + grad, and steps theta - lr b",
         _sgd_hint(form="lecture")),
    Hint("lr is applied twice: the buffer holds the gradients without lr, b = momentum b + grad, and lr "
         "multiplies only the step, theta - lr b", _sgd_hint(form="lr twice")),
    Hint("the momentum multiplies the old buffer, not the new gradient: b = momentum b + grad",
         _sgd_hint(form="on grad")),
    Hint("(1 - momentum) multiplies the gradient: that is dampening, which PyTorch leaves at 0 by default: "
         "b = momentum b + grad", _sgd_hint(form="dampening")),
    Hint("that is Nesterov's momentum, theta - lr (grad + momentum b); PyTorch's default steps by the "
         "buffer itself, theta - lr b", _sgd_hint(form="nesterov")),
    Hint("wrong sign: step against the gradient, theta - lr b", _sgd_hint(sign=1.0)),
    Hint("return the new buffer too: the next step needs b = momentum b + grad",
         lambda i, e, a: _near_all(a, (_sgd(i)[0], i["buffer"]), e)),
)


@exercise
def check_sgd_momentum_step(sgd_momentum_step) -> bool:
    """``sgd_momentum_step(theta, grad, buffer, lr, momentum) -> (theta, buffer)``, as torch.optim.SGD."""
    return check_function(sgd_momentum_step, references.sgd_momentum_step, _sgd_cases(), "Exercise 1",
                          hints=SGD_MOMENTUM_HINTS, output_names=("theta", "buffer"),
                          success="That is torch.optim.SGD(momentum=...)'s update.")


# -- Exercise 2: one Adam step with bias correction; ``step`` counts the steps taken before this one ----------
def _adam_cases() -> list[Case]:
    rng = np.random.default_rng(1602)
    default = {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8}

    def case(theta, grad, m, v, step, label, dtype=np.float64, **hyper):
        arrays = [np.asarray(a, dtype=np.float64).astype(dtype) for a in (theta, grad, m, v)]
        return Case(dict(zip(("theta", "grad", "m", "v"), arrays)) | {"step": step} | default | hyper, label)

    def later(shape, step, label, dtype=np.float64, **hyper):
        m = _vector(rng, shape, 0.1)                 # v >= m^2, as running averages of g and g^2 are
        return case(_vector(rng, shape), _vector(rng, shape, 0.1), m, np.round(m ** 2 + rng.random(shape) * 0.01, 4),
                    step, label, dtype, **hyper)

    cases = [case([1.0], [0.5], [0.1], [0.01], 2, "the third step"),
             case([1.0, 2.0], [0.5, -1.0], [0.0, 0.0], [0.0, 0.0], 0, "the first step: m and v are still 0"),
             case([1.0, 2.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], 0, "a zero gradient on the first step: no move"),
             case([1.0, 2.0], [0.0, 0.0], [0.05, -0.02], [0.01, 0.001], 4, "a zero gradient on a later step"),
             case([1.0, -1.0], [3e4, -2e6], [0.0, 0.0], [0.0, 0.0], 0, "large gradients: the step is still about lr"),
             case([1.0, -1.0, 0.5], [1e-6, -1e-5, 1e3], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], 0,
                  "gradients of very different scale in one array, some near sqrt(eps)"),
             later(4, 9, "float32, the tenth step", dtype=np.float32),
             later((3, 4), 99, "a weight matrix, step 100", lr=0.001),
             later((2, 1, 3, 3), 999, "a convolution's weight, step 1000", betas=(0.8, 0.99), eps=1e-3)]
    for shape in LATER_SHAPES:
        cases.append(later(shape, 5, f"the shape {shape} of this notebook's last section", lr=0.01))
    for _ in range(10):
        cases.append(later(int(rng.integers(1, 6)), int(rng.integers(1, 30)), "random",
                           lr=float(rng.choice([0.001, 0.01, 0.1])), eps=float(rng.choice([1e-8, 1e-3, 0.1]))))
    return cases


def _adam(i, correct=("m", "v"), eps_inside=False, t_offset=1, return_hat=False, swap_betas=False,
          abs_not_square=False, sign=-1.0):
    """(theta, m, v) of one Adam step, right or with the named mistakes."""
    with np.errstate(all="ignore"):          # t = 0 divides by 1 - beta^0 = 0
        return _adam_arrays(i, correct, eps_inside, t_offset, return_hat, swap_betas, abs_not_square, sign)


def _adam_arrays(i, correct, eps_inside, t_offset, return_hat, swap_betas, abs_not_square, sign):
    b1, b2 = i["betas"][::-1] if swap_betas else i["betas"]
    g = i["grad"]
    m = b1 * i["m"] + (1 - b1) * g
    v = b2 * i["v"] + (1 - b2) * (np.abs(g) if abs_not_square else g * g)
    t = i["step"] + t_offset
    m_hat = m / (1 - b1 ** t) if "m" in correct else m
    v_hat = v / (1 - b2 ** t) if "v" in correct else v
    denom = np.sqrt(v_hat + i["eps"]) if eps_inside else np.sqrt(v_hat) + i["eps"]
    theta = i["theta"] + sign * i["lr"] * m_hat / denom
    return (theta, m_hat, v_hat) if return_hat else (theta, m, v)


def _adam_hint(**mistake):
    return lambda i, e, a: _near_all(a, _adam(i, **mistake), e)


ADAM_HINTS = (
    Hint("no bias correction: divide m by 1 - beta1^t and v by 1 - beta2^t before the update",
         _adam_hint(correct=())),
    Hint("only m is bias-corrected: v needs it too, v_hat = v / (1 - beta2^t)", _adam_hint(correct=("m",))),
    Hint("only v is bias-corrected: m needs it too, m_hat = m / (1 - beta1^t)", _adam_hint(correct=("v",))),
    Hint("epsilon goes outside the root, sqrt(v_hat) + eps, as in PyTorch (the lecture puts it inside)",
         _adam_hint(eps_inside=True)),
    Hint("t starts at 1: this step's t is step + 1 (step counts the steps taken before it)",
         _adam_hint(t_offset=0)),
    Hint("return the running averages m and v themselves, not m_hat and v_hat: the next step corrects "
         "them again", _adam_hint(return_hat=True)),
    Hint("beta1 goes with m (the gradients) and beta2 with v (their squares): betas = (beta1, beta2)",
         _adam_hint(swap_betas=True)),
    Hint("v averages the squared gradients, (1 - beta2) grad**2, not their absolute values",
         _adam_hint(abs_not_square=True)),
    Hint("wrong sign: step against the gradient, theta - lr m_hat / (sqrt(v_hat) + eps)", _adam_hint(sign=1.0)),
)


@exercise
def check_adam_step(adam_step) -> bool:
    """``adam_step(theta, grad, m, v, step, lr, betas, eps) -> (theta, m, v)``, as torch.optim.Adam."""
    return check_function(adam_step, references.adam_step, _adam_cases(), "Exercise 2",
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
