"""The case studies' tables as the lecture and the papers print them: data only, the code computes.

Notebooks 07 to 09 print these next to ``cnnlib.arch.summary`` so a learner sees "paper vs
code" side by side; tests/test_arch.py checks every row against the code. Output sizes are
written as the sources write them, height x width x channels (PyTorch's order is (C, H, W)).
Numbers stay in the sources' own units and roundings ("3.2M", 2.7 for "2.7K").
"""
from __future__ import annotations

from typing import NamedTuple, Optional

# ---------------------------------------------------------------- LeNet-5 [LeCun et al., 1998]
# The paper's feature maps (the lecture's figure): 5x5 convolutions, 2x2 subsampling.


class LeNetRow(NamedTuple):
    layer: str              # the paper's name
    output_hwc: tuple       # output size as (H, W, C); fully connected layers as (units,)


LENET5_TABLE = (
    LeNetRow("INPUT", (32, 32, 1)),
    LeNetRow("C1", (28, 28, 6)),
    LeNetRow("S2", (14, 14, 6)),
    LeNetRow("C3", (10, 10, 16)),
    LeNetRow("S4", (5, 5, 16)),
    LeNetRow("C5", (120,)),
    LeNetRow("F6", (84,)),
    LeNetRow("OUTPUT", (10,)),
)

# ---------------------------------------------------------------- AlexNet, as the lecture draws it


class AlexNetRow(NamedTuple):
    name: str               # the child of cnnlib.models.alexnet() this row describes ("input": none)
    layer: str              # the lecture's label
    output_hwc: tuple
    description: str


ALEXNET_LECTURE_TABLE = (
    AlexNetRow("input", "INPUT", (227, 227, 3), ""),
    AlexNetRow("conv1", "CONV1", (55, 55, 96), "96 11x11 filters at stride 4, pad 0"),
    AlexNetRow("pool1", "MAX POOL1", (27, 27, 96), "3x3 filters at stride 2"),
    AlexNetRow("norm1", "NORM1", (27, 27, 96), "Normalization layer"),
    AlexNetRow("conv2", "CONV2", (27, 27, 256), "256 5x5 filters at stride 1, pad 2"),
    AlexNetRow("pool2", "MAX POOL2", (13, 13, 256), "3x3 filters at stride 2"),
    AlexNetRow("norm2", "NORM2", (13, 13, 256), "Normalization layer"),
    AlexNetRow("conv3", "CONV3", (13, 13, 384), "384 3x3 filters at stride 1, pad 1"),
    AlexNetRow("conv4", "CONV4", (13, 13, 384), "384 3x3 filters at stride 1, pad 1"),
    AlexNetRow("conv5", "CONV5", (13, 13, 256), "256 3x3 filters at stride 1, pad 1"),
    AlexNetRow("pool3", "MAX POOL3", (6, 6, 256), "3x3 filters at stride 2"),
    AlexNetRow("fc6", "FC6", (4096,), "4096 neurons"),
    AlexNetRow("fc7", "FC7", (4096,), "4096 neurons"),
    AlexNetRow("fc8", "FC8", (1000,), "1000 neurons (class scores)"),
)
# The lecture's questions about the first two layers, answered as it answers them.
ALEXNET_LECTURE_CONV1_PARAMS = "35K"    # (11*11*3)*96
ALEXNET_LECTURE_POOL1_PARAMS = 0

# ---------------------------------------------------------------- VGG16, the lecture's table


class VGGRow(NamedTuple):
    name: str               # the child of cnnlib.models.vgg16() ("input": none)
    layer: str              # the lecture's label
    output_hwc: tuple
    memory: str             # activations per image, as written ("224*224*64=3.2M")
    params: int             # weights, not counting biases, as written


VGG16_LECTURE_TABLE = (
    VGGRow("input", "INPUT", (224, 224, 3), "150K", 0),
    VGGRow("conv1_1", "CONV3-64", (224, 224, 64), "3.2M", 1_728),
    VGGRow("conv1_2", "CONV3-64", (224, 224, 64), "3.2M", 36_864),
    VGGRow("pool1", "POOL2", (112, 112, 64), "800K", 0),
    VGGRow("conv2_1", "CONV3-128", (112, 112, 128), "1.6M", 73_728),
    VGGRow("conv2_2", "CONV3-128", (112, 112, 128), "1.6M", 147_456),
    VGGRow("pool2", "POOL2", (56, 56, 128), "400K", 0),
    VGGRow("conv3_1", "CONV3-256", (56, 56, 256), "800K", 294_912),
    VGGRow("conv3_2", "CONV3-256", (56, 56, 256), "800K", 589_824),
    VGGRow("conv3_3", "CONV3-256", (56, 56, 256), "800K", 589_824),
    VGGRow("pool3", "POOL2", (28, 28, 256), "200K", 0),
    VGGRow("conv4_1", "CONV3-512", (28, 28, 512), "400K", 1_179_648),
    VGGRow("conv4_2", "CONV3-512", (28, 28, 512), "400K", 2_359_296),
    VGGRow("conv4_3", "CONV3-512", (28, 28, 512), "400K", 2_359_296),
    VGGRow("pool4", "POOL2", (14, 14, 512), "100K", 0),
    VGGRow("conv5_1", "CONV3-512", (14, 14, 512), "100K", 2_359_296),
    VGGRow("conv5_2", "CONV3-512", (14, 14, 512), "100K", 2_359_296),
    VGGRow("conv5_3", "CONV3-512", (14, 14, 512), "100K", 2_359_296),
    VGGRow("pool5", "POOL2", (7, 7, 512), "25K", 0),
    VGGRow("fc6", "FC", (1, 1, 4096), "4096", 102_760_448),
    VGGRow("fc7", "FC", (1, 1, 4096), "4096", 16_777_216),
    VGGRow("fc8", "FC", (1, 1, 1000), "1000", 4_096_000),
)
# The totals printed under this table where it is widely copied (CS231n's slide; this
# lecture's text shows the rows only): "TOTAL memory: 24M * 4 bytes ~= 96MB / image (only
# forward! ~*2 for bwd)" and "TOTAL params: 138M parameters". The rows above add up to about
# 15.2M values, not 24M: tests/test_arch.py computes the sum.
VGG16_WIDELY_COPIED_TOTALS = {"memory": "24M", "memory_bytes": "96MB", "params": "138M"}

