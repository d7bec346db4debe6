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


def test_receptive_fields_accepts_the_rule(capsys):
    assert nb07.check_receptive_fields(receptive_fields_by_hand) is True
    assert nb07.check_receptive_fields(lambda layers: np.array(receptive_fields_by_hand(layers))) is True
    assert capsys.readouterr().out.count("Exercise 2: correct on all 24 cases!") == 2


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
