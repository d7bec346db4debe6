"""Checkers for the layer exercises of 09_case_studies_googlenet_resnet: batch normalization's forward and
backward passes, and a residual block with a projection shortcut.

Each is a layer of the learner's own library (:mod:`cnnlib.exercises.my_layers`): a passing check keeps the
function in ``my_layers/``. The references are cnnlib's (:mod:`cnnlib.exercises.references`), which
tests/test_my_layers.py compares with PyTorch. The rules the questions state, and the checkers enforce:

- ``batch_norm_forward(x, gamma, beta, eps)``: x of shape (N, D), training mode: per feature (column), the
  batch's mean and *biased* variance (divide by N), eps inside the square root. A feature that is constant
  over the batch has variance 0 and comes out as beta. A batch of one has no spread to measure:
  raise ``ValueError``, as ``torch.nn.BatchNorm1d`` does in training. Inputs are not changed in place.
- ``batch_norm_backward(grad_output, x, gamma, eps) -> (grad_x, grad_gamma, grad_beta)``: the gradients of
  the same forward pass (the batch's mean and variance depend on x); a batch of one raises ``ValueError``.
- ``residual_block_projection(x, w1, w2, w_proj) -> relu(relu(x @ w1) @ w2 + x @ w_proj)``: x (N, D_in),
  w1 (D_in, D_out), w2 (D_out, D_out), w_proj (D_in, D_out).
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import is_close
from cnnlib.exercises.core import exercise
from cnnlib.exercises.functions import Case, Hint, check_function
from cnnlib.exercises import references

EPS = 1e-5
# The questions' tolerance: within 1e-6, absolute or relative. The right answers are of order 1; a float32
# answer (about 1e-7 relative) is accepted, and every mistake the hints name is off by far more.
RTOL = ATOL = 1e-6
# The batch that the notebook's later cell feeds the learner's layers (and torch.nn.BatchNorm1d): a case too.
LATER_BATCH = (16, 6)


# -- batch normalization, forward ------------------------------------------------------------------------

def _one_sample_refused(x):
    if np.shape(x)[0] < 2:
        raise ValueError(f"a batch of one has no spread to normalize by: x has shape {np.shape(x)}, and "
                         f"training-mode batch norm needs at least 2 samples (torch.nn.BatchNorm1d refuses it too)")


def _f64(*arrays):
    """The truth of a float32 case is computed in float64; the tolerance then follows the answer's dtype."""
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def _reference_forward(x, gamma, beta, eps):
    _one_sample_refused(x)
    return references.batch_norm_forward(*_f64(x, gamma, beta), eps)


def _reference_backward(grad_output, x, gamma, eps):
    _one_sample_refused(x)
    return references.batch_norm_backward(*_f64(grad_output, x, gamma), eps)


def _reference_projection(x, w1, w2, w_proj):
    return references.residual_block_projection(*_f64(x, w1, w2, w_proj))


def _bn_inputs(rng, n, d, scale=1.0, offset=0.0, eps=EPS, dtype=np.float64):
    x = offset + scale * rng.normal(size=(n, d))
    gamma, beta = rng.uniform(0.5, 2.0, size=d) * rng.choice([-1.0, 1.0], size=d), rng.normal(size=d)
    return {"x": x.astype(dtype), "gamma": gamma.astype(dtype), "beta": beta.astype(dtype), "eps": eps}


