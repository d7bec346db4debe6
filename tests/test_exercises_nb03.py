"""Exercises of 03_pooling: the stored answers agree with PyTorch, and the checkers judge right and wrong."""
import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.exercises import nb03


def t(a):
    return torch.tensor(a, dtype=torch.float64)[None, None]  # (1, 1, H, W)


def test_answers_agree_with_pytorch():
    assert np.array_equal(F.max_pool2d(t(nb03.SLICE_1), 2, 2)[0, 0].numpy(), nb03.MAX_POOL_1)
    assert np.array_equal(F.avg_pool2d(t(nb03.SLICE_1), 2, 2)[0, 0].numpy(), nb03.AVG_POOL_1)
    h, w, c = nb03.POOL2_INPUT
    out = torch.nn.MaxPool2d(3, 2)(torch.zeros(1, c, h, w))
    assert tuple(out.shape[2:]) + (out.shape[1], 0) == nb03.POOL2_ANSWER
    x = t(nb03.SLICE_3).requires_grad_()
    F.max_pool2d(x, 3, 2).backward(t(nb03.GRAD_OUTPUT_3))
    assert np.array_equal(x.grad[0, 0].numpy(), nb03.GRAD_INPUT_3)
    assert nb03.GRAD_INPUT_3.sum() == nb03.GRAD_OUTPUT_3.sum() == 10


def test_check_max_pool(capsys):
    assert nb03.check_max_pool([[9, 6, 7], [7, 8, 9]]) is True
    assert "Exercise 1: correct!" in capsys.readouterr().out
    assert nb03.check_max_pool(nb03.AVG_POOL_1) is False
    assert "window averages" in capsys.readouterr().out
    assert nb03.check_max_pool(nb03.MAX_POOL_1.T) is False
    assert "(2, 3) result" in capsys.readouterr().out
    assert nb03.check_max_pool([[9, 6, 7], [7, 8, 8]]) is False
    assert "index (1, 2) (yours is 8)" in capsys.readouterr().out
    assert nb03.check_max_pool(None) is False
    assert "not attempted yet" in capsys.readouterr().out


def test_check_pool_layer(capsys):
    assert nb03.check_pool_layer((13, 13, 256, 0)) is True
    assert nb03.check_pool_layer((13, 13, 256)) is False
    assert "four numbers" in capsys.readouterr().out
    assert nb03.check_pool_layer((13.5, 13.5, 256, 0)) is False
    assert "height is not 13.5" in capsys.readouterr().out
    assert nb03.check_pool_layer((13, 13, 96, 0)) is False
    assert "depth does not change" in capsys.readouterr().out
    assert nb03.check_pool_layer((13, 13, 256, 9)) is False
    assert "nothing to learn" in capsys.readouterr().out


def test_check_max_pool_gradient(capsys):
    assert nb03.check_max_pool_gradient(nb03.GRAD_INPUT_3.tolist()) is True
    only_last = nb03.GRAD_INPUT_3.copy()
    only_last[1, 2] = 2.0
    assert nb03.check_max_pool_gradient(only_last) is False
    assert "sum of both" in capsys.readouterr().out
    assert nb03.check_max_pool_gradient(np.full((5, 5), 0.4)) is False
    assert "ONE input" in capsys.readouterr().out
    assert nb03.check_max_pool_gradient(np.zeros((2, 2))) is False
    assert "shape of the input slice" in capsys.readouterr().out
