"""Checkers for the exercises of 04_losses.

The data of each exercise is a constant here, so the notebook, the checker and its test read
the same numbers; every checker prints a verdict and returns True or False (see ``core.verdict``).
"""
from __future__ import annotations

import numpy as np

from cnnlib.exercises import references
from cnnlib.exercises.answers import as_number, as_numbers, expect_by_hand, is_close
from cnnlib.exercises.core import exercise, verdict
from cnnlib.exercises.functions import Case, Hint, check_function
from cnnlib.numpy_nn.loss import cross_entropy_forward, softmax
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
SCORES_2 = np.array([1.1, 2.0, -0.4, 1.7])
TARGET_2 = 0
HINGE_2 = (1.9, 0.875)  # lecture: max(0, 1 + 2.0 - 1.1); PyTorch: (1.9 + 0 + 1.6) / 4

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
    if near(torch_form, HINGE_2[0] / 4):
        raise AssertionError("PyTorch sums over EVERY wrong class inside the margin, not only the largest")
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
    big = np.array([[1e4, -1e4, 0.0], [0.0, 1e4, -1e4]])
    cases = [Case({"logits": np.array([[2.0, -1.0]]), "labels": np.array([0])}, "a batch of one, two classes"),
             Case({"logits": np.array([[1.0, 0.0], [0.5, 2.0]]), "labels": np.array([1, 1])}, "two examples"),
             Case({"logits": big, "labels": np.array([1, 0])}, "logits of +-1e4, where a naive exp overflows"),
             Case({"logits": big.astype(np.float32), "labels": np.array([0, 2])},
                  "logits of +-1e4 in float32, where exp overflows above 88.7"),
             Case({"logits": np.array([[1000.0, 998.0, 999.5], [0.002, -0.001, 0.0]]), "labels": np.array([2, 0])},
                  "rows of very different scale in one batch"),
             Case({"logits": np.array([[3.0, 3.0, -1.0], [0.5, 0.5, 0.5], [-2.0, 1.0, 1.0]]),
                   "labels": np.array([1, 0, 0])}, "ties for the largest logit"),
             Case({"logits": np.array([[-3.0, -1.0, -2.0, -4.0], [-0.5, -0.2, -0.9, -0.1]]),
                   "labels": np.array([3, 1])}, "all-negative logits"),
             Case({"logits": np.round(rng.normal(0.0, 2.0, size=(4, 5)), 1), "labels": np.array([0, 3, 1, 4])},
                  "the geometry of section 1's batch, (4, 5)"),
             Case({"logits": np.round(rng.normal(0.0, 2.0, size=(6, 3)), 1), "labels": np.array([0, 0, 1, 1, 2, 2])},
                  "the geometry of the classifier trained after the exercise, (6, 3)"),
             Case({"logits": np.round(rng.normal(0.0, 2.0, size=(64, 10)), 1), "labels": rng.integers(0, 10, size=64)},
                  "07's LeNet-5: a batch of 64, 10 classes")]
    for _ in range(20):
        n, c = int(rng.integers(1, 5)), int(rng.integers(2, 6))
        cases.append(Case({"logits": np.round(rng.normal(0.0, 2.0, size=(n, c)), 1),
                           "labels": rng.integers(0, c, size=n)}, "random"))
    return cases


def _ce_parts(i):
    logits, labels = i["logits"], i["labels"]
    n = len(labels)
    onehot = np.eye(logits.shape[1])[labels]
    losses = cross_entropy_forward(logits, labels, reduction="none")[0]
    return n, onehot, losses, softmax(logits) - onehot


def _finite(a) -> bool:
    """Both results are finite numbers (nan and inf are not; neither is a result that is not numbers)."""
    try:
        return bool(np.all(np.isfinite(np.asarray(a[0], dtype=np.float64)))
                    and np.all(np.isfinite(np.asarray(a[1], dtype=np.float64))))
    except (TypeError, ValueError, IndexError):
        return False


def _ce_hint(loss_of, grad_of):
    def applies(i, e, a):
        n, onehot, losses, g = _ce_parts(i)
        return is_close(a[0], loss_of(n, losses)) and is_close(a[1], grad_of(n, g))
    return applies