def _bn_cases() -> list[Case]:
    rng = np.random.default_rng(901)
    constant = _bn_inputs(rng, 4, 3)
    constant["x"][:, 1] = 2.5                                        # one feature equal across the batch
    negative = _bn_inputs(rng, 5, 2, offset=-4.0)
    negative["x"] = -np.abs(negative["x"]) - 0.5                      # every input negative
    scales = _bn_inputs(rng, 6, 4)
    scales["x"] = scales["x"] * np.array([1e-3, 1.0, 1e3, 1e4]) + np.array([0.0, -3.0, 5e3, -2e4])
    cases = [Case(_bn_inputs(rng, 1, 3), "a batch of one: no spread to measure, raise ValueError"),
             Case(_bn_inputs(rng, 2, 3), "a batch of two"),
             Case(constant, "a feature constant over the batch: variance 0, eps keeps it finite"),
             Case(negative, "all inputs negative"),
             Case(_bn_inputs(rng, 5, 3, scale=1e-3), "features of tiny spread (1e-3): eps is not negligible"),
             Case(scales, "features of very different scales (1e-3 to 1e4) in one batch"),
             Case(_bn_inputs(rng, 4, 3, eps=0.1), "a large eps (0.1)"),
             Case(_bn_inputs(rng, 3, 5, dtype=np.float32), "float32 inputs"),
             Case(_bn_inputs(rng, *LATER_BATCH), "the batch the notebook uses later")]
    return cases + [Case(_bn_inputs(rng, int(rng.integers(2, 7)), int(rng.integers(1, 6))), "random")
                    for _ in range(12)]


def _normalize(x, mean, var, eps, eps_inside=True):
    return (x - mean) / (np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps)


def _forward_variant(i, ddof=0, axis=0, eps_inside=True, affine="gamma-beta", no_eps=False):
    x, g, b, eps = (np.asarray(i[k], dtype=np.float64) for k in ("x", "gamma", "beta", "eps"))
    eps = 0.0 if no_eps else eps
    mean, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, ddof=ddof, keepdims=True)
    x_hat = _normalize(x, mean, var, eps, eps_inside)
    return {"gamma-beta": g * x_hat + b, "none": x_hat, "beta-gamma": b * x_hat + g}[affine]


def _variant_hint(message, **variant):
    def applies(i, e, a):
        with np.errstate(all="ignore"):
            wrong = _forward_variant(i, **variant)
        return not isinstance(e, Exception) and not is_close(e, wrong) and is_close(a, wrong)
    return Hint(message, applies)


BATCH_NORM_FORWARD_HINTS = (
    _variant_hint("use the batch's biased variance, the mean of (x - mean)**2: divide by N, not N - 1", ddof=1),
    _variant_hint("eps goes inside the square root: (x - mean) / sqrt(var + eps)", eps_inside=False),
    _variant_hint("batch norm takes each feature's statistics over the batch (axis 0, down each column); "
                  "over each row's features it would be layer norm", axis=1),
    _variant_hint("take the statistics per feature (column), not over the whole array", axis=None),
    _variant_hint("after normalizing, scale by gamma and shift by beta: gamma * x_hat + beta", affine="none"),
    _variant_hint("gamma scales and beta shifts: gamma * x_hat + beta, not beta * x_hat + gamma", affine="beta-gamma"),
    _variant_hint("add eps to the variance before the square root, sqrt(var + eps): without it a feature that "
                  "is constant over the batch gives 0 / 0", no_eps=True),
)


@exercise
def check_batch_norm_forward(batch_norm_forward) -> bool:
    """``batch_norm_forward(x, gamma, beta, eps)`` for x of shape (N, D), in training mode."""
    return check_function(batch_norm_forward, _reference_forward, _bn_cases(), "Exercise 6",
                          hints=BATCH_NORM_FORWARD_HINTS,
                          success="Each column of your output has mean beta and standard deviation |gamma| "
                                  "(up to eps).", rtol=RTOL, atol=ATOL)


# -- batch normalization, backward -----------------------------------------------------------------------

def _bn_backward_cases() -> list[Case]:
    rng = np.random.default_rng(902)
    cases = []
    for case in _bn_cases():
        i = dict(case.inputs)
        grad = rng.normal(size=np.shape(i["x"])).astype(np.asarray(i["x"]).dtype)
        cases.append(Case({"grad_output": grad, "x": i["x"], "gamma": i["gamma"], "eps": i["eps"]}, case.label))
    return cases


