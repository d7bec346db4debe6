"""The public surface of cnnlib.numpy_nn mirrors torch.nn and torch.nn.functional name for name."""
import inspect

import torch

from cnnlib import numpy_nn as nn
from cnnlib.numpy_nn import functional as F

TORCH_MODULES = ["Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "ELU",
                 "Flatten", "Sequential", "CrossEntropyLoss", "MSELoss", "L1Loss", "SmoothL1Loss"]
TORCH_FUNCTIONS = ["conv2d", "max_pool2d", "avg_pool2d", "linear", "relu", "sigmoid", "tanh", "leaky_relu",
                   "elu", "cross_entropy", "mse_loss", "l1_loss", "smooth_l1_loss", "softmax", "log_softmax",
                   "multi_margin_loss"]


def test_every_torch_module_has_its_counterpart_with_the_same_leading_arguments():
    for name in TORCH_MODULES:
        ours, theirs = getattr(nn, name), getattr(torch.nn, name)
        assert issubclass(ours, nn.Module), name
        if name in ("Sequential", "Flatten"):
            continue
        our_args = [a for a in inspect.signature(ours).parameters if a not in ("dtype", "rng", "algorithm")]  # our additions
        their_args = list(inspect.signature(theirs).parameters)
        assert [a for a in their_args if a in our_args] == our_args, f"{name}: {our_args} vs torch {their_args}"


def test_every_torch_function_has_its_counterpart_and_backward_pair():
    for name in TORCH_FUNCTIONS:
        assert callable(getattr(F, name)), name
        assert callable(getattr(F, name + "_forward")) and callable(getattr(F, name + "_backward")), name
    for name in ("conv2d", "max_pool2d", "avg_pool2d"):
        assert callable(getattr(F, name + "_naive")), name


def test_lecture_only_pieces_exist():
    assert {"Maxout", "HingeLoss", "MultiClassHingeLoss"} <= set(nn.__all__)
    assert {"SGD", "Adam", "LectureMomentum", "LectureAdam"} <= set(dir(nn.optim))
