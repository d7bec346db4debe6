"""cnnlib.receptive_field: the growth rule, checked by a gradient experiment on LeNet-5 and VGG16's geometry."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from cnnlib import models
from cnnlib.receptive_field import receptive_field


def gradient_extent(model: nn.Module, size: int) -> int:
    """Rows of the input that reach the centre output pixel: the nonzero extent of d out_centre / d input.

    Every convolution becomes one channel of ones and every pooling an average with the same kernel
    and stride, with no activations: each input pixel in the field then reaches the output with a
    positive weight, so no gradient cancels or is routed elsewhere (as max pooling would do).
    """
    chain = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            conv = nn.Conv2d(1, 1, m.kernel_size, m.stride, m.padding, m.dilation, bias=False).double()
            nn.init.ones_(conv.weight)
            chain.append(conv)
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            chain.append(nn.AvgPool2d(m.kernel_size, m.stride, m.padding))
    probe = nn.Sequential(*chain)
    x = torch.zeros(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    out = probe(x)
    h, w = out.shape[2:]
    out[0, 0, h // 2, w // 2].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(dim=1)).flatten()
    assert rows.min() > 0 and rows.max() < size - 1, "the field touches the border: use a larger input"
    return int(rows.max() - rows.min() + 1)


def test_lenet5_c5_sees_the_whole_32x32_digit():
    rows = receptive_field(models.lenet5())
    assert [(r.kernel, r.stride, r.jump, r.receptive_field) for r in rows] == [
        (5, 1, 1, 5), (2, 2, 2, 6), (5, 1, 2, 14), (2, 2, 4, 16), (5, 1, 4, 32)]
    assert gradient_extent(models.lenet5(), 40) == 32


def test_vgg16_fields_agree_with_the_gradient_experiment():
    with torch.device("meta"):
        vgg = models.vgg16()
    rows = {r.layer.split(".")[0]: r for r in receptive_field(vgg)}
    # two stacked 3x3 convolutions see 5x5, as one 5x5 would
    assert [rows[n].receptive_field for n in ("conv1_1", "conv1_2", "pool1", "conv2_1")] == [3, 5, 6, 10]
    assert (rows["conv5_3"].receptive_field, rows["pool5"].receptive_field, rows["pool5"].jump) == (196, 212, 32)
    for last in ("conv3_3", "pool5"):
        names = list(dict(vgg.named_children()))
        truncated = nn.Sequential(*[child for name, child in vgg.named_children()][:names.index(last) + 1])
        with torch.device("cpu"):
            assert gradient_extent(truncated, 320) == rows[last].receptive_field, last


def test_dilation_and_rows_given_as_a_table():
    rows = receptive_field([("a", 3, 1, 2), ("b", 3, 2), ("c", 3, 1)])
    assert [r.receptive_field for r in rows] == [5, 7, 11] and rows[-1].jump == 2
    dilated = nn.Sequential(nn.Conv2d(1, 1, 3, dilation=2), nn.Conv2d(1, 1, 3, stride=2), nn.Conv2d(1, 1, 3))
    assert gradient_extent(dilated, 32) == 11
    with pytest.raises(ValueError, match=r"row 0 \('a'\): stride must be a positive integer, got 0"):
        receptive_field([("a", 3, 0)])
    with pytest.raises(ValueError, match="parallel branches"):
        receptive_field(models.BasicBlock(2, 2))