# ---------------------------------------------------------------- GoogLeNet, Table 1 of the paper


class GoogLeNetRow(NamedTuple):
    name: str                       # the child of cnnlib.models.googlenet() ("softmax": in the loss)
    type: str
    patch_size_stride: str
    output_hwc: tuple
    depth: int
    n1x1: Optional[int]
    n3x3_reduce: Optional[int]
    n3x3: Optional[int]
    n5x5_reduce: Optional[int]
    n5x5: Optional[int]
    pool_proj: Optional[int]
    params_k: Optional[float]       # "params" column, in K
    ops_m: Optional[float]          # "ops" column (multiply-adds), in M


def _row(name, type, patch, hwc, depth, n1=None, r3=None, n3=None, r5=None, n5=None, pp=None, k=None, m=None):
    return GoogLeNetRow(name, type, patch, hwc, depth, n1, r3, n3, r5, n5, pp, k, m)


GOOGLENET_TABLE1 = (
    _row("conv1", "convolution", "7x7/2", (112, 112, 64), 1, k=2.7, m=34),
    _row("pool1", "max pool", "3x3/2", (56, 56, 64), 0),
    _row("conv2", "convolution", "3x3/1", (56, 56, 192), 2, r3=64, n3=192, k=112, m=360),
    _row("pool2", "max pool", "3x3/2", (28, 28, 192), 0),
    _row("inception3a", "inception (3a)", "", (28, 28, 256), 2, 64, 96, 128, 16, 32, 32, k=159, m=128),
    _row("inception3b", "inception (3b)", "", (28, 28, 480), 2, 128, 128, 192, 32, 96, 64, k=380, m=304),
    _row("pool3", "max pool", "3x3/2", (14, 14, 480), 0),
    _row("inception4a", "inception (4a)", "", (14, 14, 512), 2, 192, 96, 208, 16, 48, 64, k=364, m=73),
    _row("inception4b", "inception (4b)", "", (14, 14, 512), 2, 160, 112, 224, 24, 64, 64, k=437, m=88),
    _row("inception4c", "inception (4c)", "", (14, 14, 512), 2, 128, 128, 256, 24, 64, 64, k=463, m=100),
    _row("inception4d", "inception (4d)", "", (14, 14, 528), 2, 112, 144, 288, 32, 64, 64, k=580, m=119),
    _row("inception4e", "inception (4e)", "", (14, 14, 832), 2, 256, 160, 320, 32, 128, 128, k=840, m=170),
    _row("pool4", "max pool", "3x3/2", (7, 7, 832), 0),
    _row("inception5a", "inception (5a)", "", (7, 7, 832), 2, 256, 160, 320, 32, 128, 128, k=1072, m=54),
    _row("inception5b", "inception (5b)", "", (7, 7, 1024), 2, 384, 192, 384, 48, 128, 128, k=1388, m=71),
    _row("avgpool", "avg pool", "7x7/1", (1, 1, 1024), 0),
    _row("dropout", "dropout (40%)", "", (1, 1, 1024), 0),
    _row("linear", "linear", "", (1, 1, 1000), 1, k=1000, m=1),
    _row("softmax", "softmax", "", (1, 1, 1000), 0),
)
# The lecture's comparison with AlexNet, as written.
GOOGLENET_LECTURE_CLAIMS = {
    "params": "5 million",
    "fewer_params_than_alexnet": 12,    # "12X less params"
    "more_compute_than_alexnet": 2,     # "2x more compute"
    "top5_error": 6.67,                 # percent, vs AlexNet's 16.4
    "alexnet_top5_error": 16.4,
}

# ---------------------------------------------------------------- ResNet, Table 1 of the paper


class ResNetColumn(NamedTuple):
    block: str                      # "basic" (two 3x3) or "bottleneck" (1x1, 3x3, 1x1)
    blocks: tuple                   # blocks in conv2_x, conv3_x, conv4_x, conv5_x
    flops: float                    # the "FLOPs" row (multiply-adds): 1.8e9 for "1.8x10^9"


RESNET_TABLE1 = {
    18: ResNetColumn("basic", (2, 2, 2, 2), 1.8e9),
    34: ResNetColumn("basic", (3, 4, 6, 3), 3.6e9),
    50: ResNetColumn("bottleneck", (3, 4, 6, 3), 3.8e9),
    101: ResNetColumn("bottleneck", (3, 4, 23, 3), 7.6e9),
    152: ResNetColumn("bottleneck", (3, 8, 36, 3), 11.3e9),
}
# The "output size" column (H, W), by the children of cnnlib.models.resnet*().
RESNET_TABLE1_OUTPUT_SIZE = {"conv1": (112, 112), "conv2_x": (56, 56), "conv3_x": (28, 28),
                             "conv4_x": (14, 14), "conv5_x": (7, 7), "fc": (1, 1)}
