"""Exercises of 04_losses: the stored answers agree with PyTorch, and the checkers judge right and wrong."""
import math

import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.exercises import nb04


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
    assert "Exercise 1: correct! 1.8423" in capsys.readouterr().out
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
