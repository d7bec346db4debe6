"""Depth helpers for 09_case_studies_googlenet_resnet: initialization scale, gradients through deep
stacks, and two small model-counting helpers.

- ``on_meta(builder, **kwargs)``: build a model on PyTorch's meta device (shapes, no memory).
- ``conv_weights(module)``: the number of convolution weights (no biases) inside a module.
- ``he_std(fan_in)``: He et al.'s (2015) initialization scale sqrt(2 / fan_in) for ReLU layers.
- ``activation_scales(depth, width, std)``: the root mean square of the activations after each
  ReLU layer of a deep fully connected stack whose weights have standard deviation ``std``.
- ``deep_gradient_norms(depth, width, residual)``: the gradient's norm at each block's input in a
  He-initialized, batch-normalized stack, plain or with identity shortcuts.
- ``train_curve(model, data, lr, momentum, batch_size, seed)``: one epoch of SGD with momentum,
  the training loss of every mini-batch (the curves of a plain network and its residual twin).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn as nn

from cnnlib.checks import check_int

__all__ = ["activation_scales", "conv_weights", "deep_gradient_norms", "he_std", "on_meta", "train_curve"]


def on_meta(builder: Callable[..., nn.Module], **kwargs) -> nn.Module:
    """``builder(**kwargs)`` with every tensor on the meta device: shapes without memory."""
    with torch.device("meta"):
        return builder(**kwargs)


def conv_weights(module: nn.Module) -> int:
    """The number of weights of every ``nn.Conv2d`` inside ``module`` (biases not counted)."""
    return sum(m.weight.numel() for m in module.modules() if isinstance(m, nn.Conv2d))


def he_std(fan_in: int) -> float:
    """sqrt(2 / fan_in): the weight standard deviation that keeps the mean square of the
    activations constant from one ReLU layer to the next (ReLU zeroes half of a symmetric input)."""
    return math.sqrt(2.0 / check_int(fan_in, "fan_in", minimum=1))


def activation_scales(depth: int, width: int, std: float, batch: int = 256, seed: int = 0) -> np.ndarray:
    """Root mean square of the activations entering and leaving each of ``depth`` layers
    x <- relu(W x), W with entries N(0, std**2), on ``batch`` standard normal inputs. Float64, seeded.

    Shape: returns (depth + 1,): entry 0 is the input's scale.
    """
    depth, width = check_int(depth, "depth", minimum=1), check_int(width, "width", minimum=1)
    rng = np.random.default_rng(check_int(seed, "seed", minimum=0))
    x = rng.standard_normal((batch, width))
    scales = [float(np.sqrt(np.mean(x ** 2)))]
    for _ in range(depth):
        x = np.maximum(x @ (rng.standard_normal((width, width)) * float(std)), 0.0)
        scales.append(float(np.sqrt(np.mean(x ** 2))))
    return np.array(scales)


def deep_gradient_norms(depth: int, width: int = 32, residual: bool = False, batch: int = 64,
                        seed: int = 0) -> np.ndarray:
    """||dL/dx_k|| at the input of each of ``depth`` blocks, input first, in a He-initialized,
    batch-normalized fully connected stack (batch norm in training mode, as while training).

    Plain block: x <- relu(BN(W x)). Residual block (ResNet's basic block with linear layers):
    x <- relu(x + BN2(W2 relu(BN1(W1 x)))). L = sum(output * R) for a fixed random R. Float64, seeded.

    Shape: returns (depth + 1,): entry 0 is the network's input, entry ``depth`` its output.
    """
    depth, width = check_int(depth, "depth", minimum=1), check_int(width, "width", minimum=1)
    g = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))

    def layer(x):
        w = torch.randn(width, width, generator=g, dtype=torch.float64) * he_std(width)
        return nn.functional.batch_norm(x @ w.T, None, None, training=True)

    x = torch.randn(batch, width, generator=g, dtype=torch.float64).requires_grad_()
    states = [x]
    for _ in range(depth):
        h = states[-1]
        states.append(torch.relu(h + layer(torch.relu(layer(h)))) if residual else torch.relu(layer(h)))
    for s in states:
        s.retain_grad()
    r = torch.randn(states[-1].shape, generator=g, dtype=torch.float64)
    (states[-1] * r).sum().backward()
    return np.array([float(s.grad.norm()) for s in states])


def train_curve(model: nn.Module, data, lr: float = 0.1, momentum: float = 0.9, batch_size: int = 128,
                seed: int = 0) -> np.ndarray:
    """Train ``model`` for one epoch of SGD with momentum and return the loss of every mini-batch.

    ``data`` is a pair ``(x, y)`` of tensors or arrays (converted to the model's dtype); the order
    of the images is ``np.random.default_rng(seed).permutation``, as ``cnnlib.train.fit`` shuffles.
    The defaults are He et al.'s CIFAR-10 settings (Section 4.2): learning rate 0.1, momentum 0.9,
    mini-batches of 128 (no weight decay here: one epoch is too short for it to matter).
    The model is left in training mode. Raises a ``RuntimeError`` when a loss is nan or inf.

    Shape: x (N, C, H, W), y (N,) -> returns (ceil(N / batch_size),) float64
    """
    from cnnlib.train import _check_data, batch_indices

    _check_data(data, "data")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    dtype = next(model.parameters()).dtype
    x, y = torch.as_tensor(data[0], dtype=dtype), torch.as_tensor(data[1], dtype=torch.long)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    model.train()
    losses = []
    for idx in batch_indices(len(x), batch_size, np.random.default_rng(check_int(seed, "seed", minimum=0))):
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])  # model(x[idx]): (B, num_classes)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            raise RuntimeError(f"training stopped at mini-batch {len(losses)}: the loss became {losses[-1]}; "
                               f"lower the learning rate")
    return np.array(losses)
