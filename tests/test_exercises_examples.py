"""The template function exercise (cnnlib.exercises.examples): the mutation-test pattern to copy.

For each function exercise: a parametrized test over plausible wrong implementations, each of
which the checker must reject naming the mistake (the hint text is asserted), and the reference,
which it must accept. A checker that passes a wrong implementation is a defect.
"""
import numpy as np
import pytest
import torch

from cnnlib.exercises import core
from cnnlib.exercises.examples import check_relu_backward, check_relu_forward
from cnnlib.numpy_nn.activation import relu as cnnlib_relu
from cnnlib.numpy_nn.activation import relu_forward as cnnlib_relu_forward
from exercise_notebooks import rejected_for


def relu_forward_reference(x):
    return np.maximum(x, 0)


def relu_forward_in_place(x):
    x[x < 0] = 0
    return x


FORWARD_MUTATIONS = [
    (np.abs, "not their absolute value"),
    (lambda x: np.minimum(x, 0), "that is min(x, 0)"),
    (lambda x: np.clip(x, 0, 1), "no upper limit"),
    (lambda x: np.maximum(x, 0.01 * x), "a leaky ReLU keeps a small slope"),
    (relu_forward_in_place, "changed its input x in place"),
    (lambda x: np.maximum(x, 0).sum(), "has shape ()"),
]


@pytest.mark.parametrize("wrong, hint", FORWARD_MUTATIONS)
def test_relu_forward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    assert check_relu_forward(wrong) is False
    out = capsys.readouterr().out
    assert hint in out, out
    assert "The smallest case it fails" in out
    assert core.latest("relu_forward").status == "fail"


def relu_forward_loops(x):
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        out[i] = x[i] if x[i] > 0 else 0.0
    return out


@pytest.mark.parametrize("right", [relu_forward_reference, lambda x: x * (x > 0), relu_forward_loops,
                                   lambda x: np.maximum(x.astype(np.float32), 0),  # float32: judged at its precision
                                   lambda x: np.maximum(x, 0).tolist()])
def test_relu_forward_accepts_right_answers(right, capsys):
    assert check_relu_forward(right) is True
    assert capsys.readouterr().out.startswith("ReLU forward: correct on all")


@pytest.mark.parametrize("shortcut, named", [
    (lambda x: torch.relu(torch.as_tensor(x)).numpy(), "calls PyTorch's torch.relu"),
    (lambda x: cnnlib_relu_forward(x)[0], "calls cnnlib's cnnlib_relu_forward"),
    (cnnlib_relu, "is cnnlib's own function (cnnlib.numpy_nn.activation.relu)"),
])
def test_relu_forward_refuses_cnnlib_and_torch(shortcut, named, capsys):
    assert check_relu_forward(shortcut) is False
    out = capsys.readouterr().out
    assert named in out and "asks you to write it yourself" in out, out
    assert core.latest("relu_forward").status == "fail"


BACKWARD_MUTATIONS = [
    (lambda g, x: g * (x >= 0), "at x == 0 the gradient is 0"),
    (lambda g, x: (x > 0).astype(np.float64), "multiply by grad_output"),
    (lambda g, x: g * np.maximum(x, 0), "not relu(x) itself"),
    (lambda g, x: g * (g > 0), "the gate is where the INPUT x is positive"),
]


@pytest.mark.parametrize("wrong, hint", BACKWARD_MUTATIONS)
def test_relu_backward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(check_relu_backward, wrong, hint, BACKWARD_MUTATIONS, capsys)


def test_relu_backward_accepts_the_reference(capsys):
    assert check_relu_backward(lambda g, x: g * (x > 0)) is True
    assert "correct on all 22 cases!" in capsys.readouterr().out


def test_stubs_are_not_attempted(capsys):
    def relu_forward(x):
        raise NotImplementedError

    def relu_backward(grad_output, x):
        ...

    assert check_relu_forward(relu_forward) is False
    assert check_relu_backward(relu_backward) is False
    assert check_relu_forward(None) is False
    out = capsys.readouterr().out
    assert out.count("not attempted yet") == 3
    assert core.latest("relu_backward").status == "not attempted"


def test_code_that_raises_is_an_error_with_its_last_line(capsys):
    def relu_backward(grad_output, x):
        return grad_output[5]

    assert check_relu_backward(relu_backward) is False
    out = capsys.readouterr().out
    assert out.startswith("ReLU backward: relu_backward raised IndexError: index 5 is out of bounds")
    assert "grad_output = " in out  # the case it raised on
    assert core.latest("relu_backward").status == "error"


@pytest.mark.parametrize("odd", ["relu", 3, np.zeros(3), lambda x: "text", lambda x: None, lambda x: 10 ** 400,
                                 lambda x: [1, [2]], lambda x: torch.zeros(2, 2), lambda *a: (np.maximum(a[0], 0),)])
def test_odd_answers_get_a_verdict(odd, capsys):
    assert check_relu_forward(odd) is False
    assert capsys.readouterr().out.startswith("ReLU forward: ")
