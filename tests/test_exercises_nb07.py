"""Exercises of 07_case_studies_lenet_alexnet_vgg: the stored answers agree with the models, and the checkers judge."""
import torch

from cnnlib import models
from cnnlib.arch import summary
from cnnlib.exercises import nb07


def test_answers_agree_with_the_models():
    lenet = models.lenet5()
    assert sum(p.numel() for p in lenet.parameters()) == nb07.LENET5_PARAMS
    assert sum(p.numel() for n, p in lenet.named_parameters() if n.endswith("weight")) == nb07.LENET5_WEIGHTS
    by_layer = sum((f * f * c_in + 1) * c_out for _, f, c_in, c_out in nb07.LENET5_LAYERS)
    assert by_layer == nb07.LENET5_PARAMS
    with torch.device("meta"):
        alexnet, vgg = models.alexnet(), models.vgg16()
    conv2 = summary(alexnet, (3, 227, 227), depth=1)["conv2"]
    c, h, w = conv2.output_shape
    assert (h, w, c, conv2.params) == nb07.CONV2_ANSWER == (27, 27, 256, 614_656)
    assert sum(p.numel() for p in vgg.parameters()) == nb07.VGG16_PARAMS
    fc = sum(p.numel() for name in ("fc6", "fc7", "fc8") for p in getattr(vgg, name).parameters())
    assert fc == nb07.VGG16_FC_PARAMS == 123_642_856
    assert round(nb07.VGG16_FC_SHARE, 4) == 0.8936


def test_check_lenet5_params(capsys):
    assert nb07.check_lenet5_params(61_706) is True
    assert "Exercise 1: correct!" in capsys.readouterr().out
    assert nb07.check_lenet5_params(61_470) is False
    assert "one bias" in capsys.readouterr().out
    assert nb07.check_lenet5_params(60_806) is False
    assert "sparse C3" in capsys.readouterr().out
    assert nb07.check_lenet5_params(61_000) is False
    assert "61,000 is not it" in capsys.readouterr().out
    assert nb07.check_lenet5_params("61706") is False
    assert "not a string" in capsys.readouterr().out
    assert nb07.check_lenet5_params(None) is False
    assert "not attempted yet" in capsys.readouterr().out


def test_check_alexnet_conv2(capsys):
    assert nb07.check_alexnet_conv2((27, 27, 256, 614_656)) is True
    assert nb07.check_alexnet_conv2([27, 27, 256, 614_400]) is False
    assert "add one bias" in capsys.readouterr().out
    assert nb07.check_alexnet_conv2((27, 27, 256, 307_456)) is False
    assert "two towers" in capsys.readouterr().out
    assert nb07.check_alexnet_conv2((23, 23, 256, 614_656)) is False
    assert "not 23x23" in capsys.readouterr().out
    assert nb07.check_alexnet_conv2((27, 27, 96, 614_656)) is False
    assert "number of filters" in capsys.readouterr().out
    assert nb07.check_alexnet_conv2((27, 27, 256)) is False
    assert "four numbers" in capsys.readouterr().out


def test_check_vgg16_fc_share(capsys):
    assert nb07.check_vgg16_fc_share(nb07.VGG16_FC_SHARE) is True
    weights_only = 25_088 * 4096 + 4096 * 4096 + 4096 * 1000
    assert nb07.check_vgg16_fc_share(weights_only / 138_344_128) is True  # biases left out: also fine
    assert nb07.check_vgg16_fc_share(89.36) is False
    assert "not a percentage" in capsys.readouterr().out
    assert nb07.check_vgg16_fc_share(1 - nb07.VGG16_FC_SHARE) is False
    assert "share of the convolutions" in capsys.readouterr().out
    assert nb07.check_vgg16_fc_share(0.74) is False
    assert "your share" in capsys.readouterr().out
