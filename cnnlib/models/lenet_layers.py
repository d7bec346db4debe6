"""LeNet-5 assembled from layer functions: the learner's own (cnnlib.exercises.my_layers) or cnnlib's.

07_case_studies_lenet trains the same LeNet-5 three times from the same seed: with the learner's
layers, with cnnlib's NumPy references and with ``torch.nn``. With correct layers the three
learning curves agree to round-off. The network (ReLU, max pooling, as 07 trains it)::

    x (N, 1, 28, 28) -> C1 conv 5x5, 6 maps, padding 2 -> ReLU -> S2 max pool 2x2
      -> C3 conv 5x5, 16 maps -> ReLU -> S4 max pool 2x2 -> flatten 400
      -> C5 linear 120 -> ReLU -> F6 linear 84 -> ReLU -> output linear 10

``layers`` is any object with the learner's functions as attributes, declared as in
:mod:`cnnlib.exercises.references`: ``conv2d_im2col``, ``conv2d_backward_im2col``,
``relu_forward``, ``relu_backward``, ``max_pool_forward``, ``max_pool_backward``,
``linear_forward``, ``linear_backward``, ``softmax_cross_entropy`` and ``sgd_momentum_step``.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

LAYERS_USED = ("conv2d_im2col", "conv2d_backward_im2col", "relu_forward", "relu_backward", "max_pool_forward",
               "max_pool_backward", "linear_forward", "linear_backward", "softmax_cross_entropy",
               "sgd_momentum_step")
# name: (weight shape, fan-in); biases start at zero
SHAPES = {"c1": ((6, 1, 5, 5), 25), "c3": ((16, 6, 5, 5), 150), "c5": ((120, 400), 400),
          "f6": ((84, 120), 120), "out": ((10, 84), 84)}


def init_params(seed: int = 0) -> dict[str, np.ndarray]:
    """He-normal weights (std sqrt(2 / fan_in)) and zero biases, float64, from ``seed``."""
    rng = np.random.default_rng(seed)
    params = {}
    for name, (shape, fan_in) in SHAPES.items():
        params[f"{name}_w"] = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
        params[f"{name}_b"] = np.zeros(shape[0])
    return params


def forward(x, p, layers):
    """Logits (N, 10) and what the backward pass needs."""
    saved = {"x": x}
    h = layers.conv2d_im2col(x, p["c1_w"], p["c1_b"], 1, 2)
    saved["c1"] = h
    h = layers.relu_forward(h)
    saved["r1"] = h
    h = layers.max_pool_forward(h, 2, 2)
    saved["s2"] = h
    h = layers.conv2d_im2col(h, p["c3_w"], p["c3_b"], 1, 0)
    saved["c3"] = h
    h = layers.relu_forward(h)
    saved["r3"] = h
    h = layers.max_pool_forward(h, 2, 2)
    saved["s4_shape"] = h.shape
    h = h.reshape(len(h), -1)
    for name in ("c5", "f6", "out"):
        saved[f"{name}_in"] = h
        h = layers.linear_forward(h, p[f"{name}_w"], p[f"{name}_b"])
        if name != "out":
            saved[f"{name}_pre"] = h
            h = layers.relu_forward(h)
    return h, saved


def backward(grad_logits, saved, p, layers) -> dict[str, np.ndarray]:
    """The gradient of the loss with respect to every parameter, given d loss / d logits."""
    grads, g = {}, grad_logits
    for name in ("out", "f6", "c5"):
        if name != "out":
            g = layers.relu_backward(g, saved[f"{name}_pre"])
        g, grads[f"{name}_w"], grads[f"{name}_b"] = layers.linear_backward(g, saved[f"{name}_in"], p[f"{name}_w"])
    g = g.reshape(saved["s4_shape"])
    g = layers.max_pool_backward(g, saved["r3"], 2, 2)
    g = layers.relu_backward(g, saved["c3"])
    g, grads["c3_w"], grads["c3_b"] = layers.conv2d_backward_im2col(g, saved["s2"], p["c3_w"], 1, 0)
    g = layers.max_pool_backward(g, saved["r1"], 2, 2)
    g = layers.relu_backward(g, saved["c1"])
    _, grads["c1_w"], grads["c1_b"] = layers.conv2d_backward_im2col(g, saved["x"], p["c1_w"], 1, 2)
    return grads


def batches(n: int, batch_size: int, steps: int, seed: int):
    """The index arrays of ``steps`` mini-batches, reshuffled every epoch, from ``seed``."""
    rng = np.random.default_rng(seed)
    out, order = [], np.array([], dtype=np.int64)
    while len(out) < steps:
        if len(order) < batch_size:
            order = rng.permutation(n)
        out.append(order[:batch_size])
        order = order[batch_size:]
    return out


def train_numpy(layers, images, labels, steps: int, batch_size: int = 64, lr: float = 0.05,
                momentum: float = 0.9, seed: int = 0):
    """SGD with momentum with ``layers``; returns (the loss of every step, the final parameters)."""
    p = init_params(seed)
    buffers = {k: np.zeros_like(v) for k, v in p.items()}
    losses = []
    for idx in batches(len(images), batch_size, steps, seed):
        logits, saved = forward(images[idx], p, layers)
        loss, grad_logits = layers.softmax_cross_entropy(logits, labels[idx])
        grads = backward(grad_logits, saved, p, layers)
        for k in p:
            p[k], buffers[k] = layers.sgd_momentum_step(p[k], grads[k], buffers[k], lr, momentum)
        losses.append(float(loss))
    return np.array(losses), p


def torch_lenet5(params: dict[str, np.ndarray]) -> nn.Sequential:
    """The same network in torch.nn (float64), holding copies of ``params``."""
    net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
                        nn.ReLU(), nn.Linear(84, 10)).double()
    with torch.no_grad():
        for module, name in zip([net[0], net[3], net[7], net[9], net[11]], SHAPES):
            module.weight.copy_(torch.from_numpy(params[f"{name}_w"]))
            module.bias.copy_(torch.from_numpy(params[f"{name}_b"]))
    return net


def train_torch(images, labels, steps: int, batch_size: int = 64, lr: float = 0.05, momentum: float = 0.9,
                seed: int = 0):
    """The same run with torch.nn and torch.optim.SGD: same initial weights, same batches."""
    net = torch_lenet5(init_params(seed))
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    x_all, y_all = torch.from_numpy(images), torch.from_numpy(labels)
    losses = []
    for idx in batches(len(images), batch_size, steps, seed):
        idx = torch.from_numpy(idx)
        loss = nn.functional.cross_entropy(net(x_all[idx]), y_all[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), net


def accuracy(layers, params, images, labels, batch_size: int = 500) -> float:
    """The fraction of ``images`` whose largest logit is the label."""
    right = 0
    for start in range(0, len(images), batch_size):
        logits, _ = forward(images[start:start + batch_size], params, layers)
        right += int(np.sum(np.argmax(logits, axis=1) == labels[start:start + batch_size]))
    return right / len(images)


__all__ = ["LAYERS_USED", "SHAPES", "accuracy", "backward", "batches", "forward", "init_params", "torch_lenet5",
           "train_numpy", "train_torch"]
