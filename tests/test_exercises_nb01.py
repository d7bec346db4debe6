import numpy as np
import torch

from cnnlib.exercises import nb01
from cnnlib.exercises.functions import allow_shortcuts


def test_fc_parameters(capsys):
    assert nb01.check_fc_parameters(23_040_100) is True
    out = capsys.readouterr().out
    assert "correct!" in out and "23,040,100" not in out and "23040100" not in out  # the answer stays hidden
    assert nb01.check_fc_parameters(23_040_000) is False
    assert "bias" in capsys.readouterr().out
    assert nb01.check_fc_parameters(7_680_100) is False
    assert "3 numbers per pixel" in capsys.readouterr().out
    assert nb01.check_fc_parameters(None) is False
    assert "not attempted" in capsys.readouterr().out


def test_collapsed_matrix(capsys):
    w1, w2, w3 = nb01.collapse_exercise_weights()
    assert (w1.shape, w2.shape, w3.shape) == ((4, 3), (5, 4), (2, 5))
    assert np.array_equal(w1, np.round(w1)) and np.abs(w1).max() <= 2
    x = np.array([1.0, -2.0, 0.5])
    assert nb01.check_collapsed_matrix(w3 @ w2 @ w1) is True
    assert np.allclose((w3 @ w2 @ w1) @ x, w3 @ (w2 @ (w1 @ x)))
    assert nb01.check_collapsed_matrix((w3 @ w2 @ w1).T) is False
    assert "transpose" in capsys.readouterr().out
    assert nb01.check_collapsed_matrix(w3 @ w2 @ w1 + 1) is False
    assert "6 of 6 entries are off" in capsys.readouterr().out


def test_sigmoid_depth(capsys):
    assert 0.25 ** 10 < 1e-6 < 0.25 ** 9
    assert nb01.check_sigmoid_depth(10) is True
    assert nb01.check_sigmoid_depth(9) is False
    assert "3.81e-06" in capsys.readouterr().out
    assert nb01.check_sigmoid_depth(20) is False


# -- function exercises: each plausible mistake rejected for its own reason, the reference accepted --
import pytest  # noqa: E402

from cnnlib.exercises import core  # noqa: E402
from exercise_notebooks import rejected_for  # noqa: E402


def _sig(x):
    return 1 / (1 + np.exp(-x))


SIGMOID_BACKWARD_MUTATIONS = [
    (lambda g, x: g * x * (1 - x), "takes sigma = sigmoid(x), the layer's output"),
    (lambda g, x: _sig(x) * (1 - _sig(x)), "multiply by grad_output"),
    (lambda g, x: g * _sig(x), "not sigmoid(x) itself"),
    (lambda g, x: g * (1 - _sig(x) ** 2), "is tanh's derivative"),
]


@pytest.mark.parametrize("wrong, hint", SIGMOID_BACKWARD_MUTATIONS)
def test_sigmoid_backward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb01.check_sigmoid_backward, wrong, hint, SIGMOID_BACKWARD_MUTATIONS, capsys)
    assert "The smallest case it fails" in out
    assert core.latest("sigmoid_backward").status == "fail"


def test_sigmoid_backward_accepts_the_reference(capsys):
    assert nb01.check_sigmoid_backward(lambda g, x: g * _sig(x) * (1 - _sig(x))) is True
    assert "Sigmoid backward: correct on all 23 cases!" in capsys.readouterr().out


def linear_forward_reference(x, weight, bias):
    return x @ weight.T + bias


LINEAR_FORWARD_MUTATIONS = [
    (lambda x, w, b: x @ w.T, "forgot the bias"),
    (lambda x, w, b: x @ w + b, "multiply by its transpose"),
    (lambda x, w, b: (x @ w.T + b).T, "that is its transpose"),
]


@pytest.mark.parametrize("wrong, hint", LINEAR_FORWARD_MUTATIONS)
def test_linear_forward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb01.check_linear_forward, wrong, hint, LINEAR_FORWARD_MUTATIONS, capsys)


def test_linear_forward_accepts_the_reference_and_torch(capsys):
    assert nb01.check_linear_forward(linear_forward_reference) is True
    with allow_shortcuts():  # parity of the checker's reference with torch; a learner's torch call is refused
        assert nb01.check_linear_forward(
            lambda x, w, b: torch.nn.functional.linear(torch.as_tensor(x), torch.as_tensor(w), torch.as_tensor(b)))
    assert capsys.readouterr().out.count("Linear forward: correct on all 19 cases!") == 2


def linear_backward_reference(g, x, w):
    return g @ w, g.T @ x, g.sum(axis=0)


LINEAR_BACKWARD_MUTATIONS = [
    (lambda g, x, w: (g @ w, g.T @ x, g.mean(axis=0)), "summed over the batch, not averaged"),
    (lambda g, x, w: (g @ w, g.T @ x, g), "sum grad_output over the batch (axis 0)"),
    (lambda g, x, w: (g @ w, x.T @ g, g.sum(axis=0)), "it is grad_output.T @ x"),
    (lambda g, x, w: (g @ w.T, g.T @ x, g.sum(axis=0)), "grad_input is grad_output @ weight"),
]


@pytest.mark.parametrize("wrong, hint", LINEAR_BACKWARD_MUTATIONS)
def test_linear_backward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb01.check_linear_backward, wrong, hint, LINEAR_BACKWARD_MUTATIONS, capsys)
    assert "grad_weight = " in out  # the results are shown by name


def test_linear_backward_accepts_the_reference(capsys):
    assert nb01.check_linear_backward(linear_backward_reference) is True
    assert "Linear backward: correct on all 19 cases!" in capsys.readouterr().out


def test_function_stubs_are_not_attempted(capsys):
    def linear_forward(x, weight, bias):
        raise NotImplementedError  # your code here

    def sigmoid_backward(grad_output, x):
        ...

    assert nb01.check_linear_forward(linear_forward) is False
    assert nb01.check_sigmoid_backward(sigmoid_backward) is False
    assert nb01.check_linear_backward(None) is False
    assert capsys.readouterr().out.count("not attempted yet") == 3
    assert core.latest("linear_forward").status == "not attempted"


def test_code_that_raises_is_an_error_with_its_last_line(capsys):
    def linear_backward(grad_output, x, weight):
        return grad_output @ weight, grad_output.T @ x, grad_output[:, 7]

    assert nb01.check_linear_backward(linear_backward) is False
    out = capsys.readouterr().out
    assert out.startswith("Linear backward: linear_backward raised IndexError: index 7 is out of bounds"), out
    assert core.latest("linear_backward").status == "error"
