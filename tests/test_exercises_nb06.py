"""Exercises of 06_optimizers: the function checkers reject plausible wrong implementations for the
reason they name and accept right ones; the numeric answer agrees with PyTorch."""
import numpy as np
import pytest
import torch

from cnnlib.exercises import core, nb06
from exercise_notebooks import rejected_for


def sgd_momentum_mutant(form="torch", sign=-1.0, keep_buffer=False):
    def sgd_momentum_step(theta, grad, buffer, lr, momentum):
        if form == "lecture":                  # v = mu v + lr g, theta - v
            new = momentum * buffer + lr * grad
            return theta - new, new
        new = {"torch": momentum * buffer + grad, "on_grad": buffer + momentum * grad}[form]
        return theta + sign * lr * new, (buffer if keep_buffer else new)
    return sgd_momentum_step


SGD_MUTATIONS = [
    (sgd_momentum_mutant(form="lecture"), "that is the lecture's form"),
    (sgd_momentum_mutant(form="on_grad"), "the momentum multiplies the old buffer"),
    (sgd_momentum_mutant(sign=1.0), "wrong sign"),
    (sgd_momentum_mutant(keep_buffer=True), "return the new buffer too"),
]


def test_sgd_momentum_reference_is_torch_and_is_accepted(capsys):
    for case in nb06._sgd_cases():
        theta, grad, buffer, lr, momentum = case.inputs.values()
        p = torch.tensor(theta, requires_grad=True)
        opt = torch.optim.SGD([p], lr=lr, momentum=momentum)
        p.grad = torch.tensor(buffer)            # a first step sets the buffer to this gradient ...
        opt.step()
        with torch.no_grad():
            p.copy_(torch.tensor(theta))
        p.grad = torch.tensor(grad)              # ... and the second is the step under test
        opt.step()
        mine = nb06._reference_sgd_momentum(*case.inputs.values())
        np.testing.assert_allclose(mine[0], p.detach().numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(mine[1], opt.state[p]["momentum_buffer"].numpy(), rtol=1e-12, atol=1e-15)
    assert nb06.check_sgd_momentum_step(sgd_momentum_mutant()) is True
    assert "Exercise 1: correct on all 12 cases!" in capsys.readouterr().out


def adam_mutant(corrected=True, eps_inside=False, t_offset=1):
    def adam_step(theta, grad, m, v, step, lr, betas, eps):
        b1, b2 = betas
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad ** 2
        t = step + t_offset
        m_hat, v_hat = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if corrected else (m, v)
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        return theta - lr * m_hat / denom, m, v
    return adam_step


ADAM_MUTATIONS = [
    (adam_mutant(corrected=False), "no bias correction"),
    (adam_mutant(eps_inside=True), "epsilon goes outside the root"),
    (adam_mutant(t_offset=0), "t starts at 1"),
]


MUTATIONS = ([(nb06.check_sgd_momentum_step, "sgd_momentum_step", SGD_MUTATIONS, *m) for m in SGD_MUTATIONS]
             + [(nb06.check_adam_step, "adam_step", ADAM_MUTATIONS, *m) for m in ADAM_MUTATIONS])


@pytest.mark.parametrize("check, exercise_id, family, wrong, hint", MUTATIONS, ids=[m[-1] for m in MUTATIONS])
def test_each_mutation_is_rejected_for_its_reason(check, exercise_id, family, wrong, hint, capsys):
    out = rejected_for(check, wrong, hint, family, capsys)
    assert core.latest(exercise_id).status == "fail"


def test_adam_reference_is_torch_and_is_accepted(capsys):
    for case in nb06._adam_cases():
        theta, grad, m, v, step, lr, betas, eps = case.inputs.values()
        p = torch.tensor(theta, requires_grad=True)
        opt = torch.optim.Adam([p], lr=lr, betas=betas, eps=eps)
        p.grad = torch.zeros_like(p)
        opt.step()                                # creates the state, which we then overwrite
        with torch.no_grad():
            p.copy_(torch.tensor(theta))
        state = opt.state[p]
        state["step"].fill_(step)
        state["exp_avg"].copy_(torch.tensor(m))
        state["exp_avg_sq"].copy_(torch.tensor(v))
        p.grad = torch.tensor(grad)
        opt.step()
        mine = nb06._reference_adam(*case.inputs.values())
        np.testing.assert_allclose(mine[0], p.detach().numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(mine[1], state["exp_avg"].numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(mine[2], state["exp_avg_sq"].numpy(), rtol=1e-12, atol=1e-15)
    assert nb06.check_adam_step(adam_mutant()) is True
    assert "Exercise 2: correct on all 12 cases!" in capsys.readouterr().out


def test_stubs_are_not_attempted(capsys):
    def sgd_momentum_step(theta, grad, buffer, lr, momentum):
        raise NotImplementedError

    def adam_step(theta, grad, m, v, step, lr, betas, eps):
        raise NotImplementedError

    assert nb06.check_sgd_momentum_step(sgd_momentum_step) is False
    assert nb06.check_adam_step(adam_step) is False
    assert capsys.readouterr().out.count("not attempted yet") == 2
    assert core.latest("adam_step").status == "not attempted"


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


def test_check_momentum_steps(capsys):
    assert nb06.check_momentum_steps([0.8, 0.46, 0.062]) is True
    assert "Exercise 3: correct!" in capsys.readouterr().out
    assert nb06.check_momentum_steps(nb06.PLAIN_GD_3) is False
    assert "plain gradient descent" in capsys.readouterr().out
    assert nb06.check_momentum_steps([0.8, 0.46]) is False
    assert "should be 3 numbers" in capsys.readouterr().out
    assert nb06.check_momentum_steps([0.8, 0.46, 0.1]) is False
    assert "your thetas" in capsys.readouterr().out


def test_adam_moments_agree_with_torch_adam_state():
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.1, betas=nb06.BETAS_2)
    for g in nb06.GRADS_2:
        p.grad = torch.tensor([g])
        opt.step()
    state = opt.state[p]
    np.testing.assert_allclose(nb06.RAW_MOMENTS_2, (state["exp_avg"].item(), state["exp_avg_sq"].item()), rtol=1e-6)
    np.testing.assert_allclose(nb06.MOMENTS_2, (-0.049 / 0.271, 0.005244001 / 0.002997001), rtol=1e-12)


def test_check_adam_moments(capsys):
    assert nb06.check_adam_moments((-0.18081, 1.74975)) is True
    assert "Exercise 4: correct!" in capsys.readouterr().out
    assert nb06.check_adam_moments(nb06.RAW_MOMENTS_2) is False
    assert "before the bias correction" in capsys.readouterr().out
    assert nb06.check_adam_moments(0.5) is False
    assert "two numbers" in capsys.readouterr().out
    assert nb06.check_adam_moments((-0.049, 1.74975)) is False
    assert "entries are off" in capsys.readouterr().out
