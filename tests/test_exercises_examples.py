"""The template function exercise (cnnlib.exercises.examples): the mutation-test pattern to copy.

For each function exercise: a parametrized test over plausible wrong implementations, each of
which the checker must reject naming the mistake (the hint text is asserted), and the reference,
which it must accept. A checker that passes a wrong implementation is a defect.
"""
import numpy as np
import pytest
import torch

from cnnlib.exercises import core
from cnnlib.exercises.functions import allow_shortcuts
from cnnlib.exercises.examples import check_relu_backward, check_relu_forward
from cnnlib.numpy_nn.activation import relu as cnnlib_relu
from cnnlib.numpy_nn.activation import relu_forward as cnnlib_relu_forward
from exercise_notebooks import rejected_for


def relu_forward_reference(x):
    return np.maximum(x, 0)


def relu_forward_in_place(x):
    x[x < 0] = 0
    return x


def relu_forward_loops(x):
    out = np.empty_like(x)
    for index, value in np.ndenumerate(x):
        out[index] = value if value > 0 else 0.0
    return out


FORWARD_MUTATIONS = [
    (np.abs, "not their absolute value"),
    (lambda x: np.minimum(x, 0), "that is min(x, 0)"),
    (lambda x: np.clip(x, 0, 1), "no upper limit"),
    (lambda x: np.maximum(x, 0.01 * x), "a leaky ReLU keeps a small slope"),
    (relu_forward_in_place, "changed its input x in place"),
    (lambda x: np.maximum(x, 0).sum(), "has shape ()"),
    (lambda x: (x > 0).astype(np.float64), "ReLU's slope (the backward pass)"),
    (lambda x: np.maximum(x, 0).astype(int), "rounding to integers"),
]


@pytest.mark.parametrize("wrong, hint", FORWARD_MUTATIONS)
def test_relu_forward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(check_relu_forward, wrong, hint, FORWARD_MUTATIONS, capsys)
    assert "The smallest case it fails" in out
    assert core.latest("relu_forward").status == "fail"


@pytest.mark.parametrize("right", [relu_forward_reference, relu_forward_loops, lambda x: x * (x > 0),
                                   lambda x: np.where(x > 0, x, 0.0).astype(np.float32),
                                   lambda x: torch.relu(torch.as_tensor(x)), lambda x: np.maximum(x, 0).tolist()],
                         ids=["vectorized", "loops", "mask", "float32", "torch", "list"])
def test_relu_forward_accepts_right_answers(right, capsys):
    with allow_shortcuts():  # torch styles: parity of the reference with torch (a learner's torch call is refused)
        assert check_relu_forward(right) is True
    assert capsys.readouterr().out.startswith("ReLU forward: correct on all 30 cases!")


def relu_backward_in_place(grad_output, x):
    grad_output[x <= 0] = 0
    return grad_output


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
    (lambda g, x: g.copy(), "the gradient stops where x < 0"),
    (lambda g, x: g * np.where(x > 0, 1.0, 0.01), "not a small leaky slope"),
    (relu_backward_in_place, "changed its input grad_output in place"),
]


@pytest.mark.parametrize("wrong, hint", BACKWARD_MUTATIONS)
def test_relu_backward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    rejected_for(check_relu_backward, wrong, hint, BACKWARD_MUTATIONS, capsys)


def relu_backward_loops(grad_output, x):
    out = np.zeros_like(grad_output)
    for index in np.ndindex(x.shape):
        if x[index] > 0:
            out[index] = grad_output[index]
    return out


@pytest.mark.parametrize("right", [lambda g, x: g * (x > 0), relu_backward_loops,
                                   lambda g, x: np.where(x > 0, g, 0).astype(np.float32),
                                   lambda g, x: torch.ops.aten.threshold_backward(torch.as_tensor(g), torch.as_tensor(x), 0)],
                         ids=["vectorized", "loops", "float32", "torch"])
def test_relu_backward_accepts_right_answers(right, capsys):
    with allow_shortcuts():  # torch styles: parity of the reference with torch (a learner's torch call is refused)
        assert check_relu_backward(right) is True
    assert "ReLU backward: correct on all 30 cases!" in capsys.readouterr().out


def test_relu_cases_cover_the_mistakes_and_the_network():
    """The cases the issue asks for are there: the kink, all negative, large |x|, float32, a batch of one, non-square
    images, and the (5, 8) hidden layer of 01's network (cnnlib.exercises.nb01_layers.NETWORK)."""
    from cnnlib.exercises.functions import CASE_SINK
    sink = []
    token = CASE_SINK.set(sink)
    try:
        check_relu_forward(lambda x: x)
    finally:
        CASE_SINK.reset(token)
    xs = [c.inputs["x"] for c in sink]
    assert any(x.size and np.all(x < 0) for x in xs) and any(np.any(x == 0) for x in xs)
    assert any(np.abs(x).max() >= 1000 for x in xs) and any(x.dtype == np.float32 for x in xs)
    assert any(x.ndim == 4 and x.shape[0] == 1 for x in xs) and any(x.ndim == 4 and x.shape[2] != x.shape[3] for x in xs)
    assert any(x.shape == (5, 8) for x in xs)


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