def _rows_apart(i) -> bool:
    """The rows' largest logits are so far apart that exp(row - the batch's largest) is 0 in a whole row."""
    top = np.asarray(i["logits"], dtype=np.float64).max(axis=1)
    return top.max() - top.min() > (80 if i["logits"].dtype == np.float32 else 700)


def _batch_softmax(i):
    """Softmax normalized over the whole batch (every entry divided by one sum), a common slip."""
    shifted = i["logits"] - i["logits"].max(axis=1, keepdims=True)
    e = np.exp(shifted.astype(np.float64))
    return e / e.sum()


def _argmax_onehot(i):
    logits = np.asarray(i["logits"], dtype=np.float64)
    return (logits == logits.max(axis=1, keepdims=True)).astype(np.float64)


CE_HINTS = (
    Hint("subtract each row's OWN largest logit: shifted by the batch's largest, a row far below it gets "
         "exp(...) = 0 everywhere and log(0) = -inf",
         lambda i, e, a: _rows_apart(i) and not _finite(a)),
    Hint("unstable for large logits: exp overflows; subtract each row's largest logit before exp "
         "(softmax does not change), then take the log directly",
         lambda i, e, a: np.abs(i["logits"]).max() > 80 and not _finite(a)),
    Hint("the loss is one number, the MEAN of the per-example losses: average them over the batch",
         lambda i, e, a: is_close(a[0], _ce_parts(i)[2])),
    Hint("missing 1/N: the loss is the MEAN over the batch, and so its gradient is divided by N too",
         _ce_hint(lambda n, l: l.sum(), lambda n, g: g)),
    Hint("the gradient is divided by N as the loss is: d(mean)/d logits = (softmax - onehot) / N",
         _ce_hint(lambda n, l: l.mean(), lambda n, g: g)),
    Hint("forgot the minus: the loss is MINUS the log of the true class's probability (it is never negative)",
         lambda i, e, a: not is_close(a[0], e[0]) and is_close(a[0], -_ce_parts(i)[2].mean())),
    Hint("the gradient's sign: it is softmax(logits) - onehot, which pushes the true class's logit UP "
         "when you step against it", _ce_hint(lambda n, l: l.mean(), lambda n, g: -g / n)),
    Hint("the gradient is softmax MINUS the one-hot of the true class: subtract 1 at labels[n] in each row",
         lambda i, e, a: not is_close(a[1], e[1]) and is_close(a[1], softmax(i["logits"]) / len(i["labels"]))),
    Hint("the one-hot marks the TRUE class labels[n], not the largest logit",
         lambda i, e, a: not is_close(a[1], e[1])
         and is_close(a[1], (softmax(i["logits"]) - _argmax_onehot(i)) / len(i["labels"]))),
    Hint("softmax normalizes each row on its own: sum over the classes (axis=1, keepdims=True), not the whole batch",
         lambda i, e, a: not is_close(a[1], e[1])
         and is_close(a[1], (_batch_softmax(i) - _ce_parts(i)[1]) / len(i["labels"]))),
)


@exercise
def check_softmax_cross_entropy(softmax_cross_entropy) -> bool:
    """``softmax_cross_entropy(logits, labels) -> (loss, grad)``: mean cross-entropy of logits (N, C)
    against class indices (N,), and its gradient with respect to the logits (N, C)."""
    return check_function(softmax_cross_entropy, references.softmax_cross_entropy, _ce_cases(), "Softmax cross-entropy",
                          hints=CE_HINTS, output_names=("loss", "grad"),
                          success="Stable at logits of 1e4, and the gradient is softmax minus one-hot, over N.")


