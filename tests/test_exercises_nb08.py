"""Exercises of 08_case_studies_alexnet_vgg: the stored answers agree with the models, and the checkers judge."""
import json
import re
from pathlib import Path

import numpy as np
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

def _size(n, f, s, p, check=True):
    if check and (n + 2 * p < f or (n + 2 * p - f) % s):
        raise ValueError(f"the filter does not fit: ({n} - {f} + 2*{p}) / {s} + 1 is not a whole number >= 1")
    return (n - f + 2 * p) // s + 1


def layer_table_by_hand(layers, input_hwc, bias=1, depth_from="in", padding=True, pool_params=False,
                        fc_inputs="all", order="hwc", check=True):
    """A learner's loop; the keyword arguments switch on one mistake each."""
    (h, w, c), out = input_hwc, []
    for kind, *args in layers:
        if kind == "fc":
            inputs = (h * w * c if fc_inputs == "all" else c) if c is not None else h
            out.append(((args[0],), (inputs + bias) * args[0]))
            h, w, c = args[0], None, None
            continue
        f, s = args[0], args[1]
        p = args[2] if kind == "conv" and padding else 0
        h, w = _size(h, f, s, p, check), _size(w, f, s, p, check)
        c_out = args[3] if kind == "conv" else c
        if kind == "conv":
            c_in = c if depth_from == "in" else args[3]
            params = (f * f * c_in + bias) * args[3]
        else:
            params = (f * f * c + 1) * c if pool_params else 0
        out.append(((h, w, c_out) if order == "hwc" else (c_out, h, w), params))
        c = c_out
    return out


def layer_table_numpy(layers, input_hwc):
    """A right answer in another style: NumPy integers, shapes as arrays, sizes by divmod."""
    shape, out = np.array(input_hwc), []
    for row in layers:
        if row[0] == "fc":
            out.append((np.array([row[1]]), np.int64((shape.prod() + 1) * row[1])))
            shape = np.array([row[1]])
            continue
        f, s = row[1], row[2]
        p = row[3] if row[0] == "conv" else 0
        sizes = []
        for n in shape[:2]:
            q, r = divmod(int(n) + 2 * p - f, s)
            if r or q < 0:
                raise ValueError("does not fit")
            sizes.append(q + 1)
        c_out = row[4] if row[0] == "conv" else shape[2]
        out.append((np.array([*sizes, c_out]), np.int64((f * f * shape[2] + 1) * c_out if row[0] == "conv" else 0)))
        shape = np.array([*sizes, c_out])
    return out


LAYER_TABLE_MUTATIONS = [
    (lambda layers, hwc: layer_table_by_hand(layers, hwc, bias=0), "also has one bias"),
    (lambda layers, hwc: layer_table_by_hand(layers, hwc, depth_from="out"), "depth of its INPUT"),
    (lambda layers, hwc: layer_table_by_hand(layers, hwc, padding=False), "padding P adds 2P"),
    (lambda layers, hwc: layer_table_by_hand(layers, hwc, pool_params=True), "pooling layer has nothing to learn"),
    (lambda layers, hwc: layer_table_by_hand(layers, hwc, fc_inputs="depth"), "H*W*C of them"),
    (lambda layers, hwc: layer_table_by_hand(layers, hwc, order="chw"), "height first and depth last"),
]


def test_layer_table_must_raise_where_a_filter_does_not_fit(capsys):
    assert nb08.check_layer_table(lambda layers, hwc: layer_table_by_hand(layers, hwc, check=False)) is False
    out = capsys.readouterr().out
    assert "should raise ValueError here" in out and "raise ValueError" in out
    assert not any(h in out for _, h in LAYER_TABLE_MUTATIONS)


