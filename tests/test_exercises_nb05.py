"""Exercises of 05_backpropagation: stored answers agree with PyTorch; the checkers judge right and wrong."""
import numpy as np
import torch

from cnnlib.exercises import nb05


def test_chain_rule_answer_agrees_with_autograd():
    w1 = torch.tensor(nb05.W1_1, requires_grad=True)
    x, w2, t = (torch.tensor(a) for a in (nb05.X_1, nb05.W2_1, nb05.T_1))
    loss = ((w2 @ torch.relu(w1 @ x) - t) ** 2).sum()
    loss.backward()
    assert loss.item() == 4.0
    assert np.array_equal(w1.grad.numpy(), nb05.GRAD_W1_1)


def test_check_chain_rule(capsys):
    assert nb05.check_chain_rule(nb05.GRAD_W1_1.tolist()) is True
    assert "Exercise 1: correct!" in capsys.readouterr().out
    assert nb05.check_chain_rule(None) is False
    assert "not attempted yet" in capsys.readouterr().out
    assert nb05.check_chain_rule(nb05.GRAD_W1_1.T) is False
    assert "one row per hidden unit" in capsys.readouterr().out
    assert nb05.check_chain_rule(nb05.GRAD_W1_1 / 2) is False
    assert "2 (f - t)" in capsys.readouterr().out
    wrong_gate = nb05.GRAD_W1_1.copy()
    wrong_gate[1] = [4.0, 8.0, -4.0]
    assert nb05.check_chain_rule(wrong_gate) is False
    assert "ReLU passes no gradient" in capsys.readouterr().out
    off = nb05.GRAD_W1_1.copy()
    off[0, 2] = 12.0
    assert nb05.check_chain_rule(off) is False
    assert "index (0, 2) (yours is 12)" in capsys.readouterr().out


def test_chain_rule_w2_answer_agrees_with_autograd_and_checker_judges():
    W1 = torch.tensor(nb05.W1_1)
    W2 = torch.tensor(nb05.W2_1, requires_grad=True)
    loss = ((W2 @ torch.relu(W1 @ torch.tensor(nb05.X_1)) - torch.tensor(nb05.T_1)) ** 2).sum()
    loss.backward()
    np.testing.assert_allclose(W2.grad.numpy(), nb05.GRAD_W2_1)
    assert nb05.check_chain_rule_w2(nb05.GRAD_W2_1) is True
    assert nb05.check_chain_rule_w2([4, 0]) is True            # a flat list of the two numbers
    assert nb05.check_chain_rule_w2([[12.0, 4.0]]) is False    # multiplied by W2, not the activations
    assert nb05.check_chain_rule_w2([[2.0, 0.0]]) is False     # forgot the 2 of the square
    assert nb05.check_chain_rule_w2(None) is False