def _smooth_l1_cases() -> list[Case]:
    rng = np.random.default_rng(1342)
    cases = [Case({"pred": np.array([0.5]), "target": np.array([0.0])}, "one residual inside (-1, 1)"),
             Case({"pred": np.array([3.0]), "target": np.array([0.5])}, "one residual beyond 1"),
             Case({"pred": np.array([0.2, -2.0]), "target": np.array([0.0, 1.0])}, "one inside, one beyond"),
             Case({"pred": np.array([1.0, -1.0, 0.0]), "target": np.array([0.0, 0.0, 0.0])},
                  "residuals exactly at -1, 0 and 1"),
             Case({"pred": np.array([-3.0, -0.5, -1.5]), "target": np.array([0.0, 0.0, 1.0])}, "all residuals negative"),
             Case({"pred": np.array([[0.5, 2.0], [-3.0, 0.2]]), "target": np.zeros((2, 2))}, "two rows of two"),
             Case({"pred": np.array([[0.5, 3.0, -2.0], [0.1, -0.4, 1e6]]), "target": np.zeros((2, 3))},
                  "a batch of two rows, one residual of 1e6"),
             Case({"pred": np.array([[2.5], [-0.25]], dtype=np.float32), "target": np.zeros((2, 1), np.float32)},
                  "float32"),
             Case({"pred": np.array([[[0.3, -4.0], [2.0, 0.0], [0.7, -0.2]]]), "target": np.zeros((1, 3, 2))},
                  "a batch of one, non-square")]
    for _ in range(20):   # a vector, or a matrix with at least two rows (one row hides a mean over rows)
        shape = (int(rng.integers(1, 9)),) if rng.random() < 0.5 else tuple(int(s) for s in rng.integers(2, 5, size=2))
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
def _sl1(d):
    return np.where(_IN(d), 0.5 * d * d, np.abs(d) - 0.5)


def _sl1_slope(d):
    return np.where(_IN(d), d, np.sign(d))


SMOOTH_L1_HINTS = (
    Hint("missing 1/N: the loss is the MEAN over all elements, and its gradient is divided by N too",
         _sl1_hint(_sl1, _sl1_slope, mean=False)),
    Hint("the gradient is divided by N as the loss is: d(mean)/d pred = slope / N, N = pred.size",
         lambda i, e, a: not is_close(a[1], e[1]) and is_close(a[1], _sl1_slope(i["pred"] - i["target"]))),
    Hint("the mean is over ALL elements (pred.size), not over the first axis only",
         lambda i, e, a: np.ndim(i["pred"]) > 1 and i["pred"].size != len(i["pred"]) and not is_close(a[0], e[0])
         and is_close(a[0], _sl1(i["pred"] - i["target"]).sum() / len(i["pred"]))),
    Hint("inside (-1, 1) the loss is 0.5 * x**2, with the 0.5 (so it meets |x| - 0.5 smoothly at |x| = 1)",
         lambda i, e, a: not is_close(a[0], e[0]) and is_close(a[0], np.where(_IN(i["pred"] - i["target"]), (i["pred"] - i["target"]) ** 2,
                                                 np.abs(i["pred"] - i["target"]) - 0.5).mean())),
    Hint("beyond |x| = 1 the loss is |x| - 0.5, not |x| (it must meet 0.5 * x**2 at |x| = 1)",
         lambda i, e, a: not is_close(a[0], e[0]) and is_close(a[0], np.where(_IN(i["pred"] - i["target"]), 0.5 * (i["pred"] - i["target"]) ** 2,
                                                 np.abs(i["pred"] - i["target"])).mean())),
    Hint("the gradient is with respect to pred: x = pred - target, so d loss / d pred has x's sign",
         _sl1_hint(_sl1, lambda d: -_sl1_slope(d))),
    Hint("the gradient is bounded: beyond |x| = 1 it is sign(x), since |x| - 0.5 has slope +-1",
         _sl1_hint(_sl1, lambda d: d)),
)


@exercise
def check_smooth_l1(smooth_l1) -> bool:
    """``smooth_l1(pred, target) -> (loss, grad)``: the mean smooth L1 loss (beta = 1) of pred - target
    and its gradient with respect to pred (pred's shape)."""
    return check_function(smooth_l1, _reference_smooth_l1, _smooth_l1_cases(), "Smooth L1",
                          hints=SMOOTH_L1_HINTS, output_names=("loss", "grad"),
                          success="Quadratic near the target, linear beyond: a bounded pull.")
