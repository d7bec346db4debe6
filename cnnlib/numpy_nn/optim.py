"""Optimizers for the NumPy reference: SGD (with momentum) and Adam (taught in 06_optimizers).

An optimizer holds a list of `Parameter`s. After ``loss.backward()`` and the layers' backward
passes have filled every ``p.grad``, ``step()`` moves each ``p.data`` against its gradient, and
``zero_grad()`` clears the gradients for the next batch (they accumulate otherwise).

``SGD`` and ``Adam`` follow ``torch.optim.SGD`` and ``torch.optim.Adam`` (default options)
formula for formula, so both produce the same numbers step after step (to round-off: PyTorch's
CPU kernels fuse a multiply and an add into one rounding, so the last bit may differ). What each remembers
between steps is in ``optimizer.state[p]``, a dict per parameter with PyTorch's names
(``"momentum_buffer"``; ``"step"``, ``"exp_avg"``, ``"exp_avg_sq"``).

The lecture writes two rules differently; both are here too, for comparison:

- `LectureMomentum`: v = γ v + η ∇J, θ = θ − v. PyTorch keeps b = μ b + ∇J and does
  θ = θ − η b, so v = η b: with a constant learning rate the two are the same algorithm.
- `LectureAdam`: θ = θ − η m̂ / sqrt(v̂ + ε), with ε *under* the root. PyTorch (and the Adam
  paper) use η m̂ / (sqrt(v̂) + ε). They differ only where v̂ is tiny, i.e. gradients of the
  order of sqrt(ε) = 1e-4 or smaller.
"""
from __future__ import annotations

import numpy as np

from cnnlib.checks import check_betas, check_float
from cnnlib.numpy_nn.module import Module, Parameter


class Optimizer:
    """Base class: holds the parameters and their per-parameter ``state``; subclasses define `_update`."""

    def __init__(self, params):
        if isinstance(params, Module):
            raise ValueError(f"params must be the parameters, not the model: pass {type(params).__name__}"
                             f"(...).parameters()")
        if isinstance(params, Parameter):
            params = [params]
        params = list(params)
        if not params:
            raise ValueError("params is empty: the optimizer has nothing to optimize "
                             "(does the model have parameters? pass model.parameters())")
        for i, p in enumerate(params):
            if not isinstance(p, Parameter):
                raise ValueError(f"params[{i}] is a {type(p).__name__}, not a Parameter; wrap arrays as "
                                 f"Parameter(array) or pass model.parameters()")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("params holds the same Parameter more than once; each would be updated twice")
        self.params = params
        self.state = {p: {} for p in params}  # what the optimizer remembers, per parameter

    def zero_grad(self) -> None:
        """Set every gradient to zero (PyTorch's default sets them to None instead)."""
        for p in self.params:
            p.grad = np.zeros_like(p.data)

    def step(self) -> None:
        """Update every parameter in place from its ``.grad``."""
        for p in self.params:
            if p.grad.shape != p.data.shape:
                raise ValueError(f"a parameter of shape {p.data.shape} has a gradient of shape {p.grad.shape}; "
                                 f"its backward pass is wrong")
            self._update(p, self.state[p])

    def _update(self, p: Parameter, state: dict) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v}" for k, v in vars(self).items() if k not in ("params", "state"))
        return f"{type(self).__name__}({hyper})"


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``: θ ← θ − lr · b (06_optimizers).

    With g = ∇J + weight_decay · θ (weight decay is an L2 penalty on the weights):

    - momentum = 0: b = g, the plain rule W ← W − γ ∂L/∂W of the lecture;
    - momentum = μ > 0: b ← μ b + g (on the first step b = g), kept in ``state[p]["momentum_buffer"]``.

    The lecture's momentum form v ← γ v + η ∇J, θ ← θ − v is `LectureMomentum`; v = lr · b, so
    for a constant learning rate both produce the same parameters.
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params)
        self.lr = check_float(lr, "lr", minimum=0)
        self.momentum = check_float(momentum, "momentum", minimum=0)
        self.weight_decay = check_float(weight_decay, "weight_decay", minimum=0)

    def _update(self, p, state):
        grad = p.grad
        if self.weight_decay != 0:
            grad = grad + self.weight_decay * p.data
        if self.momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= self.momentum
                buf += grad
            grad = buf
        p.data -= self.lr * grad


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam``: θ ← θ − lr · m̂ / (sqrt(v̂) + eps) (06_optimizers).

    Per parameter, with g = ∇J + weight_decay · θ and t the step count (from 1):

        m ← β1 m + (1 − β1) g            (state "exp_avg", a running mean of gradients)
        v ← β2 v + (1 − β2) g²           (state "exp_avg_sq", a running mean of squared gradients)
        m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)   (bias correction: m and v start at 0)

    ``eps`` is added *outside* the square root, as in PyTorch and the Adam paper; the lecture
    puts it inside, sqrt(v̂ + ε): that is `LectureAdam`. weight_decay adds an L2 term to the
    gradient (PyTorch's Adam; AdamW, which decays the weights directly, is different).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params)
        self.lr = check_float(lr, "lr", minimum=0)
        self.betas = check_betas(betas)
        self.eps = check_float(eps, "eps", minimum=0, strict_minimum=True)
        self.weight_decay = check_float(weight_decay, "weight_decay", minimum=0)

    def _advance_moments(self, p, state):
        """One step of the running means m ("exp_avg") and v ("exp_avg_sq"); return t."""
        grad = p.grad
        if self.weight_decay != 0:
            grad = grad + self.weight_decay * p.data
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p.data), exp_avg_sq=np.zeros_like(p.data))
        beta1, beta2 = self.betas
        state["step"] += 1
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        return state["step"]

    def _update(self, p, state):
        t = self._advance_moments(p, state)
        beta1, beta2 = self.betas
        # PyTorch's arithmetic, in its order: lr/(1 - β1^t) · m / (sqrt(v)/sqrt(1 - β2^t) + eps)
        denom = np.sqrt(state["exp_avg_sq"]) / (1 - beta2**t) ** 0.5 + self.eps
        p.data -= (self.lr / (1 - beta1**t)) * (state["exp_avg"] / denom)


