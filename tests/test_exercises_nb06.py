"""Exercises of 06_optimizers: stored answers agree with PyTorch; the checkers judge right and wrong."""
import numpy as np
import torch

from cnnlib.exercises import nb06


def test_adam_moments_agree_with_torch_adam_state():
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.1, betas=nb06.BETAS_2)
    for g in nb06.GRADS_2:
        p.grad = torch.tensor([g])
        opt.step()
    state = opt.state[p]
    m, v = state["exp_avg"].item(), state["exp_avg_sq"].item()
    np.testing.assert_allclose(nb06.RAW_MOMENTS_2, (m, v), rtol=1e-6)
    np.testing.assert_allclose(nb06.MOMENTS_2, (-0.049 / 0.271, 0.005244001 / 0.002997001), rtol=1e-12)
    np.testing.assert_allclose(nb06.MOMENTS_2, (-0.180812, 1.749750), rtol=1e-5)


def test_momentum_answer_agrees_with_torch_sgd():
    p = torch.tensor([nb06.THETA0_3], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=nb06.LR_3, momentum=nb06.MOMENTUM_3)
    thetas = []
    for _ in range(3):
        p.grad = 2 * p.detach()
        opt.step()
        thetas.append(p.item())
    np.testing.assert_allclose(thetas, nb06.THETAS_3, rtol=1e-12)
    np.testing.assert_allclose(nb06.PLAIN_GD_3, [0.8, 0.8 ** 2, 0.8 ** 3])


def test_check_adam_moments(capsys):
    assert nb06.check_adam_moments((-0.18081, 1.74975)) is True
    assert "Exercise 1: correct!" in capsys.readouterr().out
    assert nb06.check_adam_moments(nb06.RAW_MOMENTS_2) is False
    assert "before the bias correction" in capsys.readouterr().out
    assert nb06.check_adam_moments(0.5) is False
    assert "two numbers" in capsys.readouterr().out
    assert nb06.check_adam_moments((-0.049, 1.74975)) is False
    assert "entries are off" in capsys.readouterr().out


def test_check_momentum_steps(capsys):
    assert nb06.check_momentum_steps([0.8, 0.46, 0.062]) is True
    assert "Exercise 2: correct!" in capsys.readouterr().out
    assert nb06.check_momentum_steps(nb06.PLAIN_GD_3) is False
    assert "plain gradient descent" in capsys.readouterr().out
    assert nb06.check_momentum_steps([0.8, 0.46]) is False
    assert "should be 3 numbers" in capsys.readouterr().out
    assert nb06.check_momentum_steps([0.8, 0.46, 0.1]) is False
    assert "your thetas" in capsys.readouterr().out
