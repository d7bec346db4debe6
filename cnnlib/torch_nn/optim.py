"""SGD (with momentum) and Adam written out in tensor operations (taught in 06_optimizers).

The same update rules, step for step, as ``cnnlib.numpy_nn.optim`` and ``torch.optim``, on
parameters of any device and dtype. Each class is a ``torch.optim.Optimizer`` (so
``zero_grad()``, ``param_groups``, ``state_dict()`` and learning-rate schedulers work as usual),
but ``step()`` is ours: a few in-place tensor operations under ``torch.no_grad()``, written as
``torch.optim``'s own CPU code writes them (``p.add_(b, alpha=-lr)`` is θ ← θ − lr · b) so that
the numbers agree to the last bit, not just to round-off. What each
optimizer remembers is in ``optimizer.state[p]`` under PyTorch's names (``"momentum_buffer"``;
``"step"``, ``"exp_avg"``, ``"exp_avg_sq"``).

The lecture's own forms are here too: `LectureMomentum` (v = γ v + η ∇J, θ = θ − v, the same
parameters as SGD with momentum for a constant η) and `LectureAdam` (ε under the square root).
"""
from __future__ import annotations

import torch

from cnnlib.checks import check_betas, check_float


def _check_params(params):
    if isinstance(params, torch.nn.Module):
        raise ValueError(f"params must be the parameters, not the model: pass {type(params).__name__}"
                         f"(...).parameters()")
    if isinstance(params, torch.Tensor):
        params = [params]
    params = list(params)
    if not params:
        raise ValueError("params is empty: the optimizer has nothing to optimize "
                         "(does the model have parameters? pass model.parameters())")
    return params


