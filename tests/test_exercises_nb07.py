"""Exercises of 07_case_studies_lenet_alexnet_vgg: the stored answers agree with the models, and the checkers judge."""
import numpy as np
import pytest
import torch

from cnnlib import models
from cnnlib.arch import summary
from cnnlib.exercises import core, nb07
from exercise_notebooks import rejected_for


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


# -- function exercises: each plausible mistake rejected for its reason, the reference accepted ------------

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
    assert nb07.check_layer_table(layer_table_by_hand) is True
    assert "Exercise 4: correct on all 30 cases!" in capsys.readouterr().out
    with torch.device("meta"):
        s = summary(models.alexnet(), (3, 227, 227), depth=1)
    rows = [("conv", 11, 4, 0, 96), ("pool", 3, 2), ("conv", 5, 1, 2, 256)]
    ours = nb07._layer_table(rows, (227, 227, 3))
    assert ours == [((r.output_shape[1], r.output_shape[2], r.output_shape[0]), r.params)
                    for r in (s["conv1"], s["pool1"], s["conv2"])]


def receptive_fields_by_hand(layers, mistake=None):
    r, j, out = 1, 1, []
    for k, s in layers:
        if mistake == "no jump":
            r += k - 1
        elif mistake == "stride":
            r, j = r + (k - 1) * s, j * s
        elif mistake == "jump first":
            j *= s
            r += (k - 1) * j
        elif mistake == "k":
            r, j = r + k * j, j * s
        else:
            r, j = r + (k - 1) * j, j * s
        out.append(r)
    return out


RF_MUTATIONS = [
    (lambda layers: receptive_fields_by_hand(layers, "no jump"), "the jump must grow"),
    (lambda layers: receptive_fields_by_hand(layers, "stride"), "not by the layer's own stride"),
    (lambda layers: receptive_fields_by_hand(layers, "jump first"), "grow r first"),
    (lambda layers: receptive_fields_by_hand(layers, "k"), "adds k - 1 steps"),
]


FUNCTION_MUTATIONS = ([("layer_table", wrong, hint, LAYER_TABLE_MUTATIONS) for wrong, hint in LAYER_TABLE_MUTATIONS]
                      + [("receptive_fields", wrong, hint, RF_MUTATIONS) for wrong, hint in RF_MUTATIONS])


@pytest.mark.parametrize("exercise_id, wrong, hint, family", FUNCTION_MUTATIONS, ids=lambda v: v if isinstance(v, str) else "")
def test_function_checkers_reject_each_mutation_for_its_reason(exercise_id, wrong, hint, family, capsys):
    out = rejected_for(getattr(nb07, f"check_{exercise_id}"), wrong, hint, family, capsys)
    assert core.latest(exercise_id).status == "fail"


def test_receptive_fields_accepts_the_rule(capsys):
    assert nb07.check_receptive_fields(receptive_fields_by_hand) is True
    assert nb07.check_receptive_fields(lambda layers: np.array(receptive_fields_by_hand(layers))) is True
    assert capsys.readouterr().out.count("Exercise 5: correct on all 24 cases!") == 2


def test_function_stubs_are_not_attempted(capsys):
    def layer_table(layers, input_hwc):
        raise NotImplementedError

    def receptive_fields(layers):
        raise NotImplementedError

    assert nb07.check_layer_table(layer_table) is False
    assert nb07.check_receptive_fields(receptive_fields) is False
    assert capsys.readouterr().out.count("not attempted yet") == 2
    assert core.latest("layer_table").status == core.latest("receptive_fields").status == "not attempted"


@pytest.mark.parametrize("odd", [None, 3, lambda *a: "text", lambda *a: None, lambda *a: [[1, [2]]],
                                 lambda *a: 10 ** 400, lambda *a: 1 / 0])
def test_odd_function_answers_get_a_verdict(odd, capsys):
    assert nb07.check_layer_table(odd) is False
    assert nb07.check_receptive_fields(odd) is False
    out = capsys.readouterr().out
    assert out.count("Exercise 4: ") == 1 and out.count("Exercise 5: ") == 1
