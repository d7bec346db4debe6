"""NumPy reference layers: forward and backward written out, named as in ``torch.nn``.

    from cnnlib import numpy_nn as nn
    model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 14 * 14, 10))
    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn(model(x), y)
    model.backward(loss_fn.backward())        # fills every parameter's .grad

``functional`` holds the functions (``conv2d``, ``conv2d_forward``/``conv2d_backward``, ...),
``optim`` the optimizers (``SGD``, ``Adam`` and the lecture's forms of both).
"""
from cnnlib.numpy_nn import functional, optim
from cnnlib.numpy_nn.activation import ELU, LeakyReLU, Maxout, ReLU, Sigmoid, Tanh
from cnnlib.numpy_nn.conv import Conv2d
from cnnlib.numpy_nn.dropout import Dropout
from cnnlib.numpy_nn.linear import Linear
from cnnlib.numpy_nn.loss import (
    CrossEntropyLoss, HingeLoss, L1Loss, MSELoss, MultiClassHingeLoss, MultiMarginLoss, SmoothL1Loss,
)
from cnnlib.numpy_nn.module import Flatten, Module, Parameter, Sequential
from cnnlib.numpy_nn.normalization import BatchNorm2d, LocalResponseNorm
from cnnlib.numpy_nn.pooling import AvgPool2d, MaxPool2d
from cnnlib.numpy_nn.pooling_adaptive import AdaptiveAvgPool2d

__all__ = [
    "functional", "optim", "Module", "Parameter", "Sequential", "Flatten", "Linear", "Conv2d",
    "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "LocalResponseNorm", "BatchNorm2d", "Dropout",
    "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "ELU", "Maxout",
    "CrossEntropyLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HingeLoss", "MultiClassHingeLoss", "MultiMarginLoss",
]