def layer_table_recursive(layers, input_hwc):
    """A third right style: one row, then the rest of the table from that row's output."""
    if not layers:
        return []
    (kind, *args), (h, w, c) = layers[0], (tuple(input_hwc) + (1, 1))[:3]
    if kind == "fc":
        n_in = h * w * c
        return [((args[0],), (n_in + 1) * args[0])] + layer_table_recursive(layers[1:], (args[0], 1, 1))
    f, s = args[0], args[1]
    p = args[2] if kind == "conv" else 0
    if h + 2 * p < f or w + 2 * p < f or (h + 2 * p - f) % s or (w + 2 * p - f) % s:
        raise ValueError("this filter does not fit")
    c_out = args[3] if kind == "conv" else c
    shape = ((h + 2 * p - f) // s + 1, (w + 2 * p - f) // s + 1, c_out)
    params = (f * f * c + 1) * c_out if kind == "conv" else 0
    return [(shape, params)] + layer_table_recursive(layers[1:], shape)


@pytest.mark.parametrize("right", [layer_table_by_hand, layer_table_numpy, layer_table_recursive],
                         ids=["loop", "numpy integers", "recursive"])
def test_layer_table_accepts_right_answers(right, capsys):
    assert nb08.check_layer_table(right) is True
    assert "Exercise 3: correct on all 35 cases!" in capsys.readouterr().out


def test_layer_table_agrees_with_summary():
    with torch.device("meta"):
        s = summary(models.alexnet(), (3, 227, 227), depth=1)
    rows = [("conv", 11, 4, 0, 96), ("pool", 3, 2), ("conv", 5, 1, 2, 256)]
    ours = nb08._layer_table(rows, (227, 227, 3))
    assert ours == [((r.output_shape[1], r.output_shape[2], r.output_shape[0]), r.params)
                    for r in (s["conv1"], s["pool1"], s["conv2"])]


@pytest.mark.parametrize("wrong, hint", LAYER_TABLE_MUTATIONS, ids=[h for _, h in LAYER_TABLE_MUTATIONS])
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


# -- Exercise 4: multiply-adds per row --------------------------------------------------------------------------

def layer_macs_by_hand(layers, input_hwc, positions="out", depth="in", bias=0, times_c_out=True, pool=0,
                       fc="weights"):
    """A learner's loop over layer_table's shapes; the keyword arguments switch on one mistake each."""
    shape, out = tuple(input_hwc), []
    for row, (out_shape, _) in zip(layers, layer_table_by_hand(layers, input_hwc)):
        if row[0] == "fc":
            inputs = int(np.prod(shape))
            out.append(inputs * row[1] if fc == "weights" else (inputs + 1) * row[1] if fc == "bias" else row[1])
        elif row[0] == "conv":
            f, (h, w, c_out) = row[1], out_shape
            where = h * w if positions == "out" else shape[0] * shape[1]
            per = f * f * (shape[2] if depth == "in" else c_out) + bias
            out.append(where * (c_out if times_c_out else 1) * per)
        else:
            out.append(pool * out_shape[0] * out_shape[1] * out_shape[2] * row[1] * row[1])
        shape = out_shape
    return out


def layer_macs_from_summary(layers, input_hwc):
    """Another right style: the product of the output size and the weights per output, row by row."""
    counts, shape = [], input_hwc
    for row, (out_shape, params) in zip(layers, layer_table_numpy(layers, input_hwc)):
        outputs = int(np.prod(out_shape))
        if row[0] == "conv":
            counts.append(outputs * (int(params) // row[4] - 1))     # F*F*C_in weights per output
        elif row[0] == "fc":
            counts.append(int(params) - row[1])                      # one per weight: all but the biases
        else:
            counts.append(0)
        shape = out_shape
    return counts


def layer_macs_vectorized(layers, input_hwc):
    """A third right style: shapes first, then every count from the shapes before and after each row."""
    shapes = [tuple(input_hwc)] + [tuple(int(v) for v in shape) for shape, _ in layer_table_recursive(layers, input_hwc)]
    counts = []
    for row, before, after in zip(layers, shapes, shapes[1:]):
        per_output = {"conv": lambda: row[1] * row[1] * before[2], "fc": lambda: int(np.prod(before)),
                      "pool": lambda: 0}[row[0]]()
        counts.append(int(np.prod(after)) * per_output)
    return counts


@pytest.mark.parametrize("right", [layer_macs_by_hand, layer_macs_from_summary, layer_macs_vectorized],
                         ids=["loop", "from the parameters", "from the shapes"])
def test_layer_macs_accepts_right_answers(right, capsys):
    assert nb08.check_layer_macs(right) is True
    assert "Exercise 4: correct on all 36 cases!" in capsys.readouterr().out


def test_layer_macs_agrees_with_summary():
    with torch.device("meta"):
        s = summary(models.alexnet(), (3, 227, 227), depth=1)
    rows = [("conv", 11, 4, 0, 96), ("pool", 3, 2), ("conv", 5, 1, 2, 256)]
    assert nb08._layer_macs(rows, (227, 227, 3)) == [s["conv1"].macs, s["pool1"].macs, s["conv2"].macs]
    assert s["conv1"].macs == 55 * 55 * 96 * 11 * 11 * 3


LAYER_MACS_MUTATIONS = [
    (lambda l, hwc: layer_macs_by_hand(l, hwc, positions="in"), "count per OUTPUT position"),
    (lambda l, hwc: layer_macs_by_hand(l, hwc, depth="out"), "not F*F*C_out"),
    (lambda l, hwc: layer_macs_by_hand(l, hwc, bias=1), "the bias is an addition"),
    (lambda l, hwc: layer_macs_by_hand(l, hwc, times_c_out=False), "multiply by C_out too"),
    (lambda l, hwc: layer_macs_by_hand(l, hwc, pool=1), "count a pooling layer as 0"),
    (lambda l, hwc: layer_macs_by_hand(l, hwc, fc="units"), "one multiply-add per weight"),
]


@pytest.mark.parametrize("wrong, hint", LAYER_MACS_MUTATIONS, ids=[h for _, h in LAYER_MACS_MUTATIONS])
def test_layer_macs_rejects_each_mistake_for_its_reason(wrong, hint, capsys):
    rejected_for(nb08.check_layer_macs, wrong, hint, LAYER_MACS_MUTATIONS, capsys)


def test_layer_macs_stub_is_not_attempted(capsys):
    def layer_macs(layers, input_hwc):
        raise NotImplementedError
    assert nb08.check_layer_macs(layer_macs) is False
    assert "not attempted yet" in capsys.readouterr().out


def test_no_answer_is_shown_above_its_question():
    """CONV2's row (27x27x256, 614,656 parameters) used to be printed above Exercise 1, which asks for it;
    nor may VGG16's fully connected share (0.894, 89%) appear above Exercise 2 (issue 25). By value, in any form."""
    nb = json.loads((Path(__file__).parents[1] / "notebooks" / "08_case_studies_alexnet_vgg.ipynb").read_text())
    forms = {"**Exercise 1.**": r"614[,.\s]?656|614\.7\s*K|615\s*K|0\.61\s*M|27\s*[x×]\s*27\s*[x×]\s*256",
             "**Exercise 2.**": r"0\.89\d*|89\.\d+\s*%|(?<![\d.])89\s*%|123[,.]?642[,.]?856|123\.6\s*M"}
    for question, pattern in forms.items():
        at = next(i for i, c in enumerate(nb["cells"]) if question in "".join(c["source"]))
        shown = []
        for cell in nb["cells"][:at]:
            shown.append("".join(cell["source"]))
            shown += ["".join(o.get("text", "")) + json.dumps(o.get("data", {})) for o in cell.get("outputs", [])]
        leaked = re.findall(pattern, "\n".join(shown))
        assert not leaked, f"the answer to {question} is shown above it: {leaked}"
