"""The NumPy reference layers again, in PyTorch tensor operations: same names, same algorithms, any device.

    from cnnlib import torch_nn as nn
    model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(6 * 14 * 14, 10)).to(device)
    loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward()                # autograd, running the hand-written backward of every layer

Every layer is a ``torch.nn.Module`` with ``torch.nn``'s class name, constructor arguments
(plus ``device`` and ``dtype``), parameter names, shapes and default initialisation, so
``load_state_dict`` works from ``torch.nn`` and, through `convert`, from and to ``cnnlib.numpy_nn``.
``Sequential``, ``Flatten``, ``Module`` and ``Parameter`` are PyTorch's own (they hold no arithmetic).
``functional`` holds the functions and their forward/backward pairs, ``optim`` SGD and Adam.
"""
from torch.nn import Flatten, Module, Parameter, Sequential

from cnnlib.torch_nn import convert, functional, optim
from cnnlib.torch_nn.activation import ELU, LeakyReLU, Maxout, ReLU, Sigmoid, Tanh
from cnnlib.torch_nn.conv import Conv2d
from cnnlib.torch_nn.dropout import Dropout
from cnnlib.torch_nn.linear import Linear
from cnnlib.torch_nn.loss import (
    CrossEntropyLoss, HingeLoss, L1Loss, MSELoss, MultiClassHingeLoss, MultiMarginLoss, SmoothL1Loss,
)
from cnnlib.torch_nn.normalization import BatchNorm2d, LocalResponseNorm
from cnnlib.torch_nn.pooling import AvgPool2d, MaxPool2d
from cnnlib.torch_nn.pooling_adaptive import AdaptiveAvgPool2d

__all__ = [
    "convert", "functional", "optim", "Module", "Parameter", "Sequential", "Flatten", "Linear", "Conv2d",
    "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "LocalResponseNorm", "BatchNorm2d", "Dropout",
    "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "ELU", "Maxout",
    "CrossEntropyLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HingeLoss", "MultiClassHingeLoss", "MultiMarginLoss",
]