def _backward_variant(i, stats_constant=False, no_var_term=False, no_gamma=False, gamma_from_x=False,
                      beta_mean=False, ddof=0, eps_inside=True):
    g, x, gamma, eps = (np.asarray(i[k], dtype=np.float64) for k in ("grad_output", "x", "gamma", "eps"))
    mean, var = x.mean(axis=0), x.var(axis=0, ddof=ddof)
    inv_std = 1.0 / (np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps)
    x_hat = (x - mean) * inv_std
    d = g if no_gamma else g * gamma
    if not stats_constant:
        d = d - d.mean(axis=0) - (0 if no_var_term else x_hat * (d * x_hat).mean(axis=0))
    grad_gamma = (g * (x if gamma_from_x else x_hat)).sum(axis=0)
    grad_beta = g.mean(axis=0) if beta_mean else g.sum(axis=0)
    return d * inv_std, grad_gamma, grad_beta


def _backward_hint(message, **variant):
    def applies(i, e, a):
        wrong = _backward_variant(i, **variant)
        if isinstance(e, Exception) or not isinstance(a, (tuple, list)) or len(a) != 3:
            return False
        return not all(is_close(p, q) for p, q in zip(e, wrong)) and all(is_close(p, q) for p, q in zip(a, wrong))
    return Hint(message, applies)


def _swapped(i, e, a):
    return isinstance(a, (tuple, list)) and len(a) == 3 and is_close(a[1], e[2]) and is_close(a[2], e[1]) \
        and not is_close(e[1], e[2])


BATCH_NORM_BACKWARD_HINTS = (
    _backward_hint("the batch's mean and variance depend on x too: grad_x = (d - mean(d) - x_hat * mean(d * x_hat)) "
                   "/ sqrt(var + eps), with d = grad_output * gamma, not just d / sqrt(var + eps)", stats_constant=True),
    _backward_hint("the variance depends on x as well: subtract x_hat * mean(d * x_hat) too, not only mean(d)",
                   no_var_term=True),
    _backward_hint("the gradient reaching x_hat is grad_output * gamma: multiply by gamma before the rest",
                   no_gamma=True),
    _backward_hint("grad_gamma sums grad_output times x_hat, the normalized input, not times x", gamma_from_x=True),
    _backward_hint("grad_beta is the sum of grad_output over the batch, not its mean", beta_mean=True),
    _backward_hint("the forward pass uses the biased variance (divide by N); so must the backward pass", ddof=1),
    _backward_hint("eps goes inside the square root: 1 / sqrt(var + eps)", eps_inside=False),
    Hint("return (grad_x, grad_gamma, grad_beta) in that order: grad_gamma and grad_beta are swapped", _swapped),
)


@exercise
def check_batch_norm_backward(batch_norm_backward) -> bool:
    """``batch_norm_backward(grad_output, x, gamma, eps) -> (grad_x, grad_gamma, grad_beta)``, training mode."""
    return check_function(batch_norm_backward, _reference_backward, _bn_backward_cases(), "Exercise 7",
                          hints=BATCH_NORM_BACKWARD_HINTS, output_names=("grad_x", "grad_gamma", "grad_beta"),
                          success="Each column of your grad_x sums to 0: shifting a feature for the whole batch "
                                  "changes nothing after normalization.", rtol=RTOL, atol=ATOL)


# -- a residual block with a projection shortcut ---------------------------------------------------------

def _parts(i):
    x, w1, w2, wp = (np.asarray(i[k], dtype=np.float64) for k in ("x", "w1", "w2", "w_proj"))
    return x, np.maximum(x @ w1, 0.0) @ w2, x @ wp, x @ w1 @ w2


