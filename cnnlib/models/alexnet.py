"""AlexNet [Krizhevsky et al., 2012] as the lecture draws it: one tower, 227x227x3 input.

Taught in 08_case_studies_alexnet_vgg. The top-level children are the lecture's rows,
so ``cnnlib.arch.summary(alexnet(), (3, 227, 227), depth=1)`` prints its table:

    [227x227x3]  INPUT
    [55x55x96]   CONV1  96 11x11 filters at stride 4, pad 0     (227 - 11)/4 + 1 = 55
    [27x27x96]   POOL1  3x3 max pooling at stride 2            (55 - 3)/2 + 1 = 27
    [27x27x96]   NORM1  local response normalization
    [27x27x256]  CONV2  256 5x5 filters at stride 1, pad 2
    [13x13x256]  POOL2  3x3 at stride 2
    [13x13x256]  NORM2
    [13x13x384]  CONV3  384 3x3 filters at stride 1, pad 1
    [13x13x384]  CONV4  384 3x3 filters at stride 1, pad 1
    [13x13x256]  CONV5  256 3x3 filters at stride 1, pad 1
    [6x6x256]    POOL3  3x3 at stride 2
    [4096]       FC6    4096 neurons
    [4096]       FC7    4096 neurons
    [1000]       FC8    1000 class scores

The paper split the network over two GPUs, so CONV2, CONV4 and CONV5 each saw only half of
the previous layer's maps. The lecture's single tower connects everything: 62,378,344
parameters and 1.14G multiply-adds per 227x227 image. ``two_towers=True`` restores the split
as grouped convolutions (``groups=2``): 60,965,224 parameters (the paper's "60 million") and
0.72G multiply-adds. Dropout (p=0.5) follows FC6 and FC7, as in the paper.
"""
from __future__ import annotations

from collections import OrderedDict

from cnnlib.checks import check_int
from cnnlib.models._layers import layer_classes

# The paper's normalization (Section 3.3): b = a / (k + alpha * sum of a^2 over n neighbouring maps)^beta
# with k=2, n=5, alpha=1e-4, beta=0.75. torch.nn.LocalResponseNorm (and cnnlib's, which follows it)
# computes k + (alpha / size) * sum, so the paper's alpha = 1e-4 is passed as alpha = size * 1e-4 = 5e-4.
PAPER_ALPHA = 1e-4
LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K = 5, 5 * PAPER_ALPHA, 0.75, 2.0


def alexnet(num_classes: int = 1000, layers=None, dropout: float = 0.5, two_towers: bool = False):
    """The lecture's (simplified, single-tower) AlexNet; children conv1, pool1, norm1, ..., fc8.

    Args:
        num_classes: size of FC8.
        layers: ``None`` for ``torch.nn``, or a namespace with the same class names.
        dropout: probability of zeroing an FC6 or FC7 output while training.
        two_towers: the paper's two-GPU split: CONV2, CONV4 and CONV5 each see only the half of
            the previous maps on their own GPU (``groups=2``).

    NORM1 and NORM2 are ``LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)``: the paper's
    k=2, n=5, alpha=1e-4, beta=0.75 in PyTorch's convention, whose formula divides alpha by the
    window size (the paper's does not), so the paper's alpha is multiplied by 5 here. Both then
    compute a / (2 + 1e-4 * sum of a^2 over 5 maps)^0.75 (tests/test_models.py checks it).
    Dropout is ``Dropout(dropout)`` after the ReLUs of FC6 and FC7 (identity in ``eval()``).

    Shape:
        input ``(N, 3, 227, 227)``, output ``(N, num_classes)``.
    """
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    L = layer_classes(layers, "Conv2d", "ReLU", "MaxPool2d", "LocalResponseNorm", "Linear", "Dropout")

    split = 2 if two_towers else 1

    def conv(c_in, c_out, k, stride, padding, groups=1):
        grouped = {"groups": groups} if groups > 1 else {}  # so layers without `groups` still work
        return L.Sequential(OrderedDict(
            conv=L.Conv2d(c_in, c_out, kernel_size=k, stride=stride, padding=padding, **grouped),
            relu=L.ReLU(),
        ))

    def pool():
        return L.MaxPool2d(kernel_size=3, stride=2)

    def norm():
        return L.LocalResponseNorm(LRN_SIZE, alpha=LRN_ALPHA, beta=LRN_BETA, k=LRN_K)

    return L.Sequential(OrderedDict(
        conv1=conv(3, 96, 11, stride=4, padding=0),   # (N, 96, 55, 55)
        pool1=pool(),                                 # (N, 96, 27, 27)
        norm1=norm(),
        conv2=conv(96, 256, 5, stride=1, padding=2, groups=split),  # (N, 256, 27, 27)
        pool2=pool(),                                 # (N, 256, 13, 13)
        norm2=norm(),
        conv3=conv(256, 384, 3, stride=1, padding=1),  # (N, 384, 13, 13)
        conv4=conv(384, 384, 3, stride=1, padding=1, groups=split),  # (N, 384, 13, 13)
        conv5=conv(384, 256, 3, stride=1, padding=1, groups=split),  # (N, 256, 13, 13)
        pool3=pool(),                                 # (N, 256, 6, 6)
        fc6=L.Sequential(OrderedDict(
            flatten=L.Flatten(),                      # (N, 9216)
            linear=L.Linear(256 * 6 * 6, 4096),       # (N, 4096)
            relu=L.ReLU(),
            dropout=L.Dropout(dropout),
        )),
        fc7=L.Sequential(OrderedDict(
            linear=L.Linear(4096, 4096),
            relu=L.ReLU(),
            dropout=L.Dropout(dropout),
        )),
        fc8=L.Linear(4096, num_classes),              # (N, num_classes)
    ))
