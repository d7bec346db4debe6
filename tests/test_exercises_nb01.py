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


def test_fc_parameter_hints_are_not_shown_for_a_nearby_mistake(capsys):
    assert nb01.check_fc_parameters(320 * 240 * 100) is False          # greyscale AND no bias: neither hint fits alone
    out = capsys.readouterr().out
    assert "every output also has a bias" not in out and "3 numbers per pixel" not in out


def test_sigmoid_depth(capsys):
    assert nb01.DEPTH_THRESHOLD == 1e-9 and 0.25 ** 15 < 1e-9 < 0.25 ** 14
    assert nb01.check_sigmoid_depth(15) is True
    assert nb01.check_sigmoid_depth(15.0) is True
    assert nb01.check_sigmoid_depth(14) is False
    assert "3.73e-09, still above 1e-09" in capsys.readouterr().out
    assert nb01.check_sigmoid_depth(10) is False                      # the depth of section 4's 1e-6
    assert "0.25**10 is below 1e-6; the threshold here is 1e-09" in capsys.readouterr().out
    assert nb01.check_sigmoid_depth(12) is False
    assert "more layers are needed" in capsys.readouterr().out
    assert nb01.check_sigmoid_depth(20) is False
    out = capsys.readouterr().out
    assert "more layers" not in out and "still above" not in out
    assert nb01.check_sigmoid_depth(14.95) is False                   # log(1e-9) / log(0.25), not rounded up


# -- function exercises: each plausible mistake rejected for its own reason, the reference accepted --
import pytest  # noqa: E402

from cnnlib.exercises import core  # noqa: E402
from exercise_notebooks import rejected_for  # noqa: E402


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _sig_naive_both_ways(x):
    with np.errstate(over="ignore", invalid="ignore"):   # as a notebook would: warn, go on
        return np.exp(x) / (1 + np.exp(x))


def sigmoid_backward_in_place(g, x):
    s = 1 / (1 + np.exp(-np.clip(x, -500, 500)))
    g *= s * (1 - s)
    return g


def _stable(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))                        # exp(1000) = inf gives 1 / inf = 0: right


SIGMOID_BACKWARD_MUTATIONS = [
    (lambda g, x: g * x * (1 - x), "takes sigma = sigmoid(x), the layer's output"),
    (lambda g, x: _stable(x) * (1 - _stable(x)), "multiply by grad_output"),
    (lambda g, x: g * _stable(x), "not sigmoid(x) itself"),
    (lambda g, x: g * (1 - _stable(x) ** 2), "is tanh's derivative"),
    (lambda g, x: -g * _stable(x) * (1 - _stable(x)), "check the sign"),
    (lambda g, x: g * _sig_naive_both_ways(x) * (1 - _sig_naive_both_ways(x)), "exp overflows for large |x|"),
    (sigmoid_backward_in_place, "changed its input grad_output in place"),
]


@pytest.mark.parametrize("wrong, hint", SIGMOID_BACKWARD_MUTATIONS)
def test_sigmoid_backward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb01.check_sigmoid_backward, wrong, hint, SIGMOID_BACKWARD_MUTATIONS, capsys)
    assert "The smallest case it fails" in out
    assert core.latest("sigmoid_backward").status == "fail"


def sigmoid_backward_loops(grad_output, x):
    out = np.zeros(x.shape)
    for index, value in np.ndenumerate(x):
        s = 1 / (1 + np.exp(-value)) if value >= 0 else np.exp(value) / (1 + np.exp(value))   # no overflow
        out[index] = grad_output[index] * s * (1 - s)
    return out


def sigmoid_backward_float32(grad_output, x):
    s = _stable(np.asarray(x, dtype=np.float32))
    return (grad_output * s * (1 - s)).astype(np.float32)


@pytest.mark.parametrize("right", [lambda g, x: g * _stable(x) * (1 - _stable(x)), sigmoid_backward_loops,
                                   lambda g, x: torch.ops.aten.sigmoid_backward(torch.as_tensor(g),
                                                                              torch.sigmoid(torch.as_tensor(x)))],
                         ids=["vectorized", "loops", "torch"])
def test_sigmoid_backward_accepts_right_answers(right, capsys):
    with allow_shortcuts():  # torch styles: parity of the reference with torch (a learner's torch call is refused)
        assert nb01.check_sigmoid_backward(right) is True
    assert "Sigmoid backward: correct on all 24 cases!" in capsys.readouterr().out


def test_sigmoid_backward_accepts_a_float32_answer(capsys):
    assert nb01.check_sigmoid_backward(sigmoid_backward_float32) is True


def linear_forward_reference(x, weight, bias):
    return x @ weight.T + bias


