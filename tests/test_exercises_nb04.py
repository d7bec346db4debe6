"""Exercises of 04_losses: the stored answers agree with PyTorch, and the checkers judge right and wrong."""
import math

import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.exercises import nb04
from cnnlib.exercises.functions import allow_shortcuts


def test_answers_agree_with_pytorch():
    s = torch.tensor(nb04.LOGITS_1)[None]
    expected = F.cross_entropy(s, torch.tensor([nb04.TARGET_1])).item()
    assert math.isclose(nb04.cross_entropy_1(), expected, rel_tol=1e-12)
    assert math.isclose(nb04.cross_entropy_1(), 1.8423496, rel_tol=1e-6)
    scores, target = torch.tensor(nb04.SCORES_2)[None], torch.tensor([nb04.TARGET_2])
    assert math.isclose(F.multi_margin_loss(scores, target).item(), nb04.HINGE_2[1], rel_tol=1e-12)
    wrong = np.delete(nb04.SCORES_2, nb04.TARGET_2)
    assert math.isclose(max(0.0, 1 + wrong.max() - nb04.SCORES_2[nb04.TARGET_2]), nb04.HINGE_2[0])
    assert nb04.ESTIMATES_3 == (np.median(nb04.DATA_3), np.mean(nb04.DATA_3))


def test_check_cross_entropy(capsys):
    assert nb04.check_cross_entropy(1.8423) is True
    out = capsys.readouterr().out
    assert out.startswith("Exercise 1: correct!") and "1.84" not in out  # the answer stays hidden
    p = float(torch.softmax(torch.tensor(nb04.LOGITS_1), 0)[nb04.TARGET_1])
    assert nb04.check_cross_entropy(-math.log2(p)) is False
    assert "natural logarithm" in capsys.readouterr().out
    assert nb04.check_cross_entropy(math.log(p)) is False
    assert "MINUS the log" in capsys.readouterr().out
    assert nb04.check_cross_entropy(2.0) is False


def test_check_multiclass_hinge(capsys):
    assert nb04.check_multiclass_hinge((1.9, 0.875)) is True
    assert nb04.check_multiclass_hinge((0.875, 1.9)) is False
    assert "swapped" in capsys.readouterr().out
    assert nb04.check_multiclass_hinge((1.9, 3.5)) is False
    assert "divides the sum by C = 4" in capsys.readouterr().out
    assert nb04.check_multiclass_hinge((1.9, 1.9 / 4)) is False         # only the worst rival, over C
    out = capsys.readouterr().out
    assert "EVERY wrong class" in out and "divides the sum" not in out
    assert nb04.check_multiclass_hinge((1.9, 0.4)) is False
    out = capsys.readouterr().out
    assert "PyTorch's MultiMarginLoss" in out and "EVERY wrong class" not in out and "swapped" not in out
    assert nb04.check_multiclass_hinge(1.9) is False
    assert "two numbers" in capsys.readouterr().out


def test_exercise_2_has_two_violating_classes_and_answers_not_in_its_data():
    terms = np.maximum(0, 1 + np.delete(nb04.SCORES_2, nb04.TARGET_2) - nb04.SCORES_2[nb04.TARGET_2])
    assert (terms > 0).sum() == 2                      # so the max and the sum / C differ by more than 1/C
    assert not set(nb04.HINGE_2) & set(nb04.SCORES_2.tolist())


def test_check_outlier_estimates(capsys):
    assert nb04.check_outlier_estimates((4, 10)) is True
    assert nb04.check_outlier_estimates((10, 4)) is False
    assert "swapped" in capsys.readouterr().out
    assert nb04.check_outlier_estimates((4, 12.5)) is False
    assert "L2 estimate" in capsys.readouterr().out


# -- function exercises: each plausible mistake rejected for its own reason, the reference accepted --
import pytest  # noqa: E402
import torch  # noqa: E402

from cnnlib.exercises import core  # noqa: E402
from exercise_notebooks import rejected_for  # noqa: E402


def ce(logits, labels, scale=None, sign=1.0, stable=True, grad_sign=1.0, grad_scale=None):
    n = len(labels)
    shifted = logits - logits.max(axis=1, keepdims=True) if stable else logits
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # as a notebook would: warn, go on
        e = np.exp(shifted)
        p = e / e.sum(axis=1, keepdims=True)
        log_p = shifted - np.log(e.sum(axis=1, keepdims=True)) if stable else np.log(p)
    rows = np.arange(n)
    onehot = np.eye(logits.shape[1])[labels]
    loss = sign * -log_p[rows, labels].sum() / (n if scale is None else scale)
    grad = grad_sign * (p - onehot) / (n if grad_scale is None else grad_scale)
    return loss, grad