class Optimizer(torch.optim.Optimizer):
    """Base class: ``step()`` calls `_update` for every parameter that has a gradient."""

    def __init__(self, params, defaults):
        super().__init__(_check_params(params), defaults)

    def add_param_group(self, param_group):
        """torch's add_param_group, then every hyper-parameter of the new group checked (as the constructor does).

        The group's own values (``{"params": ..., "lr": float("nan")}``) would otherwise bypass the
        constructor's checks. A refused group is not added.
        """
        super().add_param_group(param_group)
        index = len(self.param_groups) - 1
        try:
            self._check_group(self.param_groups[index], f"param_groups[{index}]")
        except ValueError:
            self.param_groups.pop()
            raise

    def _check_group(self, group, where):
        for name in ("lr", "momentum", "weight_decay"):
            if name in group:
                check_float(group[name], f"{where}['{name}']", minimum=0)
        if "eps" in group:
            check_float(group["eps"], f"{where}['eps']", minimum=0, strict_minimum=True)
        if "betas" in group:
            betas = group["betas"]
            if not isinstance(betas, (tuple, list)) or len(betas) != 2:
                raise ValueError(f"{where}['betas'] must be a pair (beta1, beta2), e.g. (0.9, 0.999), got {betas!r}")
            for i, b in enumerate(betas):
                check_float(b, f"{where}['betas'][{i}]", 0.0, 1.0, strict_maximum=True)

    @torch.no_grad()
    def step(self, closure=None):
        """Update every parameter in place from its ``.grad`` (parameters without one are skipped, as in PyTorch)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, p.grad, self.state[p], group)
        return loss

    def _update(self, p, grad, state, group):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``: θ ← θ − lr · b (06_optimizers).

    With g = ∇J + weight_decay · θ: momentum = 0 gives b = g (the lecture's W ← W − γ ∂L/∂W);
    momentum = μ > 0 gives b ← μ b + g (b = g on the first step), kept in ``state[p]["momentum_buffer"]``.
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        defaults = dict(lr=check_float(lr, "lr", minimum=0),
                        momentum=check_float(momentum, "momentum", minimum=0),
                        weight_decay=check_float(weight_decay, "weight_decay", minimum=0))
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])          # g = ∇J + weight_decay · θ
        if group["momentum"] != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.clone()         # b = g on the first step
            else:
                buf.mul_(group["momentum"]).add_(grad)                # b ← μ b + g
            grad = buf
        p.add_(grad, alpha=-group["lr"])                              # θ ← θ − lr · b


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam``: θ ← θ − lr · m̂ / (sqrt(v̂) + eps) (06_optimizers).

    Per parameter, with g = ∇J + weight_decay · θ and t the step count (from 1):

        m ← β1 m + (1 − β1) g            (state "exp_avg")
        v ← β2 v + (1 − β2) g²           (state "exp_avg_sq")
        m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)   (bias correction: m and v start at 0)

    ``eps`` is outside the square root, as in PyTorch and the Adam paper; `LectureAdam` puts it inside.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        defaults = dict(lr=check_float(lr, "lr", minimum=0), betas=check_betas(betas),
                        eps=check_float(eps, "eps", minimum=0, strict_minimum=True),
                        weight_decay=check_float(weight_decay, "weight_decay", minimum=0))
        super().__init__(params, defaults)

    def _advance_moments(self, p, grad, state, group):
        """One step of the running means m ("exp_avg") and v ("exp_avg_sq"); return t."""
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])          # g = ∇J + weight_decay · θ
        if not state:
            state.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
        beta1, beta2 = group["betas"]
        state["step"] += 1
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(grad, 1 - beta1)                                      # m ← β1 m + (1 − β1) g = m + (1 − β1)(g − m)
        v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)           # v ← β2 v + (1 − β2) g²
        return state["step"]

    def _update(self, p, grad, state, group):
        t = self._advance_moments(p, grad, state, group)
        beta1, beta2 = group["betas"]
        # PyTorch's arithmetic, in its order: lr/(1 - β1^t) · m / (sqrt(v)/sqrt(1 - β2^t) + eps)
        denom = (state["exp_avg_sq"].sqrt() / (1 - beta2**t) ** 0.5).add_(group["eps"])
        p.addcdiv_(state["exp_avg"], denom, value=-group["lr"] / (1 - beta1**t))  # θ ← θ − lr/(1 − β1^t) · m / denom


class LectureMomentum(Optimizer):
    """The lecture's momentum: v ← γ v + η ∇J, θ ← θ − v (06_optimizers).

    ``lr`` is η, ``momentum`` is γ, the velocity is ``state[p]["velocity"]`` (starting at 0).
    PyTorch's SGD keeps b ← γ b + ∇J and does θ ← θ − η b; by induction v = η b, so for a
    constant learning rate both give the same parameters.
    """

    def __init__(self, params, lr, momentum=0.9):
        defaults = dict(lr=check_float(lr, "lr", minimum=0), momentum=check_float(momentum, "momentum", minimum=0))
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        v = state.setdefault("velocity", torch.zeros_like(p))
        v.mul_(group["momentum"]).add_(grad, alpha=group["lr"])       # v ← γ v + η ∇J
        p.sub_(v)                                                     # θ ← θ − v


class LectureAdam(Adam):
    """The lecture's Adam: θ ← θ − η m̂ / sqrt(v̂ + ε), ε under the root (06_optimizers).

    m̂ and v̂ are Adam's. The step differs from PyTorch's η m̂ / (sqrt(v̂) + ε) only where v̂ is
    about ε or smaller (gradients of 1e-4 and below for ε = 1e-8). No weight_decay, as in the lecture.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, lr=lr, betas=betas, eps=eps)

    def _update(self, p, grad, state, group):
        t = self._advance_moments(p, grad, state, group)
        beta1, beta2 = group["betas"]
        m_hat = state["exp_avg"] / (1 - beta1**t)
        v_hat = state["exp_avg_sq"] / (1 - beta2**t)
        p.sub_(group["lr"] * m_hat / torch.sqrt(v_hat + group["eps"]))  # ε under the square root
