"""Exercises of 08_case_studies_googlenet_resnet: the stored answers agree with the models, and the checkers judge."""
import torch
import torch.nn as nn

from cnnlib import models
from cnnlib.arch import summary
from cnnlib.exercises import nb08


def test_answers_agree_with_the_models():
    h, w, c = nb08.INCEPTION_3B_INPUT
    f = nb08.INCEPTION_3B_FILTERS
    naive = nn.ModuleList([nn.Conv2d(c, f["1x1"], 1), nn.Conv2d(c, f["3x3"], 3, padding=1),
                           nn.Conv2d(c, f["5x5"], 5, padding=2)])
    macs = sum(summary(conv, (c, h, w)).total_macs for conv in naive)
    assert macs == nb08.INCEPTION_3B_NAIVE_MACS == 854_196_224
    with torch.device("meta"):
        google, vgg, resnet = models.googlenet(), models.vgg19(), models.resnet152()
    assert summary(google, (3, 224, 224), depth=1)["inception3b"].macs == nb08.INCEPTION_3B_MACS
    assert summary(vgg, (3, 224, 224)).total_macs == nb08.VGG19_MACS
    assert summary(resnet, (3, 224, 224)).total_macs == nb08.RESNET152_MACS
    block = resnet.conv5_x.block2
    weights = sum(m.weight.numel() for m in block.modules() if isinstance(m, nn.Conv2d))
    bn = sum(p.numel() for m in block.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters())
    assert (weights, bn) == (nb08.BOTTLENECK_WEIGHTS, nb08.BOTTLENECK_BN) == (4_456_448, 6144)
    assert round(nb08.MACS_RATIO, 2) == 1.74


def test_check_naive_inception(capsys):
    assert nb08.check_naive_inception(854_196_224) is True
    assert "2.8x" in capsys.readouterr().out
    assert nb08.check_naive_inception(304_267_264) is False
    assert "1x1 reductions" in capsys.readouterr().out
    assert nb08.check_naive_inception(854.2) is False
    assert "not millions" in capsys.readouterr().out
    assert nb08.check_naive_inception(800_000_000) is False
    assert "your count" in capsys.readouterr().out
    assert nb08.check_naive_inception(None) is False
    assert "not attempted yet" in capsys.readouterr().out


def test_check_bottleneck(capsys):
    assert nb08.check_bottleneck(4_456_448) is True
    assert nb08.check_bottleneck(4_456_448 + 6144) is False
    assert "batch norm" in capsys.readouterr().out
    assert nb08.check_bottleneck(2048 * 512 + 9 * 512 * 512) is False
    assert "third convolution" in capsys.readouterr().out
    assert nb08.check_bottleneck(2 * 9 * 2048 * 2048) is False
    assert "works on 512" in capsys.readouterr().out
    assert nb08.check_bottleneck(4_000_000) is False
    assert "4,000,000 is not it" in capsys.readouterr().out


def test_check_macs_ratio(capsys):
    assert nb08.check_macs_ratio(19.63 / 11.28) is True
    assert nb08.check_macs_ratio(11.28 / 19.63) is False
    assert "how many times MORE" in capsys.readouterr().out
    assert nb08.check_macs_ratio(8.0) is False
    assert "depths" in capsys.readouterr().out
    assert nb08.check_macs_ratio(2.0) is False
    assert "your ratio" in capsys.readouterr().out
    assert nb08.check_macs_ratio([1.74, 1.0]) is False
    assert "single number" in capsys.readouterr().out
