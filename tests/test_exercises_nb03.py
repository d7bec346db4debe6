"""Exercises of 03_pooling: the stored answers agree with PyTorch, and the checkers judge right and wrong."""
import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.exercises import nb03
from cnnlib.exercises.functions import allow_shortcuts
from exercise_notebooks import rejected_for


def t(a):
    return torch.tensor(a, dtype=torch.float64)[None, None]  # (1, 1, H, W)


def test_answers_agree_with_pytorch():
    assert np.array_equal(F.max_pool2d(t(nb03.SLICE_1), 2, 2)[0, 0].numpy(), nb03.MAX_POOL_1)
    assert np.array_equal(F.avg_pool2d(t(nb03.SLICE_1), 2, 2)[0, 0].numpy(), nb03.AVG_POOL_1)
    h, w, c = nb03.POOL2_INPUT
    out = torch.nn.MaxPool2d(3, 2)(torch.zeros(1, c, h, w))
    assert tuple(out.shape[2:]) + (out.shape[1], 0) == nb03.POOL2_ANSWER
    x = t(nb03.SLICE_3).requires_grad_()
    F.max_pool2d(x, 3, 2).backward(t(nb03.GRAD_OUTPUT_3))
    assert np.array_equal(x.grad[0, 0].numpy(), nb03.GRAD_INPUT_3)
    assert nb03.GRAD_INPUT_3.sum() == nb03.GRAD_OUTPUT_3.sum() == 10


def test_check_max_pool(capsys):
    assert nb03.check_max_pool([[9, 6, 7], [7, 8, 9]]) is True
    assert "Exercise 1: correct!" in capsys.readouterr().out
    assert nb03.check_max_pool(nb03.AVG_POOL_1) is False
    assert "window averages" in capsys.readouterr().out
    assert nb03.check_max_pool(nb03.MAX_POOL_1.T) is False
    assert "(2, 3) result" in capsys.readouterr().out
    assert nb03.check_max_pool([[9, 6, 7], [7, 8, 8]]) is False
    assert "index (1, 2) (yours is 8)" in capsys.readouterr().out
    assert nb03.check_max_pool(None) is False
    assert "not attempted yet" in capsys.readouterr().out


def test_check_pool_layer(capsys):
    assert nb03.check_pool_layer((13, 13, 256, 0)) is True
    assert nb03.check_pool_layer((13, 13, 256)) is False
    assert "four numbers" in capsys.readouterr().out
    assert nb03.check_pool_layer((13.5, 13.5, 256, 0)) is False
    assert "height is not 13.5" in capsys.readouterr().out
    assert nb03.check_pool_layer((13, 13, 96, 0)) is False
    assert "depth does not change" in capsys.readouterr().out
    assert nb03.check_pool_layer((13, 13, 256, 9)) is False
    assert "nothing to learn" in capsys.readouterr().out


def test_check_max_pool_gradient(capsys):
    assert nb03.check_max_pool_gradient(nb03.GRAD_INPUT_3.tolist()) is True
    only_last = nb03.GRAD_INPUT_3.copy()
    only_last[1, 2] = 2.0
    assert nb03.check_max_pool_gradient(only_last) is False
    assert "sum of both" in capsys.readouterr().out
    assert nb03.check_max_pool_gradient(np.full((5, 5), 0.4)) is False
    assert "ONE input" in capsys.readouterr().out
    assert nb03.check_max_pool_gradient(np.zeros((2, 2))) is False
    assert "shape of the input slice" in capsys.readouterr().out


# -- function exercises: each plausible mistake rejected for its own reason, the reference accepted --
import pytest  # noqa: E402

from cnnlib.exercises import core  # noqa: E402


