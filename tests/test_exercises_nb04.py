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
    assert nb04.check_multiclass_hinge((1.5, 0.7)) is True
    assert nb04.check_multiclass_hinge((0.7, 1.5)) is False
    assert "swapped" in capsys.readouterr().out
    assert nb04.check_multiclass_hinge((1.5, 2.8)) is False
    assert "divides the sum by C = 4" in capsys.readouterr().out
    assert nb04.check_multiclass_hinge((1.5, 0.35)) is False
    assert "PyTorch's MultiMarginLoss" in capsys.readouterr().out
    assert nb04.check_multiclass_hinge(1.5) is False
    assert "two numbers" in capsys.readouterr().out


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


CE_MUTATIONS = [
    (lambda y, t: ce(y, t, stable=False), "unstable for large logits"),
    (lambda y, t: ce(y, t, scale=1, grad_scale=1), "missing 1/N"),
    (lambda y, t: ce(y, t, grad_scale=1), "the gradient is divided by N as the loss is"),
    (lambda y, t: ce(y, t, sign=-1.0), "forgot the minus"),
    (lambda y, t: ce(y, t, grad_sign=-1.0), "the gradient's sign"),
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


def test_softmax_cross_entropy_accepts_the_reference_and_torch(capsys):
    assert nb04.check_softmax_cross_entropy(ce) is True
    with allow_shortcuts():  # parity of the checker's reference with torch
        assert nb04.check_softmax_cross_entropy(torch_ce) is True
    assert capsys.readouterr().out.count("Softmax cross-entropy: correct on all 23 cases!") == 2


def smooth_l1(pred, target, half=0.5, offset=0.5, mean=True, grad_sign=1.0, bounded=True):
    d = pred - target
    inside = np.abs(d) < 1
    n = d.size if mean else 1
    loss = np.where(inside, half * d * d, np.abs(d) - offset).sum() / n
    grad = grad_sign * (np.where(inside, d, np.sign(d)) if bounded else d) / n
    return loss, grad


SMOOTH_L1_MUTATIONS = [
    (lambda p, t: smooth_l1(p, t, mean=False), "missing 1/N"),
    (lambda p, t: smooth_l1(p, t, half=1.0), "with the 0.5"),
    (lambda p, t: smooth_l1(p, t, offset=0.0), "not |x|"),
    (lambda p, t: smooth_l1(p, t, grad_sign=-1.0), "has x's sign"),
    (lambda p, t: smooth_l1(p, t, bounded=False), "the gradient is bounded"),
]


@pytest.mark.parametrize("wrong, hint", SMOOTH_L1_MUTATIONS)
def test_smooth_l1_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb04.check_smooth_l1, wrong, hint, SMOOTH_L1_MUTATIONS, capsys)


def torch_smooth_l1(pred, target):
    p = torch.tensor(pred, requires_grad=True)
    loss = torch.nn.functional.smooth_l1_loss(p, torch.as_tensor(target))
    loss.backward()
    return loss.item(), p.grad


def test_smooth_l1_accepts_the_reference_and_torch(capsys):
    assert nb04.check_smooth_l1(smooth_l1) is True
    with allow_shortcuts():  # parity of the checker's reference with torch
        assert nb04.check_smooth_l1(torch_smooth_l1) is True
    assert capsys.readouterr().out.count("Smooth L1: correct on all 24 cases!") == 2


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
