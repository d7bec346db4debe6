"""ResNet [He et al., 2015]: stages of residual blocks, y = relu(F(x) + shortcut(x)).

Taught in 09_case_studies_googlenet_resnet. A block learns the residual F(x) that is added to
its input; when a block halves the spatial size and changes the depth, the shortcut is a 1x1
convolution at stride 2 with batch norm (the paper's option B). The top-level children are
the rows of the paper's Table 1:

    conv1     7x7, 64, stride 2                      (N, 64, 112, 112)
    conv2_x   3x3 max pool stride 2, then blocks     (N, 64 or 256, 56, 56)
    conv3_x   blocks, the first at stride 2          (N, 128 or 512, 28, 28)
    conv4_x                                          (N, 256 or 1024, 14, 14)
    conv5_x                                          (N, 512 or 2048, 7, 7)
    avgpool   global average pooling                 (N, 512 or 2048, 1, 1)
    fc        1000-way linear (softmax in the loss)  (N, num_classes)

ResNet-18/34 use the basic block (two 3x3 convolutions); ResNet-50/101/152 the bottleneck
(1x1 down to a quarter of the depth, 3x3, 1x1 back up). Parameters, in order and shape, equal
torchvision's ``resnet18`` ... ``resnet152``. One difference: like the paper, the bottleneck
downsamples in its first 1x1 convolution; torchvision ("ResNet v1.5") strides the 3x3 one
instead, which costs more multiply-adds (4.1G instead of 3.9G for ResNet-50).
"""
from __future__ import annotations

from collections import OrderedDict

import torch.nn as nn

from cnnlib.checks import check_int
from cnnlib.models._layers import layer_classes

