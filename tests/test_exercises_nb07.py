"""Exercises of 07_case_studies_lenet: the stored answers agree with the model, and the checkers judge."""
import numpy as np
import pytest

from cnnlib import models
from cnnlib.exercises import core, nb07
from exercise_notebooks import rejected_for


def test_answers_agree_with_the_model():
    lenet = models.lenet5()
    assert sum(p.numel() for p in lenet.parameters()) == nb07.LENET5_PARAMS
    assert sum(p.numel() for n, p in lenet.named_parameters() if n.endswith("weight")) == nb07.LENET5_WEIGHTS
    by_layer = sum((f * f * c_in + 1) * c_out for _, f, c_in, c_out in nb07.LENET5_LAYERS)
    assert by_layer == nb07.LENET5_PARAMS


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


# -- the function exercise: each plausible mistake rejected for its reason, the rule accepted ----------------

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


@pytest.mark.parametrize("wrong, hint", RF_MUTATIONS, ids=lambda v: v if isinstance(v, str) else "")
def test_receptive_fields_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    rejected_for(nb07.check_receptive_fields, wrong, hint, RF_MUTATIONS, capsys)
    assert core.latest("receptive_fields").status == "fail"


@pytest.mark.parametrize("wrong", [lambda layers: [1] + receptive_fields_by_hand(layers)[:-1],
                                   lambda layers: receptive_fields_by_hand(layers)[-1:],
                                   lambda layers: [r + 0.5 for r in receptive_fields_by_hand(layers)]],
                         ids=["starts with the input's r = 1", "only the last field", "off by a half"])
def test_receptive_fields_rejects_answers_no_hint_names(wrong, capsys):
    assert nb07.check_receptive_fields(wrong) is False
    assert "not quite: the result" in capsys.readouterr().out


def receptive_fields_vectorized(layers):
    k, s = np.array(layers, dtype=np.int64).reshape(-1, 2).T
    jumps = np.concatenate([[1], np.cumprod(s)[:-1]])          # the jump at each layer's input
    return (1 + np.cumsum((k - 1) * jumps)).tolist()


def receptive_fields_recursive(layers, r=1, j=1):
    if not layers:
        return []
    (k, s), rest = layers[0], layers[1:]
    return [r + (k - 1) * j] + receptive_fields_recursive(rest, r + (k - 1) * j, j * s)


@pytest.mark.parametrize("style", [receptive_fields_by_hand, receptive_fields_vectorized, receptive_fields_recursive,
                                   lambda layers: np.array(receptive_fields_by_hand(layers))])
def test_receptive_fields_accepts_the_rule_in_any_style(style, capsys):
    assert nb07.check_receptive_fields(style) is True
    assert "Exercise 2: correct on all 24 cases!" in capsys.readouterr().out


def test_function_stub_is_not_attempted(capsys):
    def receptive_fields(layers):
        raise NotImplementedError

    assert nb07.check_receptive_fields(receptive_fields) is False
    assert "not attempted yet" in capsys.readouterr().out
    assert core.latest("receptive_fields").status == "not attempted"


@pytest.mark.parametrize("odd", [None, 3, lambda *a: "text", lambda *a: None, lambda *a: [[1, [2]]],
                                 lambda *a: 10 ** 400, lambda *a: 1 / 0])
def test_odd_function_answers_get_a_verdict(odd, capsys):
    assert nb07.check_receptive_fields(odd) is False
    assert capsys.readouterr().out.count("Exercise 2: ") == 1


# -- Exercise 3: LeNet-5's forward pass from layer functions ------------------------------------------------

def lenet5_forward(x, params, layers, mistake=None):
    p = {k: (v * 0 if mistake == "no bias" and k.endswith("_b") else v) for k, v in params.items()}
    h = layers.relu_forward(layers.conv2d_im2col(x, p["c1_w"], p["c1_b"], 1, 0 if mistake == "no padding" else 2))
    h = layers.max_pool_forward(h, 2, 2)
    h = layers.relu_forward(layers.conv2d_im2col(h, p["c3_w"], p["c3_b"], 1, 0))
    if mistake != "no S4":
        h = layers.max_pool_forward(h, 2, 2)
    h = h.transpose(0, 2, 3, 1).reshape(len(h), -1) if mistake == "hwc" else h.reshape(len(h), -1)
    for name in ("c5", "f6", "out"):
        h = layers.linear_forward(h, p[f"{name}_w"], p[f"{name}_b"])
        if (name != "out" and mistake != "no relu") or mistake == "relu at the end":
            h = layers.relu_forward(h)
    return h


def lenet5_forward_loops(x, params, layers):
    """One image at a time, and the fully connected layers written out: another correct style."""
    rows = []
    for image in x:
        h = layers.relu_forward(layers.conv2d_im2col(image[None], params["c1_w"], params["c1_b"], 1, 2))
        h = layers.max_pool_forward(layers.relu_forward(
            layers.conv2d_im2col(layers.max_pool_forward(h, 2, 2), params["c3_w"], params["c3_b"], 1, 0)), 2, 2)
        v = h.ravel()
        for name, relu in (("c5", True), ("f6", True), ("out", False)):
            v = params[f"{name}_w"] @ v + params[f"{name}_b"]
            v = np.maximum(v, 0.0) if relu else v
        rows.append(v)
    return np.stack(rows)


def lenet5_forward_float32(x, params, layers):
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    return lenet5_forward(x.astype(np.float32), p32, layers)


LENET_MUTATIONS = [
    (lambda x, p, layers: lenet5_forward(x, p, layers, "relu at the end"), "the output layer has no ReLU"),
    (lambda x, p, layers: lenet5_forward(x, p, layers, "no relu"), "C5 and F6 are each followed by a ReLU"),
    (lambda x, p, layers: lenet5_forward(x, p, layers, "hwc"), "flatten each image's 16 maps"),
    (lambda x, p, layers: lenet5_forward(x, p, layers, "no bias"), "every layer adds its bias"),
    (lambda x, p, layers: lenet5_forward(x, p, layers, "no padding"), "error"),
    (lambda x, p, layers: lenet5_forward(x, p, layers, "no S4"), "error"),
    (lambda x, p, layers: lenet5_forward(x, p, layers) * 1.01, "entries differ"),
]


@pytest.mark.parametrize("wrong, hint", LENET_MUTATIONS, ids=[h for _, h in LENET_MUTATIONS])
def test_lenet5_forward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    assert nb07.check_lenet5_forward(wrong) is False
    out = capsys.readouterr().out
    assert hint in out or (hint == "error" and core.latest("lenet5_forward").status == "error"), out


@pytest.mark.parametrize("style", [lenet5_forward, lenet5_forward_loops, lenet5_forward_float32],
                         ids=["vectorized", "one image at a time", "float32"])
def test_lenet5_forward_accepts_the_assembly_in_any_style(style, capsys):
    assert nb07.check_lenet5_forward(style) is True
    assert "Exercise 3: correct on all 3 cases!" in capsys.readouterr().out


def test_lenet5_forward_stub_is_not_attempted(capsys):
    def stub(x, params, layers):
        raise NotImplementedError

    assert nb07.check_lenet5_forward(stub) is False
    assert core.latest("lenet5_forward").status == "not attempted"
