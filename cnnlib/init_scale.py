"""Weight scales matched to the activation, for the NumPy layers (taught in 01_neural_nets_activations).

A linear layer's output is a sum of ``fan_in`` products, so its variance is ``fan_in * Var(w)``
times the input's; on the way back the gradient is multiplied the same way by ``fan_out * Var(w)``.
Each activation adds its own factor: its mean squared slope. A scale keeps the gradient's size
through a deep stack only when the two factors cancel:

- ``"xavier"`` (Glorot and Bengio, 2010, eq. 16): Var(w) = 2 / (fan_in + fan_out), for activations
  with slope 1 at 0 (tanh);
- ``"he"`` (He et al., 2015, eq. 10): Var(w) = 2 / fan_in, for ReLU, which passes half of its inputs;
- ``"torch"``: PyTorch's default for ``Linear`` and ``Conv2d``, uniform on ±1/sqrt(fan_in), whose
  variance is 1 / (3 fan_in), a third of He's.

The same names as ``cnnlib.models.initialize`` (which draws torch layers). Here every scheme draws
normal weights, so that in :func:`deep_stack` the three schemes differ by their scale alone.

- ``init_std(scheme, fan_in, fan_out)``: the standard deviation of a scheme;
- ``deep_stack(activation, scheme, ...)``: ``depth`` times (Linear(width, width), activation), seeded;
- ``gradient_sizes(stack, x)``: the mean |gradient| reaching each Linear's input, from the output down;
- ``gradient_kept(activation, scheme, x, seeds)``: the fraction of the last layer's gradient that
  reaches the first, one number per seed.
"""
from __future__ import annotations

import math

import numpy as np

from cnnlib.checks import check_int
from cnnlib.numpy_nn.linear import Linear
from cnnlib.numpy_nn.module import Module, Sequential

SCHEMES = ("torch", "xavier", "he")

__all__ = ["SCHEMES", "deep_stack", "gradient_kept", "gradient_sizes", "init_std"]


def init_std(scheme: str, fan_in: int, fan_out: int) -> float:
    """The weight standard deviation of ``scheme`` ("torch", "xavier" or "he") for a layer with these fans.

    >>> round(init_std("he", 64, 64), 4), round(init_std("xavier", 64, 64), 4), round(init_std("torch", 64, 64), 4)
    (0.1768, 0.125, 0.0722)
    """
    fan_in, fan_out = check_int(fan_in, "fan_in", minimum=1), check_int(fan_out, "fan_out", minimum=1)
    if scheme == "torch":
        return math.sqrt(1.0 / (3 * fan_in))
    if scheme == "xavier":
        return math.sqrt(2.0 / (fan_in + fan_out))
    if scheme == "he":
        return math.sqrt(2.0 / fan_in)
    raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")


def deep_stack(activation: type, scheme: str, depth: int = 10, width: int = 64, seed: int = 1) -> Sequential:
    """``depth`` blocks of ``Linear(width, width)`` then ``activation()``, in float64.

    The weights are the same standard normal draws (from ``seed``) for every activation and
    scheme, multiplied by ``init_std(scheme, width, width)``; the biases are 0. So two stacks
    built with the same seed differ only in what the arguments name.
    """
    depth, width = check_int(depth, "depth", minimum=1), check_int(width, "width", minimum=1)
    if not (isinstance(activation, type) and issubclass(activation, Module)):
        raise ValueError(f"activation must be a module class such as ReLU (not an instance), got {activation!r}")
    std = init_std(scheme, width, width)
    rng = np.random.default_rng(check_int(seed, "seed", minimum=0))
    layers = []
    for _ in range(depth):
        linear = Linear(width, width)
        linear.weight.data = rng.standard_normal((width, width)) * std  # (out_features, in_features)
        linear.bias.data = np.zeros(width)
        layers += [linear, activation()]
    return Sequential(*layers)


def gradient_sizes(stack: Sequential, x: np.ndarray) -> np.ndarray:
    """Send ``x`` forward and a gradient of ones backward; return the mean |gradient| at the input of
    each Linear layer, the last layer first (entry k: k + 1 layers below the output).

    Shape: x (N, in_features) -> (number of Linear layers,).
    """
    if not isinstance(stack, Sequential):
        raise ValueError(f"stack must be a Sequential, got {type(stack).__name__}")
    g = np.ones_like(stack(x))
    sizes = []
    for layer in reversed(stack.layers):
        g = layer.backward(g)
        if isinstance(layer, Linear):
            sizes.append(float(np.abs(g).mean()))
    return np.array(sizes)


def gradient_kept(activation: type, scheme: str, x: np.ndarray, seeds=range(1, 6), depth: int = 10) -> np.ndarray:
    """For each seed, ``gradient_sizes`` of ``deep_stack(activation, scheme, depth, seed=seed)`` on ``x``:
    the size at the first layer's input divided by the size at the last layer's input.

    Shape: x (N, width) -> (len(seeds),).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be a batch of rows (N, width), got shape {x.shape}")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed, e.g. range(1, 6)")
    kept = []
    for seed in seeds:
        sizes = gradient_sizes(deep_stack(activation, scheme, depth=depth, width=x.shape[1], seed=seed), x)
        kept.append(sizes[-1] / sizes[0])
    return np.array(kept)
