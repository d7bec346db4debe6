"""Checkers for the exercises of 04_losses.

The data of each exercise is a constant here, so the notebook, the checker and its test read
the same numbers; every checker prints a verdict and returns True or False (see ``core.verdict``).
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises.answers import as_number, as_numbers, expect_by_hand, is_close
from cnnlib.exercises.core import exercise, verdict
from cnnlib.exercises.functions import Case, Hint, check_function
from cnnlib.numpy_nn.loss import cross_entropy_backward, cross_entropy_forward, softmax
from cnnlib.numpy_nn.loss import smooth_l1_loss_backward, smooth_l1_loss_forward

# Worked by hand: a wrong answer is recognized, and a right one accepted, within 1%.
BY_HAND = 1e-2

# Exercise 1: softmax cross-entropy of one example.
LOGITS_1 = np.array([2.0, -1.0, 0.5, 0.0])
TARGET_1 = 2


def cross_entropy_1() -> float:
    """The expected answer of exercise 1: log(sum(exp(s))) - s[t], written the stable way."""
    m = LOGITS_1.max()
    return float(m + np.log(np.exp(LOGITS_1 - m).sum()) - LOGITS_1[TARGET_1])


# Exercise 2: the lecture's multiclass hinge and PyTorch's MultiMarginLoss on one example.
SCORES_2 = np.array([1.5, 2.0, 0.3, 1.8])
TARGET_2 = 0
HINGE_2 = (1.5, 0.7)  # lecture: max(0, 1 + 2.0 - 1.5); PyTorch: (1.5 + 0 + 1.3) / 4

# Exercise 3: the constant that best fits data with an outlier, under L1 and under L2.
DATA_3 = np.array([1.0, 2.0, 4.0, 5.0, 38.0])
ESTIMATES_3 = (4.0, 10.0)  # (median, mean)


def _check_cross_entropy(answer) -> None:
    a = as_number(answer, "your loss")
    p = np.exp(LOGITS_1 - LOGITS_1.max())
    p /= p.sum()
    near = lambda v: np.isclose(a, v, rtol=BY_HAND, atol=0)  # noqa: E731
    if near(-np.log(p[TARGET_1]) / np.log(10)) or near(-np.log2(p[TARGET_1])):
        raise AssertionError("use the natural logarithm (np.log), as PyTorch does")
    if near(p[TARGET_1]) or near(np.log(p[TARGET_1])):
        raise AssertionError("the loss is MINUS the log of the probability of the true class")
    expect_by_hand(a, cross_entropy_1(), name="your loss", rtol=BY_HAND)


@exercise
def check_cross_entropy(answer) -> bool:
    """Exercise 1: ``answer`` is -log softmax(LOGITS_1)[TARGET_1] (a float)."""
    return verdict(answer, _check_cross_entropy, "Exercise 1",
                   f"-log of the softmax probability of class {TARGET_1}.")


def _check_multiclass_hinge(answer) -> None:
    lecture, torch_form = as_numbers(answer, (2,), "your answer",
        ask="give two numbers: (the lecture's loss, PyTorch's MultiMarginLoss)")
    near = lambda a, v: np.isclose(a, v, rtol=BY_HAND, atol=0)  # noqa: E731
    if near(lecture, HINGE_2[1]) and near(torch_form, HINGE_2[0]):
        raise AssertionError("the two are swapped: the lecture takes the max, PyTorch sums and divides by C")
    if near(torch_form, 4 * HINGE_2[1]) or near(torch_form, 4 * HINGE_2[1] / 3):
        raise AssertionError("PyTorch divides the sum by C = 4, the number of classes (all of them)")
    expect_by_hand(lecture, HINGE_2[0], name="the lecture's loss", rtol=BY_HAND)
    expect_by_hand(torch_form, HINGE_2[1], name="PyTorch's MultiMarginLoss", rtol=BY_HAND)


@exercise
def check_multiclass_hinge(answer) -> bool:
    """Exercise 2: ``answer`` = (lecture's multiclass hinge, PyTorch's MultiMarginLoss) for SCORES_2, TARGET_2."""
    return verdict(answer, _check_multiclass_hinge, "Exercise 2",
                   "Two classes violate the margin here, so the max and the sum/C differ.")


def _check_outlier_estimates(answer) -> None:
    l1, l2 = as_numbers(answer, (2,), "your answer",
        ask="give two numbers: (the L1 estimate, the L2 estimate)")
    if np.isclose(l1, ESTIMATES_3[1], rtol=BY_HAND) and np.isclose(l2, ESTIMATES_3[0], rtol=BY_HAND):
        raise AssertionError("the two are swapped: which one does the outlier drag along?")
    expect_by_hand(l1, ESTIMATES_3[0], name="the L1 estimate (minimizer of the sum of |y_i - c|)", rtol=BY_HAND)
    expect_by_hand(l2, ESTIMATES_3[1], name="the L2 estimate (minimizer of the sum of (y_i - c)^2)", rtol=BY_HAND)


@exercise
def check_outlier_estimates(answer) -> bool:
    """Exercise 3: ``answer`` = (constant minimizing the L1 loss, constant minimizing the L2 loss) on DATA_3."""
    return verdict(answer, _check_outlier_estimates, "Exercise 3",
                   "The median ignores how far the outlier is; the mean is dragged toward it.")


# -- function exercises: softmax cross-entropy with its gradient, smooth L1 with its gradient ------
def _ce_cases() -> list[Case]:
    rng = np.random.default_rng(1341)
    cases = [Case({"logits": np.array([[2.0, -1.0]]), "labels": np.array([0])}, "one example, two classes"),
             Case({"logits": np.array([[1.0, 0.0], [0.5, 2.0]]), "labels": np.array([1, 1])}, "two examples"),
             Case({"logits": np.array([[1e4, -1e4, 0.0], [0.0, 1e4, -1e4]]), "labels": np.array([1, 0])},
                  "logits of +-1e4, where a naive exp overflows")]
    for _ in range(20):
        n, c = int(rng.integers(1, 5)), int(rng.integers(2, 6))
        cases.append(Case({"logits": np.round(rng.normal(0.0, 2.0, size=(n, c)), 1),
                           "labels": rng.integers(0, c, size=n)}, "random"))
    return cases


def _reference_ce(logits, labels):
    loss, cache = cross_entropy_forward(logits, labels)
    return loss, cross_entropy_backward(1.0, cache)


def _ce_parts(i):
    logits, labels = i["logits"], i["labels"]
    n = len(labels)
    onehot = np.eye(logits.shape[1])[labels]
    losses = cross_entropy_forward(logits, labels, reduction="none")[0]
    return n, onehot, losses, softmax(logits) - onehot


def _finite(a) -> bool:
    try:
        return bool(np.all(np.isfinite(as_numbers(a[0]))) and np.all(np.isfinite(as_numbers(a[1]))))
    except AssertionError:
        return False


def _ce_hint(loss_of, grad_of):
    def applies(i, e, a):
        n, onehot, losses, g = _ce_parts(i)
        return is_close(a[0], loss_of(n, losses)) and is_close(a[1], grad_of(n, g))
    return applies


CE_HINTS = (
    Hint("unstable for large logits: exp overflows; subtract each row's largest logit before exp "
         "(softmax does not change), then take the log directly",
         lambda i, e, a: np.abs(i["logits"]).max() > 700 and not _finite(a)),
    Hint("missing 1/N: the loss is the MEAN over the batch, and so its gradient is divided by N too",
         _ce_hint(lambda n, l: l.sum(), lambda n, g: g)),
    Hint("the gradient is divided by N as the loss is: d(mean)/d logits = (softmax - onehot) / N",
         _ce_hint(lambda n, l: l.mean(), lambda n, g: g)),
    Hint("forgot the minus: the loss is MINUS the log of the true class's probability (it is never negative)",
         lambda i, e, a: not is_close(a[0], e[0]) and is_close(a[0], -_ce_parts(i)[2].mean())),
    Hint("the gradient's sign: it is softmax(logits) - onehot, which pushes the true class's logit UP "
         "when you step against it", _ce_hint(lambda n, l: l.mean(), lambda n, g: -g / n)),
)


@exercise
def check_softmax_cross_entropy(softmax_cross_entropy) -> bool:
    """``softmax_cross_entropy(logits, labels) -> (loss, grad)``: mean cross-entropy of logits (N, C)
    against class indices (N,), and its gradient with respect to the logits (N, C)."""
    return check_function(softmax_cross_entropy, _reference_ce, _ce_cases(), "Softmax cross-entropy",
                          hints=CE_HINTS, output_names=("loss", "grad"),
                          success="Stable at logits of 1e4, and the gradient is softmax minus one-hot, over N.")


def _smooth_l1_cases() -> list[Case]:
    rng = np.random.default_rng(1342)
    cases = [Case({"pred": np.array([0.5]), "target": np.array([0.0])}, "one residual inside (-1, 1)"),
             Case({"pred": np.array([3.0]), "target": np.array([0.5])}, "one residual beyond 1"),
             Case({"pred": np.array([0.2, -2.0]), "target": np.array([0.0, 1.0])}, "one inside, one beyond"),
             Case({"pred": np.array([1.0, -1.0, 0.0]), "target": np.array([0.0, 0.0, 0.0])},
                  "residuals exactly at -1, 0 and 1")]
    for _ in range(20):
        shape = tuple(int(s) for s in rng.integers(1, 5, size=rng.integers(1, 3)))
        cases.append(Case({"pred": np.round(rng.normal(0.0, 2.0, size=shape), 1),
                           "target": np.round(rng.normal(0.0, 1.0, size=shape), 1)}, "random"))
    return cases


def _reference_smooth_l1(pred, target):
    loss, cache = smooth_l1_loss_forward(pred, target)
    return loss, smooth_l1_loss_backward(1.0, cache)


def _sl1_hint(values, slopes, mean=True):
    def applies(i, e, a):
        d = i["pred"] - i["target"]
        n = d.size if mean else 1
        return is_close(a[0], values(d).sum() / n) and is_close(a[1], slopes(d) / n)
    return applies


_IN = lambda d: np.abs(d) < 1  # noqa: E731
SMOOTH_L1_HINTS = (
    Hint("missing 1/N: the loss is the MEAN over all elements, and its gradient is divided by N too",
         _sl1_hint(lambda d: np.where(_IN(d), 0.5 * d * d, np.abs(d) - 0.5), lambda d: np.where(_IN(d), d, np.sign(d)),
                   mean=False)),
    Hint("inside (-1, 1) the loss is 0.5 * x**2, with the 0.5 (so it meets |x| - 0.5 smoothly at |x| = 1)",
         lambda i, e, a: not is_close(a[0], e[0]) and is_close(a[0], np.where(_IN(i["pred"] - i["target"]), (i["pred"] - i["target"]) ** 2,
                                                 np.abs(i["pred"] - i["target"]) - 0.5).mean())),
    Hint("beyond |x| = 1 the loss is |x| - 0.5, not |x| (it must meet 0.5 * x**2 at |x| = 1)",
         lambda i, e, a: not is_close(a[0], e[0]) and is_close(a[0], np.where(_IN(i["pred"] - i["target"]), 0.5 * (i["pred"] - i["target"]) ** 2,
                                                 np.abs(i["pred"] - i["target"])).mean())),
    Hint("the gradient is with respect to pred: x = pred - target, so d loss / d pred has x's sign",
         _sl1_hint(lambda d: np.where(_IN(d), 0.5 * d * d, np.abs(d) - 0.5), lambda d: -np.where(_IN(d), d, np.sign(d)))),
    Hint("the gradient is bounded: beyond |x| = 1 it is sign(x), since |x| - 0.5 has slope +-1",
         _sl1_hint(lambda d: np.where(_IN(d), 0.5 * d * d, np.abs(d) - 0.5), lambda d: d)),
)


@exercise
def check_smooth_l1(smooth_l1) -> bool:
    """``smooth_l1(pred, target) -> (loss, grad)``: the mean smooth L1 loss (beta = 1) of pred - target
    and its gradient with respect to pred (pred's shape)."""
    return check_function(smooth_l1, _reference_smooth_l1, _smooth_l1_cases(), "Smooth L1",
                          hints=SMOOTH_L1_HINTS, output_names=("loss", "grad"),
                          success="Quadratic near the target, linear beyond: a bounded pull.")
