"""The case studies' networks in PyTorch: LeNet-5, AlexNet, VGG, GoogLeNet and ResNet.

One file per model. Each builder returns a ``torch.nn.Module`` whose top-level children are
the rows of the lecture's (or the paper's) table, so ``cnnlib.arch.summary(model, input_size,
depth=1)`` reproduces the table from code. Each takes ``num_classes`` and ``layers=`` (``None``
for ``torch.nn``, or a namespace such as ``cnnlib.torch_nn`` with the same class names).
Taught in 07_case_studies_lenet to 09_case_studies_googlenet_resnet.
"""
from cnnlib.models.alexnet import alexnet
from cnnlib.models.googlenet import Inception, googlenet
from cnnlib.models.init import initialize
from cnnlib.models.lenet import lenet5
from cnnlib.models.mlp import hidden_for_budget, mlp, mlp_params
from cnnlib.models.resnet import (BasicBlock, Bottleneck, narrow_resnet, resnet, resnet18, resnet34, resnet50, resnet101,
                                  resnet152)
from cnnlib.models.vgg import vgg, vgg16, vgg19

__all__ = [
    "lenet5", "mlp", "mlp_params", "hidden_for_budget", "initialize", "alexnet", "vgg", "vgg16", "vgg19", "googlenet", "Inception",
    "resnet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "BasicBlock", "Bottleneck",
    "narrow_resnet",
]