def linear_forward_loops(x, weight, bias):
    out = np.zeros((x.shape[0], weight.shape[0]))
    for n in range(x.shape[0]):
        for o in range(weight.shape[0]):
            out[n, o] = bias[o] + sum(x[n, i] * weight[o, i] for i in range(x.shape[1]))
    return out


LINEAR_FORWARD_MUTATIONS = [
    (lambda x, w, b: x @ w.T, "forgot the bias"),
    (lambda x, w, b: x @ w.T - b, "the bias is added, not subtracted"),
    (lambda x, w, b: x @ w + b, "multiply by its transpose"),
    (lambda x, w, b: (x @ w.T + b).T, "that is its transpose"),
    (lambda x, w, b: x @ w.T + b[:, None], "not bias[:, None]"),
    (lambda x, w, b: (x[:, None, :] * w[None]).mean(axis=2) + b, "not their mean"),
]


@pytest.mark.parametrize("wrong, hint", LINEAR_FORWARD_MUTATIONS)
def test_linear_forward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    rejected_for(nb01.check_linear_forward, wrong, hint, LINEAR_FORWARD_MUTATIONS, capsys)
    assert core.latest("linear_forward").status == "fail"


@pytest.mark.parametrize("right", [linear_forward_reference, linear_forward_loops,
                                   lambda x, w, b: np.einsum("ni,oi->no", x, w) + b,
                                   lambda x, w, b: torch.nn.functional.linear(torch.as_tensor(x), torch.as_tensor(w),
                                                                              torch.as_tensor(b))],
                         ids=["vectorized", "loops", "einsum", "torch"])
def test_linear_forward_accepts_right_answers(right, capsys):
    with allow_shortcuts():  # torch styles: parity of the reference with torch (a learner's torch call is refused)
        assert nb01.check_linear_forward(right) is True
    assert "Linear forward: correct on all 25 cases!" in capsys.readouterr().out


def test_linear_forward_accepts_a_float32_answer(capsys):
    assert nb01.check_linear_forward(lambda x, w, b: (x.astype(np.float32) @ w.T.astype(np.float32)
                                                      + b.astype(np.float32))) is True


def linear_backward_reference(g, x, w):
    return g @ w, g.T @ x, g.sum(axis=0)


def linear_backward_loops(g, x, w):
    n_samples, n_out = g.shape
    grad_x, grad_w, grad_b = np.zeros(x.shape), np.zeros(w.shape), np.zeros(n_out)
    for n in range(n_samples):
        for o in range(n_out):
            grad_x[n] += g[n, o] * w[o]
            grad_w[o] += g[n, o] * x[n]
            grad_b[o] += g[n, o]
    return grad_x, grad_w, grad_b


LINEAR_BACKWARD_MUTATIONS = [
    (lambda g, x, w: (g @ w, g.T @ x, g.mean(axis=0)), "grad_bias is summed over the batch, not averaged"),
    (lambda g, x, w: (g @ w, g.T @ x, g), "sum grad_output over the batch (axis 0)"),
    (lambda g, x, w: (g @ w, x.T @ g, g.sum(axis=0)), "it is grad_output.T @ x"),
    (lambda g, x, w: (g @ w.T, g.T @ x, g.sum(axis=0)), "grad_input is grad_output @ weight"),
    (lambda g, x, w: (g @ w, g.T @ x / len(x), g.sum(axis=0)), "grad_weight is summed over the batch"),
    (lambda g, x, w: (g.T @ x, g @ w, g.sum(axis=0)), "the first two are swapped"),
    (lambda g, x, w: (g @ w, g.T @ x), "should be a tuple of 3 results"),
]


@pytest.mark.parametrize("wrong, hint", LINEAR_BACKWARD_MUTATIONS)
def test_linear_backward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb01.check_linear_backward, wrong, hint, LINEAR_BACKWARD_MUTATIONS, capsys)
    assert "grad_weight = " in out  # the results are shown by name


@pytest.mark.parametrize("right", [linear_backward_reference, linear_backward_loops,
                                   lambda g, x, w: (np.einsum("no,oi->ni", g, w), np.einsum("no,ni->oi", g, x),
                                                    np.einsum("no->o", g))],
                         ids=["vectorized", "loops", "einsum"])
def test_linear_backward_accepts_right_answers(right, capsys):
    with allow_shortcuts():  # torch styles: parity of the reference with torch (a learner's torch call is refused)
        assert nb01.check_linear_backward(right) is True
    assert "Linear backward: correct on all 24 cases!" in capsys.readouterr().out


def test_linear_backward_accepts_a_float32_answer(capsys):
    f32 = np.float32
    assert nb01.check_linear_backward(lambda g, x, w: tuple(np.asarray(r, f32) for r in
                                                            (g.astype(f32) @ w.astype(f32), g.T.astype(f32) @ x.astype(f32),
                                                             g.astype(f32).sum(axis=0)))) is True


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