NEEDS = ("Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "AdaptiveAvgPool2d", "Linear")

# Blocks per stage (conv2_x, conv3_x, conv4_x, conv5_x), from Table 1 of the paper.
BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
WIDTHS = (64, 128, 256, 512)


def _shortcut(L, c_in, c_out, stride):
    """Identity when the shapes agree, else a 1x1 convolution (stride) and batch norm."""
    if stride == 1 and c_in == c_out:
        return None
    return L.Sequential(OrderedDict(
        conv=L.Conv2d(c_in, c_out, kernel_size=1, stride=stride, bias=False),
        bn=L.BatchNorm2d(c_out),
    ))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    ``residual=False`` drops the shortcut (no "+ shortcut(x)"): the same layers as a plain block,
    for comparing a plain network with its residual twin (09's experiment).

    Shape:
        input ``(N, in_channels, H, W)``, output ``(N, width, H / stride, W / stride)``.
    """

    expansion = 1

    def __init__(self, in_channels, width, stride=1, layers=None, residual: bool = True):
        super().__init__()
        L = layer_classes(layers, "Conv2d", "BatchNorm2d", "ReLU")
        self.residual = bool(residual)
        self.conv1 = L.Conv2d(in_channels, width, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = L.BatchNorm2d(width)
        self.relu1 = L.ReLU()
        self.conv2 = L.Conv2d(width, width, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = L.BatchNorm2d(width)
        self.shortcut = _shortcut(L, in_channels, width, stride) if self.residual else None
        self.relu2 = L.ReLU()

    def forward(self, x):
        out = self.relu1(self.bn1(self.conv1(x)))                      # (N, width, H_out, W_out)
        out = self.bn2(self.conv2(out))                                # (N, width, H_out, W_out)
        if not self.residual:
            return self.relu2(out)                                     # a plain block: no shortcut
        identity = x if self.shortcut is None else self.shortcut(x)  # (N, width, H_out, W_out)
        return self.relu2(out + identity)


class Bottleneck(nn.Module):
    """1x1 (reduce to ``width``), 3x3, 1x1 (expand to ``4 * width``), plus the shortcut.

    As in the paper, the stride is on the first 1x1 convolution.

    Shape:
        input ``(N, in_channels, H, W)``, output ``(N, 4 * width, H / stride, W / stride)``.
    """

    expansion = 4

    def __init__(self, in_channels, width, stride=1, layers=None):
        super().__init__()
        L = layer_classes(layers, "Conv2d", "BatchNorm2d", "ReLU")
        c_out = width * self.expansion
        self.conv1 = L.Conv2d(in_channels, width, kernel_size=1, stride=stride, bias=False)
        self.bn1 = L.BatchNorm2d(width)
        self.relu1 = L.ReLU()
        self.conv2 = L.Conv2d(width, width, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = L.BatchNorm2d(width)
        self.relu2 = L.ReLU()
        self.conv3 = L.Conv2d(width, c_out, kernel_size=1, bias=False)
        self.bn3 = L.BatchNorm2d(c_out)
        self.shortcut = _shortcut(L, in_channels, c_out, stride)
        self.relu3 = L.ReLU()

    def forward(self, x):
        out = self.relu1(self.bn1(self.conv1(x)))                      # (N, width, H_out, W_out)
        out = self.relu2(self.bn2(self.conv2(out)))                    # (N, width, H_out, W_out)
        out = self.bn3(self.conv3(out))                                # (N, 4*width, H_out, W_out)
        identity = x if self.shortcut is None else self.shortcut(x)  # (N, 4*width, H_out, W_out)
        return self.relu3(out + identity)


def resnet(depth: int, num_classes: int = 1000, layers=None):
    """ResNet with ``depth`` weight layers: 18, 34 (basic blocks), 50, 101 or 152 (bottlenecks).

    Shape:
        input ``(N, 3, 224, 224)``, output ``(N, num_classes)``.
    """
    if depth not in BLOCKS:
        raise ValueError(f"depth must be one of {sorted(BLOCKS)} (the paper's Table 1), got {depth!r}")
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    L = layer_classes(layers, *NEEDS)
    Block = BasicBlock if depth < 50 else Bottleneck

    rows = OrderedDict(conv1=L.Sequential(OrderedDict(
        conv=L.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False),  # (N, 64, 112, 112)
        bn=L.BatchNorm2d(64),
        relu=L.ReLU(),
    )))
    c_in = 64
    for stage, (n_blocks, width) in enumerate(zip(BLOCKS[depth], WIDTHS), start=2):
        stage_layers = OrderedDict()
        if stage == 2:
            stage_layers["pool"] = L.MaxPool2d(kernel_size=3, stride=2, padding=1)  # (N, 64, 56, 56)
        for i in range(1, n_blocks + 1):
            stride = 2 if (i == 1 and stage > 2) else 1  # conv3_1, conv4_1, conv5_1 halve the size
            stage_layers[f"block{i}"] = Block(c_in, width, stride=stride, layers=layers)
            c_in = width * Block.expansion
        rows[f"conv{stage}_x"] = L.Sequential(stage_layers)
    rows["avgpool"] = L.AdaptiveAvgPool2d(1)                 # (N, c_in, 1, 1)
    rows["fc"] = L.Sequential(OrderedDict(
        flatten=L.Flatten(),                                 # (N, c_in)
        linear=L.Linear(c_in, num_classes),                  # (N, num_classes)
    ))
    return L.Sequential(rows)


def resnet18(num_classes: int = 1000, layers=None):
    """ResNet-18: basic blocks (2, 2, 2, 2); 11,689,512 parameters, 1.8G multiply-adds at 224x224."""
    return resnet(18, num_classes=num_classes, layers=layers)


def resnet34(num_classes: int = 1000, layers=None):
    """ResNet-34: basic blocks (3, 4, 6, 3); 21,797,672 parameters, 3.6G multiply-adds."""
    return resnet(34, num_classes=num_classes, layers=layers)


def resnet50(num_classes: int = 1000, layers=None):
    """ResNet-50: bottlenecks (3, 4, 6, 3); 25,557,032 parameters, 3.8G multiply-adds."""
    return resnet(50, num_classes=num_classes, layers=layers)


def resnet101(num_classes: int = 1000, layers=None):
    """ResNet-101: bottlenecks (3, 4, 23, 3); 44,549,160 parameters, 7.6G multiply-adds."""
    return resnet(101, num_classes=num_classes, layers=layers)


def resnet152(num_classes: int = 1000, layers=None):
    """ResNet-152: bottlenecks (3, 8, 36, 3); 60,192,808 parameters, 11.3G multiply-adds."""
    return resnet(152, num_classes=num_classes, layers=layers)


def narrow_resnet(blocks: int, width: int = 16, residual: bool = True, num_classes: int = 10,
                  in_channels: int = 1, layers=None):
    """A deep, narrow network for 28x28 images (09's plain vs residual experiment): 2 * blocks + 2 weight layers.

    A stem (3x3 convolution at stride 2, batch norm, ReLU, 2x2 max pool: 28x28 -> 7x7), then
    ``blocks`` basic blocks of ``width`` maps at 7x7, global average pooling and one linear layer,
    as the paper's CIFAR-10 networks end. ``residual=False`` gives the plain twin: the same layers
    without the shortcuts.

    Shape:
        input ``(N, in_channels, 28, 28)``, output ``(N, num_classes)``.
    """
    blocks = check_int(blocks, "blocks", minimum=1)
    width = check_int(width, "width", minimum=1)
    L = layer_classes(layers, *NEEDS)
    return L.Sequential(OrderedDict(
        stem=L.Sequential(OrderedDict(
            conv=L.Conv2d(check_int(in_channels, "in_channels", minimum=1), width, kernel_size=3, stride=2,
                          padding=1, bias=False),                    # (N, width, 14, 14)
            bn=L.BatchNorm2d(width),
            relu=L.ReLU(),
            pool=L.MaxPool2d(kernel_size=2),                         # (N, width, 7, 7)
        )),
        blocks=L.Sequential(OrderedDict(
            (f"block{i}", BasicBlock(width, width, layers=layers, residual=residual)) for i in range(1, blocks + 1))),
        avgpool=L.AdaptiveAvgPool2d(1),                              # (N, width, 1, 1)
        fc=L.Sequential(OrderedDict(
            flatten=L.Flatten(),                                     # (N, width)
            linear=L.Linear(width, check_int(num_classes, "num_classes", minimum=1)),  # (N, num_classes)
        )),
    ))
