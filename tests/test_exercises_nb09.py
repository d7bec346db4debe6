"""Exercises of 09_case_studies_googlenet_resnet: the stored answers agree with the models, and the checkers judge."""
import torch
import torch.nn as nn

from cnnlib import models
from cnnlib.arch import summary
from cnnlib.exercises import nb09
from exercise_notebooks import rejected_for


def test_answers_agree_with_the_models():
    h, w, c = nb09.INCEPTION_3B_INPUT
    f = nb09.INCEPTION_3B_FILTERS
    naive = nn.ModuleList([nn.Conv2d(c, f["1x1"], 1), nn.Conv2d(c, f["3x3"], 3, padding=1),
                           nn.Conv2d(c, f["5x5"], 5, padding=2)])
    macs = sum(summary(conv, (c, h, w)).total_macs for conv in naive)
    assert macs == nb09.INCEPTION_3B_NAIVE_MACS == 854_196_224
    with torch.device("meta"):
        google, vgg, resnet = models.googlenet(), models.vgg19(), models.resnet152()
    assert summary(google, (3, 224, 224), depth=1)["inception3b"].macs == nb09.INCEPTION_3B_MACS
    assert summary(vgg, (3, 224, 224)).total_macs == nb09.VGG19_MACS
    assert summary(resnet, (3, 224, 224)).total_macs == nb09.RESNET152_MACS
    block = resnet.conv5_x.block2
    weights = sum(m.weight.numel() for m in block.modules() if isinstance(m, nn.Conv2d))
    bn = sum(p.numel() for m in block.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters())
    assert (weights, bn) == (nb09.BOTTLENECK_WEIGHTS, nb09.BOTTLENECK_BN) == (4_456_448, 6144)
    assert round(nb09.MACS_RATIO, 2) == 1.74


def test_check_naive_inception(capsys):
    assert nb09.check_naive_inception(854_196_224) is True
    assert "2.8x" in capsys.readouterr().out
    assert nb09.check_naive_inception(304_267_264) is False
    assert "1x1 reductions" in capsys.readouterr().out
    assert nb09.check_naive_inception(854.2) is False
    assert "not millions" in capsys.readouterr().out
    assert nb09.check_naive_inception(800_000_000) is False
    assert "your count" in capsys.readouterr().out
    assert nb09.check_naive_inception(None) is False
    assert "not attempted yet" in capsys.readouterr().out


def test_check_bottleneck(capsys):
    assert nb09.check_bottleneck(4_456_448) is True
    assert nb09.check_bottleneck(4_456_448 + 6144) is False
    assert "batch norm" in capsys.readouterr().out
    assert nb09.check_bottleneck(2048 * 512 + 9 * 512 * 512) is False
    assert "third convolution" in capsys.readouterr().out
    assert nb09.check_bottleneck(2 * 9 * 2048 * 2048) is False
    assert "works on 512" in capsys.readouterr().out
    assert nb09.check_bottleneck(4_000_000) is False
    assert "4,000,000 is not it" in capsys.readouterr().out


def test_check_macs_ratio(capsys):
    assert nb09.check_macs_ratio(19.63 / 11.28) is True
    assert nb09.check_macs_ratio(11.28 / 19.63) is False
    assert "how many times MORE" in capsys.readouterr().out
    assert nb09.check_macs_ratio(8.0) is False
    assert "depths" in capsys.readouterr().out
    assert nb09.check_macs_ratio(2.0) is False
    assert "your ratio" in capsys.readouterr().out
    assert nb09.check_macs_ratio([1.74, 1.0]) is False
    assert "single number" in capsys.readouterr().out


# Function exercises: each plausible wrong implementation is rejected for the mistake it makes.
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def _relu(a):
    return np.maximum(a, 0.0)


def _res_f(x, w1, w2):
    return _relu(x @ w1) @ w2


def residual_block_loops(x, w1, w2):
    n, d = x.shape
    out = np.zeros((n, d))
    for i in range(n):
        h = [max(0.0, sum(x[i, k] * w1[k, j] for k in range(d))) for j in range(d)]
        for j in range(d):
            out[i, j] = max(0.0, sum(h[k] * w2[k, j] for k in range(d)) + x[i, j])
    return out


def residual_block_float32(x, w1, w2):
    x, w1, w2 = (np.asarray(a, dtype=np.float32) for a in (x, w1, w2))
    return np.clip(np.clip(x @ w1, 0, None) @ w2 + x, 0, None)                  # float32 throughout


def residual_block_torch_style(x, w1, w2):
    f = np.where(x @ w1 > 0, x @ w1, 0) @ w2
    y = f + x
    y[y < 0] = 0                                                                # in place, on its own array
    return y


@pytest.mark.parametrize("right", [lambda x, w1, w2: _relu(_res_f(x, w1, w2) + x), residual_block_loops,
                                   residual_block_float32, residual_block_torch_style],
                         ids=["vectorized", "loops", "float32", "where and masks"])
def test_residual_block_accepts_right_answers(right, capsys):
    assert nb09.check_residual_block(right) is True
    assert "Exercise 4: correct on all 26 cases!" in capsys.readouterr().out


RESIDUAL_MUTATIONS = [
    (lambda x, w1, w2: _relu(_res_f(x, w1, w2)) + x, "the ReLU comes after the addition"),
    (lambda x, w1, w2: _relu(_res_f(x, w1, w2)), "the shortcut is missing"),
    (lambda x, w1, w2: _relu(_res_f(x, w1, w2) + 2 * x), "the input is added twice"),
    (lambda x, w1, w2: _res_f(x, w1, w2) + x, "the block ends with a ReLU"),
    (lambda x, w1, w2: _relu(x @ w1 @ w2 + x), "F has a ReLU between its two layers"),
    (lambda x, w1, w2: _relu(_res_f(x, w1, w2) + _relu(x)), "the shortcut adds x itself, not relu(x)"),
]


