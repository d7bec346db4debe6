"""GoogLeNet [Szegedy et al., 2014] as Table 1 of the paper builds it, and its inception module.

Taught in 09_case_studies_googlenet_resnet. An inception module runs four branches on the
same input and stacks their outputs along the channels:

    1x1 conv                          -> ch1x1 maps
    1x1 conv (reduce) -> 3x3 conv     -> ch3x3 maps
    1x1 conv (reduce) -> 5x5 conv     -> ch5x5 maps
    3x3 max pool      -> 1x1 conv     -> pool_proj maps

The 1x1 "reduce" convolutions shrink the depth before the expensive 3x3 and 5x5 filters; that
is where the savings come from. The top-level children of ``googlenet()`` are the rows of
Table 1 (conv1, pool1, conv2, pool2, inception3a, ..., avgpool, dropout, linear), so

    cnnlib.arch.summary(googlenet(), (3, 224, 224), depth=1)

gives the table's output sizes, parameters and multiply-adds ("ops"). As in the paper: 5x5
branches, local response normalization after pool1 and conv2, no batch normalization, dropout
40%, and no auxiliary classifiers (they only help training). The last row, softmax, is left to
the loss. torchvision's ``googlenet`` differs (3x3 instead of 5x5 branches, batch norm).
"""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn

from cnnlib.checks import check_int
from cnnlib.models._layers import layer_classes

NEEDS = ("Conv2d", "ReLU", "MaxPool2d", "AvgPool2d", "LocalResponseNorm", "Linear", "Dropout")

# Table 1, columns #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj, for each module.
INCEPTION_CHANNELS = OrderedDict([
    ("inception3a", (64, 96, 128, 16, 32, 32)),
    ("inception3b", (128, 128, 192, 32, 96, 64)),
    ("inception4a", (192, 96, 208, 16, 48, 64)),
    ("inception4b", (160, 112, 224, 24, 64, 64)),
    ("inception4c", (128, 128, 256, 24, 64, 64)),
    ("inception4d", (112, 144, 288, 32, 64, 64)),
    ("inception4e", (256, 160, 320, 32, 128, 128)),
    ("inception5a", (256, 160, 320, 32, 128, 128)),
    ("inception5b", (384, 192, 384, 48, 128, 128)),
])


def _conv_relu(L, c_in, c_out, kernel_size, stride=1, padding=0):
    return L.Sequential(OrderedDict(
        conv=L.Conv2d(c_in, c_out, kernel_size=kernel_size, stride=stride, padding=padding),
        relu=L.ReLU(),
    ))


class Inception(nn.Module):
    """Four parallel branches concatenated on channels: ``ch1x1 + ch3x3 + ch5x5 + pool_proj`` maps.

    The arguments follow Table 1's columns. Every convolution is followed by a ReLU; padding
    keeps the spatial size, so the branches can be stacked.

    Shape:
        input ``(N, in_channels, H, W)``, output ``(N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)``.
    """

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, layers=None):
        super().__init__()
        L = layer_classes(layers, "Conv2d", "ReLU", "MaxPool2d")
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj
        self.branch1x1 = _conv_relu(L, in_channels, ch1x1, 1)
        self.branch3x3 = L.Sequential(OrderedDict(
            reduce=_conv_relu(L, in_channels, ch3x3red, 1),
            conv=_conv_relu(L, ch3x3red, ch3x3, 3, padding=1),
        ))
        self.branch5x5 = L.Sequential(OrderedDict(
            reduce=_conv_relu(L, in_channels, ch5x5red, 1),
            conv=_conv_relu(L, ch5x5red, ch5x5, 5, padding=2),
        ))
        self.branch_pool = L.Sequential(OrderedDict(
            pool=L.MaxPool2d(kernel_size=3, stride=1, padding=1),
            proj=_conv_relu(L, in_channels, pool_proj, 1),
        ))

    def forward(self, x):
        branches = [self.branch1x1(x), self.branch3x3(x), self.branch5x5(x), self.branch_pool(x)]
        return torch.cat(branches, dim=1)  # (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)


def googlenet(num_classes: int = 1000, layers=None, dropout: float = 0.4):
    """GoogLeNet without auxiliary heads; children follow Table 1 (about 7.0M parameters).

    Args:
        num_classes: size of the final linear layer.
        layers: ``None`` for ``torch.nn``, or a namespace with the same class names.
        dropout: the paper's 40% before the linear layer.

    Shape:
        input ``(N, 3, 224, 224)``, output ``(N, num_classes)``.
    """
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    L = layer_classes(layers, *NEEDS)

    def pool():
        # (112 - 3)/2 + 1 = 55.5: like the paper's Caffe model, round up (ceil_mode) to get 56.
        return L.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)

    def norm():
        # The paper's Caffe model: local_size 5, alpha 1e-4, beta 0.75. Caffe divides alpha by the
        # window size, as torch.nn.LocalResponseNorm does, so the values carry over unchanged.
        return L.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)

    rows = OrderedDict(
        conv1=_conv_relu(L, 3, 64, 7, stride=2, padding=3),                   # (N, 64, 112, 112)
        pool1=L.Sequential(OrderedDict(pool=pool(), norm=norm())),            # (N, 64, 56, 56)
        conv2=L.Sequential(OrderedDict(
            reduce=_conv_relu(L, 64, 64, 1),
            conv=_conv_relu(L, 64, 192, 3, padding=1),                        # (N, 192, 56, 56)
            norm=norm(),
        )),
        pool2=pool(),                                                         # (N, 192, 28, 28)
    )
    c_in = 192
    for name, channels in INCEPTION_CHANNELS.items():
        if name == "inception4a":
            rows["pool3"] = pool()                                            # (N, 480, 14, 14)
        if name == "inception5a":
            rows["pool4"] = pool()                                            # (N, 832, 7, 7)
        rows[name] = Inception(c_in, *channels, layers=layers)
        c_in = rows[name].out_channels
    rows["avgpool"] = L.AvgPool2d(kernel_size=7, stride=1)                    # (N, 1024, 1, 1)
    rows["dropout"] = L.Dropout(dropout)
    rows["linear"] = L.Sequential(OrderedDict(
        flatten=L.Flatten(),                                                  # (N, 1024)
        linear=L.Linear(1024, num_classes),                                   # (N, num_classes)
    ))
    return L.Sequential(rows)