# The mistakes, as functions of (x, F(x), x @ w_proj, x @ w1 @ w2), each with the hint that names it.
PROJECTION_MISTAKES = (
    ("the shortcut is the projection x @ w_proj, not x itself", lambda x, f, p, lin: np.maximum(f + x, 0.0)),
    ("the shortcut is linear: no ReLU on x @ w_proj before the addition",
     lambda x, f, p, lin: np.maximum(f + np.maximum(p, 0.0), 0.0)),
    ("the ReLU comes after the addition: relu(F(x) + x @ w_proj), not relu(F(x)) + x @ w_proj",
     lambda x, f, p, lin: np.maximum(f, 0.0) + p),
    ("the block ends with a ReLU: relu(F(x) + x @ w_proj)", lambda x, f, p, lin: f + p),
    ("F has a ReLU between its two layers: F(x) = relu(x @ w1) @ w2", lambda x, f, p, lin: np.maximum(lin + p, 0.0)),
    ("the shortcut is missing: add x @ w_proj to F(x) before the last ReLU", lambda x, f, p, lin: np.maximum(f, 0.0)),
)


def _all_mistakes_show(inputs) -> bool:
    """Every mistake gives a result unlike the right one and unlike every other mistake's (where it has one)."""
    parts = _parts(inputs)
    results = [np.maximum(parts[1] + parts[2], 0.0)]
    for _, wrong in PROJECTION_MISTAKES:
        try:
            results.append(wrong(*parts))
        except ValueError:  # x + F(x) where the shapes differ: that mistake raises instead
            continue
    return not any(is_close(a, b) or is_close(b, a) for k, a in enumerate(results) for b in results[k + 1:])


def _projection_case(rng, n, d_in, d_out, label, scale=1.0, dtype=np.float64, sign=None):
    for _ in range(10_000):
        x = np.round(rng.normal(size=(n, d_in)) * scale, 1)
        if sign == "negative":
            x = -np.abs(x) - 0.1
        w1, w2, wp = (np.round(rng.normal(size=s), 1) for s in ((d_in, d_out), (d_out, d_out), (d_in, d_out)))
        inputs = {"x": x, "w1": w1, "w2": w2, "w_proj": wp}
        if _all_mistakes_show(inputs):
            return Case({k: v.astype(dtype) for k, v in inputs.items()}, label)
    raise RuntimeError(f"no {label!r} case in which every mistake shows")  # a bug in these cases


def _projection_cases() -> list[Case]:
    rng = np.random.default_rng(903)
    cases = [_projection_case(rng, 1, 2, 2, "a batch of one"),
             _projection_case(rng, 1, 3, 2, "a batch of one, 3 features to 2"),
             _projection_case(rng, 2, 2, 4, "2 features to 4"),
             _projection_case(rng, 3, 3, 3, "as many features out as in (a projection all the same)"),
             _projection_case(rng, 3, 4, 2, "all inputs negative", sign="negative"),
             _projection_case(rng, 4, 3, 5, "inputs of scale 1000", scale=1e3),
             _projection_case(rng, 2, 3, 2, "float32 inputs", dtype=np.float32),
             _projection_case(rng, 16, 6, 4, "the shapes the notebook uses later")]
    return cases + [_projection_case(rng, int(rng.integers(1, 5)), int(rng.integers(2, 6)), int(rng.integers(2, 6)),
                                     "random") for _ in range(12)]


def _projection_hint(message, wrong):
    return Hint(message, lambda i, e, a: is_close(a, wrong(*_parts(i))))


RESIDUAL_PROJECTION_HINTS = tuple(_projection_hint(message, wrong) for message, wrong in PROJECTION_MISTAKES)


@exercise
def check_residual_block_projection(residual_block_projection) -> bool:
    """``residual_block_projection(x, w1, w2, w_proj) -> relu(relu(x @ w1) @ w2 + x @ w_proj)``."""
    return check_function(residual_block_projection, _reference_projection, _projection_cases(),
                          "Exercise 8", hints=RESIDUAL_PROJECTION_HINTS,
                          success="Your block can change the number of features, as the first block of a ResNet "
                                  "stage changes the number of maps.", rtol=RTOL, atol=ATOL)


__all__ = ["check_batch_norm_backward", "check_batch_norm_forward", "check_residual_block_projection"]