def ce_global_max(logits, labels):
    shifted = logits - logits.max()                    # the batch's largest logit, not each row's
    n = len(labels)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.exp(shifted)
        log_p = shifted - np.log(e.sum(axis=1, keepdims=True))     # log-softmax, but of the wrong shift
        p = e / e.sum(axis=1, keepdims=True)
    return -log_p[np.arange(n), labels].mean(), (p - np.eye(logits.shape[1])[labels]) / n


def ce_per_example(logits, labels):
    loss, grad = ce(logits, labels)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(labels)), labels], grad


def ce_grad_with(onehot_of, batch_sum=False):
    def wrong(logits, labels):
        loss, _ = ce(logits, labels)
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        p = e / (e.sum() if batch_sum else e.sum(axis=1, keepdims=True))
        return loss, (p - onehot_of(logits, labels)) / len(labels)
    return wrong


def ce_in_place(logits, labels):
    logits -= logits.max(axis=1, keepdims=True)
    return ce(logits, labels)


CE_MUTATIONS = [
    (lambda y, t: ce(y, t, stable=False), "unstable for large logits"),
    (lambda y, t: ce(y, t, scale=1, grad_scale=1), "missing 1/N"),
    (lambda y, t: ce(y, t, grad_scale=1), "the gradient is divided by N as the loss is"),
    (lambda y, t: ce(y, t, sign=-1.0), "forgot the minus"),
    (lambda y, t: ce(y, t, grad_sign=-1.0), "the gradient's sign"),
    (ce_global_max, "subtract each row's OWN largest logit"),
    (ce_per_example, "the MEAN of the per-example losses"),
    (ce_grad_with(lambda y, t: 0.0), "subtract 1 at labels[n]"),
    (ce_grad_with(lambda y, t: (y == y.max(axis=1, keepdims=True)).astype(float)), "not the largest logit"),
    (ce_grad_with(lambda y, t: np.eye(y.shape[1])[t], batch_sum=True), "not the whole batch"),
    (ce_in_place, "changed its input logits in place"),
]


@pytest.mark.parametrize("wrong, hint", CE_MUTATIONS)
def test_softmax_cross_entropy_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb04.check_softmax_cross_entropy, wrong, hint, CE_MUTATIONS, capsys)
    assert "loss = " in out and "grad = " in out


