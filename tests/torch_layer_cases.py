"""One small case for every layer of cnnlib.torch_nn, for the tests that run them all (meta device, autocast).

    from torch_layer_cases import CASES, layer_names, reference   # pytest puts tests/ on sys.path

`layer_names` enumerates the layers from ``cnnlib.torch_nn.__all__`` itself, and the tests assert that
`CASES` covers exactly those names, so a new layer without a case fails the tests instead of being skipped.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable

import torch

from cnnlib import torch_nn

CONTAINERS = {"Module", "Sequential"}  # they hold layers, they compute nothing


def layer_names() -> list[str]:
    """Every public torch.nn.Module subclass that cnnlib.torch_nn exports, containers aside."""
    return sorted(name for name in torch_nn.__all__
                  if isinstance(getattr(torch_nn, name), type) and issubclass(getattr(torch_nn, name), torch.nn.Module)
                  and name not in CONTAINERS)


def _labels(n, classes):
    return lambda device: torch.arange(n, device=device) % classes   # (N,) int64 class indices


def _values(shape):
    return lambda device: torch.linspace(-1, 1, int(torch.Size(shape).numel())).reshape(shape).to(device)


def _signs(shape):
    return lambda device: torch.where(torch.arange(int(torch.Size(shape).numel())) % 2 == 0, 1.0, -1.0
                                      ).reshape(shape).to(device)


@dataclass(frozen=True)
class Case:
    make: Callable                     # namespace (torch.nn or cnnlib.torch_nn) -> the layer
    shape: tuple                       # the input's shape
    target: Callable | None = None     # device -> the target, for a loss
    twin: Callable | None = None       # for a layer torch.nn lacks: a torch.nn layer of the same autocast kind


CASES = {
    "Conv2d": Case(lambda L: L.Conv2d(3, 4, 5, stride=2, padding=1), (2, 3, 9, 9)),
    "Linear": Case(lambda L: L.Linear(6, 4), (3, 6)),
    "Maxout": Case(lambda L: L.Maxout(6, 4, pieces=2), (3, 6), twin=lambda: torch.nn.Linear(6, 8)),
    "BatchNorm2d": Case(lambda L: L.BatchNorm2d(3), (2, 3, 4, 4)),
    "LocalResponseNorm": Case(lambda L: L.LocalResponseNorm(3), (2, 4, 3, 3)),
    "MaxPool2d": Case(lambda L: L.MaxPool2d(3, stride=2, padding=1), (2, 3, 7, 7)),
    "AvgPool2d": Case(lambda L: L.AvgPool2d(2), (2, 3, 6, 6)),
    "AdaptiveAvgPool2d": Case(lambda L: L.AdaptiveAvgPool2d(3), (2, 3, 7, 5)),
    "Dropout": Case(lambda L: L.Dropout(0.5), (3, 5)),
    "Flatten": Case(lambda L: L.Flatten(), (2, 3, 4)),
    "ReLU": Case(lambda L: L.ReLU(), (3, 5)),
    "Sigmoid": Case(lambda L: L.Sigmoid(), (3, 5)),
    "Tanh": Case(lambda L: L.Tanh(), (3, 5)),
    "LeakyReLU": Case(lambda L: L.LeakyReLU(0.1), (3, 5)),
    "ELU": Case(lambda L: L.ELU(), (3, 5)),
    "CrossEntropyLoss": Case(lambda L: L.CrossEntropyLoss(), (4, 3), _labels(4, 3)),
    "MSELoss": Case(lambda L: L.MSELoss(), (4, 3), _values((4, 3))),
    "L1Loss": Case(lambda L: L.L1Loss(), (4, 3), _values((4, 3))),
    "SmoothL1Loss": Case(lambda L: L.SmoothL1Loss(), (4, 3), _values((4, 3))),
    "MultiMarginLoss": Case(lambda L: L.MultiMarginLoss(), (4, 3), _labels(4, 3)),
    "MultiClassHingeLoss": Case(lambda L: L.MultiClassHingeLoss(), (4, 3), _labels(4, 3),
                                twin=lambda: torch.nn.MultiMarginLoss()),
    "HingeLoss": Case(lambda L: L.HingeLoss(), (4, 3), _signs((4, 3)), twin=lambda: torch.nn.SoftMarginLoss()),
}


def reference(name: str) -> torch.nn.Module:
    """torch.nn's layer of that name, or for a layer torch.nn lacks its twin."""
    case = CASES[name]
    return case.make(torch.nn) if hasattr(torch.nn, name) else case.twin()


def run_layer(layer, case: Case, x, forward_context=None):
    """The layer's output on ``x`` and the gradients of its float32 sum: (out, grad of x, grads of parameters).

    ``forward_context`` (e.g. ``torch.autocast(...)``) surrounds the forward pass only; backward runs
    outside it, as PyTorch recommends and `cnnlib.train.fit` does.
    """
    x = x.detach().requires_grad_()
    with forward_context or contextlib.nullcontext():
        out = layer(x) if case.target is None else layer(x, case.target(x.device))
    out.float().sum().backward()
    return out, x.grad, [p.grad for p in layer.parameters()]