class LectureMomentum(Optimizer):
    """The lecture's momentum: v ← γ v + η ∇J, θ ← θ − v (06_optimizers).

    ``lr`` is η and ``momentum`` is γ; the velocity is ``state[p]["velocity"]`` (starting at 0).
    Relation to PyTorch's `SGD` with momentum (b ← γ b + ∇J, θ ← θ − η b): by induction v = η b,
    so for a constant learning rate the two give the same parameters at every step. They part
    only if η changes during training: PyTorch applies the new η to the whole buffer at once,
    the lecture's velocity still carries the old η in its past terms.
    """

    def __init__(self, params, lr, momentum=0.9):
        super().__init__(params)
        self.lr = check_float(lr, "lr", minimum=0)
        self.momentum = check_float(momentum, "momentum", minimum=0)

    def _update(self, p, state):
        v = state.setdefault("velocity", np.zeros_like(p.data))
        v *= self.momentum
        v += self.lr * p.grad
        p.data -= v


class LectureAdam(Adam):
    """The lecture's Adam: θ ← θ − η m̂ / sqrt(v̂ + ε), ε under the root (06_optimizers).

    m̂ and v̂ are exactly Adam's (same state). Compared with PyTorch's η m̂ / (sqrt(v̂) + ε), each
    step is multiplied by (sqrt(v̂) + ε) / sqrt(v̂ + ε): 1 up to about ε / v̂ when sqrt(v̂) ≫ sqrt(ε)
    (1e-4 for ε = 1e-8), so the two are practically the same for ordinary gradients. Where v̂ is
    tiny the lecture's step shrinks to about η m̂ / sqrt(ε), while PyTorch's stays about η.
    No weight_decay, as in the lecture.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr=lr, betas=betas, eps=eps)

    def _update(self, p, state):
        t = self._advance_moments(p, state)
        beta1, beta2 = self.betas
        m_hat = state["exp_avg"] / (1 - beta1**t)
        v_hat = state["exp_avg_sq"] / (1 - beta2**t)
        p.data -= self.lr * m_hat / np.sqrt(v_hat + self.eps)