def torch_ce(logits, labels):
    y = torch.tensor(logits, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(y, torch.as_tensor(labels))
    loss.backward()
    return loss.item(), y.grad


def ce_loops(logits, labels):
    n, c = logits.shape
    loss, grad = 0.0, np.zeros((n, c))
    for row in range(n):
        top = max(logits[row])
        total = sum(math.exp(v - top) for v in logits[row])
        for k in range(c):
            grad[row, k] = math.exp(logits[row, k] - top) / total / n
        grad[row, labels[row]] -= 1 / n
        loss += (math.log(total) - (logits[row, labels[row]] - top)) / n
    return loss, grad


@pytest.mark.parametrize("right", [ce, ce_loops, torch_ce], ids=["vectorized", "loops", "torch"])
def test_softmax_cross_entropy_accepts_right_answers(right, capsys):
    with allow_shortcuts():  # torch styles: parity of the reference with torch (a learner's torch call is refused)
        assert nb04.check_softmax_cross_entropy(right) is True
    assert "Softmax cross-entropy: correct on all 30 cases!" in capsys.readouterr().out


def test_softmax_cross_entropy_accepts_a_float32_answer(capsys):
    assert nb04.check_softmax_cross_entropy(lambda y, t: tuple(np.float32(r) if np.ndim(r) == 0 else r.astype(np.float32)
                                                               for r in ce(y.astype(np.float32), t))) is True


def test_softmax_cross_entropy_cases_cover_the_mistakes():
    from cnnlib.exercises.functions import CASE_SINK
    sink = []
    token = CASE_SINK.set(sink)
    try:
        nb04.check_softmax_cross_entropy(ce)
    finally:
        CASE_SINK.reset(token)
    logits = [c.inputs["logits"] for c in sink]
    assert any(np.abs(y).max() >= 1e4 and y.dtype == np.float64 for y in logits)
    assert any(np.abs(y).max() >= 1e4 and y.dtype == np.float32 for y in logits)
    assert any(np.ptp(y.max(axis=1)) > 700 for y in logits)                       # rows of very different scale
    assert any(len(y) == 1 for y in logits)
    assert any(np.any(np.sum(y == y.max(axis=1, keepdims=True), axis=1) > 1) for y in logits)   # ties
    assert any(np.all(y < 0) for y in logits)


def smooth_l1(pred, target, half=0.5, offset=0.5, mean=True, grad_sign=1.0, bounded=True, grad_mean=None, n_of=None):
    d = pred - target
    inside = np.abs(d) < 1
    n = (d.size if n_of is None else n_of(d)) if mean else 1
    loss = np.where(inside, half * d * d, np.abs(d) - offset).sum() / n
    gn = n if grad_mean is None else grad_mean
    grad = grad_sign * (np.where(inside, d, np.sign(d)) if bounded else d) / gn
    return loss, grad


def smooth_l1_in_place(pred, target):
    pred -= target
    return smooth_l1(pred, np.zeros_like(pred))


SMOOTH_L1_MUTATIONS = [
    (lambda p, t: smooth_l1(p, t, mean=False), "missing 1/N"),
    (lambda p, t: smooth_l1(p, t, half=1.0), "with the 0.5"),
    (lambda p, t: smooth_l1(p, t, offset=0.0), "not |x|"),
    (lambda p, t: smooth_l1(p, t, grad_sign=-1.0), "has x's sign"),
    (lambda p, t: smooth_l1(p, t, bounded=False), "the gradient is bounded"),
    (lambda p, t: smooth_l1(p, t, grad_mean=1), "d(mean)/d pred = slope / N"),
    (lambda p, t: smooth_l1(p, t, n_of=len, grad_mean=None), "not over the first axis only"),
    (smooth_l1_in_place, "changed its input pred in place"),
]


@pytest.mark.parametrize("wrong, hint", SMOOTH_L1_MUTATIONS)
def test_smooth_l1_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    rejected_for(nb04.check_smooth_l1, wrong, hint, SMOOTH_L1_MUTATIONS, capsys)


def torch_smooth_l1(pred, target):
    p = torch.tensor(pred, requires_grad=True)
    loss = torch.nn.functional.smooth_l1_loss(p, torch.as_tensor(target))
    loss.backward()
    return loss.item(), p.grad


def smooth_l1_loops(pred, target):
    n = pred.size
    loss, grad = 0.0, np.zeros(pred.shape)
    for index in np.ndindex(pred.shape):
        x = pred[index] - target[index]
        loss += (0.5 * x * x if abs(x) < 1 else abs(x) - 0.5) / n
        grad[index] = (x if abs(x) < 1 else np.sign(x)) / n
    return loss, grad


@pytest.mark.parametrize("right", [smooth_l1, smooth_l1_loops, torch_smooth_l1,
                                   lambda p, t: tuple(np.asarray(r, np.float32) for r in smooth_l1(p, t))],
                         ids=["vectorized", "loops", "torch", "float32"])
def test_smooth_l1_accepts_right_answers(right, capsys):
    with allow_shortcuts():  # torch styles: parity of the reference with torch (a learner's torch call is refused)
        assert nb04.check_smooth_l1(right) is True
    assert "Smooth L1: correct on all 29 cases!" in capsys.readouterr().out


def test_function_stubs_are_not_attempted(capsys):
    def softmax_cross_entropy(logits, labels):
        raise NotImplementedError  # your code here

    def smooth_l1(pred, target):
        ...

    assert nb04.check_softmax_cross_entropy(softmax_cross_entropy) is False
    assert nb04.check_smooth_l1(smooth_l1) is False
    assert capsys.readouterr().out.count("not attempted yet") == 2
    assert core.latest("smooth_l1").status == "not attempted"


def test_code_that_raises_is_an_error_with_its_last_line(capsys):
    def softmax_cross_entropy(logits, labels):
        return logits[labels], logits[:, 9]

    assert nb04.check_softmax_cross_entropy(softmax_cross_entropy) is False
    out = capsys.readouterr().out
    assert out.startswith("Softmax cross-entropy: softmax_cross_entropy raised IndexError: index 9 is out of bounds"), out
    assert core.latest("softmax_cross_entropy").status == "error"
