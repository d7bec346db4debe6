"""Optimizers whose update is a step function, such as the ones the learner writes in 06_optimizers.

    StepSGD(model.parameters(), sgd_momentum_step, lr=0.05, momentum=0.9)
    StepAdam(model.parameters(), adam_step, lr=1e-3)

``sgd_momentum_step(theta, grad, buffer, lr, momentum) -> (theta, buffer)`` and
``adam_step(theta, grad, m, v, step, lr, betas, eps) -> (theta, m, v)`` are called once per
parameter and step, on copies of the parameter, its gradient and its state, and what they return
becomes the parameter and its state (``state[p]`` with PyTorch's names, as `SGD` and `Adam` keep
it). With cnnlib's references (:mod:`cnnlib.exercises.references`) these are `SGD` with momentum
and `Adam`, step for step; with a learner's functions, a network trains on the learner's optimizer.
A result of the wrong shape is a ``ValueError`` that names the function.
"""
from __future__ import annotations

import numpy as np

from cnnlib.checks import check_betas, check_float
from cnnlib.numpy_nn.optim import Optimizer


def _arrays(fn, result, n: int, like: np.ndarray) -> list[np.ndarray]:
    """The ``n`` arrays ``fn`` returned, each checked to have the parameter's shape."""
    name = getattr(fn, "__name__", "the step function")
    if not isinstance(result, (tuple, list)) or len(result) != n:
        raise ValueError(f"{name} should return a tuple of {n} arrays, got {type(result).__name__}")
    arrays = [np.asarray(r) for r in result]
    for k, a in enumerate(arrays):
        if a.shape != like.shape:
            raise ValueError(f"{name} returned an array of shape {a.shape} in position {k}; "
                             f"the parameter has shape {like.shape}")
    return arrays


class StepSGD(Optimizer):
    """SGD with momentum whose update is ``step_fn(theta, grad, buffer, lr, momentum) -> (theta, buffer)``."""

    def __init__(self, params, step_fn, lr, momentum=0.9):
        super().__init__(params)
        if not callable(step_fn):
            raise ValueError(f"step_fn must be a function, got {type(step_fn).__name__}")
        self.step_fn = step_fn
        self.lr = check_float(lr, "lr", minimum=0)
        self.momentum = check_float(momentum, "momentum", minimum=0)

    def _update(self, p, state):
        buffer = state.get("momentum_buffer", np.zeros_like(p.data))  # zeros before the first step
        result = self.step_fn(p.data.copy(), p.grad.copy(), buffer.copy(), self.lr, self.momentum)
        theta, state["momentum_buffer"] = _arrays(self.step_fn, result, 2, p.data)
        p.data[...] = theta


class StepAdam(Optimizer):
    """Adam whose update is ``step_fn(theta, grad, m, v, step, lr, betas, eps) -> (theta, m, v)``;
    ``step`` counts the steps taken before this one."""

    def __init__(self, params, step_fn, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params)
        if not callable(step_fn):
            raise ValueError(f"step_fn must be a function, got {type(step_fn).__name__}")
        self.step_fn = step_fn
        self.lr = check_float(lr, "lr", minimum=0)
        self.betas = check_betas(betas)
        self.eps = check_float(eps, "eps", minimum=0, strict_minimum=True)

    def _update(self, p, state):
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p.data), exp_avg_sq=np.zeros_like(p.data))
        result = self.step_fn(p.data.copy(), p.grad.copy(), state["exp_avg"].copy(), state["exp_avg_sq"].copy(),
                              state["step"], self.lr, self.betas, self.eps)
        theta, state["exp_avg"], state["exp_avg_sq"] = _arrays(self.step_fn, result, 3, p.data)
        state["step"] += 1
        p.data[...] = theta


__all__ = ["StepAdam", "StepSGD"]