def pool_loops(x, k, s, reduce=np.max):
    n_, c_, h, w = x.shape
    out = np.zeros((n_, c_, (h - k) // s + 1, (w - k) // s + 1))
    for n in range(n_):
        for c in range(c_):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    out[n, c, i, j] = reduce(x[n, c, i * s:i * s + k, j * s:j * s + k])
    return out


FORWARD_MUTATIONS = [
    (lambda x, k, s: pool_loops(x, k, s, np.mean), "those are the window averages"),
    (lambda x, k, s: pool_loops(x, k, 1), "stride ignored"),
    (lambda x, k, s: pool_loops(x, k, k), "the windows can overlap"),
    (lambda x, k, s: pool_loops(x, k, s, np.min), "smallest value"),
]


@pytest.mark.parametrize("wrong, hint", FORWARD_MUTATIONS)
def test_max_pool_forward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb03.check_max_pool_forward, wrong, hint, FORWARD_MUTATIONS, capsys)


def test_max_pool_forward_accepts_the_reference_and_torch(capsys):
    assert nb03.check_max_pool_forward(pool_loops) is True
    with allow_shortcuts():  # parity of the checker's reference with torch; a learner's torch call is refused
        assert nb03.check_max_pool_forward(lambda x, k, s: F.max_pool2d(torch.as_tensor(x), k, s)) is True
    assert capsys.readouterr().out.count("Max pool forward: correct on all 30 cases!") == 2


def pool_backward(g, x, k, s, pick="first", add=True, upstream=True):
    grad = np.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(g.shape[2]):
                for j in range(g.shape[3]):
                    win = x[n, c, i * s:i * s + k, j * s:j * s + k]
                    share = np.zeros_like(win)
                    if pick == "first":
                        share.flat[np.argmax(win)] = 1.0
                    elif pick == "all":
                        share = (win == win.max()).astype(float)
                    elif pick == "last":
                        share.flat[win.size - 1 - np.argmax(win.ravel()[::-1])] = 1.0
                    else:
                        share[:] = 1.0 / win.size
                    share *= g[n, c, i, j] if upstream else 1.0
                    view = grad[n, c, i * s:i * s + k, j * s:j * s + k]
                    if add:
                        view += share
                    else:
                        view[share != 0] = share[share != 0]
    return grad


def torch_pool_backward(g, x, k, s):
    xt = torch.tensor(x, requires_grad=True)
    F.max_pool2d(xt, k, s).backward(torch.as_tensor(g))
    return xt.grad


BACKWARD_MUTATIONS = [
    (lambda *a: pool_backward(*a, pick="all"), "the gradient went to every tied maximum"),
    (lambda *a: pool_backward(*a, pick="last"), "at a tie, give the gradient to the FIRST maximum"),
    (lambda *a: pool_backward(*a, add=False), "add with +=, don't overwrite"),
    (lambda *a: pool_backward(*a, pick="even"), "as average pooling does"),
    (lambda *a: pool_backward(*a, upstream=False), "multiply by grad_output"),
]


@pytest.mark.parametrize("wrong, hint", BACKWARD_MUTATIONS)
def test_max_pool_backward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb03.check_max_pool_backward, wrong, hint, BACKWARD_MUTATIONS, capsys)
    assert "The smallest case it fails" in out


def test_max_pool_backward_accepts_the_reference_and_torch(capsys):
    assert nb03.check_max_pool_backward(pool_backward) is True
    with allow_shortcuts():  # parity of the checker's reference with torch
        assert nb03.check_max_pool_backward(torch_pool_backward) is True
    assert capsys.readouterr().out.count("Max pool backward: correct on all 30 cases!") == 2


def test_function_stubs_are_not_attempted(capsys):
    def max_pool_forward(x, kernel_size, stride):
        raise NotImplementedError  # your code here

    def max_pool_backward(grad_output, x, kernel_size, stride):
        ...

    assert nb03.check_max_pool_forward(max_pool_forward) is False
    assert nb03.check_max_pool_backward(max_pool_backward) is False
    assert capsys.readouterr().out.count("not attempted yet") == 2
    assert core.latest("max_pool_backward").status == "not attempted"


def test_code_that_raises_is_an_error_with_its_last_line(capsys):
    def max_pool_backward(grad_output, x, kernel_size, stride):
        return np.zeros_like(x)[grad_output.shape[3] + 5]

    assert nb03.check_max_pool_backward(max_pool_backward) is False
    out = capsys.readouterr().out
    assert out.startswith("Max pool backward: max_pool_backward raised IndexError: index 6 is out of bounds"), out
    assert core.latest("max_pool_backward").status == "error"