def test_residual_block_must_not_change_x(capsys):
    def in_place(x, w1, w2):
        x += _res_f(x, w1, w2)
        return _relu(x)
    assert nb09.check_residual_block(in_place) is False
    assert "changed its input x in place" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", RESIDUAL_MUTATIONS, ids=[h for _, h in RESIDUAL_MUTATIONS])
def test_residual_block_rejects(wrong, hint, capsys):
    rejected_for(nb09.check_residual_block, wrong, hint, RESIDUAL_MUTATIONS, capsys)


def test_residual_block_not_attempted(capsys):
    def residual_block(x, w1, w2):
        raise NotImplementedError
    assert nb09.check_residual_block(residual_block) is False
    assert "not attempted" in capsys.readouterr().out


def _inception(c_in, n1, r3, n3, r5, n5, pp, *, depth_extra=0, pool=True, bias=False, reduce=True):
    c3, c5 = (r3, r5) if reduce else (c_in, c_in)
    weights = c_in * n1 + c_in * r3 + 9 * c3 * n3 + c_in * r5 + 25 * c5 * n5 + (c_in * pp if pool else 0)
    if bias:
        weights += n1 + r3 + n3 + r5 + n5 + pp
    return n1 + n3 + n5 + (pp if pool else 0) + depth_extra, weights


def inception_size_by_branch(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
    branches = [[(1, in_channels, ch1x1)], [(1, in_channels, ch3x3red), (3, ch3x3red, ch3x3)],
                [(1, in_channels, ch5x5red), (5, ch5x5red, ch5x5)], [(1, in_channels, pool_proj)]]
    depth = sum(branch[-1][2] for branch in branches)                            # the last layer of each branch
    return depth, sum(k * k * c_in * c_out for branch in branches for k, c_in, c_out in branch)


def inception_size_numpy(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
    k = np.array([1, 1, 3, 1, 5, 1])
    c_in = np.array([in_channels, in_channels, ch3x3red, in_channels, ch5x5red, in_channels])
    c_out = np.array([ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj])
    return np.int64(ch1x1 + ch3x3 + ch5x5 + pool_proj), np.sum(k * k * c_in * c_out)


@pytest.mark.parametrize("right", [_inception, inception_size_by_branch, inception_size_numpy],
                         ids=["formula", "by branch", "numpy integers"])
def test_inception_size_accepts_right_answers(right, capsys):
    assert nb09.check_inception_size(right) is True
    assert "Exercise 5: correct on all 19 cases!" in capsys.readouterr().out


INCEPTION_MUTATIONS = [
    (lambda *a: _inception(*a, pool=False), "the pool branch counts too"),
    (lambda *a: _inception(*a, depth_extra=a[2] + a[4]), "the reduce layers' outputs"),
    (lambda *a: _inception(*a, depth_extra=a[0] - a[6]), "not the in_channels maps of the pool"),
    (lambda *a: _inception(*a, bias=True), "no biases"),
    (lambda *a: _inception(*a, reduce=False), "see the reduced maps"),
    (lambda *a: (_inception(*a)[0], 9 * a[2] * a[3] + 25 * a[4] * a[5]), "the four 1x1 convolutions have weights too"),
    (lambda *a: (_inception(*a)[0], _inception(*a)[1] - 8 * a[2] * a[3] - 24 * a[4] * a[5]), "need K*K"),
]


@pytest.mark.parametrize("wrong, hint", INCEPTION_MUTATIONS, ids=[h for _, h in INCEPTION_MUTATIONS])
def test_inception_size_rejects(wrong, hint, capsys):
    rejected_for(nb09.check_inception_size, wrong, hint, INCEPTION_MUTATIONS, capsys)


def test_inception_size_not_attempted_and_odd_answers(capsys):
    def inception_size(*args):
        raise NotImplementedError
    assert nb09.check_inception_size(inception_size) is False
    assert "not attempted" in capsys.readouterr().out
    assert nb09.check_inception_size(lambda *a: "256") is False
    assert nb09.check_inception_size(lambda *a: 1 / 0) is False
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_exercise_3s_answer_is_not_shown_above_it():
    """VGG-19's multiply-adds (19.63G), ResNet-152's (11.28G, the paper's 11.3G, in section 4's ResNet table) and
    their ratio (1.74, 57%) used to be printed above Exercise 3, which asks for that ratio (issue 25); the exercise
    now comes at the end of section 3, before any of them."""
    import json
    import re
    from pathlib import Path

    nb = json.loads((Path(__file__).parents[1] / "notebooks" / "09_case_studies_googlenet_resnet.ipynb").read_text())
    question = next(i for i, c in enumerate(nb["cells"]) if "**Exercise 3.**" in "".join(c["source"]))
    shown = []
    for cell in nb["cells"][:question]:
        shown.append("".join(cell["source"]))
        for out in cell.get("outputs", []):
            shown.append("".join(out.get("text", "")) + json.dumps(out.get("data", {})))
    leaked = re.findall(r"19\.6\d*\s*G|19,63\d|19632|11\.28|11,28\d|11282|11\.3\s*G|\b1\.7[345]x?\b|(?<![\d.])57%|\b0\.57\b",
                        "\n".join(shown))
    assert not leaked, f"Exercise 3's answer is shown above it: {leaked}"
