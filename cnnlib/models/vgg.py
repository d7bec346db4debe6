"""VGG16 and VGG19 [Simonyan and Zisserman, 2014]: only 3x3 convolutions and 2x2 pooling.

Taught in 08_case_studies_alexnet_vgg. Every convolution is 3x3 at stride 1 with pad 1
(the spatial size is kept), every pooling 2x2 at stride 2 (the size is halved), and the
number of filters doubles after each pooling: 64, 128, 256, 512, 512. The top-level children
are the rows of the lecture's VGG16 table (conv1_1, conv1_2, pool1, ..., fc6, fc7, fc8), so

    cnnlib.arch.summary(vgg16(), (3, 224, 224), depth=1)

prints its memory and parameter columns. The parameters, in the same order and shapes, are
those of torchvision's ``vgg16``/``vgg19`` (138,357,544 and 143,667,240); torchvision adds an
adaptive average pooling to 7x7, which does nothing at 224x224 input and is left out here.
"""
from __future__ import annotations

from collections import OrderedDict

from cnnlib.checks import check_int
from cnnlib.models._layers import layer_classes

# Convolutions per block; the block's filters are 64, 128, 256, 512, 512.
CONVS_PER_BLOCK = {16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}
FILTERS = (64, 128, 256, 512, 512)


def vgg(depth: int, num_classes: int = 1000, layers=None, dropout: float = 0.5):
    """VGG with ``depth`` weight layers (16 or 19): 13 or 16 convolutions and 3 fully connected.

    Shape:
        input ``(N, 3, 224, 224)``, output ``(N, num_classes)``.
    """
    if depth not in CONVS_PER_BLOCK:
        raise ValueError(f"depth must be 16 or 19 (the VGG configurations D and E), got {depth!r}")
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    L = layer_classes(layers, "Conv2d", "ReLU", "MaxPool2d", "Linear", "Dropout")

    rows = OrderedDict()
    c_in = 3
    for block, (n_convs, c_out) in enumerate(zip(CONVS_PER_BLOCK[depth], FILTERS), start=1):
        for i in range(1, n_convs + 1):
            rows[f"conv{block}_{i}"] = L.Sequential(OrderedDict(
                conv=L.Conv2d(c_in, c_out, kernel_size=3, stride=1, padding=1),  # (N, c_out, H, W)
                relu=L.ReLU(),
            ))
            c_in = c_out
        rows[f"pool{block}"] = L.MaxPool2d(kernel_size=2, stride=2)  # (N, c_out, H/2, W/2)
    # After five poolings 224 has become 7: the last block's output is (N, 512, 7, 7).
    rows["fc6"] = L.Sequential(OrderedDict(
        flatten=L.Flatten(),                   # (N, 25088)
        linear=L.Linear(512 * 7 * 7, 4096),    # (N, 4096)
        relu=L.ReLU(),
        dropout=L.Dropout(dropout),
    ))
    rows["fc7"] = L.Sequential(OrderedDict(
        linear=L.Linear(4096, 4096),
        relu=L.ReLU(),
        dropout=L.Dropout(dropout),
    ))
    rows["fc8"] = L.Linear(4096, num_classes)  # (N, num_classes)
    return L.Sequential(rows)


def vgg16(num_classes: int = 1000, layers=None, dropout: float = 0.5):
    """VGG16 (configuration D): 13 convolutions and 3 fully connected layers, 138,357,544 parameters."""
    return vgg(16, num_classes=num_classes, layers=layers, dropout=dropout)


def vgg19(num_classes: int = 1000, layers=None, dropout: float = 0.5):
    """VGG19 (configuration E): 16 convolutions and 3 fully connected layers, 143,667,240 parameters."""
    return vgg(19, num_classes=num_classes, layers=layers, dropout=dropout)
