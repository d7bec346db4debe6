"""Exercises of 08_case_studies_alexnet_vgg: the stored answers agree with the models, and the checkers judge."""
import pytest
import torch

from cnnlib import models
from cnnlib.arch import summary
from cnnlib.exercises import core, nb08
from exercise_notebooks import rejected_for


def test_answers_agree_with_the_models():
    with torch.device("meta"):
        alexnet, vgg = models.alexnet(), models.vgg16()
    conv2 = summary(alexnet, (3, 227, 227), depth=1)["conv2"]
    c, h, w = conv2.output_shape
    assert (h, w, c, conv2.params) == nb08.CONV2_ANSWER == (27, 27, 256, 614_656)
    assert sum(p.numel() for p in vgg.parameters()) == nb08.VGG16_PARAMS
    fc = sum(p.numel() for name in ("fc6", "fc7", "fc8") for p in getattr(vgg, name).parameters())
    assert fc == nb08.VGG16_FC_PARAMS == 123_642_856
    assert round(nb08.VGG16_FC_SHARE, 4) == 0.8936


def test_check_alexnet_conv2(capsys):
    assert nb08.check_alexnet_conv2((27, 27, 256, 614_656)) is True
    assert nb08.check_alexnet_conv2([27, 27, 256, 614_400]) is False
    assert "add one bias" in capsys.readouterr().out
    assert nb08.check_alexnet_conv2((27, 27, 256, 307_456)) is False
    assert "two towers" in capsys.readouterr().out
    assert nb08.check_alexnet_conv2((23, 23, 256, 614_656)) is False
    assert "not 23x23" in capsys.readouterr().out
    assert nb08.check_alexnet_conv2((27, 27, 96, 614_656)) is False
    assert "number of filters" in capsys.readouterr().out
    assert nb08.check_alexnet_conv2((27, 27, 256)) is False
    assert "four numbers" in capsys.readouterr().out


def test_check_vgg16_fc_share(capsys):
    assert nb08.check_vgg16_fc_share(nb08.VGG16_FC_SHARE) is True
    weights_only = 25_088 * 4096 + 4096 * 4096 + 4096 * 1000
    assert nb08.check_vgg16_fc_share(weights_only / 138_344_128) is True  # biases left out: also fine
    assert nb08.check_vgg16_fc_share(89.36) is False
    assert "not a percentage" in capsys.readouterr().out
    assert nb08.check_vgg16_fc_share(1 - nb08.VGG16_FC_SHARE) is False
    assert "share of the convolutions" in capsys.readouterr().out
    assert nb08.check_vgg16_fc_share(0.74) is False
    assert "your share" in capsys.readouterr().out


# -- the function exercise: each plausible mistake rejected for its reason, a right loop accepted -------------

def layer_table_by_hand(layers, input_hwc, bias=1, depth_from="in", padding=True, pool_params=False):
    """A learner's loop; the keyword arguments switch on one mistake each."""
    (h, w, c), out = input_hwc, []
    for kind, *args in layers:
        if kind == "fc":
            inputs = h * w * c if c is not None else h
            out.append(((args[0],), (inputs + bias) * args[0]))
            h, w, c = args[0], None, None
            continue
        f, s = args[0], args[1]
        p = args[2] if kind == "conv" and padding else 0
        h, w = (h - f + 2 * p) // s + 1, (w - f + 2 * p) // s + 1
        if kind == "conv":
            c_in = c if depth_from == "in" else args[3]
            out.append(((h, w, args[3]), (f * f * c_in + bias) * args[3]))
            c = args[3]
        else:
            out.append(((h, w, c), (f * f * c + 1) * c if pool_params else 0))
    return out


LAYER_TABLE_MUTATIONS = [
    (lambda layers, hwc: layer_table_by_hand(layers, hwc, bias=0), "also has one bias"),
    (lambda layers, hwc: layer_table_by_hand(layers, hwc, depth_from="out"), "depth of its INPUT"),
    (lambda layers, hwc: layer_table_by_hand(layers, hwc, padding=False), "padding P adds 2P"),
    (lambda layers, hwc: layer_table_by_hand(layers, hwc, pool_params=True), "pooling layer has nothing to learn"),
]


def test_layer_table_accepts_a_right_loop_and_agrees_with_summary(capsys):
    assert nb08.check_layer_table(layer_table_by_hand) is True
    assert "Exercise 3: correct on all 30 cases!" in capsys.readouterr().out
    with torch.device("meta"):
        s = summary(models.alexnet(), (3, 227, 227), depth=1)
    rows = [("conv", 11, 4, 0, 96), ("pool", 3, 2), ("conv", 5, 1, 2, 256)]
    ours = nb08._layer_table(rows, (227, 227, 3))
    assert ours == [((r.output_shape[1], r.output_shape[2], r.output_shape[0]), r.params)
                    for r in (s["conv1"], s["pool1"], s["conv2"])]


@pytest.mark.parametrize("wrong, hint", LAYER_TABLE_MUTATIONS, ids=lambda v: v if isinstance(v, str) else "")
def test_layer_table_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    rejected_for(nb08.check_layer_table, wrong, hint, LAYER_TABLE_MUTATIONS, capsys)
    assert core.latest("layer_table").status == "fail"


def test_function_stub_is_not_attempted(capsys):
    def layer_table(layers, input_hwc):
        raise NotImplementedError

    assert nb08.check_layer_table(layer_table) is False
    assert "not attempted yet" in capsys.readouterr().out
    assert core.latest("layer_table").status == "not attempted"


@pytest.mark.parametrize("odd", [None, 3, lambda *a: "text", lambda *a: None, lambda *a: [[1, [2]]],
                                 lambda *a: 10 ** 400, lambda *a: 1 / 0])
def test_odd_function_answers_get_a_verdict(odd, capsys):
    assert nb08.check_layer_table(odd) is False
    assert capsys.readouterr().out.count("Exercise 3: ") == 1
