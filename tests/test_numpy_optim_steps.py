"""StepSGD and StepAdam (cnnlib.numpy_nn.optim_steps): with cnnlib's reference steps they are SGD with momentum
and Adam, step for step and so torch.optim's; a step function's result of the wrong shape is refused by name."""
import numpy as np
import pytest
import torch

from cnnlib.exercises import references
from cnnlib.numpy_nn import Parameter
from cnnlib.numpy_nn.optim import SGD, Adam
from cnnlib.numpy_nn.optim_steps import StepAdam, StepSGD


def _run(make, grads, theta0):
    p = Parameter(theta0.copy())
    opt = make([p])
    for g in grads:
        p.grad = g.copy()
        opt.step()
    return p.data, opt


@pytest.mark.parametrize("make_step, make_ref, make_torch", [
    (lambda ps: StepSGD(ps, references.sgd_momentum_step, lr=0.05, momentum=0.9),
     lambda ps: SGD(ps, lr=0.05, momentum=0.9), lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
    (lambda ps: StepAdam(ps, references.adam_step, lr=0.01, betas=(0.8, 0.99), eps=1e-6),
     lambda ps: Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6),
     lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6))])
def test_with_the_references_they_are_sgd_and_adam_and_torch(make_step, make_ref, make_torch):
    rng = np.random.default_rng(0)
    theta0, grads = rng.normal(size=(3, 4)), rng.normal(size=(20, 3, 4))
    ours, opt = _run(make_step, grads, theta0)
    ref, ref_opt = _run(make_ref, grads, theta0)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-14)
    for key, value in ref_opt.state[ref_opt.params[0]].items():
        np.testing.assert_allclose(opt.state[opt.params[0]][key], value, rtol=1e-12, atol=1e-14)
    p = torch.tensor(theta0, requires_grad=True)
    topt = make_torch([p])
    for g in grads:
        p.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(ours, p.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_the_step_function_gets_copies_and_its_result_becomes_the_parameter():
    seen = []

    def sgd_momentum_step(theta, grad, buffer, lr, momentum):
        seen.append(theta)
        theta += 100.0                      # in place, on the copy it was given
        return theta - lr * grad, momentum * buffer + grad

    p = Parameter(np.ones(2))
    p.grad = np.ones(2)
    StepSGD([p], sgd_momentum_step, lr=0.5).step()
    np.testing.assert_allclose(p.data, [100.5, 100.5])
    assert seen[0] is not p.data


@pytest.mark.parametrize("make, fn, words", [
    (StepSGD, lambda theta, grad, buffer, lr, momentum: (theta[:1], buffer), "returned an array of shape (1,)"),
    (StepSGD, lambda theta, grad, buffer, lr, momentum: theta, "should return a tuple of 2 arrays"),
    (StepAdam, lambda theta, grad, m, v, step, lr, betas, eps: (theta, m), "should return a tuple of 3 arrays")])
def test_a_wrong_result_is_refused_by_name(make, fn, words):
    p = Parameter(np.ones(2))
    p.grad = np.ones(2)
    opt = make([p], fn, lr=0.1)
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        opt.step()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="step_fn must be a function"):
        StepSGD([Parameter(np.ones(1))], None, lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        StepAdam([Parameter(np.ones(1))], references.adam_step, lr=-1.0)
